"""The compiled hot path (core/native.py): used by the suite, never stale, same results."""

import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import native
from tests.bench.generate import generate
from tests.conftest import DATA, ROOT, SAMPLES


def test_the_suite_runs_the_compiled_hot_path() -> None:
    if os.environ.get(native.PURE_ENV):
        pytest.skip(f"{native.PURE_ENV} is set: the Python sources are under test")
    assert native.status() == native.COMPILED, "run `make test` (it builds the hot path)"
    from core import shard
    from core.rules import engine

    assert engine.__file__.endswith(SUFFIX), "the compiled module sits beside its source"
    assert shard._VISITOR_HASH is not shard._declines, "core/peek.c is built and used with the rest"


def test_the_sources_run_when_asked() -> None:
    """RUDDER_SENTRY_PURE=1 serves the .py files although the compiled modules sit beside."""
    code = (
        "import core.rules.engine as e, core.shard as s, core.native as n;"
        "print(e.__file__); print(s._C); print(n.status())"
    )
    env = {**os.environ, native.PURE_ENV: "1"}
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    engine, scanner, status = found.stdout.splitlines()
    assert engine.endswith("core/rules/engine.py")
    assert scanner == "None"
    assert status == f"pure-Python build: {native.PURE_ENV} is set"


SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


@pytest.fixture
def fake_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with two core sources, their 'compiled' files and a manifest that matches."""
    root = tmp_path / "project"
    (root / "core" / "rules").mkdir(parents=True)
    (root / "setup.py").write_text("")
    (root / "pyproject.toml").write_text("")
    (root / "core" / "__init__.py").write_text("")
    (root / "core" / "rules" / "engine.py").write_text("x = 1\n")
    (root / "core" / "rules" / f"engine{SUFFIX}").write_bytes(b"")
    (root / "core" / f"_peek{SUFFIX}").write_bytes(b"")
    monkeypatch.setattr(native, "ROOT", root)
    monkeypatch.setattr(native, "NATIVE", ("core/rules/engine.py",))
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    manifest = {
        "abi": SUFFIX,
        "native": ["core/rules/engine.py"],
        "sources": {source: native.digest(root / source) for source in native.sources()},
    }
    (root / native.MANIFEST).write_text(json.dumps(manifest))
    return root


def test_a_matching_build_is_used(fake_build: Path) -> None:
    assert native._why_sources() is None


def test_an_edited_source_makes_the_build_stale(fake_build: Path) -> None:
    (fake_build / "core" / "__init__.py").write_text("# edited\n")  # not even a compiled one
    assert native._why_sources() == "core/__init__.py changed since the build (make rebuilds it)"


def test_a_new_source_makes_the_build_stale(fake_build: Path) -> None:
    (fake_build / "core" / "rules" / "new.py").write_text("")
    assert native._why_sources() == "core's modules changed since the build (make rebuilds it)"


def test_an_installed_package_is_not_checked_against_its_sources(fake_build: Path) -> None:
    """Outside a checkout nothing edits the sources: no digests at start-up, and the messages
    say what to do there."""
    (fake_build / "setup.py").unlink()
    (fake_build / "core" / "__init__.py").write_text("# whatever\n")
    assert native._why_sources() is None
    (fake_build / "core" / f"_peek{SUFFIX}").unlink()
    assert native._why_sources() == "the build is incomplete (reinstall the package)"
    (fake_build / native.MANIFEST).unlink()
    assert native._why_sources() == (
        "installed without the compiled build (no working C compiler, or "
        "RUDDER_SENTRY_BUILD=pure, when it was installed)"
    )


def test_no_build_and_the_opt_out(fake_build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native._why_sources() == f"{native.PURE_ENV} is set"
    monkeypatch.delenv(native.PURE_ENV)
    (fake_build / native.MANIFEST).unlink()
    assert native._why_sources() == "not built (make builds it)"


def test_a_build_that_does_not_load_is_not_used(
    fake_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fake_build / "broken__mypyc.so").write_bytes(b"not a shared library")
    monkeypatch.syspath_prepend(str(fake_build))
    monkeypatch.setattr(native, "LIBRARY", "broken__mypyc")
    finders = list(sys.meta_path)
    before = native.status()
    try:
        native.install()
        assert native.status().startswith("pure-Python build: the build does not load (")
        assert len(sys.meta_path) == len(finders) + 1  # the sources are served instead
        with pytest.raises(ImportError, match="the Python sources run"):
            sys.meta_path[0].find_spec("broken__mypyc", None)
    finally:
        sys.meta_path[:] = finders
        native._status = before


def _replay(
    paths: list[Path], out: Path, pure: bool, config: Path, *more: str
) -> dict[str, object]:
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    if pure:
        env[native.PURE_ENV] = "1"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "replay",
            *map(str, paths),
            "--config",
            str(config),
            "--dry-run",
            "--no-state",
            "--no-progress",
            "--report",
            "json",
            "--output",
            str(out / "output.jsonl"),
            "--explain",
            "--rejects",
            str(out / "rejects.jsonl"),
            *more,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    assert result.returncode in (0, 3), result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    for key in ("duration_s", "records_per_s"):
        report.pop(key)
    (out / "explain.tsv").write_bytes(result.stderr)
    return report


def test_compiled_and_python_decide_alike(tmp_path: Path) -> None:
    """The same dumps through both: outputs, explanations, rejects and reports identical."""
    generated = tmp_path / "generated.ndjson"
    generate(generated, 6000, 300)  # the bench's mix: Zipf errors, identifies, pages, tracks
    paths = [generated, SAMPLES / "dumps", DATA / "rudder-sample-events.ndjson"]
    config = SAMPLES / "configs" / "destination.json"
    compiled = _replay(paths, tmp_path / "compiled", False, config)
    pure = _replay(paths, tmp_path / "pure", True, config)
    assert compiled == pure
    assert compiled["outcomes"]["would_send"] > 500  # type: ignore[index]
    for name in ("output.jsonl", "explain.tsv", "rejects.jsonl"):
        ours = (tmp_path / "compiled" / name).read_bytes()
        assert ours == (tmp_path / "pure" / name).read_bytes(), name


def test_compiled_and_python_take_the_same_shard(tmp_path: Path) -> None:
    """A shard's lines found by core/peek.c (compiled) and by msgspec alone (the sources)."""
    generated = tmp_path / "generated.ndjson"
    generate(generated, 6000, 300)
    paths = [generated, DATA / "rudder-sample-events.ndjson"]
    config = SAMPLES / "configs" / "destination.json"
    compiled = _replay(paths, tmp_path / "compiled", False, config, "--shard", "1/3")
    pure = _replay(paths, tmp_path / "pure", True, config, "--shard", "1/3")
    assert compiled == pure
    assert 0 < compiled["records"] < 5000  # type: ignore[operator]
    for name in ("output.jsonl", "explain.tsv", "rejects.jsonl"):
        ours = (tmp_path / "compiled" / name).read_bytes()
        assert ours == (tmp_path / "pure" / name).read_bytes(), name
