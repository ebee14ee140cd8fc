"""Record outcomes, rejection reasons and delivery failures: the words the reports use."""

from dataclasses import dataclass
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
    ALREADY_SENT = "already_sent"  # the state file says an earlier run sent it
    DUPLICATE = "duplicate"  # the same event earlier in this run's input
    BREADCRUMB = "breadcrumb"
    NO_OP = "no_op"
    REJECTED = "rejected"
    FAILED = "failed"
    OUTSIDE_WINDOW = "outside_window"
    CONSENT_DENIED = "consent_denied"
    DEDUPLICATED = "deduplicated"


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
    LINE_TOO_LONG = "line_too_long"
    TOO_DEEP = "too_deep"
    WAREHOUSE_ROW = "warehouse_row"


class FailKind(StrEnum):
    """Why a delivery failed; `Failure.reason` is the string the report counts."""

    HTTP = "http"  # a permanent answer (400, 413, ...): reason http_<status>
    AUTH = "auth_http"  # 401/403 (the DSN) or 407 (the proxy) refused: the run stops;
    # reason auth_http_<status>
    TLS = "tls_error"  # the server's certificate cannot be trusted, or TLS is not spoken there
    NETWORK = "network_error"  # no answer after every attempt
    INTERRUPTED = "interrupted"  # the run stopped before this event could be sent
    AFTER_AUTH_ERROR = "stopped_after_auth_error"  # not sent: another's 401/403/407 stopped it
    AFTER_TLS_ERROR = "stopped_after_tls_error"  # not sent: a TLS error stopped the run
    INTERNAL = "internal_error"  # a bug; the per-record guard keeps the run going
    REGEX_TIMEOUT = "regex_timeout"  # the event's regex work ran over its budget


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed delivery: its kind, the HTTP status (HTTP, AUTH), and Sentry's answer or the
    error's text (`detail`)."""

    kind: FailKind
    status: int = 0
    detail: str = ""

    @property
    def stops_the_run(self) -> bool:
        """The destination cannot be used as configured (exit 2): a refused DSN, bad TLS."""
        return self.kind is FailKind.AUTH or self.kind is FailKind.TLS

    @property
    def reason(self) -> str:
        """The report's key: `http_413`, `auth_http_401`, `internal_error:KeyError`, ..."""
        if self.kind is FailKind.HTTP or self.kind is FailKind.AUTH:
            return f"{self.kind.value}_{self.status}"
        if self.kind is FailKind.INTERNAL:
            return f"{self.kind.value}:{self.detail}"
        return self.kind.value


EVENT_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
# The spellings of `type` met so far ("Track", " page "), each with the event type it names:
# records.to_record reads it directly, and event_type learns what it misses. (The shard peek
# needs neither: it takes only the six types as the SDKs spell them, and parses the rest whole.)
TYPE_SPELLINGS: dict[str, str] = {kind: kind for kind in EVENT_TYPES}


def event_type(kind: str) -> str | None:
    """The event type a `type` value names (trimmed, in any case), None when it names none."""
    found = TYPE_SPELLINGS.get(kind)
    if found is None:
        normalized = kind.strip().lower()
        if normalized not in EVENT_TYPES:
            return None
        if len(TYPE_SPELLINGS) < 1000:
            TYPE_SPELLINGS[kind] = normalized
        found = normalized
    return found
