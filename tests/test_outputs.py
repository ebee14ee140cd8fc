"""Outputs that cannot be written (docs/delivery.md, "Outputs"), through the real entry point in
a subprocess: a closed pipe, a full disk, a FIFO whose reader leaves. Each ends like an
interruption: exit 4, one line naming the output and the error, no traceback, and outcomes that
add up."""

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, error_event

ERRORS = 3000  # enough Sentry events to fill a pipe's buffer many times over
DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full here")


def error(n: int) -> dict[str, Any]:
    properties = {"message": f"boom {n}", "stack": "Error: boom\n    at f (a.js:1:2)"}
    return error_event(n, visitors=7, properties=properties)


@pytest.fixture
def errors(write_dump: Callable[..., Path]) -> Path:
    return write_dump([error(n) for n in range(ERRORS)])


def start(*args: str, **kwargs: Any) -> "subprocess.Popen[bytes]":
    command = [sys.executable, "-m", "cli", "replay", *args, "--dry-run", "--no-progress"]
    env = {**os.environ, "SENTRY_DSN": ""}
    return subprocess.Popen(command, cwd=ROOT, env=env, **kwargs)


def outcome_table(report: str) -> tuple[dict[str, int], int]:
    """The outcome rows and the records footer of a text report."""
    rows = dict(re.findall(r"│ (\w+)\s+│\s+([\d,]+) │", report))
    counts = {name: int(value.replace(",", "")) for name, value in rows.items()}
    records = counts.pop("records")
    return counts, records


def test_a_closed_stdout_stops_the_run_quietly(errors: Path) -> None:
    process = start(str(errors), "--output", "-", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()  # `| head -1`
    process.stdout.close()
    report = process.stderr.read().decode()
    assert process.wait(timeout=60) == 4
    assert json.loads(first)["platform"] == "javascript"
    assert "Traceback" not in report
    assert "Exception ignored" not in report
    assert "stopped: cannot write --output (stdout): Broken pipe" in report
    counts, records = outcome_table(report)
    assert sum(counts.values()) == records < ERRORS  # stopped early, every record counted once
    assert set(counts) == {"would_send"}  # nothing charged to an innocent record


@needs_dev_full
@pytest.mark.parametrize("option", ["--output", "--rejects"])
def test_a_full_disk_stops_the_run_with_a_report(
    option: str, write_dump: Callable[..., Path]
) -> None:
    lines = [error(n) if n % 2 else b"{not json" for n in range(ERRORS)]
    dump = write_dump(lines)
    process = start(str(dump), option, str(DEV_FULL), "--report", "json", stdout=subprocess.PIPE)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 4
    report = json.loads(out)
    assert report["output_error"] == f"cannot write {option} /dev/full: No space left on device"
    assert report["exit_code"] == 4
    assert report["interrupted"] is True
    assert sum(report["outcomes"].values()) == report["records"] < ERRORS
    assert "failed" not in report["outcomes"]


def test_a_fifo_whose_reader_leaves_stops_the_run(errors: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)

    def read_a_little() -> None:
        with open(fifo, "rb") as reader:
            reader.read(1000)

    reader = threading.Thread(target=read_a_little)
    reader.start()
    process = start(
        str(errors),
        "--output",
        str(fifo),
        "--report",
        "json",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = process.communicate(timeout=60)
    reader.join(timeout=10)
    assert process.returncode == 4
    report = json.loads(out)
    assert report["output_error"] == f"cannot write --output {fifo}: Broken pipe"
    assert sum(report["outcomes"].values()) == report["records"] < ERRORS
    assert b"Traceback" not in err
    assert f"stopped: cannot write --output {fifo}: Broken pipe" in err.decode()


def test_a_closed_explain_stream_stops_the_run(errors: Path) -> None:
    process = start(
        str(errors),
        "--explain",
        "--report",
        "json",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stderr.readline()
    process.stderr.close()
    out = process.stdout.read()
    assert process.wait(timeout=60) == 4
    report = json.loads(out)  # the report still reaches the stream that works
    assert report["output_error"] == "cannot write --explain (stderr): Broken pipe"
    assert sum(report["outcomes"].values()) == report["records"] < ERRORS


def test_an_output_file_is_replaced_only_when_the_run_ends(errors: Path, tmp_path: Path) -> None:
    target = tmp_path / "events.jsonl"
    target.write_text("old\n")
    process = start(
        str(errors), "--output", str(target), "--report", "json", stdout=subprocess.PIPE
    )
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert len(target.read_bytes().splitlines()) == ERRORS
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _run(*args: str, stdin: Any = subprocess.DEVNULL) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "replay", *args, "--dry-run", "--no-progress"],
        cwd=ROOT,
        env={**os.environ, "SENTRY_DSN": ""},
        stdin=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stderr


def test_a_symlinked_output_writes_its_target_and_the_link_stays(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    dump = write_dump([error(n) for n in range(5)])
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "events.jsonl"
    target.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    code, err = _run(str(dump), "-o", str(link))
    assert code == 0, err
    assert link.is_symlink()
    assert len(target.read_text().splitlines()) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.ndjson", "link.jsonl", "real"]


def test_a_device_is_written_in_place_with_nothing_beside_it(
    write_dump: Callable[..., Path],
) -> None:
    dump = write_dump([error(n) for n in range(5)])
    before = set(Path("/dev").iterdir())
    for device in ("/dev/null", "/dev/stdout"):
        code, err = _run(str(dump), "--rejects", device)
        assert code == 0, err
    code, err = _run(str(dump), "--state", "/dev/null")
    assert code == 2
    assert err.strip() == (
        "rudder-sentry: error: /dev/null: not a regular file; the state needs a file of its own "
        "(or --no-state)"
    )
    assert set(Path("/dev").iterdir()) == before  # no /dev/null-journal, no temp file


@pytest.mark.parametrize("option", ["--output", "--rejects", "--failures"])
def test_no_output_may_be_a_file_the_run_reads(
    write_dump: Callable[..., Path], tmp_path: Path, option: str
) -> None:
    dump = write_dump([error(n) for n in range(5)])
    config = tmp_path / "config.json"
    config.write_text('{"release": "r1"}')
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate")
    for read, refused in (
        (("-c", str(config)), str(config)),
        (("--ca-bundle", str(bundle)), str(bundle)),
        ((), str(dump)),
    ):
        code, err = _run(str(dump), *read, option, refused)
        assert code == 2, err
        assert "it would be overwritten" in err
    assert config.read_text() == '{"release": "r1"}'
    assert bundle.read_text() == "not a certificate"
    with dump.open("rb") as stdin:  # standard input redirected from the dump
        code, err = _run("-", option, str(dump), stdin=stdin)
    assert code == 2, err
    assert "standard input" in err
