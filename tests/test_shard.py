"""Scale-out (docs/scale-out.md): --shard K/N and --jobs N split one replay exactly, by visitor
key."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.identity import visitor_key
from core.input.dump import DumpReader
from core.input.records import to_record
from core.outcome import EVENT_TYPES
from core.report import Report, merge_reports, report_from_json
from core.shard import (
    WRAPPERS,
    Shard,
    peek_hash,
    peek_hash_decoded,
    shard_hash,
)
from tests.bench.generate import generate
from tests.conftest import ANSWER, ROOT, TEARDOWN_MARGIN, error_event, examples, start
from tests.faultserver import Faults, FaultServer


def cli(*args: str, dsn: str = "") -> tuple[int, dict[str, Any], str]:
    command = [sys.executable, "-m", "cli", "replay", *args, "--no-progress", "--report", "json"]
    env = {**os.environ, "SENTRY_DSN": dsn}
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    report = json.loads(result.stdout) if result.stdout else {}  # none after a usage error
    return result.returncode, report, result.stderr


@pytest.fixture(scope="module")
def mixed_dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Browser sessions, plus what is not one bare event: rejects, batches, archive rows,
    events with no identity or a numeric userId, a repeated key."""
    path = tmp_path_factory.mktemp("shard") / "mixed.ndjson"
    generate(path, 3000, 120)
    extra = [
        b"{broken",
        b'{"batch": [' + orjson.dumps(error_event(9001)) + b", 5]}",
        orjson.dumps({"payload": {"batch": [error_event(9002), error_event(9003)]}}),
        orjson.dumps({"event_payload": error_event(9004), "created_at": "2024-05-01T00:00:00Z"}),
        orjson.dumps({"type": "track", "event": "Error", "properties": {"message": "anon"}}),
        orjson.dumps({"type": "identify", "userId": 42, "context": {"traits": {"a": 1}}}),
        orjson.dumps({"type": "identify", "userId": 42.0, "context": {"traits": {"a": 2}}}),
        b'{"type":"track","event":"Error","anonymousId":"x","anonymousId":"v1","messageId":"d"}',
        orjson.dumps({"type": "bogus", "anonymousId": "v2"}),
        b'"a string"',
        b'{"anonymousId":"v1","event":"no type"}',
        b'{"anonymousId":"v2","type":"track",broken',
        b'{"anonymousId":"v1","type":"page","nested":{"anonymousId":"v2"}}',
        b'{"anonymousId":"v2","payload":{"batch":[' + orjson.dumps(error_event(9005)) + b"]}}",
    ]
    with path.open("ab") as out:
        out.write(b"\n".join(extra) + b"\n")
    return path


def _outputs(path: Path) -> dict[str, bytes]:
    return {json.loads(line)["event_id"]: line for line in path.read_bytes().splitlines()}


def _explained(err: str) -> list[tuple[str, ...]]:
    return [tuple(line.split("\t")) for line in err.splitlines() if line.count("\t") == 4]


def test_the_union_of_shards_is_the_single_run_record_for_record(
    mixed_dump: Path, tmp_path: Path
) -> None:
    single_out = tmp_path / "single.jsonl"
    code, single, single_err = cli(
        str(mixed_dump), "--dry-run", "--explain", "--output", str(single_out)
    )
    assert code == 3  # the rejected lines
    reports: list[Report] = []
    outputs: dict[str, bytes] = {}
    explained: list[tuple[str, ...]] = []
    for k in range(3):
        out = tmp_path / f"shard{k}.jsonl"
        shard_code, report, err = cli(
            str(mixed_dump), "--dry-run", "--explain", "--shard", f"{k}/3", "--output", str(out)
        )
        assert shard_code == (3 if k == 0 else 0), err  # shard 0 counts the rejected lines
        assert report["shard"] == f"{k}/3"
        assert report["lines"] == single["lines"]
        reports.append(report_from_json(report))
        shard_outputs = _outputs(out)
        assert not shard_outputs.keys() & outputs.keys()
        outputs.update(shard_outputs)
        explained += _explained(err)
    merged = merge_reports(reports).to_json()
    for key in ("records", "outcomes", "by_type", "rejected", "failed", "lines", "exit_code"):
        assert merged[key] == single[key], key
    assert outputs == _outputs(single_out)  # same event ids, same payloads
    assert sorted(explained) == sorted(_explained(single_err))  # same outcomes, same details


