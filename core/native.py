"""The hot path compiled with mypyc, used only when it was built from exactly these sources.

The per-record decision is interpreter-bound: its cost is spread over many small steps, so no
one rewrite removes it. mypyc (part of mypy) compiles the typed modules in NATIVE to C
extensions: the dry-run went from 16-18% of the bench's bare orjson loop to 22-27% (alternating
runs, outputs identical: tests/test_native.py). `make` builds them (`python -m
core.native_build`) into core/_native/ with a manifest of the SHA-256 of every source of core;
`install()`, called when `core` is imported, serves them only while every source still matches
(all or none: compiled modules call each other natively, so one stale module would keep running
its old code inside the others; checking costs 1 ms at start-up). Otherwise, or with
RUDDER_SENTRY_PURE=1, the Python sources run, and `status()` says why.
"""

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = Path(__file__).resolve().parent / "_native"
MANIFEST = BUILD_DIR / "manifest.json"
PURE_ENV = "RUDDER_SENTRY_PURE"
# The modules every record goes through. Not here: core/input/lines.py (a bytes subclass,
# which mypyc cannot compile), and the modules whose frames the regex budget reads when it names
# what ran over (core/js but its value.py, core/rules/budget.py).
NATIVE = (
    "core/delivery/jobs.py",
    "core/delivery/recording.py",
    "core/event/breadcrumbs.py",
    "core/event/error.py",
    "core/event/fields.py",
    "core/event/ids.py",
    "core/event/normalize.py",
    "core/event/timestamps.py",
    "core/input/dump.py",
    "core/input/records.py",
    "core/js/value.py",
    "core/pipeline.py",
    "core/report.py",
    "core/rules/consent.py",
    "core/rules/dedupe.py",
    "core/rules/engine.py",
    "core/rules/eventfilter.py",
    "core/rules/identify.py",
    "core/rules/inbound.py",
    "core/rules/visitors.py",
    "core/shard.py",
    "core/state.py",
)

# C of our own, built beside them (module: source). core/peek.c finds a line's visitor key for
# the shard peek (core/shard.py), which asks msgspec instead when it is not built.
EXTENSIONS = {"core._peek": "core/peek.c"}

_status = "python: not installed"


def status() -> str:
    """Which code runs: "compiled (mypyc)", or "python: <why not compiled>"."""
    return _status


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sources() -> list[str]:
    """Every source of core, relative to the project (its C included): the compiled modules
    call into the others with types checked at build time, so any change makes the build
    stale."""
    paths = [*(ROOT / "core").rglob("*.py"), *(ROOT / "core").rglob("*.c")]
    return sorted(str(path.relative_to(ROOT)) for path in paths)


def module_name(source: str) -> str:
    return source.removesuffix(".py").replace("/", ".")


class _Finder(importlib.abc.MetaPathFinder):
    """Serves the compiled modules (and their shared library) from core/_native/."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


def _usable() -> dict[str, Path] | str:
    """The compiled files by module name, or why they cannot be used."""
    if os.environ.get(PURE_ENV):
        return f"python: {PURE_ENV} is set"
    try:
        manifest = json.loads(MANIFEST.read_bytes())
    except FileNotFoundError:
        return "python: not built (make builds it)"
    except (OSError, ValueError) as exc:
        return f"python: unreadable build manifest ({exc})"
    if manifest.get("abi") != importlib.machinery.EXTENSION_SUFFIXES[0]:
        return "python: built for another Python"
    built = manifest.get("sources", {})
    if sorted(manifest.get("native", ())) != sorted(NATIVE) or built.keys() != set(sources()):
        return "python: core's modules changed since the build (make rebuilds it)"
    for source, expected in built.items():
        try:
            if digest(ROOT / source) != expected:
                return f"python: {source} changed since the build (make rebuilds it)"
        except OSError:
            return f"python: {source} is missing"
    files = {name: BUILD_DIR / file for name, file in manifest["files"].items()}
    if not all(file.is_file() for file in files.values()):
        return "python: the build is incomplete (make rebuilds it)"
    return files


def install() -> None:
    """Serve the compiled modules when they match the sources (before any is imported)."""
    global _status
    usable = _usable()
    if isinstance(usable, str):
        _status = usable
        return
    finder = _Finder(usable)
    sys.meta_path.insert(0, finder)
    try:  # the library holding all the compiled code: one that does not load is not used
        for name in usable:
            if name.endswith("__mypyc"):
                importlib.import_module(name)
    except ImportError as exc:
        sys.meta_path.remove(finder)
        _status = f"python: the build does not load ({exc})"
        return
    _status = "compiled (mypyc)"
