"""The reader: shapes, line numbers, rejections, gzip, streaming; never a traceback
(docs/input.md)."""

import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import UsageError
from core.input.dump import DumpReader, IsalError, open_dump
from core.input.paths import expand_paths
from core.input.records import Record
from core.outcome import RejectReason
from tests.conftest import examples

EVENT = {"type": "track", "event": "x", "anonymousId": "a"}


def read(data: bytes, source: str = "t") -> tuple[list[Record], int]:
    reader = DumpReader(open_dump(io.BytesIO(data)), source)
    records = list(reader)
    return records, reader.lines


def lines(*items: Any) -> bytes:
    return b"\n".join(i if isinstance(i, bytes) else json.dumps(i).encode() for i in items) + b"\n"


def test_every_shape_is_unwrapped() -> None:
    data = lines(
        EVENT,
        {"batch": [EVENT, dict(EVENT, type="page")]},
        {"payload": {"batch": [EVENT]}, "createdAt": "2024-01-01T00:00:00Z", "messageId": ""},
        {"event_payload": {"batch": [EVENT]}, "created_at": "2024-01-02T00:00:00Z"},
        {"EventPayload": EVENT},
        {"message": EVENT},
    )
    records, count = read(data)
    assert count == 6
    assert [r.line for r in records] == [1, 2, 2, 3, 4, 5, 6]
    assert [r.type for r in records] == [
        "track",
        "track",
        "page",
        "track",
        "track",
        "track",
        "track",
    ]
    assert records[3].created_at == "2024-01-01T00:00:00Z"
    assert records[4].created_at == "2024-01-02T00:00:00Z"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"{nope", RejectReason.INVALID_JSON),
        (b'{"type": "track", "x": "\xff"}', RejectReason.INVALID_UTF8),
        (b"[1, 2]", RejectReason.NOT_AN_OBJECT),
        (b'"text"', RejectReason.NOT_AN_OBJECT),
        (b'{"event": "x"}', RejectReason.MISSING_TYPE),
        (b'{"type": null}', RejectReason.MISSING_TYPE),
        (b'{"type": "purchase"}', RejectReason.UNKNOWN_TYPE),
        (b'{"type": 5}', RejectReason.UNKNOWN_TYPE),
        (b'{"batch": {"type": "track"}}', RejectReason.BAD_BATCH),
        (b'{"payload": {"batch": 7}}', RejectReason.BAD_BATCH),
        (b"[" * 5000 + b"]" * 5000, RejectReason.TOO_DEEP),  # deeper than orjson's 1024 levels
    ],
)
def test_rejections(line: bytes, reason: RejectReason) -> None:
    records, _ = read(b'{"type":"page"}\n' + line + b"\n")
    assert records[0].reason is None
    assert records[1].reason is reason
    assert records[1].line == 2


def test_type_is_trimmed_and_lowercased() -> None:
    records, _ = read(lines({"type": " Identify "}))
    assert records[0].type == "identify"
    assert records[0].reason is None


def test_bad_event_in_a_batch_rejects_only_itself() -> None:
    records, _ = read(lines({"batch": [EVENT, 3, {"type": "nope"}, EVENT]}))
    assert [r.reason for r in records] == [
        None,
        RejectReason.NOT_AN_OBJECT,
        RejectReason.UNKNOWN_TYPE,
        None,
    ]
    assert records[1].raw == "3"
    assert json.loads(records[2].raw) == {"type": "nope"}


def test_blank_lines_are_not_records_but_count_as_lines() -> None:
    records, count = read(b"\n  \n" + lines(EVENT) + b"\r\n")
    assert count == 4
    assert len(records) == 1
    assert records[0].line == 3


def test_bom_crlf_and_no_final_newline() -> None:
    records, count = read(
        b"\xef\xbb\xbf" + json.dumps(EVENT).encode() + b"\r\n" + json.dumps(EVENT).encode()
    )
    assert count == 2
    assert all(r.reason is None for r in records)


def test_raw_is_escaped_and_cut() -> None:
    records, _ = read(b"\xff" * 70000 + b"\n")
    assert records[0].reason is RejectReason.INVALID_UTF8
    assert records[0].raw.startswith("\\xff\\xff")
    assert len(records[0].raw) == 65536 * 4  # 64 KiB of bytes, each written as \xff


