"""What a user installs (setup.py): `python -m build` makes a platform wheel carrying the
compiled hot path; without a C compiler the install still works, with the pure build; both
decide the samples byte for byte alike. Slow (a real build, about 90 s): marked `install`."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from core import native
from tests.conftest import ROOT

pytestmark = pytest.mark.install

# what a checkout holds that a build must not see: earlier builds and environments
_LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", "*.so", "_build.json", "out"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An sdist and the wheel built from it, as `python -m build` makes them, and the wheel
    built where no C compiler works."""
    work = tmp_path_factory.mktemp("build")
    source = work / "rudder-sentry"
    shutil.copytree(ROOT, source, ignore=_LEFT_OUT)
    _run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(source)])
    pure_env = {**os.environ, "CC": "/bin/false"}
    _run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "pure"), str(source)],
        pure_env,
    )
    (wheel,) = (work / "dist").glob("*.whl")
    (sdist,) = (work / "dist").glob("*.tar.gz")
    (pure,) = (work / "pure").glob("*.whl")
    return {"wheel": wheel, "sdist": sdist, "pure": pure, "work": work}


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_the_wheel_is_a_platform_wheel_with_the_compiled_modules(built: dict[str, Path]) -> None:
    wheel = built["wheel"]
    assert wheel.name.startswith("rudder_sentry-")
    assert not wheel.name.endswith("-none-any.whl"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    suffix = next(s for s in (".so", ".pyd") if any(n.endswith(s) for n in names))
    for source in native.NATIVE:
        assert any(
            n.startswith(source.removesuffix(".py") + ".") and n.endswith(suffix) for n in names
        ), source
    assert any(n.startswith(native.LIBRARY.replace(".", "/")) for n in names)
    assert any(n.startswith("core/_peek.") and n.endswith(suffix) for n in names)
    assert native.MANIFEST in names
    assert not any("native_build" in n for n in names)


def test_the_sdist_carries_what_the_build_needs(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in ("setup.py", "pyproject.toml", "MANIFEST.in", "core/peek.c", *native.NATIVE):
        assert needed in names, needed
    assert not any(name.endswith((".so", "_build.json")) for name in names)


def test_without_a_compiler_the_wheel_is_the_pure_build(built: dict[str, Path]) -> None:
    assert built["pure"].name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(built["pure"]) as archive:
        names = archive.namelist()
    assert not any(n.endswith((".so", ".pyd")) for n in names)


def _dry_run(tool: Path, out: Path) -> tuple[str, dict[str, object], bytes, bytes]:
    """--version, and a dry-run of the samples: report (no timings), output and --explain."""
    version = _run([str(tool), "--version"]).strip()
    out.mkdir()
    done = subprocess.run(
        [
            str(tool),
            "replay",
            str(ROOT / "samples" / "dumps"),
            "--config",
            str(ROOT / "samples" / "configs" / "destination.json"),
            "--dry-run",
            "--no-progress",
            "--report",
            "json",
            "--explain",
            "--output",
            str(out / "events.jsonl"),
        ],
        capture_output=True,
        cwd=out,  # outside the checkout: only the installed package can be imported
        env={k: v for k, v in os.environ.items() if k != native.PURE_ENV},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    for key in ("duration_s", "records_per_s"):
        report.pop(key)
    return version, report, (out / "events.jsonl").read_bytes(), done.stderr


def test_both_installs_run_and_decide_alike(built: dict[str, Path]) -> None:
    environment = built["work"] / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    tool = environment / "bin" / "rudder-sentry"
    _run([str(python), "-m", "pip", "install", "-q", str(built["wheel"])])
    version, *compiled = _dry_run(tool, built["work"] / "compiled")
    assert version.endswith(f"({native.COMPILED})")
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--force-reinstall",
            "--no-deps",
            str(built["pure"]),
        ]
    )
    version, *pure = _dry_run(tool, built["work"] / "pure-run")
    assert "(pure-Python build: installed without the compiled build" in version
    assert compiled == pure
