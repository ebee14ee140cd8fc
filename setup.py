"""The build of rudder-sentry: the hot path compiled inside the ordinary PEP 517 build.

`pip install .`, `pipx install .` and `python -m build` run this file (setuptools' backend). It
compiles core/native.py's NATIVE modules with mypyc and core/peek.c (the shard scan) with the
same C compiler, so the installed package carries them beside their sources and the wheel is a
platform wheel, as mypy and black ship theirs. Where no C compiler works (or
RUDDER_SENTRY_BUILD=pure is set) the install goes on with the Python sources alone and says so
in one line (pip shows it with -v); `rudder-sentry --version` names the build that runs.

In a checkout, `make` builds the same extensions in place (`python setup.py build_ext
--inplace`), with a manifest of the sources they were built from (core/native.py serves them
only while every source still matches). Details: docs/build.md.
"""

import importlib.machinery
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from setuptools import Extension, setup  # type: ignore[import-untyped]  # no types shipped
from setuptools.command.build_ext import build_ext  # type: ignore[import-untyped]
from setuptools.errors import BaseError as DistutilsError  # type: ignore[import-untyped]
from setuptools.errors import CCompilerError

ROOT = Path(__file__).resolve().parent
PURE_BUILD_ENV = "RUDDER_SENTRY_BUILD"  # "pure": install the Python sources only


def _native() -> ModuleType:
    """core/native.py, loaded by path: importing the package `core` would run its set-up."""
    spec = importlib.util.spec_from_file_location("_rudder_sentry_native", ROOT / "core/native.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NATIVE = _native()


def say(text: str) -> None:
    """One line on stderr (pip shows the build's output with -v)."""
    print(f"rudder-sentry build: {text}", file=sys.stderr, flush=True)


def compiler_problem() -> str | None:
    """Why no C extension can be built here (None when a trivial one compiles and links)."""
    from distutils.ccompiler import new_compiler  # setuptools' own, once setuptools is imported
    from distutils.sysconfig import customize_compiler

    compiler: Any = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory(prefix="rudder-sentry-probe-") as work:
        source = Path(work) / "probe.c"
        source.write_text("int rudder_sentry_probe(void) { return 0; }\n")
        try:
            objects = compiler.compile([str(source)], output_dir=work)
            compiler.link_shared_object(objects, str(Path(work) / "probe.so"))
        except (CCompilerError, DistutilsError, OSError):
            command = getattr(compiler, "compiler_so", None) or ["the C compiler"]
            return f"no working C compiler ({command[0]} failed on a one-line C file)"
    return None


# The commands that build extensions: only they need mypyc's half-minute type check and C
# generation (pip also runs this file for metadata and sdists; setuptools' PEP 517 backend
# passes the command in sys.argv, as `python setup.py <command>` does).
BUILDING = frozenset({"build", "build_ext", "bdist_wheel", "editable_wheel", "develop", "install"})


def extensions() -> list[Extension]:
    """The mypyc modules and the C scanner, when a C compiler works; else none (the pure build),
    with one line saying why (when building: pip runs this file for metadata too)."""
    building = bool(BUILDING.intersection(sys.argv[1:]))
    if os.environ.get(PURE_BUILD_ENV, "").lower() == "pure":
        problem: str | None = f"{PURE_BUILD_ENV}=pure is set"  # no compiler probe needed
    else:
        problem = compiler_problem()
    if problem is not None:
        if building:
            say(f"{problem}: installing the pure-Python build (slower; see --version)")
        return []
    scanner = [
        Extension(name, [source], extra_compile_args=["-O2"])
        for name, source in NATIVE.EXTENSIONS.items()
    ]
    if not building:
        return scanner  # what an sdist carries, and a platform wheel's tag
    try:
        from mypyc.build import mypycify

        modules = mypycify(
            list(NATIVE.NATIVE), opt_level="3", group_name=NATIVE.GROUP, target_dir="build/mypyc"
        )
    except SystemExit:  # mypy's type check failed: it printed why
        say("mypyc's type check failed (above): installing the pure-Python build")
        return []
    except Exception as exc:
        say(f"mypyc could not compile the hot path ({exc}): installing the pure-Python build")
        return []
    return [*modules, *scanner]


class BuildNative(build_ext):  # type: ignore[misc]  # setuptools' class, untyped
    """build_ext that compiles the mypyc modules with the C scanner, falls back to the pure
    build when that fails, and records the sources they were built from (core/native.py)."""

    def run(self) -> None:
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as exc:  # the compiler broke part way: no half-compiled install
            say(f"compiling failed ({exc}): installing the pure-Python build")
            self._remove_built()
            return
        self._write_manifest()

    def _remove_built(self) -> None:
        for extension in self.extensions:
            Path(self.get_ext_fullpath(extension.name)).unlink(missing_ok=True)
        (self._base() / NATIVE.MANIFEST).unlink(missing_ok=True)

    def _base(self) -> Path:
        """Where the package is being built: the checkout itself (in place), or build_lib."""
        return ROOT if self.inplace else Path(self.build_lib)

    def _write_manifest(self) -> None:
        base = self._base()
        manifest = {
            "abi": importlib.machinery.EXTENSION_SUFFIXES[0],
            "native": list(NATIVE.NATIVE),
            "extensions": sorted(NATIVE.EXTENSIONS),
            "sources": {source: NATIVE.digest(ROOT / source) for source in NATIVE.sources()},
        }
        target = base / NATIVE.MANIFEST
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildNative})
