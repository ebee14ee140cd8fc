"""`rudder-sentry diff`: its report is what two dry-runs, joined record by record, say."""

import io
import json
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.diff import DiffOptions, changed_fields, run_diff
from core.outcome import Outcome
from core.pipeline import ReplayIO
from core.rules.engine import EngineOptions, Scope
from core.run import ReplayOptions, run_replay
from core.sinks import Sink
from tests.bench.generate import generate
from tests.conftest import DATA, ROOT, SAMPLES, contains, examples, table_text
from tests.test_cli import invoke

CONFIG = SAMPLES / "configs" / "destination.json"
MESSAGES = ["Cannot read properties", "NetworkError", "undefined", "f1", "/^Cannot/", "/x+/i"]
URLS = ["shop.example.com", "chunk-3", "/static/js/", "ads.tracker.example.net", "/\\.js$/"]
TRACKS = ["Product Viewed", "Add To Cart", "Search", "Error", "Heartbeat"]


def _entries(key: str, pool: list[str]) -> st.SearchStrategy[list[dict[str, str]]]:
    return st.lists(st.sampled_from(pool), max_size=2).map(lambda xs: [{key: x} for x in xs])


CONFIGS = st.fixed_dictionaries(
    {
        "release": st.sampled_from(["", "web@1", "web@2"]),
        "environment": st.sampled_from(["", "production", "staging"]),
        "customVersionProperty": st.sampled_from(["", "app.version"]),
        "ignoreErrors": _entries("ignoreErrors", MESSAGES),
        "denyUrls": _entries("denyUrls", URLS),
        "allowUrls": _entries("allowUrls", URLS),
        "includePaths": _entries("includePaths", ["shop\\.example", "chunk-1"]),
        "eventFilteringOption": st.sampled_from(
            ["disable", "whitelistedEvents", "blacklistedEvents"]
        ),
        "whitelistedEvents": _entries("eventName", TRACKS),
        "blacklistedEvents": _entries("eventName", TRACKS),
    }
)


def _dump() -> Path:
    """A small generated dump (browser mix: page views, identifies, Zipf errors)."""
    path = Path(tempfile.gettempdir()) / "rudder-sentry-diff-dump.ndjson"
    if not path.exists():
        generate(path, 400, 40, mix="browser")
    return path


def _dry_run(paths: list[str], config: Path, **engine: Any) -> list[tuple[str, str, bytes]]:
    """One `replay --dry-run`: per record, its `source:line`, its outcome and (sent) payload."""
    explain, output = io.BytesIO(), io.BytesIO()
    options = ReplayOptions(
        paths=tuple(paths),
        config_path=str(config),
        dry_run=True,
        use_state=False,
        engine=EngineOptions(**engine),
    )
    sinks = ReplayIO(explain=Sink("explain", explain), output=Sink("output", output))
    run_replay(options, sinks)
    payloads = iter(
        line for line in output.getvalue().splitlines() if not line.startswith(b'{"sid"')
    )
    records = []
    for line in explain.getvalue().decode().splitlines():
        where, _type, _mid, outcome, _detail = line.split("\t", 4)
        payload = next(payloads) if outcome == Outcome.WOULD_SEND else b""
        records.append((where, outcome, payload))
    assert next(payloads, None) is None
    return records


def _joined(old: list[tuple[str, str, bytes]], new: list[tuple[str, str, bytes]]) -> dict[str, Any]:
    """What diff must say, from two dry-runs joined record by record."""
    assert [r[0] for r in old] == [r[0] for r in new]
    transitions: Counter[tuple[str, str]] = Counter()
    fields: Counter[str] = Counter()
    payloads = 0
    for (_, before, sent_before), (_, after, sent_after) in zip(old, new, strict=True):
        if before != after:
            transitions[(before, after)] += 1
        elif sent_before != sent_after:
            payloads += 1
            fields.update(changed_fields(sent_before, sent_after))
    return {
        "records": len(old),
        "transitions": dict(transitions),
        "changed": sum(transitions.values()) + payloads,
        "changed_payloads": payloads,
        "changed_fields": dict(fields),
    }


def _diff(paths: list[str], old: Path, new: Path, **engine: Any) -> dict[str, Any]:
    options = DiffOptions(
        str(old),
        str(new),
        ReplayOptions(
            paths=tuple(paths), dry_run=True, use_state=False, engine=EngineOptions(**engine)
        ),
    )
    report = run_diff(options, ReplayIO()).to_json()
    return {
        "records": report["records"],
        "transitions": {(t["from"], t["to"]): t["count"] for t in report["transitions"]},
        "changed": report["changed"],
        "changed_payloads": report["changed_payloads"],
        "changed_fields": report["changed_fields"],
    }