@pytest.mark.parametrize("jobs", [2, 3])
def test_jobs_give_the_single_run_with_each_visitor_in_input_order(
    mixed_dump: Path, tmp_path: Path, jobs: int
) -> None:
    single_out, jobs_out = tmp_path / "single.jsonl", tmp_path / "jobs.jsonl"
    _, single, single_err = cli(str(mixed_dump), "--dry-run", "--explain", "-o", str(single_out))
    code, merged, err = cli(
        str(mixed_dump), "--dry-run", "--explain", "--jobs", str(jobs), "-o", str(jobs_out)
    )
    assert code == 3 == merged["exit_code"]
    for key in ("records", "outcomes", "by_type", "rejected", "lines", "files", "visitors"):
        assert merged[key] == single[key], key
    assert merged["shard"] == ""

    def by_visitor(lines: list[bytes]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for line in lines:
            event = json.loads(line)
            ids = event["extra"]["rudderstack"]
            found[ids.get("anonymousId") or str(ids.get("userId", ""))].append(event["event_id"])
        return found

    jobs_lines = jobs_out.read_bytes().splitlines()
    assert sorted(jobs_lines) == sorted(single_out.read_bytes().splitlines())
    assert by_visitor(jobs_lines) == by_visitor(single_out.read_bytes().splitlines())
    assert Counter(_explained(err)) == Counter(_explained(single_err))


def error_dump(folder: Path, count: int, visitors: int) -> Path:
    """A dump of `count` error events spread over `visitors` visitors."""
    dump = folder / "errors.ndjson"
    events = (error_event(n, visitors=visitors) for n in range(count))
    dump.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return dump


def test_jobs_send_once_each_keep_a_state_and_resume(tmp_path: Path) -> None:
    dump = error_dump(tmp_path, 60, visitors=7)
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults()) as server:
        code, first, err = cli(str(dump), "--jobs", "2", "--state", str(state), dsn=server.dsn)
        assert code == 0, err
        assert first["outcomes"] == {"sent": 60}
        assert len(server.sink.stored) == 60
        written = sorted(p.name for p in tmp_path.glob("state.sqlite.shard-*"))
        assert written == ["state.sqlite.shard-0-of-2", "state.sqlite.shard-1-of-2"]
        code, again, _ = cli(str(dump), "--jobs", "2", "--state", str(state), dsn=server.dsn)
        assert (code, again["outcomes"]) == (0, {"already_sent": 60})
        code, _, err = cli(str(dump), "--jobs", "3", "--state", str(state), dsn=server.dsn)
        assert code == 2
        assert "split 2 ways" in err  # resuming split another way would send them again
        code, _, err = cli(str(dump), "--state", str(state), dsn=server.dsn)
        assert code == 2
        assert len(server.sink.stored) == 60


def two_jobs_sending(dump: Path, state: Path, server: FaultServer) -> "subprocess.Popen[str]":
    """`replay DUMP --jobs 2` as a process, once 20 of its events reached the server."""
    process = start(
        str(dump), "--jobs", "2", "--state", str(state), "--workers", "2", dsn=server.dsn
    )
    assert server.sink.wait_stored(20, timeout=30)
    return process


