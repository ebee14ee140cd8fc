"""Record outcomes and rejection reasons, verbatim from SPEC §3 and §9."""

from enum import StrEnum


class Outcome(StrEnum):
    """Every record ends in exactly one of these."""

    SENT = "sent"
    WOULD_SEND = "would_send"
    USER_SET = "user_set"
    IDENTIFY_UNCHANGED = "identify_unchanged"
    IDENTIFY_DROPPED = "identify_dropped"
    IDENTIFY_NO_CONTEXT = "identify_no_context"
    DESTINATION_DISABLED = "destination_disabled"
    EVENT_FILTERED = "event_filtered"
    INTERNAL_SENTRY_ERROR = "internal_sentry_error"
    IGNORED_ERROR = "ignored_error"
    DENIED_URL = "denied_url"
    NOT_ALLOWED_URL = "not_allowed_url"
    TOO_OLD = "too_old"
    ALREADY_SENT = "already_sent"
    BREADCRUMB = "breadcrumb"
    NO_OP = "no_op"
    REJECTED = "rejected"
    FAILED = "failed"


class RejectReason(StrEnum):
    """Why an input line (or one event of a batch) was rejected."""

    INVALID_JSON = "invalid_json"
    INVALID_UTF8 = "invalid_utf8"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_TYPE = "missing_type"
    UNKNOWN_TYPE = "unknown_type"
    EVENT_TOO_LARGE = "event_too_large"
    BAD_BATCH = "bad_batch"
    TRUNCATED_INPUT = "truncated_input"


EVENT_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
