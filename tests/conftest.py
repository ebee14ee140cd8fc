"""Shared helpers: vector loading and small dump files."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.scripted import Script, ScriptedServer

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples"

# `make test` runs the property tests at a fraction of their depth to stay short;
# HYPOTHESIS_PROFILE=thorough runs each at the depth its decorator names.
settings.register_profile("fast", deadline=None)
settings.register_profile("thorough", deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "fast")
settings.load_profile(PROFILE)


# Timing bounds in tests are the code's promise plus a stated margin, never the promise alone:
# a run answers SIGINT/SIGTERM within ANSWER seconds (its loops look at the stop flag at least
# every 0.2 s), then the process ends (the state closed, the report written, the interpreter's
# exit), which a loaded 2-core machine can stretch: 0.1 to 0.4 s idle, up to 1.3 s measured with
# the other core busy.
ANSWER = 1.0
TEARDOWN_MARGIN = 1.5


_BOX = dict.fromkeys(range(0x2500, 0x2580), " ")  # rich's box drawing: lines and corners


def table_text(text: str) -> list[list[str]]:
    """A rendered report as its words, line by line: what it says, whatever box characters and
    column widths the installed rich draws it with (a rich upgrade may change those)."""
    words = (line.translate(_BOX).split() for line in text.splitlines())
    return [line for line in words if line]


def contains(lines: list[list[str]], part: list[list[str]]) -> bool:
    """Whether `part` is a run of consecutive lines of `lines`."""
    return any(lines[i : i + len(part)] == part for i in range(len(lines) - len(part) + 1))


def examples(deep: int) -> int:
    """How many examples a property test runs: `deep` when thorough, else a tenth (>= 50)."""
    return deep if PROFILE == "thorough" else max(50, deep // 10)


def load_vectors(name: str, keep: Callable[[dict[str, Any]], bool] = lambda _: True) -> list[Any]:
    """Each vector case as a pytest.param named by the case's own test name."""
    cases = json.loads((DATA / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["test"]) for case in cases if keep(case)]


def error_event(n: int, *, visitors: int = 3, **extra: Any) -> dict[str, Any]:
    """An error track, a distinct Sentry event for each `n`, over a few visitors."""
    return {
        "type": "track",
        "event": "Error",
        "anonymousId": f"v{n % visitors}",
        "messageId": f"m{n}",
        "originalTimestamp": "2024-05-01T10:00:00Z",
        "properties": {"message": f"boom {n}"},
        **extra,
    }


def sample_events() -> list[dict[str, Any]]:
    """The 21 sample lines of tests/data/rudder-sample-events.ndjson, parsed."""
    lines = (DATA / "rudder-sample-events.ndjson").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.fixture
def write_dump(tmp_path: Path) -> Callable[..., Path]:
    """Write lines (objects become compact JSON, bytes/str are written as given) to a dump."""

    def write(lines: list[Any], name: str = "dump.ndjson") -> Path:
        path = tmp_path / name
        chunks = []
        for line in lines:
            if isinstance(line, bytes):
                chunks.append(line)
            elif isinstance(line, str):
                chunks.append(line.encode())
            else:
                chunks.append(json.dumps(line, separators=(",", ":")).encode())
        path.write_bytes(b"\n".join(chunks) + b"\n")
        return path

    return write


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    """Start scripted HTTP servers (tests/scripted.py), closed after the test."""
    servers: list[ScriptedServer] = []

    def start(script: Script, **kwargs: object) -> ScriptedServer:
        server = ScriptedServer(script, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def start(*args: str, stdin: Any = subprocess.DEVNULL, dsn: str = "") -> "subprocess.Popen[str]":
    """`rudder-sentry replay ARGS --report json` as a process (for signals and timing)."""
    command = [sys.executable, "-m", "cli", "replay", *args, "--no-progress", "--report", "json"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "SENTRY_DSN": dsn},
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
