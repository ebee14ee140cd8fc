"""The outputs of a run (`--output`, `--rejects`, `--failures`, `--explain`): every write goes
through a Sink, the one place where an output that cannot be written (a closed pipe such as
`| head`, a full disk, a closed descriptor) becomes a clean stop instead of a traceback or a
miscount (docs/delivery.md, "Outputs").

A sink that fails keeps the error, drops every later write, and tells the run through
`on_error`; the run then stops like an interruption. A regular file is written beside its
target and renamed into place when the sink is closed, so a run that stops never leaves an
emptied or half-written file where the old one was; a sink that failed is not renamed.
"""

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from core.errors import UsageError

STDOUT = "-"


class Sink:
    """One output stream; `error` is the OSError that broke it (None while it works)."""

    __slots__ = (
        "_owned",
        "_stream",
        "_target",
        "_temp",
        "error",
        "name",
        "on_error",
        "path",
        "stdout",
    )

    def __init__(
        self,
        name: str,
        stream: BinaryIO,
        *,
        owned: bool = False,
        temp: Path | None = None,
        target: Path | None = None,
        path: Path | None = None,
        stdout: bool = False,
    ) -> None:
        self.name = name
        self.stdout = stdout  # standard output: when its reader leaves, it is silenced
        self.path = path if path is not None else target  # the file written (None: a std stream)
        self.error: OSError | None = None
        self.on_error: Callable[[Sink], None] | None = None
        self._stream = stream
        self._owned = owned  # close the stream with the sink (not stdout, not stderr)
        self._temp = temp  # written here, renamed to `target` on a clean close
        self._target = target

    def write(self, data: bytes) -> None:
        """Write `data`; a failure breaks the sink (and is reported once)."""
        if self.error is None:
            try:
                self._stream.write(data)
            except OSError as exc:
                self._fail(exc)

    def flush(self) -> None:
        """Push buffered bytes to the file or pipe; a failure breaks the sink."""
        if self.error is None:
            try:
                self._stream.flush()
            except OSError as exc:
                self._fail(exc)

    @property
    def reason(self) -> str:
        """One line naming the output and what went wrong."""
        error = self.error
        what = (error.strerror or str(error)) if error is not None else "no error"
        return f"cannot write {self.name}: {what}"

    @property
    def broken_pipe(self) -> bool:
        """The reader went away (`| head`): the usual, quiet way for a pipe to end."""
        return isinstance(self.error, BrokenPipeError)

    def close(self) -> None:
        """Flush; close what the sink opened; put a cleanly written file in place."""
        self.flush()
        if self._owned:
            try:
                self._stream.close()
            except OSError as exc:  # the last buffered bytes did not fit
                self._fail(exc)
        if self._temp is not None and self._target is not None:
            if self.error is None:
                os.replace(self._temp, self._target)
            else:
                self._temp.unlink(missing_ok=True)
            self._temp = None

    def discard(self) -> None:
        """Close without putting the file in place (the run stopped before reading)."""
        if self._temp is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def _fail(self, exc: OSError) -> None:
        self.error = exc
        if self.on_error is not None:
            self.on_error(self)


def open_sink(path: str, option: str, stdout: BinaryIO) -> Sink:
    """A sink for `--option PATH`: stdout for `-`; anything but a regular file (a device, a
    FIFO, /dev/stdout, /proc/self/fd/N) written in place, nothing created beside it; a regular
    file (or a new one) through a temporary file beside it, renamed onto it at the end. A
    symlink is followed: its target is written, the link stays. Raises UsageError when it
    cannot be created."""
    if path == STDOUT:
        return Sink(f"{option} (stdout)", stdout, stdout=True)
    name = f"{option} {path}"
    try:
        mode = Path(path).stat().st_mode  # the kernel follows links, /proc's magic ones too
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        if mode is not None and not stat.S_ISREG(mode):  # /dev/null, a FIFO, a terminal
            return Sink(name, open(path, "wb"), owned=True, path=Path(path))
        target = Path(os.path.realpath(path))  # a link's target, where its temp file goes too
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    os.fchmod(handle, stat.S_IMODE(mode) if mode is not None else _default_mode())
    return Sink(name, os.fdopen(handle, "wb"), owned=True, temp=Path(temp), target=target)


def clobber_problem(
    inputs: list[tuple[str, Path | int]], outputs: list[tuple[str, Path]]
) -> str | None:
    """Why an output (name, path) would overwrite a file the run reads (name, path or open
    descriptor: an input, standard input, the config, the CA bundle) or another output, or None.

    Files are compared, not names (a link, `./x` and `x` are the same file, by device and
    inode); devices and FIFOs are left out: two outputs to /dev/null overwrite nothing.
    """
    seen: dict[tuple[object, ...], str] = {}
    for name, source in inputs:
        identity = _identity(source)
        if identity is not None:
            seen.setdefault(identity, name)
    for name, path in outputs:
        identity = _identity(path)
        if identity is None:
            continue
        if identity in seen:
            return f"{name} is the same file as {seen[identity]}: it would be overwritten"
        seen[identity] = name
    return None


def _identity(path: Path | int) -> tuple[object, ...] | None:
    """A regular file's (device, inode); a path not created yet by its real path; else None
    (a descriptor is its file's, when it is one)."""
    try:
        info = os.fstat(path) if isinstance(path, int) else path.stat()
    except FileNotFoundError:
        return None if isinstance(path, int) else ("new", os.path.realpath(path))
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


def state_problem(path: Path) -> str | None:
    """Why `path` cannot hold a state file (a device, a FIFO: SQLite would create its journal
    beside it), or None."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{path}: cannot use the state file: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    return f"{path}: not a regular file; the state needs a file of its own (or --no-state)"


def _default_mode() -> int:
    """What `open()` would create: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
