"""The command line through Typer's runner and one real subprocess."""

import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

from cli.app import app
from cli.progress import Snapshot, progress_display
from cli.render import render_report
from core.report import Report
from tests.conftest import ROOT, SAMPLES, contains, table_text

runner = CliRunner()
CONFIG = str(SAMPLES / "configs" / "destination.json")
DUMPS = str(SAMPLES / "dumps")
GOLDEN = Path(__file__).parent / "golden"


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"SENTRY_DSN": "", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def test_replay_dry_run_text_report() -> None:
    code, _, err = invoke("replay", DUMPS, "-c", CONFIG, "--dry-run", "--no-progress")
    assert code == 0
    assert "would_send" in err
    assert "records" in err
    assert "exit code 0" in err


def test_replay_json_report_adds_up() -> None:
    code, out, _ = invoke("replay", DUMPS, "-c", CONFIG, "--dry-run", "--report", "json")
    report = json.loads(out)
    assert code == 0 == report["exit_code"]
    assert sum(report["outcomes"].values()) == report["records"] == 22
    for key in (
        "dry_run",
        "files",
        "lines",
        "by_type",
        "rejected",
        "failed",
        "older_than_retention",
        "sessions",
        "sessions_too_old",
        "duration_s",
        "records_per_s",
    ):
        assert key in report


def test_output_to_stdout(write_dump: Callable[..., Path]) -> None:
    code, out, _ = invoke("replay", DUMPS, "-c", CONFIG, "--dry-run", "--output", "-")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert len(events) == 7
    assert all(e["sdk"]["settings"]["infer_ip"] == "never" for e in events)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("replay", "/no/such/dump.ndjson", "--dry-run"), "no such file or directory"),
        (("replay", DUMPS, "-c", "/no/such/config.json", "--dry-run"), "cannot read config"),
        (("replay", DUMPS, "--dry-run", "--output", "-", "--report", "json"), "all want stdout"),
        (("replay", DUMPS, "--dry-run", "--rejects", "-", "--report", "json"), "all want stdout"),
        (("replay", DUMPS, "--dry-run", "--failures", "-", "--output", "-"), "all want stdout"),
        (("replay", DUMPS, "-c", CONFIG, "--dsn", ""), "no DSN"),
        (("replay", DUMPS, "--dsn", "https://topsecretkey@/1"), "does not parse"),
        (
            ("replay", DUMPS, "-c", str(SAMPLES / "configs" / "workspace.json"), "--dry-run"),
            "--destination",
        ),
        (("replay", DUMPS, "--dry-run", "--state", "s.db", "--no-state"), "contradict"),
        (("replay", DUMPS, "--dry-run", "--since", "yesterday"), "--since: 'yesterday' is"),
        (("replay", DUMPS, "--dry-run", "--since", "1h", "--until", "2h"), "must be earlier"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    code, _, err = invoke(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "topsecretkey" not in err


def test_rejected_lines_exit_3(write_dump: Callable[..., Path], tmp_path: Path) -> None:
    path = write_dump([{"type": "page", "anonymousId": "a"}, b"\xff\xfe", b"{"])
    rejects = tmp_path / "rejects.jsonl"
    code, out, _ = invoke(
        "replay", str(path), "--dry-run", "--rejects", str(rejects), "--report", "json"
    )
    assert code == 3
    assert json.loads(out)["rejected"] == {"invalid_utf8": 1, "invalid_json": 1}
    assert [json.loads(line)["line"] for line in rejects.read_text().splitlines()] == [2, 3]


def test_stdin_is_read_with_dash() -> None:
    line = json.dumps(
        {"type": "track", "event": "Error", "anonymousId": "a", "properties": {"message": "m"}}
    )
    result = runner.invoke(app, ["replay", "-", "--dry-run", "--report", "json"], input=line + "\n")
    assert json.loads(result.stdout)["outcomes"] == {"would_send": 1}


def test_validate_text_and_json(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", CONFIG)
    assert code == 0
    assert "config: valid" in out
    assert "'/^NetworkError when attempting/i' → regex" in out
    assert "****@" in out
    assert "0f6d2b1e9a4c4e7b8d3a5c6e7f8a9b0c" not in out
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "dsn": "https://k@h/1",
                "blackListedEvents": [],
                "debugMode": True,
                "ignoreErrors": [{"ignoreErrors": "^Script error$"}],
                "includePaths": [{"includePaths": "(?<=x"}],
                "eventFilteringOption": "whitelistedEvents",
                "whitelistedEvents": [{"eventName": ""}],
                "allowUrls": [{"allowUrls": "https://x.ngrok.io/"}],
            }
        )
    )
    code, out, _ = invoke("validate", str(bad), "--report", "json")
    result = json.loads(out)
    assert code == 2
    assert result["valid"] is False
    assert any("blackListedEvents" in e for e in result["errors"])
    assert any(e.startswith("/allowUrls/0") for e in result["errors"])
    warnings = " | ".join(result["warnings"])
    for expected in ("debugMode is on", "matched literally", "includePaths", "allowlist is empty"):
        assert expected in warnings


