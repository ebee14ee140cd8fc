"""Which build runs: the hot path compiled with mypyc (and core/peek.c), or the Python sources.

The per-record decision is interpreter-bound: its cost is spread over many small steps, so no
one rewrite removes it. mypyc (part of mypy) compiles the typed modules in NATIVE to C
extensions (docs/performance.md has the figures). setup.py builds them inside the ordinary
install (`pip install .`), and `make` builds the same ones in place in a checkout; either way
each compiled module sits beside its source, where Python's own import prefers it, and
mypyc's shared library is the module GROUP + "__mypyc". The build records the SHA-256 of every
source of core in MANIFEST (docs/build.md).

`install()`, called when `core` is imported, decides once, before any of them is imported:
- RUDDER_SENTRY_PURE=1 runs the Python sources whatever is built;
- in a checkout, where sources are edited, the compiled modules run only while every source
  still matches the manifest (all or none: compiled modules call each other natively, so one
  stale module would keep its old code running inside the others; checking costs 1 ms);
- an installed package runs what its install built.
When the sources must run, a finder in front of Python's serves NATIVE from their .py files and
refuses the compiled libraries. `status()` says which build runs, and why.
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
PURE_ENV = "RUDDER_SENTRY_PURE"
GROUP = "core._hot"  # mypyc's shared library: core/_hot__mypyc.<abi>.so
LIBRARY = f"{GROUP}__mypyc"
MANIFEST = "core/_build.json"  # written by setup.py beside what it built
# The modules every record goes through. Not here: core/input/lines.py (a bytes subclass,
# which mypyc cannot compile), and the modules whose frames the regex budget reads when it names
# what ran over (core/js but its value.py, core/rules/budget.py).
NATIVE = (
    "core/delivery/seam.py",
    "core/delivery/recording.py",
    "core/diff.py",
    "core/event/breadcrumbs.py",
    "core/event/error.py",
    "core/event/fields.py",
    "core/event/ids.py",
    "core/event/normalize.py",
    "core/event/timestamps.py",
    "core/input/dump.py",
    "core/identity.py",
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
    "core/rules/pageloads.py",
    "core/rules/sessions.py",
    "core/rules/visitors.py",
    "core/shard.py",
    "core/state.py",
)

# C of our own, built beside them (module: source). core/peek.c finds a line's visitor key for
# the shard peek (core/shard.py), which asks msgspec instead when it is not built.
EXTENSIONS = {"core._peek": "core/peek.c"}
COMPILED = "compiled build: mypyc and the C scanner"
PURE = "pure-Python build"

_status = f"{PURE}: not installed"


def status() -> str:
    """Which build runs: COMPILED, or "pure-Python build: <why not compiled>"."""
    return _status


def is_compiled() -> bool:
    """Whether the compiled modules (and the C scanner) run."""
    return _status == COMPILED


def digest(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sources() -> list[str]:
    """Every source of core, relative to the project (its C included): the compiled modules
    call into the others with types checked at build time, so any change makes the build
    stale."""
    paths = [*(ROOT / "core").rglob("*.py"), *(ROOT / "core").rglob("*.c")]
    return sorted(str(path.relative_to(ROOT).as_posix()) for path in paths)


def module_name(source: str) -> str:
    """`core/rules/engine.py` → `core.rules.engine`."""
    return source.removesuffix(".py").replace("/", ".")


def in_checkout() -> bool:
    """Whether core runs from a checkout (where sources are edited), not an installed package."""
    return (ROOT / "setup.py").is_file() and (ROOT / "pyproject.toml").is_file()


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Serves NATIVE from their .py files and refuses the compiled libraries (used when the
    sources must run although compiled modules sit beside them)."""

    def __init__(self) -> None:
        self.sources = {module_name(source): ROOT / source for source in NATIVE}
        self.refused = {LIBRARY, *EXTENSIONS}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in self.refused:
            raise ImportError(f"{fullname}: the Python sources run ({_status})")
        source = self.sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def _why_sources() -> str | None:
    """Why the Python sources must run (None: the compiled build is there and may run)."""
    if os.environ.get(PURE_ENV):
        return f"{PURE_ENV} is set"
    checkout = in_checkout()
    rebuild = "make rebuilds it" if checkout else "reinstall the package"
    try:
        manifest = json.loads((ROOT / MANIFEST).read_bytes())
    except FileNotFoundError:
        if checkout:
            return "not built (make builds it)"
        return (
            "installed without the compiled build (no working C compiler, or "
            "RUDDER_SENTRY_BUILD=pure, when it was installed)"
        )
    except (OSError, ValueError) as exc:
        return f"unreadable build manifest ({exc})"
    if manifest.get("abi") != importlib.machinery.EXTENSION_SUFFIXES[0]:
        return f"built for another Python ({rebuild})"
    if checkout:
        problem = _stale(manifest)
        if problem is not None:
            return problem
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    names = [*(source.removesuffix(".py") for source in NATIVE), *_paths(EXTENSIONS)]
    if not all((ROOT / f"{name}{suffix}").is_file() for name in names):
        return f"the build is incomplete ({rebuild})"
    return None


def _paths(modules: dict[str, str]) -> list[str]:
    return [name.replace(".", "/") for name in modules]


def _stale(manifest: dict[str, object]) -> str | None:
    """Why a checkout's build no longer matches its sources, or None."""
    built, native = manifest.get("sources"), manifest.get("native")
    if not isinstance(built, dict) or not isinstance(native, list):
        return "unreadable build manifest (make rebuilds it)"
    if sorted(native) != sorted(NATIVE) or built.keys() != set(sources()):
        return "core's modules changed since the build (make rebuilds it)"
    for source, expected in built.items():
        try:
            if digest(ROOT / source) != expected:
                return f"{source} changed since the build (make rebuilds it)"
        except OSError:
            return f"{source} is missing"
    return None


def install() -> None:
    """Decide once which build runs (before any NATIVE module is imported)."""
    global _status
    why = _why_sources()
    if why is None:
        try:  # the library holding all the compiled code: one that does not load is not used
            importlib.import_module(LIBRARY)
        except ImportError as exc:
            why = f"the build does not load ({exc})"
    if why is None:
        _status = COMPILED
        return
    _status = f"{PURE}: {why}"
    sys.meta_path.insert(0, _SourceFinder())