def test_sigint_stops_every_job_with_its_state_written(tmp_path: Path) -> None:
    dump = error_dump(tmp_path, 400, visitors=11)
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults(latency=0.05)) as server:
        process = two_jobs_sending(dump, state, server)
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = process.communicate(timeout=30)
        answered = time.monotonic() - started
        assert process.returncode == 4, err
        assert answered < 1.0 + ANSWER + TEARDOWN_MARGIN
        stopped = json.loads(out)
        assert stopped["interrupted"]
        assert sum(stopped["outcomes"].values()) == stopped["records"]
        sent_before = stopped["outcomes"].get("sent", 0)
        assert 0 < sent_before < 400
        code, finished, err = cli(str(dump), "--jobs", "2", "--state", str(state), dsn=server.dsn)
        assert code == 0, err
        assert finished["outcomes"].get("already_sent", 0) >= sent_before
        assert sum(finished["outcomes"].values()) == 400
        assert server.sink.accepted_duplicates <= 2 * 2  # at most the requests in flight
        assert len(server.sink.stored) == 400


def test_a_killed_job_is_named_and_the_survivors_report_stands(tmp_path: Path) -> None:
    dump = error_dump(tmp_path, 300, visitors=11)
    state = tmp_path / "state.sqlite"
    with FaultServer(Faults(latency=0.02)) as server:
        process = two_jobs_sending(dump, state, server)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) == 2
        os.kill(int(children[1]), signal.SIGKILL)  # job 2: no report, no goodbye
        out, err = process.communicate(timeout=60)
        assert process.returncode == 4, err
        report = json.loads(out)
        assert report["interrupted"]
        assert any("job 2 of 2 (shard 1/2) was killed by SIGKILL" in n for n in report["notes"])
        assert sum(report["outcomes"].values()) == report["records"]
        survivor = report["records"]
        assert 0 < survivor < 300  # job 1's whole shard, nothing of job 2's
        assert set(report["outcomes"]) == {"sent"}
        code, finished, err = cli(str(dump), "--jobs", "2", "--state", str(state), dsn=server.dsn)
        assert code == 0, err
        assert finished["outcomes"]["already_sent"] >= survivor
        assert sum(finished["outcomes"].values()) == 300
        assert len(server.sink.stored) == 300


def test_shard_hash_is_crc32_of_the_key_and_stable() -> None:
    assert shard_hash(True, "anon-1") == 0xCC313135  # zlib.crc32(b"a\0anon-1")
    assert shard_hash(False, "u-1") == 0xD4DE68CC
    assert shard_hash(True, "é") != shard_hash(False, "é")
    assert Shard.parse("3/8") == Shard(3, 8)
    assert Shard(1, 2).job(1, 3) == Shard(3, 6)
    for text in ("8/8", "-1/2", "1", "a/b", "1/0"):
        with pytest.raises(ValueError, match=r"\S"):
            Shard.parse(text)


@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 6), st.integers(0, 5))
@settings(max_examples=examples(2000))
def test_jobs_split_a_shard_into_parts_of_it(value: int, count: int, jobs: int, k: int) -> None:
    base = Shard(k % count, count)
    owners = [n for n in range(jobs) if value % (count * jobs) == base.job(n, jobs).index]
    assert len(owners) == (1 if value % count == base.index else 0)


KEYS = st.sampled_from(["anonymousId", "userId", "type", "batch", "message", "payload", "x"])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.sampled_from(["track", "identify", " Page ", "screen", "group", "alias"]),
    st.dictionaries(st.one_of(KEYS, st.text(max_size=3)), st.text(max_size=3), max_size=2),
)


@given(st.lists(st.tuples(KEYS, VALUES), max_size=6))
@settings(max_examples=examples(3000))
def test_peek_hash_agrees_with_the_full_parse(pairs: list[tuple[str, Any]]) -> None:
    line = b"{" + b",".join(orjson.dumps(k) + b":" + _json(v) for k, v in pairs) + b"}"
    found = peek_hash(line)
    if found is None:
        return
    document = orjson.loads(line)  # peek only answers for lines the full parse reads alike
    record = to_record(document, "s", 1, None, line)
    assert record.event is not None
    assert shard_hash(*visitor_key(record.event)) == found


