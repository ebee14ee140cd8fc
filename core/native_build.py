"""`python -m core.native_build`: compile core/native.py's NATIVE modules with mypyc, and its
EXTENSIONS (C) with the same compiler, into core/_native/, the manifest (the SHA-256 of every
source of core) written last. Run by `make`; kept apart from core/native.py so that nothing the
compiled modules import pulls in setuptools."""

import importlib.machinery
import json
import os
import shutil
import tempfile
from pathlib import Path

from mypyc.build import mypycify
from setuptools import Extension, setup  # type: ignore[import-untyped]

from core.native import (
    BUILD_DIR,
    EXTENSIONS,
    MANIFEST,
    NATIVE,
    ROOT,
    digest,
    module_name,
    sources,
)


def build() -> None:
    """Compile NATIVE into core/_native/ with its manifest (the manifest written last)."""
    digests = {source: digest(ROOT / source) for source in sources()}
    with tempfile.TemporaryDirectory(prefix="rudder-sentry-native-") as tmp:
        work = Path(tmp)
        here = Path.cwd()
        os.chdir(work)  # setuptools reads a pyproject.toml in the working directory: not ours
        try:
            modules = mypycify([str(ROOT / source) for source in NATIVE], opt_level="3")
            modules += [
                Extension(name, [str(ROOT / source)], extra_compile_args=["-O2"])
                for name, source in EXTENSIONS.items()
            ]
            setup(
                name="rudder-sentry-native",
                ext_modules=modules,
                script_args=["build_ext", "--build-lib", "lib", "--parallel", "2", "--quiet"],
            )
        finally:
            os.chdir(here)
        shutil.rmtree(BUILD_DIR, ignore_errors=True)
        BUILD_DIR.mkdir()
        files = {}
        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        for built in (work / "lib").rglob(f"*{suffix}"):
            name = ".".join(built.relative_to(work / "lib").parts).removesuffix(suffix)
            files[name] = f"{name}{suffix}"
            shutil.copyfile(built, BUILD_DIR / files[name])
    missing = ({module_name(source) for source in NATIVE} | set(EXTENSIONS)) - set(files)
    if missing:
        raise SystemExit(f"the build made no module for {', '.join(sorted(missing))}")
    manifest = {"abi": suffix, "native": NATIVE, "sources": digests, "files": files}
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    build()
