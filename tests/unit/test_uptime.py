"""uptime: time-weighted availability from the status timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sorawatch.domain.incident import Segment
from sorawatch.domain.status import Status
from sorawatch.domain.uptime import (
    COUNTS,
    WINDOWS,
    Weight,
    daily_bars,
    seconds_by_status,
    uptime,
    uptime_of,
    uptime_windows,
)

D0 = datetime(2026, 11, 20, tzinfo=UTC)  # a midnight
H = timedelta(hours=1)
S = Status


def timeline(*parts: tuple[Status, float], start: datetime = D0) -> list[Segment]:
    """Consecutive segments of the given lengths in hours; the last one is open-ended."""
    out = []
    t = start
    for i, (status, hours) in enumerate(parts):
        end = None if i == len(parts) - 1 else t + hours * H
        out.append(Segment(t, status, end))
        t += hours * H
    return out


def test_weights_table_is_complete_and_as_designed() -> None:
    assert set(COUNTS) == set(Status)
    assert {s for s, w in COUNTS.items() if w is Weight.UP} == {S.OPERATIONAL, S.DEGRADED}
    assert {s for s, w in COUNTS.items() if w is Weight.DOWN} == {S.RISK_CONTROL, S.SUSPENDED}


@pytest.mark.parametrize(
    ("segments", "hours", "expected"),
    [
        pytest.param(timeline((S.OPERATIONAL, 24)), 24, 1.0, id="all-up"),
        pytest.param(timeline((S.OPERATIONAL, 18), (S.SUSPENDED, 6)), 24, 0.75, id="quarter-down"),
        pytest.param(
            timeline((S.DEGRADED, 12), (S.RISK_CONTROL, 12)), 24, 0.5, id="degraded-is-up"
        ),
        pytest.param(
            timeline((S.OPERATIONAL, 9), (S.MAINTENANCE, 12), (S.SUSPENDED, 3)),
            24,
            0.75,
            id="maintenance-left-out",
        ),
        pytest.param(
            timeline((S.UNKNOWN, 20), (S.OPERATIONAL, 3), (S.SUSPENDED, 1)),
            24,
            0.75,
            id="unknown-left-out",
        ),
        pytest.param(
            timeline((S.OPERATIONAL, 6), (S.SUSPENDED, 2), (S.RETIRED, 16)),
            24,
            0.75,
            id="retired-left-out",
        ),
        pytest.param(timeline((S.MAINTENANCE, 24)), 24, None, id="nothing-countable"),
        pytest.param([], 24, None, id="no-timeline"),
        pytest.param(
            timeline((S.OPERATIONAL, 12), start=D0 + 12 * H), 24, 1.0, id="before-first-is-unknown"
        ),
        pytest.param(
            [
                Segment(D0, S.OPERATIONAL, D0 + 6 * H),
                Segment(D0 + 12 * H, S.SUSPENDED, D0 + 14 * H),
            ],
            24,
            0.75,
            id="gaps-are-unknown",
        ),
    ],
)
def test_uptime_exact(segments: list[Segment], hours: float, expected: float | None) -> None:
    assert uptime(segments, D0, D0 + hours * H) == expected


def test_open_segment_lasts_until_the_window_end() -> None:
    segs = [Segment(D0, S.OPERATIONAL, D0 + 3 * H), Segment(D0 + 3 * H, S.SUSPENDED)]
    assert uptime(segs, D0, D0 + 4 * H) == 0.75
    assert uptime(segs, D0, D0 + 6 * H) == 0.5


def test_window_clips_segments() -> None:
    segs = timeline((S.SUSPENDED, 10), (S.OPERATIONAL, 10), (S.SUSPENDED, 10))
    assert uptime(segs, D0 + 5 * H, D0 + 25 * H) == 0.5
    assert seconds_by_status(segs, D0 + 5 * H, D0 + 25 * H) == {
        S.SUSPENDED: 10 * 3600.0,
        S.OPERATIONAL: 10 * 3600.0,
    }


def test_uptime_of_seconds() -> None:
    assert uptime_of({S.OPERATIONAL: 30.0, S.SUSPENDED: 10.0, S.UNKNOWN: 1e6}) == 0.75
    assert uptime_of({}) is None


def test_uptime_windows() -> None:
    now = D0 + 100 * 24 * H
    # up for the first 99 days, then 6 h down and 18 h up on the last day
    segs = [
        Segment(D0, S.OPERATIONAL, now - 24 * H),
        Segment(now - 24 * H, S.SUSPENDED, now - 18 * H),
        Segment(now - 18 * H, S.OPERATIONAL),
    ]
    got = uptime_windows(segs, now)
    assert list(got) == ["24h", "7d", "30d", "90d"]
    assert got["24h"] == 0.75
    assert got["7d"] == pytest.approx(1 - 6 / (7 * 24))
    assert got["30d"] == pytest.approx(1 - 6 / (30 * 24))
    assert got["90d"] == pytest.approx(1 - 6 / (90 * 24))
    assert WINDOWS["90d"] == 90 * 86400


def test_daily_bars() -> None:
    end = D0 + 2 * 24 * H + 12 * H  # noon of the third day
    segs = timeline(
        (S.OPERATIONAL, 20),
        (S.DEGRADED, 4),  # day 1: 20 h op + 4 h degraded
        (S.SUSPENDED, 6),
        (S.MAINTENANCE, 2),
        (S.OPERATIONAL, 16),  # day 2: 6 h down, 2 h maintenance, 16 h up
        (S.OPERATIONAL, 12),  # day 3: up until now
    )
    bars = daily_bars(segs, 4, end)
    assert [b.day for b in bars] == [
        date(2026, 11, 19),
        date(2026, 11, 20),
        date(2026, 11, 21),
        date(2026, 11, 22),
    ]
    empty, day1, day2, day3 = bars
    assert (empty.uptime, empty.worst, empty.seconds) == (None, S.UNKNOWN, {})
    assert day1.uptime == 1.0
    assert day1.worst is S.DEGRADED
    assert day1.seconds == {S.OPERATIONAL: 20 * 3600.0, S.DEGRADED: 4 * 3600.0}
    assert day2.uptime == pytest.approx(16 / 22)
    assert day2.worst is S.SUSPENDED
    assert sum(day2.seconds.values()) == 24 * 3600.0
    assert day3.seconds == {S.OPERATIONAL: 12 * 3600.0}  # cut at `end`


def test_daily_bars_use_utc_days() -> None:
    from zoneinfo import ZoneInfo

    end = datetime(2026, 11, 21, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 20th 17:00 UTC
    bars = daily_bars(timeline((S.OPERATIONAL, 100)), 1, end)
    assert bars[0].day == date(2026, 11, 20)
    assert bars[0].seconds == {S.OPERATIONAL: 17 * 3600.0}


# ---- properties

statuses = st.sampled_from(list(Status))


@st.composite
def timelines(draw: st.DrawFn) -> list[Segment]:
    lengths = draw(st.lists(st.integers(1, 5000), min_size=1, max_size=12))
    out = []
    t = D0
    for i, seconds in enumerate(lengths):
        last = i == len(lengths) - 1
        end = None if last and draw(st.booleans()) else t + timedelta(seconds=seconds)
        out.append(Segment(t, draw(statuses), end))
        t += timedelta(seconds=seconds + draw(st.sampled_from([0, 0, 0, 300])))  # some gaps
    return out


offsets = st.integers(0, 70_000).map(lambda s: D0 + timedelta(seconds=s))


@given(segs=timelines(), a=offsets, b=offsets)
def test_uptime_is_a_fraction(segs: list[Segment], a: datetime, b: datetime) -> None:
    u = uptime(segs, min(a, b), max(a, b))
    assert u is None or 0.0 <= u <= 1.0


@given(segs=timelines(), points=st.lists(offsets, min_size=3, max_size=3, unique=True))
def test_splitting_a_window_gives_a_weighted_average(
    segs: list[Segment], points: list[datetime]
) -> None:
    a, mid, b = sorted(points)

    def countable(lo: datetime, hi: datetime) -> float:
        secs = seconds_by_status(segs, lo, hi)
        return sum(v for s, v in secs.items() if COUNTS[s] is not Weight.EXCLUDED)

    whole = uptime(segs, a, b)
    left, right = uptime(segs, a, mid), uptime(segs, mid, b)
    w_left, w_right = countable(a, mid), countable(mid, b)
    assume(whole is not None)
    assert whole is not None
    parts = [(u, w) for u, w in ((left, w_left), (right, w_right)) if u is not None]
    expected = sum(u * w for u, w in parts) / sum(w for _, w in parts)
    assert whole == pytest.approx(expected)


@given(segs=timelines(), days=st.integers(1, 4))
def test_daily_bars_add_up_to_the_window(segs: list[Segment], days: int) -> None:
    end = D0 + timedelta(hours=30)
    bars = daily_bars(segs, days, end)
    assert len(bars) == days
    assert [b.day for b in bars] == sorted(b.day for b in bars)
    total = seconds_by_status(segs, datetime.combine(bars[0].day, datetime.min.time(), UTC), end)
    for status, seconds in total.items():
        assert sum(b.seconds.get(status, 0.0) for b in bars) == pytest.approx(seconds)
    for bar in bars:
        present = [s for s, v in bar.seconds.items() if v > 0]
        assert bar.worst is (max(present, key=lambda s: s.severity) if present else S.UNKNOWN)


@given(segs=timelines(), days=st.integers(1, 4))
def test_daily_bars_equal_seconds_by_status_per_day(segs: list[Segment], days: int) -> None:
    """The one-pass bars agree with cutting the timeline day by day."""
    end = D0 + timedelta(hours=30)
    for bar in daily_bars(segs, days, end):
        lo = datetime.combine(bar.day, datetime.min.time(), UTC)
        expected = seconds_by_status(segs, lo, min(lo + timedelta(days=1), end))
        assert bar.seconds.keys() == expected.keys()
        for status, seconds in expected.items():
            assert bar.seconds[status] == pytest.approx(seconds)
