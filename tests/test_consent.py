"""Consent (docs/behaviour.md, "Consent"): the SDK's decision whether the Sentry destination
loads on a page.

The cases were made by running the consent code of @rudderstack/analytics-js 3.34.1 and
rudder-sdk-js 2.52.21 (tests/data/generators/consent.js).
"""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.rules.consent import ConsentSettings, consent_readings, consent_verdict
from core.rules.eventfilter import Semantics
from core.rules.pageloads import page_view_id
from tests.conftest import examples

CASES = json.loads((Path(__file__).parent / "data" / "consent-cases.json").read_text())["cases"]


def _event(manager: Any, present: bool = True) -> dict[str, Any]:
    context: dict[str, Any] = {"page": {"url": "https://shop.example/"}}
    if present:
        context["consentManagement"] = manager
    return {"type": "track", "event": "Error", "context": context}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['semantics']}: {c['name']}" for c in CASES])
def test_consent_as_the_sdk_decides(case: dict[str, Any]) -> None:
    semantics = Semantics(case["semantics"])
    settings = ConsentSettings.from_raw(case["config"])
    verdict = consent_verdict(
        _event(case["consentManagement"], case["present"]), settings, semantics
    )
    assert verdict.consented is case["consented"]
    assert bool(verdict.detail) is not case["consented"]
    if not case["consented"]:
        assert settings.can_deny(semantics)


def test_the_data_covers_every_provider_and_both_generations() -> None:
    assert len(CASES) >= 60
    names = " ".join(c["name"] for c in CASES)
    for word in ("oneTrust", "ketch", "iubenda", "custom", "legacy", "GCM"):
        assert word in names
    for semantics in ("v3", "v1.1"):
        outcomes = {c["consented"] for c in CASES if c["semantics"] == semantics}
        assert outcomes == {True, False}


OT = {"provider": "oneTrust", "allowedConsentIds": ["C0001"], "deniedConsentIds": ["C0004"]}


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        (
            {
                "consentManagement": {
                    "web": [{"provider": "oneTrust", "consents": [{"consent": "C0004"}]}]
                }
            },
            "oneTrust: 'C0004' not granted (consentManagement, and)",
        ),
        (
            {"oneTrustCookieCategories": [{"oneTrustCookieCategory": "C0004"}]},
            "oneTrust: 'C0004' not granted (oneTrustCookieCategories, and)",
        ),
    ],
)
def test_a_denial_names_the_provider_and_the_consent(config: dict[str, Any], detail: str) -> None:
    verdict = consent_verdict(_event(OT), ConsentSettings.from_raw(config), Semantics.V3)
    assert (verdict.consented, verdict.detail) == (False, detail)


def test_page_view_id_is_read_from_the_autotrack_context() -> None:
    event = {"context": {"autoTrack": {"page": {"pageViewId": "pv-1"}}}}
    assert page_view_id(event) == "pv-1"
    assert page_view_id({"context": {"autoTrack": {"page": {"pageViewId": 5}}}}) is None
    assert page_view_id({"context": None}) is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(["provider", "consents", "consent", "allowedConsentIds", "deniedConsentIds"])


@given(
    manager=st.dictionaries(KEYS, JSON, max_size=4) | JSON,
    config=st.dictionaries(
        st.sampled_from(["consentManagement", "oneTrustCookieCategories", "ketchConsentPurposes"]),
        JSON,
        max_size=3,
    ),
    semantics=st.sampled_from(list(Semantics)),
)
@settings(max_examples=examples(1000))
def test_any_shape_gets_a_verdict_never_an_exception(
    manager: Any, config: dict[str, Any], semantics: Semantics
) -> None:
    settings = ConsentSettings.from_raw(config)
    verdict = consent_verdict(_event(manager), settings, semantics)
    if not verdict.consented:
        assert verdict.detail
        assert settings.can_deny(semantics)


def test_validate_says_what_each_consent_setting_requires() -> None:
    settings = ConsentSettings.from_raw(
        {
            "consentManagement": {
                "web": [
                    {"provider": "oneTrust", "consents": [{"consent": "C0004"}]},
                    {
                        "provider": "custom",
                        "consents": [{"consent": "a"}],
                        "resolutionStrategy": "or",
                    },
                    {"provider": "ketch", "consents": [{}]},
                ]
            },
            "ketchConsentPurposes": [{"purpose": "p1"}],
        }
    )
    assert consent_readings(settings) == [
        "consentManagement[0] (oneTrust): Sentry loads when all of ['C0004'] granted "
        "(any of when the event's resolutionStrategy is 'or'; v3)",
        "consentManagement[1] (custom): Sentry loads when any of ['a'] granted (its 'or'; v3)",
        "consentManagement[2] (ketch) is malformed: the v3 check fails, Sentry loads",
        "ketchConsentPurposes: with Ketch, Sentry loads when any of ['p1'] granted "
        "(v1.1 only: v3 reads consentManagement)",
    ]
    assert consent_readings(ConsentSettings()) == ["none: Sentry loads whatever the visitor chose"]