@pytest.mark.parametrize(
    ("line", "answers"),
    [
        (b'{"anonymousId":"a-1","type":"track","context":{"x":[1,{"y":"z"}]}}', True),
        (b'{"type":"identify","userId":42,"traits":{"anonymousId":"n"}}', True),
        (b'{"type":"page","anonymousId":"","userId":"u"}', True),
        (b'{"type":"Track","anonymousId":"a-1"}', False),  # parsed whole: event_type reads it
        (b'{"anonymousId":"a-1","event":"x"}', False),  # no type: rejected, no visitor
        (b'{"type":"track","anonymousId":"a-1","payload":null}', False),  # a wrapper's key
        (b'{"type":"track","anonymousId":"a-1","message":{}}', False),
        (b'{"batch":[{"type":"track","anonymousId":"a-1"}]}', False),
        (b'{"type":"track","anonymousId":"a-1"', False),  # broken
    ],
)
def test_peek_answers_for_a_bare_event_and_leaves_the_rest_to_the_parse(
    line: bytes, answers: bool
) -> None:
    found = peek_hash(line)
    assert (found is not None) == answers
    if found is not None:
        event = orjson.loads(line)
        assert found == shard_hash(*visitor_key(event))


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits: written out, as a dump could hold it
        return str(value).encode()


def test_merged_reports_add_up_and_keep_the_first_reason_to_stop() -> None:
    first, second = Report(dry_run=True, shard="0/2"), Report(dry_run=True, shard="1/2")
    first.records, second.records = 3, 4
    first.outcomes.update({"would_send": 3})
    second.outcomes.update({"would_send": 2, "rejected": 2})
    second.rejected.update({"invalid_json": 2})
    first.lines = second.lines = 9
    second.stopped = "--limit 4 reached"
    merged = merge_reports([first, second])
    assert (merged.records, merged.lines, merged.stopped) == (7, 9, "--limit 4 reached")
    assert merged.outcomes == {"would_send": 5, "rejected": 2}
    assert merged.exit_code == 3
    assert report_from_json(merged.to_json()).to_json() == merged.to_json()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--limit", "5"), "--limit and --strict stop one process"),
        (("--strict",), "--limit and --strict stop one process"),
        (("--shard", "2/2"), "--shard: shard 2 of 2 does not exist"),
        (("--shard", "1"), "--shard: '1' is not K/N"),
    ],
)
def test_what_cannot_be_split_is_refused_before_reading(
    mixed_dump: Path, extra: tuple[str, ...], message: str
) -> None:
    code, _, err = cli(str(mixed_dump), "--dry-run", "--jobs", "2", *extra)
    assert code == 2
    assert message in err


