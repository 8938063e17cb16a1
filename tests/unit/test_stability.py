"""Stars, success rates and risk-control frequency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.domain.incident import StatusChange
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.stability import (
    risk_control_entries_per_week,
    star_text,
    stars,
    success_rate,
)
from sorawatch.domain.status import Status

NOW = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("availability", "expected"),
    [
        pytest.param(0.9984, 5, id="seed-official-relay-99.84"),
        pytest.param(0.85, 2, id="seed-reverse-85"),
        pytest.param(0.70, 1, id="seed-pro-reverse-70"),
        pytest.param(0.995, 5, id="five-floor"),
        pytest.param(0.9949, 4, id="just-under-five"),
        pytest.param(0.97, 4, id="four-floor"),
        pytest.param(0.93, 3, id="three"),
        pytest.param(0.80, 2, id="two-floor"),
        pytest.param(0.0, 1, id="never-up"),
        pytest.param(None, None, id="unmeasured"),
    ],
)
def test_stars(availability: float | None, expected: int | None) -> None:
    assert stars(availability) == expected


@given(st.floats(0, 1), st.floats(0, 1))
def test_more_availability_never_means_fewer_stars(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert (stars(low) or 0) <= (stars(high) or 0)


def test_star_text() -> None:
    assert star_text(2) == "★★☆☆☆"
    assert star_text(None) == "—"


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        pytest.param({Outcome.OK: 4, Outcome.RISK_CONTROL: 6}, 0.4, id="seed-40-percent"),
        pytest.param({Outcome.OK: 3, Outcome.SLOW: 1}, 1.0, id="slow-still-answered"),
        pytest.param({Outcome.OK: 1, Outcome.REJECTED: 9}, 1.0, id="rejected-is-not-counted"),
        pytest.param({Outcome.REJECTED: 2}, None, id="nothing-countable"),
        pytest.param({}, None, id="empty"),
    ],
)
def test_success_rate(outcomes: dict[Outcome, int], expected: float | None) -> None:
    assert success_rate(outcomes) == expected


def change(days_ago: float, old: Status, new: Status) -> StatusChange:
    return StatusChange("c", NOW - timedelta(days=days_ago), old, new, "why")


def test_risk_control_entries_per_week_counts_entries_only() -> None:
    changes = [
        change(40, Status.OPERATIONAL, Status.RISK_CONTROL),  # too old
        change(20, Status.OPERATIONAL, Status.RISK_CONTROL),
        change(19, Status.RISK_CONTROL, Status.OPERATIONAL),
        change(10, Status.OPERATIONAL, Status.RISK_CONTROL),
        change(9, Status.RISK_CONTROL, Status.SUSPENDED),
        change(8, Status.SUSPENDED, Status.RISK_CONTROL),  # a new entry into risk control
        change(1, Status.DEGRADED, Status.SUSPENDED),
    ]
    assert risk_control_entries_per_week(changes, NOW) == pytest.approx(3 / 4)
