"""`validate` on consent settings, as the dashboard's schema checks them (rudder-integrations-config
destinations/sentry/schema.json): `resolutionStrategy` is required for `custom` only."""

import json
from pathlib import Path
from typing import Any

import pytest

from core.validate import validate_file

DSN = "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1"


def check(tmp_path: Path, **fields: Any) -> dict[str, Any]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"dsn": DSN, **fields}))
    return validate_file(str(path))


@pytest.mark.parametrize(
    "management",
    [
        [{"provider": "oneTrust", "consents": [{"consent": "C0001"}]}],
        [{"provider": "ketch", "consents": [{"consent": "p1"}]}],  # no strategy: fine
        [{"provider": "iubenda", "consents": [], "resolutionStrategy": "or"}],
        [{"provider": "custom", "consents": [{"consent": "a"}], "resolutionStrategy": "and"}],
        [{"provider": "oneTrust", "consents": [], "resolutionStrategy": "anything"}],
        [{"consents": [{"consent": "C0001"}]}],  # provider defaults to oneTrust
        {"web": [{"provider": "oneTrust", "consents": []}]},  # the stored shape
        [],
    ],
)
def test_valid_consent_settings(tmp_path: Path, management: Any) -> None:
    result = check(tmp_path, consentManagement=management)
    assert result["errors"] == []
    assert result["valid"]


@pytest.mark.parametrize(
    ("management", "error"),
    [
        (
            [{"provider": "custom", "consents": [{"consent": "a"}]}],
            "consentManagement[0].resolutionStrategy is required for the custom provider",
        ),
        (
            [{"provider": "custom", "consents": [], "resolutionStrategy": "xor"}],
            "consentManagement[0].resolutionStrategy must be 'and' or 'or'",
        ),
        (
            [{"provider": "didomi", "consents": []}],
            "consentManagement[0].provider must be one of custom, iubenda, ketch, oneTrust",
        ),
        (
            [{"provider": "oneTrust", "consents": {}}],
            "consentManagement[0].consents must be an array",
        ),
        (
            [{"provider": "oneTrust", "consents": [{"consent": 7}]}],
            "consentManagement[0].consents[0].consent must be a string",
        ),
        (
            [{"provider": "oneTrust", "consents": [{"consent": "x" * 101}]}],
            "consentManagement[0].consents[0].consent does not match the schema pattern",
        ),
        ("oneTrust", "consentManagement must be an array"),
        ([7], "consentManagement[0] must be an object"),
    ],
)
def test_invalid_consent_settings(tmp_path: Path, management: Any, error: str) -> None:
    result = check(tmp_path, consentManagement=management)
    assert result["errors"] == [error]
    assert not result["valid"]


@pytest.mark.parametrize(
    ("fields", "warning"),
    [
        (
            {"oneTrustCookieCategories": ["C0001"]},
            "oneTrustCookieCategories[0] is a plain string, not {'oneTrustCookieCategory': ...}",
        ),
        (
            {"ketchConsentPurposes": {"web": ["p1"]}},
            "ketchConsentPurposes[0] is a plain string, not {'purpose': ...}",
        ),
        (
            {"consentManagement": {"web": ["oneTrust"]}},
            "consentManagement[0] is a string, not an object",
        ),
        (
            {"consentManagement": [{"provider": "oneTrust", "consents": [{}]}]},
            "consentManagement[0].consents[0] has no 'consent'",
        ),
    ],
)
def test_shapes_the_dashboard_refuses_are_warnings(
    tmp_path: Path, fields: dict[str, Any], warning: str
) -> None:
    result = check(tmp_path, **fields)
    assert result["valid"]  # replay reads them as the SDK would
    assert [w for w in result["warnings"] if w.startswith(warning)], result["warnings"]


def test_legacy_items_need_no_key(tmp_path: Path) -> None:
    result = check(tmp_path, oneTrustCookieCategories=[{}], ketchConsentPurposes=[{"purpose": ""}])
    assert result["errors"] == []


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
