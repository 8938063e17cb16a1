"""Canary budgets: the UTC day, the refusal rule, and the canary's configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.budget import BudgetLimits, refusal, utc_day
from sorawatch.config import CanaryProbeConfig, parse_config
from sorawatch.errors import ConfigError

CST = timezone(timedelta(hours=8))
PST = timezone(timedelta(hours=-8))


@pytest.mark.parametrize(
    ("at", "start"),
    [
        pytest.param(datetime(2026, 3, 1, 0, 0, tzinfo=UTC), datetime(2026, 3, 1), id="midnight"),
        pytest.param(
            datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 3, 1),
            id="last-microsecond",
        ),
        pytest.param(
            datetime(2026, 3, 2, 7, 0, tzinfo=CST), datetime(2026, 3, 1), id="cst-morning"
        ),
        pytest.param(datetime(2026, 2, 28, 17, 0, tzinfo=PST), datetime(2026, 3, 1), id="pst-eve"),
        pytest.param(
            datetime(2024, 2, 29, 12, 0, tzinfo=UTC), datetime(2024, 2, 29), id="leap-day"
        ),
    ],
)
def test_utc_day(at: datetime, start: datetime) -> None:
    got_start, got_end = utc_day(at)
    assert got_start == start.replace(tzinfo=UTC)
    assert got_end == got_start + timedelta(days=1)
    assert got_start.utcoffset() == timedelta(0)


def test_utc_day_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        utc_day(datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("cost", "channel", "everyone", "limits", "expected"),
    [
        pytest.param(0.4, 0.0, 0.0, BudgetLimits(2.0, 10.0), None, id="fresh-day"),
        pytest.param(0.4, 1.6, 1.6, BudgetLimits(2.0, 10.0), None, id="exactly-the-budget"),
        pytest.param(0.1, 1.9, 1.9, BudgetLimits(2.0), None, id="float-sums-still-fit"),
        pytest.param(
            0.4,
            1.7,
            1.7,
            BudgetLimits(2.0, 10.0),
            "channel canary budget: $1.70 spent today (UTC) + $0.40 would exceed $2.00",
            id="channel-runs-out",
        ),
        pytest.param(
            0.4,
            0.0,
            9.8,
            BudgetLimits(2.0, 10.0),
            "global canary budget: $9.80 spent today (UTC) + $0.40 would exceed $10.00",
            id="global-runs-out",
        ),
        pytest.param(5.0, 0.0, 99.0, BudgetLimits(None, None), None, id="no-caps"),
        pytest.param(0.0, 2.0, 2.0, BudgetLimits(2.0, 2.0), None, id="free-job-at-the-cap"),
    ],
)
def test_refusal(
    cost: float, channel: float, everyone: float, limits: BudgetLimits, expected: str | None
) -> None:
    assert refusal(cost, channel, everyone, limits) == expected


def test_refusal_sums_of_prices_fit_their_budget() -> None:
    spent = 0.0
    runs = 0
    while refusal(0.1, spent, spent, BudgetLimits(2.0)) is None:
        spent += 0.1
        runs += 1
    assert runs == 20  # 0.1 × 20 is 2.0000000000000004 in floats; still within 2.0


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: refusal(-0.1, 0, 0, BudgetLimits()), id="negative-cost"),
        pytest.param(lambda: BudgetLimits(channel_usd=-1), id="negative-channel-budget"),
        pytest.param(lambda: BudgetLimits(global_usd=-1), id="negative-global-budget"),
    ],
)
def test_negative_money_is_a_bug(bad: object) -> None:
    with pytest.raises(ValueError, match="negative"):
        bad()  # type: ignore[operator]


money = st.floats(0, 100, allow_nan=False, allow_infinity=False)


@given(cost=money, channel=money, extra=money, limit=money, global_limit=money)
def test_refused_exactly_when_a_budget_would_be_exceeded(
    cost: float, channel: float, extra: float, limit: float, global_limit: float
) -> None:
    everyone = channel + extra  # every channel spent at least what this one did
    why = refusal(cost, channel, everyone, BudgetLimits(limit, global_limit))
    over_channel = channel + cost > limit + 1e-9
    over_global = everyone + cost > global_limit + 1e-9
    assert (why is None) == (not over_channel and not over_global)
    if why is not None:
        assert why.startswith("channel" if over_channel else "global")


# --- configuration -------------------------------------------------------------------------

CHANNEL = """
  - id: relay
    name: Relay
    model: sora-2
    access: relay
    protocol: openai-videos
    base_url: https://relay.example/v1
    api_key: sk-test
