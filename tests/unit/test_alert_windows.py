"""Maintenance windows: occurrences of one-off and recurring windows, ended early or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sorawatch.alerts.windows import active, covers_channel, next_occurrence, occurrence
from sorawatch.store.base import MaintenanceWindow

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)
ONE_OFF = MaintenanceWindow("once", T0, T0 + 2 * H, ("a",))
WEEKLY = MaintenanceWindow("weekly", T0, T0 + 2 * H, (), ("Sora",), every_s=7 * 86400)
CUT = MaintenanceWindow("cut", T0, T0 + 2 * H, ("a",), ended_at=T0 + H)


@pytest.mark.parametrize(
    ("window", "at", "expected"),
    [
        pytest.param(ONE_OFF, T0 - H, None, id="before"),
        pytest.param(ONE_OFF, T0, (T0, T0 + 2 * H), id="at-start"),
        pytest.param(ONE_OFF, T0 + 2 * H, None, id="end-is-exclusive"),
        pytest.param(
            WEEKLY,
            T0 + timedelta(days=14, minutes=30),
            (T0 + timedelta(days=14), T0 + timedelta(days=14) + 2 * H),
            id="third-week",
        ),
        pytest.param(WEEKLY, T0 + timedelta(days=14, hours=3), None, id="between-weeks"),
        pytest.param(CUT, T0 + timedelta(minutes=30), (T0, T0 + H), id="cut-short"),
        pytest.param(CUT, T0 + H, None, id="after-cut"),
    ],
)
def test_occurrence(
    window: MaintenanceWindow, at: datetime, expected: tuple[datetime, datetime] | None
) -> None:
    assert occurrence(window, at) == expected


@pytest.mark.parametrize(
    ("window", "after", "expected_start"),
    [
        pytest.param(ONE_OFF, T0 - H, T0, id="upcoming"),
        pytest.param(ONE_OFF, T0 + 3 * H, None, id="over"),
        pytest.param(WEEKLY, T0 + 3 * H, T0 + timedelta(days=7), id="next-week"),
        pytest.param(
            MaintenanceWindow("w", T0, T0 + H, ("a",), every_s=86400, ended_at=T0 + 2 * H),
            T0 + 3 * H,
            None,
            id="recurring-ended",
        ),
    ],
)
def test_next_occurrence(
    window: MaintenanceWindow, after: datetime, expected_start: datetime | None
) -> None:
    got = next_occurrence(window, after)
    assert (got[0] if got else None) == expected_start


def test_coverage_by_channel_or_group() -> None:
    assert covers_channel(ONE_OFF, "a", "Veo") and not covers_channel(ONE_OFF, "b", "Sora")
    assert covers_channel(WEEKLY, "b", "Sora")
    assert active([ONE_OFF, WEEKLY], "b", "Sora", T0 + H) is WEEKLY
    assert active([ONE_OFF, WEEKLY], "c", "Veo", T0 + H) is None
