"""Envelopes: one event item, or one session item, written byte for byte as sentry-sdk's
`Envelope.serialize()` writes them (tests/test_http.py holds them together).

Real sends go through core/delivery/http.py and core/delivery/sender.py; sentry-sdk's stock
HttpTransport is never used: it drops events when its queue of 100 is full and on 429
(sentry_sdk/transport.py `HttpTransport`, `BackgroundWorker`; docs/delivery.md, "Sending").
"""

from datetime import datetime

from core.event.timestamps import format_timestamp


def build_session_envelope(payload: bytes, sent_at: datetime) -> bytes:
    """An envelope with one session item (release health), as sentry-sdk's `add_session`
    writes it; the browser SDK sends each session update in an envelope of its own."""
    return b"".join(
        (
            b'{"sent_at":"%s"}\n' % format_timestamp(sent_at).encode(),
            b'{"type":"session","content_type":"application/json","length":%d}\n' % len(payload),
            payload,
            b"\n",
        )
    )


def build_envelope(event_id: str, payload: bytes, sent_at: datetime) -> bytes:
    """An envelope with one event item; `sent_at` is refreshed on every attempt. `event_id` is
    32 hex digits and the timestamp plain ASCII: neither needs JSON escaping."""
    return b"".join(
        (
            b'{"event_id":"%s","sent_at":"%s"}\n'
            % (event_id.encode(), format_timestamp(sent_at).encode()),
            b'{"type":"event","content_type":"application/json","length":%d}\n' % len(payload),
            payload,
            b"\n",
        )
    )
