"""The replay pipeline in dry-run: accounting, rejects, strict, limit, duplicates, output."""

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ExitCode
from core.pipeline import ReplayIO
from core.run import ReplayOptions, run_replay
from core.sinks import Sink
from tests.conftest import SAMPLES, examples
from tests.conftest import error_event as error

CONFIG = str(SAMPLES / "configs" / "destination.json")


def replay(paths: list[str], io_: ReplayIO | None = None, **options: Any) -> Any:
    opts = ReplayOptions(paths=tuple(paths), dry_run=True, **options)
    return run_replay(opts, io_ or ReplayIO())


def test_samples_add_up() -> None:
    report = replay([str(SAMPLES / "dumps")], config_path=CONFIG)
    data = report.to_json()
    assert sum(data["outcomes"].values()) == data["records"] == 22
    assert data["files"] == 4
    assert data["lines"] == 22
    assert data["outcomes"] == {
        "breadcrumb": 8,
        "denied_url": 1,
        "destination_disabled": 1,
        "identify_unchanged": 1,
        "ignored_error": 2,
        "no_op": 2,
        "would_send": 7,
    }
    assert data["exit_code"] == 0
    assert data["dry_run"] is True


def test_rejects_are_written_and_exit_3(write_dump: Callable[..., Path]) -> None:
    path = write_dump([error(1), b"{broken", {"batch": [error(2), "x"]}, b"", error(3)])
    rejects = io.BytesIO()
    report = replay([str(path)], ReplayIO(rejects=Sink("--rejects", rejects)))
    assert report.outcomes == {"would_send": 3, "rejected": 2}
    assert report.records == 5
    assert report.lines == 5
    assert report.exit_code is ExitCode.REJECTED_INPUT
    rows = [json.loads(line) for line in rejects.getvalue().splitlines()]
    assert [(r["line"], r["reason"], r["raw"]) for r in rows] == [
        (2, "invalid_json", "{broken"),
        (3, "not_an_object", '"x"'),
    ]
    assert rows[0]["source"] == str(path)


def test_strict_stops_at_the_first_rejected_line(write_dump: Callable[..., Path]) -> None:
    path = write_dump([error(1), b"{broken", error(2)])
    report = replay([str(path)], strict=True)
    assert report.records == 2
    assert report.exit_code is ExitCode.REJECTED_INPUT
    assert "--strict" in report.stopped


def test_limit(write_dump: Callable[..., Path]) -> None:
    path = write_dump([error(n) for n in range(10)])
    report = replay([str(path)], limit=4)
    assert report.records == 4
    assert report.exit_code is ExitCode.OK


def test_duplicate_events_are_sent_once(write_dump: Callable[..., Path]) -> None:
    path = write_dump([error(1), error(4), error(1)])  # one visitor; not in a row: no Dedupe
    report = replay([str(path)])
    assert report.outcomes == {"would_send": 2, "duplicate": 1}  # no state file said so


def test_output_holds_every_would_send_event(write_dump: Callable[..., Path]) -> None:
    path = write_dump([error(n) for n in range(5)] + [{"type": "page", "anonymousId": "v1"}])
    out = io.BytesIO()
    replay([str(path)], ReplayIO(output=Sink("--output", out)))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["message"] for e in events] == [f"boom {n}" for n in range(5)]


def test_too_large_and_too_deep_events_are_rejected(write_dump: Callable[..., Path]) -> None:
    values = [{"type": "E", "value": "v"}, {"type": "Cause", "value": "x" * 1_200_000}]
    huge = error(1, properties={"exception": {"values": values}})  # only values[0] is truncated
    deep: Any = "leaf"
    for _ in range(400):
        deep = {"d": deep}
    nested = {
        "type": "identify",
        "userId": "u",
        "anonymousId": "v",
        "context": {"traits": {"t": deep}},
    }
    path = write_dump([huge, nested, error(2)])
    rejects = io.BytesIO()
    report = replay([str(path)], ReplayIO(rejects=Sink("--rejects", rejects)))
    assert report.rejected == {"event_too_large": 1, "too_deep": 1}
    assert report.outcomes["would_send"] == 1


