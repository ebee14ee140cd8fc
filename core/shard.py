"""Shards: a replay split exactly by visitor (`--shard K/N`, `--jobs N`; docs/scale-out.md).

A visitor is keyed as core/identity.py keys it. A shard owns the visitors whose key's CRC-32
(zlib's, the same on every machine and Python version) is its index modulo the count. Shard K
of N split into M jobs is shard K + N*j of N*M: a hash that is K modulo N is, modulo N*M, one
of K, K + N, ..., K + N*(M-1).

Reading skips a line another shard owns without building it: `peek_hash` reads only the fields
that decide, and only when the line is one bare event of a known type; any other line is parsed
whole, and its records are filtered one by one. It asks core/peek.c first (C, one pass over the
line, built with the compiled modules; it also splits a chunk into lines, another shard's left
out), which answers only where it is sure, then msgspec (which takes a repeated key's last value
as orjson does). Why these and not others: docs/performance.md. Shard 0 counts what has no
visitor: lines rejected before an event could be read.
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, Literal

import msgspec

from core.identity import key_of, visitor_key
from core.outcome import EVENT_TYPES


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0-based)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count} does not exist")

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """`K/N` as given to --shard."""
        index, slash, count = text.partition("/")
        if not slash or not index.strip().isdigit() or not count.strip().isdigit():
            raise ValueError(f"{text!r} is not K/N (for example 0/4)")
        return cls(int(index), int(count))

    @property
    def whole(self) -> bool:
        """Whether this shard is the whole replay."""
        return self.count == 1

    def job(self, number: int, jobs: int) -> "Shard":
        """Job `number` of `jobs` splitting this shard."""
        return Shard(self.index + self.count * number, self.count * jobs)

    def owns(self, event: dict[str, Any]) -> bool:
        """Whether this shard decides the event."""
        return self.owns_key(*visitor_key(event))

    def owns_key(self, anonymous: bool, key: str) -> bool:
        return self.owns_hash(shard_hash(anonymous, key))

    def owns_hash(self, value: int) -> bool:
        """Whether a visitor whose key hashes to `value` is this shard's."""
        return value % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def counts_visitorless(shard: Shard | None) -> bool:
    """Whether this shard (None: the whole replay) counts what has no visitor: shard 0 does."""
    return shard is None or shard.index == 0


WRAPPERS = ("payload", "batch", "event_payload", "EventPayload", "message")  # records.unwrap's
_ANONYMOUS: Final = zlib.crc32(b"a\0")  # the CRC-32 of a key's prefix, continued over the key
_USER: Final = zlib.crc32(b"u\0")
_crc32: Final = zlib.crc32


def shard_hash(anonymous: bool, key: str) -> int:
    """The stable hash of a visitor key: the CRC-32 of b"a\\0" or b"u\\0", then its UTF-8."""
    try:
        data = key.encode()
    except UnicodeEncodeError:  # a lone surrogate, which a JSON escape can make: kept as is
        data = key.encode("utf-8", "surrogatepass")
    return _crc32(data, _ANONYMOUS if anonymous else _USER)


# The fields of a line that decide its shard, the rest left unread. msgspec checks the rest of
# what makes a line one bare event: `type` must be an event type spelled as the SDKs spell it,
# and no wrapper's key may be there at all (typed UnsetType, any value of it fails), so every
# other line raises and is parsed whole, without a test here per key (measured under callgrind:
# 13,300 instructions a peek of a 1 KB line, 16,700 with the tests). Made by defstruct, not a
# class statement: this module is compiled (core/native.py), and msgspec must see the types.
_Peek = msgspec.defstruct(
    "_Peek",
    [
        ("type", Literal.__getitem__(tuple(sorted(EVENT_TYPES)))),  # required: none is no event
        ("anonymousId", Any, None),
        ("userId", Any, None),
        *((name, msgspec.UnsetType, msgspec.UNSET) for name in WRAPPERS),
    ],
)
_PEEK: Final[Any] = msgspec.json.Decoder(_Peek)  # a repeated key: the last wins, as orjson's


def _declines(line: bytes) -> int:
    return -1


def _built() -> ModuleType | None:
    """core/peek.c, when it is built (core/native.py: with the compiled modules, used with
    them); None when the Python sources run."""
    try:
        from core import _peek
    except ImportError:
        return None
    return _peek


SplitLines = Callable[[bytes, int, int], tuple[list[bytes], bytes]]
_C: Final = _built()
# The shard hash of a line's visitor key, found by C in one pass over the line (-1: declined,
# then msgspec reads it; see core/peek.c): about 5,000 instructions for a 1 KB line under
# callgrind, against 13,300 for peek_hash_decoded.
_VISITOR_HASH: Final[Callable[[bytes], int]] = _declines if _C is None else _C.visitor_hash
# A chunk's lines, another shard's lines already skipped in C, and whether each line of this
# shard was scanned already (core/peek.c); None when it is not built.
SPLIT_SHARD_LINES: Final[SplitLines | None] = None if _C is None else _C.split_shard_lines


def peek_hash(line: bytes) -> int | None:
    """shard_hash of the visitor of a line that is one bare event of a known type, read without
    building the event; None when the line is anything else (then it is parsed whole)."""
    found = _VISITOR_HASH(line)
    return found if found >= 0 else peek_hash_decoded(line)


def peek_hash_decoded(line: bytes) -> int | None:
    """peek_hash by msgspec: for the lines core/peek.c declines, or all when it is not built."""
    try:
        found = _PEEK.decode(line)
    except msgspec.DecodeError:  # malformed, or not a bare event (a ValidationError)
        return None
    anonymous_id = found.anonymousId
    if anonymous_id.__class__ is str and anonymous_id:  # _key's usual case, inline
        return shard_hash(True, anonymous_id)
    anonymous, key = key_of(anonymous_id, found.userId)
    return shard_hash(anonymous, key)
