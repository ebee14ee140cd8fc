"""Opening a dump (plain or gzip, by magic bytes) and reading its records line by line
(docs/input.md).

gzip is inflated by isal (about 4x the standard library's speed: docs/performance.md) through
its zlib-style `decompressobj`, not its GzipFile: that one hands out whole internal blocks, so a
stream cut short lost up to the last 8 MiB decoded before the damage (measured), where a replay
keeps everything before it (docs/input.md, "Records").
"""

import gzip
import io
import itertools
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import orjson
from isal import isal_zlib

from core.input.background import BackgroundStream
from core.input.lines import MAX_LINE, RAW_LIMIT, TooLongLine
from core.input.records import Record, is_bare_event, parse_line, reject, to_record
from core.outcome import RejectReason
from core.shard import SPLIT_SHARD_LINES, Shard, counts_visitorless, peek_hash

CHUNK_SIZE = 1 << 20
MAX_DOCUMENT = 64 * 1024 * 1024  # bytes: a one-document dump read whole, at most
GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 31  # a gzip header and trailer around a deflate stream
IsalError: type[Exception] = isal_zlib.error  # type: ignore[assignment]  # not a zlib.error
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark is not JSON; editors add it
loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError


class _Prefixed(io.RawIOBase):
    """A stream that yields `prefix` first, then the rest of `stream` (to sniff stdin's magic)."""

    def __init__(self, prefix: bytes, stream: BinaryIO | io.BufferedIOBase) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            size = min(len(view), len(self._prefix))
            view[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        read1 = getattr(self._stream, "read1", None)  # a pipe must not wait for a full buffer
        data = read1(len(view)) if read1 is not None else self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def open_dump(stream: BinaryIO | io.BufferedIOBase) -> io.BufferedIOBase:
    """The stream itself, or a gzip reader over it when it starts with the gzip magic bytes."""
    if isinstance(stream, io.BufferedReader | BackgroundStream):  # sniffed in place (measured:
        head = stream.peek(2)[:2]  # reading through _Prefixed copies every chunk, 1.3 GB/s, not 5)
        if len(head) == 2 or not head:
            return GzipStream(stream) if head == GZIP_MAGIC else stream
    head = b""
    while len(head) < 2:
        more = stream.read(2 - len(head))
        if not more:
            break
        head += more
    source = io.BufferedReader(_Prefixed(head, stream), CHUNK_SIZE)
    if head == GZIP_MAGIC:
        return GzipStream(source)
    return source


class GzipStream(io.BufferedIOBase):
    """The decompressed bytes of a gzip stream of one or more members, through `read1`: what
    decodes before a cut or a corruption is returned first, then EOFError (cut short) or an
    error (corrupt: a bad CRC, a bad header)."""

    def __init__(self, source: io.BufferedIOBase) -> None:
        super().__init__()
        self._source = source
        self._inflate = isal_zlib.decompressobj(wbits=GZIP_WBITS)
        self._pending = b""  # compressed bytes read but not yet inflated
        self._fed = False  # the current member has had input

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        """Up to `size` decompressed bytes; b"" at the clean end of the last member."""
        limit = size if size > 0 else CHUNK_SIZE
        while True:
            data, self._pending = self._pending, b""
            if not data:
                data = self._source.read1(CHUNK_SIZE)
                if not data:
                    if self._fed:
                        raise EOFError("compressed stream ended before its end marker")
                    return b""
            if not self._fed:
                data = data.lstrip(b"\0")  # zero padding after a member, as gzip allows
                if not data:
                    continue
            self._fed = True
            inflate = self._inflate
            out = inflate.decompress(data, limit)
            if inflate.eof:  # this member is whole (its CRC checked): the next may follow
                self._pending = inflate.unused_data
                self._inflate = isal_zlib.decompressobj(wbits=GZIP_WBITS)
                self._fed = False
            else:
                self._pending = inflate.unconsumed_tail
            if out:
                return out

    def read(self, size: int | None = -1) -> bytes:
        """As read1: callers here read chunk by chunk."""
        return self.read1(-1 if size is None else size)


class DumpReader:
    """Iterates the records of one opened dump; counts physical lines in `lines`.

    Memory stays bounded whatever the input: a line longer than MAX_LINE is skipped to its end
    in constant memory and becomes one `line_too_long` record. `stop`, when given, is asked once
    a chunk, so a stop is answered within a chunk even where no record comes (a flood of blank
    lines, one endless line).
    """

    def __init__(
        self,
        stream: io.BufferedIOBase,
        source: str,
        stop: Callable[[], bool] | None = None,
        shard: Shard | None = None,
    ) -> None:
        self.source = source
        self.lines = 0
        self._stream = stream
        self._stop = stop
        self._parts: list[bytes] = []  # the start of a line whose end has not been read yet
        self._shard = shard if shard is not None and not shard.whole else None
        # Whether the shard's lines may be picked out in C as chunks are split: once the
        # dump is known not to be one JSON document (those lines are joined whole).
        self._picking = False

    def _keeps(self, record: Record) -> bool:
        """Whether this shard yields a record of a line it did not claim by peeking: an
        event of its visitors, or (shard 0) a rejection with no visitor."""
        shard = self._shard
        if shard is not None and record.event is not None:
            return shard.owns(record.event)
        return counts_visitorless(shard)

    def _line_batches(self) -> Iterator[tuple[list[bytes], bytes | None]]:
        """The stream's lines, a chunk's worth at a time; the last one may lack its newline.
        Each batch comes with the verdicts of core/peek.c's split_shard_lines when it split it: 1
        where a line is known to be this shard's; another shard's lines are then b""."""
        parts = self._parts
        size = 0
        skipped: TooLongLine | None = None  # the line being skipped to its end
        stop = self._stop
        shard = self._shard
        split_lines = SPLIT_SHARD_LINES if shard is not None else None
        scanned: bytes | None = None
        while chunk := self._stream.read1(CHUNK_SIZE):
            if stop is not None and stop():
                return
            if skipped is not None:
                end = chunk.find(b"\n")
                if end < 0:
                    skipped.size += len(chunk)
                    continue
                skipped.size += end
                yield [skipped], None
                skipped = None
                chunk = chunk[end + 1 :]
            if split_lines is not None and shard is not None and self._picking:
                lines, scanned = split_lines(chunk, shard.index, shard.count)
            else:
                lines, scanned = _split(chunk), None
            tail = lines.pop()  # never picked: the first and last pieces are peeked later
            if lines:
                if parts:
                    parts.append(lines[0])
                    lines[0] = b"".join(parts)
                    parts.clear()
                    size = 0
                    if len(lines[0]) > MAX_LINE:
                        lines[0] = TooLongLine.of(lines[0])
                yield lines, scanned
            if tail:
                parts.append(tail)
                size += len(tail)
                if size > MAX_LINE:
                    skipped = TooLongLine.of(b"".join(parts))
                    parts.clear()
                    size = 0
        if skipped is not None:
            yield [skipped], None
        elif parts:
            last = b"".join(parts)
            parts.clear()
            yield [last], None

    def __iter__(self) -> Iterator[Record]:
        source = self.source
        try:
            batches = self._line_batches()
            first = next(batches, None)
            if first is None:
                return
            held = [first]
            if _opens_a_document(first[0][0]):
                whole = self._hold(held, batches)
                document = _parse_whole(held) if whole else _NOT_ONE
                if document is not _NOT_ONE:
                    self.lines = sum(len(batch) for batch, _ in held)
                    yield from filter(self._keeps, _document_records(document, source))
                    return
            self._picking = True  # lines, not a document: the next chunks' may be picked in C
            shard = self._shard
            for lines, scanned in itertools.chain(held, batches):
                for i, line in enumerate(lines):
                    self.lines += 1
                    if not line.strip() and line.__class__ is bytes:
                        continue  # blank, or another shard's (a TooLongLine is empty, yet one)
                    lineno = self.lines
                    if lineno == 1 and line.__class__ is bytes:
                        line = line.removeprefix(BOM)
                    if shard is not None and (scanned is None or not scanned[i]):
                        found = peek_hash(line)
                        if found is not None and not shard.owns_hash(found):
                            continue  # another shard's visitor: not even parsed
                        if found is None:  # parsed whole, its records kept one by one
                            yield from filter(self._keeps, parse_line(line, source, lineno))
                            continue
                    # the fast path: one bare event per line (parse_line handles the rest)
                    try:
                        document = loads(line)
                    except JSONDecodeError:
                        yield from parse_line(line, source, lineno)
                        continue
                    if document.__class__ is dict and is_bare_event(document):
                        yield to_record(document, source, lineno, None, line)
                    else:
                        yield from parse_line(line, source, lineno, document)
        except (EOFError, zlib.error, IsalError, gzip.BadGzipFile, OSError) as exc:
            self.lines += 1
            if counts_visitorless(self._shard):
                pending = b"".join(self._parts)[:RAW_LIMIT]
                why = _describe(exc)
                yield reject(source, self.lines, RejectReason.TRUNCATED_INPUT, pending, why)

    def _hold(
        self,
        held: list[tuple[list[bytes], bytes | None]],
        batches: Iterator[tuple[list[bytes], bytes | None]],
    ) -> bool:
        """Read on into `held` while the dump may be one JSON document: True when it ended
        within MAX_DOCUMENT bytes (and no line was too long)."""
        size = sum(len(line) + 1 for line in held[0][0])
        for batch, scanned in batches:
            held.append((batch, scanned))
            size += sum(len(line) + 1 for line in batch)
            if size > MAX_DOCUMENT or any(line.__class__ is TooLongLine for line in batch):
                return False
        return True


def _split(chunk: bytes) -> list[bytes]:
    """chunk.split(b"\\n"), each end found by memchr: bytes.split tests byte by byte
    (measured under callgrind, a 1 KB line: 4,900 instructions in its loop alone, against
    2,300 in all here, the copy of the line included)."""
    lines = []
    start = 0
    find = chunk.find
    while (end := find(b"\n", start)) >= 0:
        lines.append(chunk[start:end])
        start = end + 1
    lines.append(chunk[start:])
    return lines


_NOT_ONE = object()  # the dump is not one JSON document


def _opens_a_document(first_line: bytes) -> bool:
    """A first line that does not parse on its own but opens an object or an array: the dump
    may be one pretty-printed JSON document (docs/input.md, "Dumps")."""
    start = first_line.removeprefix(BOM).lstrip()[:1]
    if start not in (b"{", b"["):
        return False
    try:
        loads(first_line.removeprefix(BOM))
    except JSONDecodeError:
        return True
    return False


def _parse_whole(held: list[tuple[list[bytes], bytes | None]]) -> Any:
    text = b"\n".join(line for batch, _ in held for line in batch).removeprefix(BOM)
    try:
        return loads(text)
    except JSONDecodeError:
        return _NOT_ONE


def _document_records(document: Any, source: str) -> Iterator[Record]:
    """A one-document dump's records: each element of an array (events, batch bodies, archive
    rows), or the one object, as a line would give them, all at line 1."""
    number = 0
    for element in document if isinstance(document, list) else [document]:
        try:
            raw = orjson.dumps(element)
        except TypeError:
            raw = b"<too deeply nested to show>"
        for record in parse_line(raw, source, 1, element):
            number += 1
            record.member = number  # every record is at line 1: `#k` tells them apart
            yield record


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "compressed stream ended before its end marker"
    return f"corrupt compressed stream ({exc})"