def test_an_event_deeper_than_the_engine_walks_is_rejected(
    write_dump: Callable[..., Path],
) -> None:
    exception = '{"cause":' * 1010 + '{"type":"Error","value":"x"}' + "}" * 1010
    head = orjson.dumps(error(1, properties={"exception": "HOLE"})).decode()
    line = head.replace('"HOLE"', exception)  # orjson reads 1,024 levels; Python walks fewer
    path = write_dump([line, error(2)])
    report = replay([str(path)])
    assert report.rejected == {"too_deep": 1}
    assert report.outcomes == {"rejected": 1, "would_send": 1}


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    body = b"\n".join(json.dumps(error(n)).encode() for n in range(3000)) + b"\n"
    data = gzip.compress(body)
    path = tmp_path / "cut.json.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    report = replay([str(path)])
    assert report.rejected == {"truncated_input": 1}
    assert report.outcomes["would_send"] > 1000
    assert sum(report.outcomes.values()) == report.records
    assert report.exit_code is ExitCode.REJECTED_INPUT


def test_debug_mode_is_a_dry_run(tmp_path: Path, write_dump: Callable[..., Path]) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"dsn": "", "debugMode": True}))
    report = run_replay(
        ReplayOptions(paths=(str(write_dump([error(1)])),), config_path=str(config)), ReplayIO()
    )
    assert report.dry_run
    assert report.outcomes == {"would_send": 1}
    assert any("debugMode" in note for note in report.notes)


def test_explain_lines(write_dump: Callable[..., Path]) -> None:
    stream = io.BytesIO()
    path = write_dump([error(1), b"[]", {"type": "group", "anonymousId": "v"}])
    replay([str(path)], ReplayIO(explain=Sink("--explain", stream)))
    fields = [line.split("\t") for line in stream.getvalue().decode().splitlines()]
    assert [f[3] for f in fields] == ["would_send", "rejected", "no_op"]
    assert fields[0][:3] == [f"{path}:1", "track", "m1"]
    assert all(len(f) == 5 for f in fields)


LINE = st.one_of(
    st.builds(error, st.integers(0, 30)),
    st.builds(
        lambda n: {"type": "identify", "anonymousId": f"v{n}", "userId": f"u{n}", "context": {}},
        st.integers(0, 5),
    ),
    st.sampled_from([{"type": "page"}, {"type": "alias"}, {"type": "nope"}, {"batch": 1}, {}, []]),
    st.binary(max_size=30),
)


@settings(max_examples=examples(150))
@given(st.lists(LINE, max_size=40))
def test_outcomes_always_add_up(tmp_path_factory: Any, lines: list[Any]) -> None:
    path = tmp_path_factory.mktemp("d") / "dump.ndjson"
    path.write_bytes(
        b"\n".join(line if isinstance(line, bytes) else json.dumps(line).encode() for line in lines)
    )
    report = replay([str(path)])
    assert sum(report.outcomes.values()) == report.records
    assert report.outcomes.get("rejected", 0) == sum(report.rejected.values())
    if path.read_bytes().startswith(b"\x1f\x8b"):  # the magic bytes make it a (corrupt) gzip
        assert report.rejected["truncated_input"] == 1
    else:
        events = [line for line in lines if not isinstance(line, bytes) and line not in ({}, [])]
        assert report.records >= len(events)


def test_a_dry_run_opens_no_socket(monkeypatch: Any) -> None:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a dry-run opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    config = SAMPLES / "configs" / "destination.json"  # it has a real-looking DSN
    report = replay([str(SAMPLES / "dumps")], config_path=str(config))
    assert report.outcomes["would_send"] == 7


def test_the_recording_sender_keeps_sentry_envelopes() -> None:
    from datetime import UTC, datetime

    from core.clock import Clock
    from core.delivery.recording import RecordingSender
    from core.delivery.seam import Parcel

    when = datetime(2024, 5, 1, 10, 0, tzinfo=UTC).timestamp()
    sender = RecordingSender(keep=True, clock=Clock(epoch=lambda: when))
    payload = json.dumps({"event_id": "ab" * 16, "message": "m"}).encode()
    sender.submit(Parcel("ab" * 16, payload, "d:1", "track", "", "", False))
    assert [done.accepted for done in sender.completed()] == [True]
    assert sender.count == 1
    header, item_header, body = sender.envelopes[0].rstrip(b"\n").split(b"\n")
    assert json.loads(header) == {"event_id": "ab" * 16, "sent_at": "2024-05-01T10:00:00.000000Z"}
    item = json.loads(item_header)
    assert item["type"] == "event"
    assert item["length"] == len(payload)
    assert item["content_type"] == "application/json"
    assert body == payload