"""


def config(channel_extra: str = "", top: str = "") -> str:
    return f"{top}channels:\n{CHANNEL}{channel_extra}"


def test_canary_defaults() -> None:
    text = config("    price: {per_second: 0.1}\n    probes: {canary: {}}\n")
    canary = parse_config(text, env={}).channels[0].probes.canary
    assert canary == CanaryProbeConfig()
    assert (canary.every, canary.budget_usd_per_day, canary.seconds, canary.size) == (
        6 * 3600.0,
        2.0,
        4,
        "1280x720",
    )
    assert (canary.timeout, canary.stall_after, canary.fail_after, canary.recover_after) == (
        900.0,
        600.0,
        2,
        1,
    )


def test_no_canary_unless_configured() -> None:
    cfg = parse_config(config("    price: {per_second: 0.1}\n"), env={})
    assert cfg.channels[0].probes.canary is None
    assert cfg.budget_usd_per_day is None


def test_canary_fields_parse() -> None:
    text = config(
        "    price: {per_call: 0.5}\n"
        "    probes:\n"
        "      canary: {every: 3h, budget_usd_per_day: 1.5, seconds: 8, size: 720x1280,\n"
        "               prompt: a red kite, timeout: 20m, stall_after: 5m, slow_after: 2m,\n"
        "               fail_after: 3, recover_after: 2}\n",
        top="budget_usd_per_day: 5\n",
    )
    cfg = parse_config(text, env={})
    canary = cfg.channels[0].probes.canary
    assert canary is not None
    assert (canary.every, canary.seconds, canary.size, canary.prompt) == (
        10800.0,
        8,
        "720x1280",
        "a red kite",
    )
    assert (canary.timeout, canary.stall_after, canary.slow_after) == (1200.0, 300.0, 120.0)
    assert cfg.budget_usd_per_day == 5.0


@pytest.mark.parametrize(
    ("channel_extra", "top", "problem"),
    [
        pytest.param(
            "    probes: {canary: {}}\n",
            "",
            "channels[0].probes: canary needs the channel's price (per_second or per_call)",
            id="canary-without-price",
        ),
        pytest.param(
            "    price: {per_second: 0.6}\n    probes: {canary: {}}\n",
            "",
            "channels[0].probes: canary: one job costs $2.40, more than budget_usd_per_day "
            "$2.00, so it could never run",
            id="one-job-over-the-channel-budget",
        ),
        pytest.param(
            "    price: {per_second: 0.1}\n    probes: {canary: {}}\n",
            "budget_usd_per_day: 0.3\n",
            "(top level): channels[0].probes.canary: one job costs $0.40, more than the global "
            "budget_usd_per_day $0.30",
            id="one-job-over-the-global-budget",
        ),
        pytest.param(
            "    price: {per_second: 0.1}\n    probes: {canary: {budget_usd_per_day: 0}}\n",
            "",
            "channels[0].probes.canary.budget_usd_per_day: Input should be greater than 0",
            id="zero-budget",
        ),
        pytest.param(
            "    price: {per_second: 0.1}\n    probes: {canary: {size: big}}\n",
            "",
            "channels[0].probes.canary.size: String should match pattern",
            id="bad-size",
        ),
        pytest.param(
            "    price: {per_second: 0.1}\n    probes: {canary: {budget: 2}}\n",
            "",
            "channels[0].probes.canary.budget: unknown key",
            id="typo-is-an-error",
        ),
        pytest.param(
            "    price: {per_second: 0.1}\n",
            "budget_usd_per_day: -1\n",
            "budget_usd_per_day: Input should be greater than 0",
            id="negative-global-budget",
        ),
    ],
)
def test_canary_config_errors_name_their_key(channel_extra: str, top: str, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(config(channel_extra, top), env={})
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_a_plain_http_check_has_no_canary() -> None:
    text = config().replace("protocol: openai-videos", "protocol: http") + (
        "    check: {}\n    price: {per_call: 0.1}\n    probes: {canary: {}}\n"
    )
    with pytest.raises(ConfigError) as err:
        parse_config(text, env={})
    assert err.value.problems == [
        "channels[0].probes: canary: protocol http has no generation job to run"
    ]