# core/peek.c, the C that reads a line's visitor key before msgspec does (core/shard.py): it may
# decline any line, but where it answers it must answer as msgspec's decode and the full parse.
_SAFE_TEXT = st.text(st.characters(codec="utf-8"), max_size=6)  # no lone surrogate
_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        _SAFE_TEXT,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.one_of(KEYS, _SAFE_TEXT), inner, max_size=3)
    ),
    max_leaves=8,
)
_SPACE = st.sampled_from(["", "", "", " ", "\t", "\r\n ", "\n"])
_MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["cut", "drop", "insert", "flip"]),
        st.integers(0, 10_000),
        st.sampled_from(list(b'"\\{}[],:-0.e1tnu \x00\x1f\x7f\xc3\xa9\xed\xa0\x80\xff')),
    ),
    max_size=2,
)


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    """An event-like object written with optional space and \\u escapes, sometimes broken."""
    usual = st.sampled_from(["anonymousId", "userId", "context", "properties", "event"])
    pairs = draw(
        st.lists(
            st.tuples(
                st.one_of(usual, usual, KEYS, _SAFE_TEXT),
                st.one_of(VALUES, _JSON, st.sampled_from(["track", "page", "identify"])),
            ),
            max_size=6,
        )
    )
    if draw(st.integers(0, 4)):  # mostly a type, which a bare event has
        types = st.sampled_from(["track", "page", "identify", "alias", "Track", "x"])
        pairs.insert(draw(st.integers(0, len(pairs))), ("type", draw(types)))
    members = []
    for key, value in pairs:
        space = draw(_SPACE)
        written = [_json(key), _json(value)]
        for i, part in enumerate(written):
            if not draw(st.integers(0, 7)) and part[:1] == b'"' and len(part) > 2:  # an escape
                at = draw(st.integers(1, len(part) - 2))
                if part[at] < 0x80 and part[at - 1 : at] != b"\\" and part[at] != ord("\\"):
                    written[i] = part[:at] + b"\\u%04x" % part[at] + part[at + 1 :]
        members.append(written[0] + space.encode() + b":" + written[1])
    line = bytearray(b"{" + draw(_SPACE).encode() + b",".join(members) + b"}")
    for kind, at, byte in draw(_MUTATIONS) if not draw(st.integers(0, 2)) else ():
        at %= len(line) + 1
        if kind == "cut":
            del line[at:]
        elif kind == "drop":
            del line[at : at + 1]
        elif kind == "insert":
            line[at:at] = bytes([byte])
        elif at < len(line):
            line[at] = byte
    return bytes(line) + draw(_SPACE).encode()


def _built_scanner() -> Any:
    """core/peek.c, or a skip where the Python sources run (tests/test_native.py holds the
    suite to the compiled build otherwise)."""
    return pytest.importorskip(
        "core._peek", reason="core/peek.c is not built or not used", exc_type=ImportError
    )


def _scan(line: bytes) -> int:
    found: int = _built_scanner().visitor_hash(line)
    return found


@given(_lines())
@settings(max_examples=examples(20_000))
def test_the_c_scan_answers_only_as_msgspec_and_the_parse_do(line: bytes) -> None:
    found = _scan(line)
    if found == -1:
        return
    assert 0 <= found < 2**32
    assert peek_hash_decoded(line) == found
    event = orjson.loads(line)  # valid for orjson too: the reject's shard does not move
    assert shard_hash(*visitor_key(event)) == found


@given(st.text(st.characters(codec="utf-8").filter(lambda c: c >= " " and c not in '"\\')))
@settings(max_examples=examples(3000))
def test_the_c_scan_hashes_any_key_as_zlib_does(key: str) -> None:
    for field, prefix in (("anonymousId", b"a\0"), ("userId", b"u\0")):
        line = b'{"type":"track","%s":%s}' % (field.encode(), orjson.dumps(key))
        if key or field == "userId":
            assert _scan(line) == zlib.crc32(prefix + key.encode())
        else:  # an empty anonymousId and no userId: the shared bucket's
            assert _scan(line) == zlib.crc32(b"u\0")


