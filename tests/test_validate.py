"""`validate` against the RudderStack dashboard's own schema of the Sentry destination
(rudder-integrations-config's schema.json): its verdict on every case of
tests/data/dashboard-schema-cases.json, made by running that schema with Ajv as the dashboard's
validator runs it (tests/data/generators/dashboard-schema.js): the repository's own Sentry test
cases, and variants of every field in every shape a hand-written config takes."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.validate import validate_file
from tests.conftest import DATA, ROOT

DSN = "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1"
CASES = json.loads((DATA / "dashboard-schema-cases.json").read_text(encoding="utf-8"))["cases"]


def check(tmp_path: Path, **fields: Any) -> dict[str, Any]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"dsn": DSN, **fields}))
    return validate_file(str(path))


@pytest.mark.parametrize("case", [pytest.param(c, id=c["test"]) for c in CASES])
def test_the_verdict_is_the_dashboards(tmp_path: Path, case: dict[str, Any]) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(case["config"]))
    result = validate_file(str(path))
    assert result["valid"] is case["valid"], (result["errors"], case["errors"])
    assert bool(result["errors"]) is not case["valid"]  # a reason for every refusal


def test_the_cases_cover_the_repositorys_own() -> None:
    own = [case for case in CASES if case["test"].startswith("rudder-integrations-config")]
    assert len(own) == 19
    assert sum(case["valid"] for case in own) == 9


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"consentManagement": {"web": [{"provider": "custom", "consents": []}]}},
         "/consentManagement/web/0: 'resolutionStrategy' is a required property"),
        ({"consentManagement": {"web": [{"provider": "didomi"}]}},
         "/consentManagement/web/0/provider: 'didomi' is not one of"),
        ({"oneTrustCookieCategories": [{"oneTrustCookieCategory": "C0001"}]},
         "/oneTrustCookieCategories: [{'oneTrustCookieCategory': 'C0001'}] is not of type"),
        ({"ignoreErrors": [{"ignoreErrors": "x" * 101}]},
         "/ignoreErrors/0/ignoreErrors: 'xxxx"),
        ({"sampleRate": 1}, "/: Additional properties are not allowed ('sampleRate' was"),
    ],
)  # fmt: skip
def test_a_refused_shape_is_invalid_with_the_schemas_reason(
    tmp_path: Path, fields: dict[str, Any], reason: str
) -> None:
    result = check(tmp_path, **fields)
    assert not result["valid"]
    assert [error for error in result["errors"] if error.startswith(reason)], result["errors"]


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        ({"oneTrustCookieCategories": ["C0001"]}, "oneTrustCookieCategories is not {'web': ...}"),
        ({"ketchConsentPurposes": {"web": ["p1"]}}, "ketchConsentPurposes holds plain strings"),
        ({"ignoreErrors": {"web": [{"ignoreErrors": "x"}]}}, "ignoreErrors is {'web': ...}"),
    ],
)
def test_what_the_dashboard_refuses_but_replay_reads_is_said(
    tmp_path: Path, fields: dict[str, Any], note: str
) -> None:
    result = check(tmp_path, **fields)
    assert not result["valid"]
    assert [w for w in result["warnings"] if w.startswith(note)], result["warnings"]
    assert any("replay reads it as the SDK would" in w for w in result["warnings"])


def test_a_consent_without_its_key_loads_sentry_for_everyone(tmp_path: Path) -> None:
    result = check(
        tmp_path, consentManagement={"web": [{"provider": "oneTrust", "consents": [{}]}]}
    )
    assert result["valid"]
    assert any("has no 'consent'" in warning for warning in result["warnings"])


def test_piped_output_never_wraps(tmp_path: Path) -> None:
    """`validate | ...` prints the effective config as JSON that parses, however long its
    lines, and the JSON report is the machine form."""
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"dsn": DSN, "release": "r" * 300, "ignoreErrors": [{"ignoreErrors": "e" * 90}]})
    )
    done = subprocess.run(
        [sys.executable, "-m", "cli", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout.split("effective config:\n", 1)[1]
    assert json.loads(text)["release"] == "r" * 300
    report = subprocess.run(
        [sys.executable, "-m", "cli", "validate", str(path), "--report", "json"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert json.loads(report.stdout)["valid"] is True


def test_entries_that_can_backtrack_for_minutes_are_warned_about(tmp_path: Path) -> None:
    result = check(
        tmp_path,
        ignoreErrors=[{"ignoreErrors": "/(a+)+$/"}, {"ignoreErrors": "(a+)+"}],
        includePaths=[{"includePaths": "(x*)*y"}],
    )
    backtracking = [w for w in result["warnings"] if "backtrack for minutes" in w]
    assert [w.split(":")[0] for w in backtracking] == ["ignoreErrors", "includePaths"]
    assert result["valid"]


@pytest.mark.parametrize("dsn", ["http:/s3cretkey@h/1", "s3cretkey@h/1", "http://s3cret key@h:x/1"])
def test_a_dsn_that_does_not_parse_keeps_its_key_masked(tmp_path: Path, dsn: str) -> None:
    result = check(tmp_path, dsn=dsn)
    assert "s3cret" not in json.dumps(result)
    assert any("does not parse" in warning for warning in result["warnings"])
