"""A line too long to read (docs/input.md, "Records"), apart from records.py: a bytes subclass,
which mypyc (core/native.py) cannot compile, while records.py is compiled."""

RAW_LIMIT = 64 * 1024
MAX_LINE = 32 * 1024 * 1024  # bytes: a longer line is skipped, in constant memory


class TooLongLine(bytes):
    """Stands in a batch of lines for one longer than MAX_LINE: empty, so no parser takes it;
    `head` keeps its start for `--rejects`, `size` counts its bytes."""

    head: bytes
    size: int

    @classmethod
    def of(cls, start: bytes) -> "TooLongLine":
        """The marker for a line that begins with `start` (and goes on)."""
        line = cls()
        line.head = start[:RAW_LIMIT]
        line.size = len(start)
        return line