@pytest.mark.parametrize(
    ("line", "answers"),
    [
        (b'{"anonymousId":"a-1","type":"track","context":{"x":[1,{"y":"z"}]}}', True),
        (b' { "type" : "page" , "anonymousId" : "\xc3\xa9t\xc3\xa9" , "p" : [ ] } \r', True),
        (b'{"type":"identify","userId":-42,"traits":{"anonymousId":"n","a":"\\u00e9\\n"}}', True),
        (b'{"type":"track","userId":1.5}', False),  # str() is not the digits written
        (b'{"type":"track","userId":-0}', False),
        (b'{"type":"track","anonymousId":"a\\u002d1"}', False),  # escaped: msgspec reads it
        (b'{"type":"tr\\u0061ck","anonymousId":"a-1"}', False),
        (b'{"typ\\u0065":"track","anonymousId":"a-1"}', False),
        (b'{"type":"track","type":"track","anonymousId":"a-1"}', False),  # repeated
        (b'{"type":"track","anonymousId":"a-1","x":"\\ud83d\\ude00"}', False),  # surrogates
        (b'{"type":"track","anonymousId":"a-1","x":1e400}', False),  # infinite to orjson
        (b'{"type":"track","anonymousId":"a-1","x":"\xed\xa0\x80"}', False),  # not UTF-8
        (b'{"type":"track","anonymousId":"a-1","x":"\x01"}', False),  # a raw control
        (b'{"type":"track","anonymousId":"a-1"} x', False),
        (b'{"type":"track","anonymousId":"a-1","x":' + b"[" * 70 + b"]" * 70 + b"}", False),
    ],
)
def test_the_c_scan_answers_the_usual_and_declines_the_doubtful(line: bytes, answers: bool) -> None:
    found = _scan(line)
    assert (found != -1) == answers
    if answers:
        assert found == shard_hash(*visitor_key(orjson.loads(line)))
    else:  # msgspec still reads what it can, as before
        assert peek_hash(line) == peek_hash_decoded(line)


@pytest.mark.parametrize("kind", sorted(EVENT_TYPES))
def test_the_c_scan_knows_each_event_type_and_each_wrapper(kind: str) -> None:
    """core/peek.c spells out EVENT_TYPES and WRAPPERS: a type or wrapper added here only
    must fail here, not move a visitor between shards."""
    line = b'{"type":"%s","anonymousId":"a-1"}' % kind.encode()
    assert _scan(line) == shard_hash(True, "a-1")
    for wrapper in WRAPPERS:
        wrapped = b'{"type":"%s","anonymousId":"a-1","%s":null}' % (kind.encode(), wrapper.encode())
        assert _scan(wrapped) == -1, wrapper


def _split_shard_lines(chunk: bytes, index: int, count: int) -> tuple[list[bytes], bytes]:
    found: tuple[list[bytes], bytes] = _built_scanner().split_shard_lines(chunk, index, count)
    return found


_CHUNK_LINES = st.lists(
    st.one_of(
        _lines(),
        st.sampled_from([b"", b"  \r", b"\xef\xbb\xbf{}", b'{"type":"page","anonymousId":"v"}']),
    ),
    max_size=8,
)


@given(_CHUNK_LINES, st.integers(1, 4), st.integers(0, 3))
@settings(max_examples=examples(3000))
def test_split_shard_lines_is_the_split_with_other_shards_lines_emptied(
    lines: list[bytes], count: int, k: int
) -> None:
    chunk = b"\n".join(lines)
    index = k % count
    picked, verdicts = _split_shard_lines(chunk, index, count)
    split = chunk.split(b"\n")
    assert len(picked) == len(split) == len(verdicts)
    assert (picked[0], picked[-1], verdicts[0], verdicts[-1]) == (split[0], split[-1], 0, 0)
    for line, got, verdict in zip(split[1:-1], picked[1:-1], verdicts[1:-1], strict=True):
        found = _scan(line)
        theirs = found >= 0 and found % count != index
        assert got == (b"" if theirs else line)
        assert verdict == (found >= 0 and not theirs)


def _records(data: bytes, shard: Shard | None) -> list[tuple[int, str, str]]:
    stream = io.BufferedReader(io.BytesIO(data), 1 << 16)
    reader = DumpReader(stream, "s", shard=shard)
    return [(r.line, r.raw, json.dumps(r.event, sort_keys=True)) for r in reader]


