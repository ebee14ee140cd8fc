"""Rate-limit headers, Retry-After, backoff and pacing: pure rules with a fixed clock."""

import pytest

from core.delivery.policy import (
    DEFAULT_RETRY_AFTER,
    MAX_WAIT,
    Action,
    Pacer,
    RateLimits,
    backoff_delay,
    classify,
    parse_rate_limits,
    parse_retry_after,
)

NOW = 1000.0


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (200, Action.ACCEPTED),
        (204, Action.ACCEPTED),
        (429, Action.WAIT),
        (401, Action.STOP),
        (403, Action.STOP),
        (407, Action.STOP),  # the proxy's: no event gets through it either
        (0, Action.BACKOFF),
        (408, Action.BACKOFF),
        (500, Action.BACKOFF),
        (503, Action.BACKOFF),
        (400, Action.FAIL),
        (413, Action.FAIL),
        (404, Action.FAIL),
    ],
)
def test_each_answer_has_one_action(status: int, action: Action) -> None:
    assert classify(status) is action


@pytest.mark.parametrize(
    ("header", "limits"),
    [
        ("60::organization", [(60.0, frozenset({""}))]),
        (
            "2700:default;error;security:project",
            [(2700.0, frozenset({"default", "error", "security"}))],
        ),
        (
            "86400:transaction;span:organization, 10:error:key:usage_exceeded",
            [(86400.0, frozenset({"transaction", "span"})), (10.0, frozenset({"error"}))],
        ),
        ("garbage, :error, 5", [(5.0, frozenset({""}))]),
        ("", []),
    ],
)
def test_parse_rate_limits(header: str, limits: list[tuple[float, frozenset[str]]]) -> None:
    assert list(parse_rate_limits(header)) == limits


def test_parse_retry_after() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("0.5", NOW) == 0.5
    assert parse_retry_after("Thu, 01 Jan 1970 00:16:50 GMT", NOW) == 10.0  # 1010 - 1000
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize(
    "header", ["0", "-5", "nan", "inf", "-inf", "Thu, 01 Jan 1970 00:00:01 GMT", "", "1e400"]
)
def test_an_unusable_retry_after_is_no_limit(header: str) -> None:
    assert parse_retry_after(header, NOW) is None


def test_no_wait_is_longer_than_a_day() -> None:
    assert parse_retry_after("999999999", NOW) == MAX_WAIT
    assert list(parse_rate_limits("999999999:error:key")) == [(MAX_WAIT, frozenset({"error"}))]
    assert list(parse_rate_limits("0:error:key, -3:error:key, nan:error:key")) == []


@pytest.mark.parametrize(
    ("retry_after", "header", "expected"),
    [
        (None, None, DEFAULT_RETRY_AFTER),  # a bare 429
        (None, "60:transaction:key", DEFAULT_RETRY_AFTER),  # names another category only
        (7.0, "60:transaction:key", 7.0),
        (None, "0:error:key", DEFAULT_RETRY_AFTER),  # a limit of no time is no limit
        (None, "30:error:key", 30.0),
    ],
)
def test_a_429_always_makes_our_events_wait(
    retry_after: float | None, header: str | None, expected: float
) -> None:
    limits = RateLimits()
    limits.update(429, retry_after, header, NOW)
    assert limits.wait_time(NOW) == expected


def test_categories_are_separate() -> None:
    limits = RateLimits()
    limits.update(200, None, "86400:transaction;span:organization", NOW)
    assert limits.wait_time(NOW) == 0.0  # a transaction limit never blocks error events
    limits.update(429, None, "30:error:key", NOW)
    assert limits.wait_time(NOW) == 30.0
    assert limits.wait_time(NOW + 31) == 0.0


def test_bare_429_blocks_everything() -> None:
    limits = RateLimits()
    limits.update(429, None, None, NOW)
    assert limits.wait_time(NOW) == DEFAULT_RETRY_AFTER
    retry = RateLimits()
    retry.update(429, 3.0, None, NOW)
    assert retry.wait_time(NOW, frozenset({"transaction"})) == 3.0


def test_overlapping_limits_keep_the_maximum() -> None:
    limits = RateLimits()
    limits.update(429, None, "50:error:key", NOW)
    limits.update(429, None, "5:error:key", NOW)
    assert limits.wait_time(NOW) == 50.0


def test_backoff_grows_and_is_capped() -> None:
    assert backoff_delay(0, 0.0) == 0.25
    assert backoff_delay(0, 0.999) == pytest.approx(0.5, abs=0.001)
    assert backoff_delay(3, 1.0) == 4.0
    assert backoff_delay(20, 1.0) == 30.0


def test_pacer_spaces_slots() -> None:
    pacer = Pacer(10)
    assert [pacer.reserve(NOW) for _ in range(3)] == [0.0, pytest.approx(0.1), pytest.approx(0.2)]
    assert Pacer(None).reserve(NOW) == 0.0