def test_gzip_by_magic_bytes_and_truncation() -> None:
    data = gzip.compress(lines(*[dict(EVENT, n=i) for i in range(2000)]))
    records, count = read(data)
    assert count == 2000
    assert len(records) == 2000
    cut = data[: len(data) // 2]
    records, _ = read(cut)
    good = [r for r in records if r.reason is None]
    assert len(good) > 100
    assert records[-1].reason is RejectReason.TRUNCATED_INPUT
    assert all(r.reason is None for r in records[:-1])
    corrupt = data[:200] + b"\x00" * 50 + data[250:]
    records, _ = read(corrupt)
    assert records[-1].reason is RejectReason.TRUNCATED_INPUT


def test_concatenated_gzip_members() -> None:
    data = gzip.compress(lines(EVENT)) + gzip.compress(lines(EVENT, EVENT))
    assert len(read(data)[0]) == 3


def test_expand_paths(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/2.ndjson", "b/1.json.gz", "a.jsonl", "notes.txt", "b-c.json"):
        (tmp_path / name).write_text("")
    found = [Path(p).relative_to(tmp_path).as_posix() for p in expand_paths([str(tmp_path)]).files]
    assert found == ["a.jsonl", "b/1.json.gz", "b/2.ndjson", "b-c.json"]
    assert expand_paths(["-"]).files == ["-"]
    with pytest.raises(UsageError, match="no such file"):
        expand_paths([str(tmp_path / "missing")])


@settings(max_examples=examples(300))
@given(st.lists(st.binary(max_size=200), max_size=20), st.booleans())
def test_arbitrary_bytes_never_raise_and_every_line_is_accounted_for(
    chunks: list[bytes], compress: bool
) -> None:
    data = b"\n".join(chunks)
    if compress:
        data = gzip.compress(data)[: max(1, len(data) // 2)] if data else data
    records, count = read(data)
    assert all(r.line <= count for r in records)
    assert all(r.reason is not None or r.event is not None for r in records)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=examples(300))
@given(st.lists(JSON, max_size=10))
def test_arbitrary_json_lines_give_one_record_per_event(documents: list[Any]) -> None:
    records, count = read(b"\n".join(json.dumps(d).encode() for d in documents))
    assert count == len(documents)
    assert len({r.line for r in records}) <= len(documents)
    for record in records:
        assert (record.reason is None) == (record.event is not None)


def _inflate_all(stream: Any) -> tuple[bytes, str]:
    """Everything a gzip reader hands out, and how it ended ('' cleanly, else the error)."""
    out = b""
    try:
        while chunk := stream.read1(1 << 16):
            out += chunk
    except (EOFError, OSError, zlib.error, IsalError) as exc:
        return out, type(exc).__name__
    return out, ""


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(min_size=1, max_size=5000), st.integers(0, 2), st.data())
def test_gzip_keeps_exactly_what_the_standard_library_decodes_before_a_cut(
    body: bytes, members: int, data: st.DataObject
) -> None:
    packed = b"".join(gzip.compress(body + bytes([n])) for n in range(members + 1))
    cut = data.draw(st.integers(2, len(packed)))  # two bytes tell gzip by its magic
    ours, ours_end = _inflate_all(open_dump(io.BytesIO(packed[:cut])))
    theirs, theirs_end = _inflate_all(gzip.GzipFile(fileobj=io.BytesIO(packed[:cut])))
    assert ours == theirs
    assert bool(ours_end) == bool(theirs_end)  # cut short (or not) alike


def test_gzip_members_and_zero_padding_are_read() -> None:
    packed = gzip.compress(b"a\n") + b"\0" * 8 + gzip.compress(b"b\n")
    assert _inflate_all(open_dump(io.BytesIO(packed))) == (b"a\nb\n", "")


def test_a_bad_crc_is_an_error_after_the_data() -> None:
    packed = bytearray(gzip.compress(b"x" * 1000))
    packed[-6] ^= 0xFF
    _, end = _inflate_all(open_dump(io.BytesIO(bytes(packed))))
    assert end  # corrupt


def test_migrator_lines_carry_one_event_and_its_created_at() -> None:
    line = {
        "userId": "u",
        "payload": {"type": "track", "event": "x", "anonymousId": "a"},
        "createdAt": "2024-05-01T10:00:00.123456Z",
        "messageId": "",
    }
    records, _ = read(lines(line))
    assert [(r.type, r.created_at) for r in records] == [("track", "2024-05-01T10:00:00.123456Z")]


def test_a_warehouse_staging_row_is_named_as_such() -> None:
    row = {"data": {"event": "x", "anonymous_id": "a"}, "metadata": {"table": "tracks"}}
    records, _ = read(lines(row, {"batch": [row]}))
    assert [r.reason for r in records] == [RejectReason.WAREHOUSE_ROW] * 2


@pytest.mark.parametrize(
    "document",
    [
        [EVENT, {**EVENT, "event": "y"}],
        [{"batch": [EVENT, EVENT]}],
        {"batch": [EVENT, {"type": 7}]},
        EVENT,
    ],
)
def test_a_pretty_printed_document_is_read_whole(document: Any) -> None:
    text = json.dumps(document, indent=2).encode()
    records, physical = read(text)
    expected, _ = read(json.dumps(document).encode() + b"\n")  # the same, on one line
    if isinstance(document, list):
        expected = [r for element in document for r in read(lines(element))[0]]
    assert [(r.type, r.reason) for r in records] == [(r.type, r.reason) for r in expected]
    assert {r.line for r in records} == {1}
    assert physical == text.count(b"\n") + 1


def test_a_broken_pretty_printed_document_is_read_line_by_line() -> None:
    text = json.dumps([EVENT, EVENT], indent=2).encode()[:-5]  # the closing brackets cut
    records, physical = read(text)
    assert physical == len(text.splitlines())
    assert records  # each line on its own: rejected, as before
    assert all(r.reason is not None for r in records)


def test_jobs_db_backups_are_walked(tmp_path: Path) -> None:
    (tmp_path / "gw_jobs_12.100.200.1714557600000.1714561200000.ws.gz").write_bytes(b"")
    (tmp_path / "notes.gz").write_bytes(b"")
    assert [Path(p).name for p in expand_paths([str(tmp_path)]).files] == [
        "gw_jobs_12.100.200.1714557600000.1714561200000.ws.gz"
    ]
