"""Event ids: stable across runs and versions, so a re-run never sends a duplicate."""

import hashlib
import uuid
from typing import Any

import orjson

from core.identity import visitor_key
from core.js.value import js_string

EVENT_ID_NAMESPACE = uuid.UUID("5d3c1b8e-7a4f-5e2b-9c61-0f2a8e4b7d19")  # fixed forever: ids must
# stay stable across versions, or a re-run with an old state file would send duplicates


def event_id(kind: str, event: dict[str, Any]) -> str:
    """uuid5 of kind, messageId, anonymousId and originalTimestamp, 32 hex digits
    (docs/behaviour.md, "Event ids and timestamps"). Without an anonymousId the name also carries
    the visitor key, so two visitors keyed by userId that share a messageId never share an id; with
    one, the name is what it always was (earlier state files stay valid)."""
    message_id = event.get("messageId")
    if isinstance(message_id, str) and message_id:
        anonymous_id = event.get("anonymousId")
        original = event.get("originalTimestamp")
        name = (
            f"{kind}:{message_id}:{'' if anonymous_id is None else js_string(anonymous_id)}"
            f":{'' if original is None else js_string(original)}"
        )
        anonymous, key = visitor_key(event)
        if not anonymous:
            name = f"{name}:visitor:{key}"
    else:
        canonical = orjson.dumps(event, option=orjson.OPT_SORT_KEYS)
        name = f"{kind}:sha256:{hashlib.sha256(canonical).hexdigest()}"
    return uuid5_hex(name)


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def uuid5_hex(name: str) -> str:
    """`uuid.uuid5(EVENT_ID_NAMESPACE, name).hex`, without building UUID objects."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return digest.hex()