@pytest.mark.parametrize("count", [2, 3])
def test_shards_of_a_dump_of_many_chunks_are_the_whole_split(count: int, tmp_path: Path) -> None:
    """Lines across chunk ends, blank, broken and too long ones, a BOM: each record in one
    shard, with its line number, as the whole dump reads it."""
    path = tmp_path / "dump.ndjson"
    generate(path, 4000, 150)
    lines = path.read_bytes().split(b"\n")
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    lines[7:7] = [b"", b"  \r", b"{broken", b'{"type":"track","anonymousId":"x\\u0041"}']
    lines[2000:2000] = [b'{"type":"page","anonymousId":"' + b"v" * (33 << 20) + b'"}']
    data = b"\r\n".join(lines[:3000]) + b"\n" + b"\n".join(lines[3000:])
    whole = _records(data, None)
    assert len(whole) > 4000
    parts = [_records(data, Shard(k, count)) for k in range(count)]
    assert sorted(record for part in parts for record in part) == sorted(whole)
    for part in parts:
        assert part == sorted(part, key=lambda record: record[0])  # in input order


def test_a_one_document_dump_is_read_whole_by_its_shards(tmp_path: Path) -> None:
    events = [error_event(n) for n in range(200)]
    data = json.dumps(events, indent=2).encode()
    whole = _records(data, None)
    parts = [_records(data, Shard(k, 2)) for k in range(2)]
    assert len(whole) == 200
    assert sorted(parts[0] + parts[1]) == sorted(whole)


_IDENTITIES: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.fixed_dictionaries({"anonymousId": st.sampled_from(["a1", "a2"])}),
    st.fixed_dictionaries({"userId": st.sampled_from(["u1", "u2", 7, 7.0, 2**64 + 1, ""])}),
    st.just({}),
)
_EVENTS = st.lists(
    st.tuples(
        _IDENTITIES,
        st.sampled_from(["00000000-0000-0000-0000-000000000000", "", None, "m-1"]),
        st.sampled_from(["identify", "error"]),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=25,
)


def _shaped(identity: dict[str, Any], message_id: str | None, kind: str, n: int) -> dict[str, Any]:
    event: dict[str, Any] = {**identity, "originalTimestamp": f"2024-05-01T10:00:0{n}Z"}
    if message_id is not None:
        event["messageId"] = message_id
    if kind == "identify":
        event.update(type="identify", context={"traits": {"email": f"x{n}@example.org"}})
    else:
        event.update(type="track", event="Error", properties={"message": f"boom {n}"})
    return event


def _sent(
    lines: list[dict[str, Any]], tmp: Path, shard: Shard
) -> tuple[Counter[str], dict[str, bytes]]:
    from core.pipeline import ReplayIO
    from core.run import ReplayOptions, run_replay
    from core.sinks import Sink

    output = io.BytesIO()
    options = ReplayOptions(paths=(str(tmp),), dry_run=True, use_state=False, shard=shard)
    report = run_replay(options, ReplayIO(output=Sink("output", output)))
    sent = [line for line in output.getvalue().splitlines() if b'"event_id"' in line]
    return report.outcomes, {orjson.loads(line)["event_id"]: line for line in sent}


@given(_EVENTS)
@settings(max_examples=examples(300))
def test_shards_add_up_whatever_the_ids(shapes: list[tuple[Any, ...]]) -> None:
    """Shared, empty and missing messageIds, visitors keyed by userId (numbers too, beyond a
    double's integers) or by nothing: the shards together send what the single run sends,
    each event id once."""
    import tempfile

    lines = [_shaped(*shape) for shape in shapes]
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / "dump.ndjson"
        dump.write_text("".join(json.dumps(line) + "\n" for line in lines))  # ints past 2**64
        outcomes, sent = _sent(lines, dump, Shard())
        parts = [_sent(lines, dump, Shard(k, 3)) for k in range(3)]
    union: dict[str, bytes] = {}
    merged: Counter[str] = Counter()
    for part_outcomes, part_sent in parts:
        assert not union.keys() & part_sent.keys()  # no id in two shards
        union.update(part_sent)
        merged.update(part_outcomes)
    assert union == sent
    assert merged == outcomes