@given(CONFIGS, CONFIGS, st.sampled_from([Scope.PAGE, Scope.VISITOR]))
@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
def test_diff_is_the_join_of_two_dry_runs(
    old: dict[str, Any], new: dict[str, Any], scope: Scope
) -> None:
    paths = [str(_dump()), str(SAMPLES / "dumps"), str(DATA / "rudder-sample-events.ndjson")]
    with tempfile.TemporaryDirectory() as work:
        old_path, new_path = Path(work) / "old.json", Path(work) / "new.json"
        old_path.write_text(json.dumps(old))
        new_path.write_text(json.dumps(new))
        expected = _joined(
            _dry_run(paths, old_path, scope=scope), _dry_run(paths, new_path, scope=scope)
        )
        assert _diff(paths, old_path, new_path, scope=scope) == expected


def test_a_config_against_itself_changes_nothing(tmp_path: Path) -> None:
    report = _diff([str(SAMPLES / "dumps"), str(_dump())], CONFIG, CONFIG)
    assert report["records"] > 400
    assert report["changed"] == 0
    assert report["transitions"] == {}


def _next_config(tmp_path: Path) -> Path:
    config = json.loads(CONFIG.read_text())
    config["ignoreErrors"].append({"ignoreErrors": "Cannot read properties"})
    config["release"] = "shop-web@5.3.0"
    config["customVersionProperty"] = ""
    path = tmp_path / "next.json"
    path.write_text(json.dumps(config))
    return path


def test_exit_code_both_ways_and_the_text_report(tmp_path: Path) -> None:
    dumps, new = str(SAMPLES / "dumps"), str(_next_config(tmp_path))
    code, _, err = invoke("diff", str(CONFIG), new, dumps, "--exit-code", "--no-progress")
    assert code == 1
    assert "would_send" in err
    assert "ignoreErrors entry 'Cannot read properties'" in err
    assert "sent under both, with another Sentry event: 6 (fields: release 6)" in err
    code, _, err = invoke("diff", str(CONFIG), str(CONFIG), dumps, "--exit-code", "--no-progress")
    assert code == 0
    assert "no change" in err
    code, _, _ = invoke("diff", str(CONFIG), new, dumps, "--no-progress")
    assert code == 0  # without --exit-code, a difference is no failure


def test_explain_lists_each_changed_record(tmp_path: Path) -> None:
    args = ("diff", str(CONFIG), str(_next_config(tmp_path)), str(SAMPLES / "dumps"))
    code, out, err = invoke(*args, "--explain", "--report", "json", "--no-progress")
    assert code == 0
    report = json.loads(out)
    lines = [line.split("\t") for line in err.splitlines() if line.count("\t") == 5]
    assert len(lines) == report["changed"] == 7
    assert [
        "samples/dumps/web-2024-05-01.ndjson:5",
        "track",
        "4b6f3c7e-0005-4c1a-9f7e-09002100aa",
        "would_send",
        "ignored_error",
        "would_send → ignoreErrors entry 'Cannot read properties'",
    ] in [[line[0].removeprefix(str(SAMPLES.parent) + "/"), *line[1:]] for line in lines]


def test_jobs_split_the_diff_exactly(tmp_path: Path) -> None:
    args = ("diff", str(CONFIG), str(_next_config(tmp_path)), str(SAMPLES / "dumps"), str(_dump()))
    _, single, _ = invoke(*args, "--report", "json")
    code, split, err = invoke(*args, "--report", "json", "--jobs", "2")
    assert code == 0, err
    one, two = json.loads(single), json.loads(split)
    for key in (
        "records",
        "transitions",
        "changed",
        "changed_payloads",
        "changed_fields",
        "outcomes",
    ):
        assert one[key] == two[key], key


def test_destinations_are_picked_per_side(tmp_path: Path) -> None:
    workspace = json.loads((SAMPLES / "configs" / "workspace.json").read_text())
    path = tmp_path / "workspace.json"
    path.write_text(json.dumps(workspace))
    ids = [
        d["id"]
        for source in workspace["sources"]
        for d in source["destinations"]
        if d["destinationDefinition"]["name"] == "SENTRY"
    ]
    assert len(ids) >= 2
    code, out, err = invoke(
        "diff", str(path), str(path), str(SAMPLES / "dumps"),
        "--old-destination", ids[0], "--new-destination", ids[1], "--report", "json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["records"] == 22
    code, _, err = invoke("diff", str(path), str(path), str(SAMPLES / "dumps"))
    assert code == 2
    assert "--destination" in err


def test_changed_fields_are_the_top_level_keys_that_differ() -> None:
    old = orjson.dumps({"release": "a", "user": {"id": 1}, "tags": {}})
    new = orjson.dumps({"release": "b", "user": {"id": 1}, "extra": {}})
    assert changed_fields(old, new) == ["extra", "release", "tags"]


def test_the_readme_shows_a_real_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 'Is my change safe?' example in README.md is this run's output, timing aside."""
    monkeypatch.chdir(ROOT)  # the paths as the README gives them
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code, _, err = invoke(
        "diff",
        "samples/configs/destination.json",
        "samples/configs/destination-next.json",
        "samples/dumps",
        "--no-progress",
    )
    assert code == 0
    timing = re.compile(r"\d+\.\d\d s")
    assert contains(table_text(timing.sub("T", readme)), table_text(timing.sub("T", err)))
