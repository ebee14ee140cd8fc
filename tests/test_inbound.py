"""InboundFilters against @sentry/browser 6.13.1 (vectors/sentry-inbound-filters.json)."""

from typing import Any

import pytest

from core.event.error import apply_client_truncation
from core.js.regex import Pattern, PatternSet, compile_js_regex
from core.outcome import Outcome
from core.rules.inbound import InboundFilters, inbound_decision
from tests.conftest import load_vectors


def _patterns(*lists: Any) -> PatternSet:
    patterns = []
    for entries in lists:
        for entry in entries or []:
            if isinstance(entry, dict):  # a JS RegExp in the vector
                patterns.append(
                    Pattern(
                        entry["regex"], compile_js_regex(entry["regex"], entry.get("flags", ""))
                    )
                )
            else:
                patterns.append(Pattern(entry))
    return PatternSet(patterns)


def _filters(case: dict[str, Any]) -> InboundFilters:
    # _mergeOptions: constructor options, client options, then the defaults
    ctor, client = case.get("integration_options", {}), case.get("options", {})
    return InboundFilters.from_patterns(
        _patterns(ctor.get("ignoreErrors"), client.get("ignoreErrors")),
        _patterns(
            ctor.get("denyUrls"),
            ctor.get("blacklistUrls"),
            client.get("denyUrls"),
            client.get("blacklistUrls"),
        ),
        _patterns(
            ctor.get("allowUrls"),
            ctor.get("whitelistUrls"),
            client.get("allowUrls"),
            client.get("whitelistUrls"),
        ),
        ignore_internal=ctor.get("ignoreInternal", True),
    )


@pytest.mark.parametrize(
    "case", load_vectors("sentry-inbound-filters.json", lambda c: "expect_drop_6_13_1" in c)
)
def test_drop_decision_matches_6_13_1(case: dict[str, Any]) -> None:
    event = dict(case["event"])
    if case["kind"] == "derived_client_pipeline":
        apply_client_truncation(event)  # _applyClientOptions runs before the filter
    outcome, _, _ = inbound_decision(event, _filters(case))
    assert (outcome is not None) is case["expect_drop_6_13_1"]


def _only(**options: list[str]) -> InboundFilters:
    return _filters({"options": options})


def error_at(kind: str, value: str, filename: str) -> dict[str, Any]:
    frames = [{"filename": filename}]
    return {
        "exception": {"values": [{"type": kind, "value": value, "stacktrace": {"frames": frames}}]}
    }


def test_decision_order() -> None:
    internal = error_at("SentryError", "boom", "https://x.com/a.js")
    everything = _only(ignoreErrors=["boom"], denyUrls=["x.com"], allowUrls=["y.com"])
    assert inbound_decision(internal, everything)[0] is Outcome.INTERNAL_SENTRY_ERROR
    event = error_at("E", "boom", "https://x.com/a.js")
    assert inbound_decision(event, everything)[0] is Outcome.IGNORED_ERROR
    assert (
        inbound_decision(event, _only(denyUrls=["x.com"], allowUrls=["y.com"]))[0]
        is Outcome.DENIED_URL
    )
    assert inbound_decision(event, _only(allowUrls=["y.com"]))[0] is Outcome.NOT_ALLOWED_URL
    assert inbound_decision(event, _only(allowUrls=["x.com"]))[0] is None


def test_regex_entries_search() -> None:
    event = {"message": "Loading chunk 7 failed."}
    assert inbound_decision(event, _only(ignoreErrors=["/chunk \\d+ failed/i"]))[0] is None  # raw
    filters = InboundFilters.from_patterns(
        PatternSet([Pattern("/chunk \\d+ failed/i", compile_js_regex("chunk \\d+ failed", "i"))]),
        PatternSet([]),
        PatternSet([]),
    )
    assert inbound_decision(event, filters)[0] is Outcome.IGNORED_ERROR
