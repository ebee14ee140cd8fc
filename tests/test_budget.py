"""The regex budget of an error event: what ran over it is named, and nothing else is hit."""

import signal
from datetime import UTC, datetime
from typing import Any

import pytest

from core.config import normalize
from core.event import error as error_module
from core.input.records import Record
from core.rules.budget import BudgetExceededError, WorkBudget
from core.rules.engine import Engine, EngineOptions
from tests.conftest import error_event

NOW = datetime(2024, 5, 2, tzinfo=UTC)


def _engine(budget: WorkBudget, **config: Any) -> Engine:
    return Engine(normalize({"dsn": "", **config}), EngineOptions(), now=NOW, budget=budget)


def _record(event: dict[str, Any]) -> Record:
    return Record("t", 1, event, "track")


def test_a_runaway_config_entry_is_named() -> None:
    budget = WorkBudget(0.2)
    try:
        engine = _engine(budget, ignoreErrors=["/(a+)+$/"])
        event = error_event(1, properties={"message": "a" * 40 + "!"})
        with pytest.raises(BudgetExceededError) as caught:
            engine.decide(_record(event))
        assert engine.label(caught.value) == "ignoreErrors entry '/(a+)+$/'"
        assert engine.decide(_record(error_event(2))).outcome == "would_send"  # still works
    finally:
        budget.close()


def test_runaway_stack_parsing_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def endless(ex: Any) -> list[Any]:
        while True:
            pass

    # the stack parsers are core/js (interpreted even when the engine is compiled: the
    # budget names what ran over from their frames)
    monkeypatch.setattr(error_module, "parse_stack", endless)
    budget = WorkBudget(0.1)
    try:
        engine = _engine(budget)
        stack = "Error: boom\n    at f (https://example.com/a.js:1:2)"
        record = _record(error_event(1, properties={"message": "boom", "stack": stack}))
        with pytest.raises(BudgetExceededError) as caught:
            engine.decide(record)
        assert engine.label(caught.value) == "the 6.13.1 stack parsers (in endless)"
    finally:
        budget.close()


def test_the_timer_runs_only_inside_the_block() -> None:
    budget = WorkBudget(5.0)
    try:
        with budget:
            assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # nothing may land outside
    finally:
        budget.close()
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL  # handed back