def test_version_and_module_entry_point() -> None:
    code, out, _ = invoke("--version")
    assert code == 0
    assert re.fullmatch(
        r"rudder-sentry \d+\.\d+\.\d+\S* \((compiled build: mypyc and the C scanner|"
        r"pure-Python build: .+)\)\n",
        out,
    )
    result = subprocess.run(
        [sys.executable, "-m", "cli", "replay", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert result.returncode == 0
    assert "--filter-semantics" in result.stdout


def test_every_option_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = get_command(app)
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        assert f"rudder-sentry {name}" in readme
        for param in sub.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in readme, f"{name} {opt} is not in README.md"
            assert getattr(param, "help", None), f"{name} {param.name} has no help text"


def test_the_readme_shows_what_make_run_prints() -> None:
    """The report and --explain lines in README.md are a real run's, not a mock-up."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code, _, err = invoke("replay", DUMPS, "-c", CONFIG, "--dry-run", "--no-progress", "--explain")
    assert code == 0
    run = err.replace(str(ROOT) + "/", "")
    timing = re.compile(r"\d[\d.,]* s \([\d,]+ records/s\)")
    report = [line for line in run.splitlines() if not line.startswith("samples/")]
    quoted = [line for line in readme.splitlines() if line.startswith("samples/")]
    assert len(quoted) >= 5
    assert set(quoted) <= set(run.splitlines())  # each quoted --explain line, verbatim
    shown = timing.sub("T", "\n".join(report))
    assert contains(table_text(timing.sub("T", readme)), table_text(shown))  # the whole report


def test_text_report_golden() -> None:
    report = Report(dry_run=True, files=2, lines=12, records=11, duration_s=0.5)
    report.outcomes = Counter({"would_send": 4, "breadcrumb": 5, "rejected": 2})
    report.by_type = Counter({"track": 7, "identify": 2})
    report.rejected = Counter({"invalid_json": 2})
    report.older_than_retention = 4
    report.warnings = ["includePaths: '[' skipped (invalid, or JavaScript-only syntax)"]
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=80, color_system=None, legacy_windows=False))
    golden = GOLDEN / "report.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(buffer.getvalue(), encoding="utf-8")
    assert table_text(buffer.getvalue()) == table_text(golden.read_text(encoding="utf-8"))


def test_progress_line_reads_well() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=True, color_system=None)
    with progress_display(console, enabled=True) as update:
        assert update is not None
        update(Snapshot(records=12_000, sent=30, failed=1, rejected=2, status="", dry_run=True))
        update(
            Snapshot(
                records=13_000, sent=31, failed=1, rejected=2, status="waiting for rate limit (42s)"
            )
        )
        console.file.flush()
    with progress_display(console, enabled=False) as nothing:
        assert nothing is None


def test_progress_text() -> None:
    from cli.progress import describe

    dry = Snapshot(records=12_000, sent=30, failed=1, rejected=2, status="", dry_run=True)
    assert describe(dry, elapsed=2.0) == (
        "12,000 records (6,000/s)  would send 30  failed 1  rejected 2"
    )
    waiting = Snapshot(
        records=10, sent=3, failed=0, rejected=0, status="waiting for rate limit (42s)"
    )
    assert describe(waiting, elapsed=1.0).endswith(
        "sent 3  failed 0  rejected 0  waiting for rate limit (42s)"
    )


def test_progress_off_a_terminal_is_a_plain_line_every_ten_seconds() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)  # not a terminal
    now = [100.0]
    snapshot = Snapshot(records=500, sent=5, failed=0, rejected=0, status="")
    with progress_display(console, enabled=True, get_time=lambda: now[0]) as update:
        assert update is not None
        for _ in range(25):  # 25 updates, 1 s apart: lines at 10 s and 20 s
            now[0] += 1.0
            update(snapshot)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("rudder-sentry: progress: 500 records (50/s)  sent 5")


def test_consent_and_dedupe_through_the_entry_point(tmp_path: Path) -> None:
    manager = {"provider": "ketch", "allowedConsentIds": ["p1"], "deniedConsentIds": ["p2"]}
    lines = [
        {"type": "track", "event": "Error", "anonymousId": "a", "messageId": f"m{n}",
         "properties": {"message": "boom"}, "context": context}
        for n, context in enumerate([{"consentManagement": manager}, {}, {}])
    ]  # fmt: skip
    dump = tmp_path / "dump.ndjson"
    dump.write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"ketchConsentPurposes": [{"purpose": "p2"}]}))
    code, out, err = invoke(
        "replay", str(dump), "-c", str(config), "--dry-run", "--explain", "--report", "json"
    )
    assert code == 0
    assert json.loads(out)["outcomes"] == {"consent_denied": 1, "would_send": 1, "deduplicated": 1}
    explained = [line.split("\t") for line in err.splitlines() if "\t" in line]
    assert [row[3:] for row in explained] == [
        ["consent_denied", "ketch: none of ['p2'] granted (ketchConsentPurposes, or)"],
        ["would_send", explained[1][4]],
        ["deduplicated", "same as this page load's previous error"],
    ]
    code, out, _ = invoke("validate", str(config), "--report", "json")
    assert json.loads(out)["consent"] == [
        "ketchConsentPurposes: with Ketch, Sentry loads when any of ['p2'] granted (v3 and v1.1)"
    ]


def test_report_merge_adds_up_the_shards(tmp_path: Path) -> None:
    paths = []
    for k in range(2):
        code, out, _ = invoke(
            "replay", DUMPS, "-c", CONFIG, "--dry-run", "--shard", f"{k}/2", "--report", "json"
        )
        assert code == 0
        paths.append(tmp_path / f"report-{k}.json")
        paths[-1].write_text(out)
    _, single, _ = invoke("replay", DUMPS, "-c", CONFIG, "--dry-run", "--report", "json")
    code, out, _ = invoke("report", "merge", *map(str, paths))
    merged, expected = json.loads(out), json.loads(single)
    assert code == 0
    for key in ("records", "outcomes", "by_type", "lines", "files", "exit_code"):
        assert merged[key] == expected[key], key
    code, _, err = invoke("report", "merge", str(CONFIG))
    assert code == 2
    assert "not a JSON report" in err
