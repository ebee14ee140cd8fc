"""The report survives its JSON: every field `--report json` writes is read back (by `report
merge` and by --jobs), so a merged report has the exit code the runs had."""

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from core.errors import ExitCode
from core.report import Report, merge_reports, report_from_json
from tests.faultserver import Faults, FaultServer
from tests.test_cli import invoke
from tests.test_delivery import events

_WORDS = st.text(st.characters(codec="utf-8"), max_size=12)
_COUNTS = st.dictionaries(_WORDS, st.integers(1, 10**6), max_size=4).map(Counter)
_N = st.integers(0, 10**9)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    """Any report a run can make."""
    report = Report(dry_run=draw(st.booleans()), shard=draw(st.sampled_from(["", "1/4"])))
    for name in (
        "files",
        "files_outside_window",
        "lines",
        "records",
        "older_than_retention",
        "sessions",
        "sessions_too_old",
        "sessions_already_sent",
        "visitors",
        "retries",
        "breadcrumb_texts_not_kept",
    ):
        setattr(report, name, draw(_N))
    for name in ("outcomes", "by_type", "rejected", "failed", "sessions_failed"):
        setattr(report, name, draw(_COUNTS))
    report.retention_days = draw(st.sampled_from([30.0, 90.0, 365.5]))
    report.duration_s = draw(st.floats(0, 10**6, allow_nan=False))
    report.interrupted = draw(st.booleans())
    report.stopped, report.output_error, report.refused = draw(st.tuples(_WORDS, _WORDS, _WORDS))
    listed = st.fixed_dictionaries({"source": _WORDS, "event_id": _WORDS, "reason": _WORDS})
    report.failures = draw(st.lists(listed, max_size=3))
    report.warnings = draw(st.lists(_WORDS, max_size=3))
    report.notes = draw(st.lists(_WORDS, max_size=3))
    report.destination = draw(st.dictionaries(st.sampled_from(["id", "name", "dsn"]), _WORDS))
    return report


@given(reports())
def test_a_report_survives_its_json(report: Report) -> None:
    once = report.to_json()
    again = report_from_json(json.loads(json.dumps(once)))
    assert again.to_json() == once
    assert again.exit_code == report.exit_code


@given(st.lists(reports(), min_size=1, max_size=4))
def test_a_merge_keeps_the_most_serious_exit_code(parts: list[Report]) -> None:
    merged = merge_reports(parts)
    codes = {report.exit_code for report in parts}
    for code in (ExitCode.INTERRUPTED, ExitCode.USAGE, ExitCode.DELIVERY_FAILED):
        if code in codes:
            assert merged.exit_code is code
            break


def test_a_refused_dsn_exits_2_alone_under_jobs_and_through_merge(
    write_dump: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_dump(events(40))
    with FaultServer(Faults(status=401)) as server:
        env = {"SENTRY_DSN": server.dsn}
        single = invoke("replay", str(path), "--no-state", "--report", "json", env=env)
        jobs = invoke("replay", str(path), "--no-state", "--report", "json", "--jobs", "2", env=env)
    for code, out, err in (single, jobs):
        assert code == ExitCode.USAGE, err
        assert json.loads(out)["refused"].startswith("Sentry refused the DSN (HTTP 401)")
    saved = tmp_path / "report.json"
    saved.write_text(single[1])
    code, out, _ = invoke("report", "merge", str(saved), str(saved))
    assert code == ExitCode.USAGE
    assert json.loads(out)["exit_code"] == ExitCode.USAGE
