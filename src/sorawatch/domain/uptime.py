"""Uptime from the status timeline: time-weighted, never a count of checks.

The timeline is a list of ``Segment`` (oldest first; the last one's ``end`` None means "until
now"). A stretch of time counts as up, as down, or not at all, per ``COUNTS`` below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Final

from sorawatch.domain.incident import Segment
from sorawatch.domain.status import Status, worst


class Weight(Enum):
    UP = "up"
    DOWN = "down"
    EXCLUDED = "excluded"  # left out of the denominator: says nothing about the channel's health


# The one table of what counts. Degraded still answers, so it is up; risk_control and suspended
# do not serve requests, so they are down. Maintenance is announced downtime, unknown is our own
# blindness and retired is the end of the channel's life: none of them is the channel failing.
COUNTS: Final[Mapping[Status, Weight]] = {
    Status.OPERATIONAL: Weight.UP,
    Status.DEGRADED: Weight.UP,
    Status.RISK_CONTROL: Weight.DOWN,
    Status.SUSPENDED: Weight.DOWN,
    Status.MAINTENANCE: Weight.EXCLUDED,
    Status.UNKNOWN: Weight.EXCLUDED,
    Status.RETIRED: Weight.EXCLUDED,
}

WINDOWS: Final[Mapping[str, int]] = {
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "90d": 90 * 86400,
}


def seconds_by_status(
    segments: Sequence[Segment], start: datetime, end: datetime
) -> dict[Status, float]:
    """Seconds spent in each status within ``[start, end)``; time no segment covers is left out.

    A segment without an ``end`` lasts until the next segment starts, or until ``end``.
    """
    out: dict[Status, float] = {}
    for i, seg in enumerate(segments):
        seg_end = seg.end
        if seg_end is None:
            seg_end = segments[i + 1].start if i + 1 < len(segments) else end
        lo, hi = max(seg.start, start), min(seg_end, end)
        if hi > lo:
            out[seg.status] = out.get(seg.status, 0.0) + (hi - lo).total_seconds()
    return out


def uptime_of(seconds: Mapping[Status, float]) -> float | None:
    """Up time over countable time, or None when no time is countable."""
    up = sum(s for status, s in seconds.items() if COUNTS[status] is Weight.UP)
    down = sum(s for status, s in seconds.items() if COUNTS[status] is Weight.DOWN)
    if up + down <= 0:
        return None
    return up / (up + down)


def uptime(segments: Sequence[Segment], start: datetime, end: datetime) -> float | None:
    """Time-weighted availability in ``[start, end)``, between 0 and 1, or None if unknowable."""
    return uptime_of(seconds_by_status(segments, start, end))


def uptime_windows(segments: Sequence[Segment], now: datetime) -> dict[str, float | None]:
    """Uptime over each of ``WINDOWS`` ending at ``now``."""
    return {
        name: uptime(segments, now - timedelta(seconds=seconds), now)
        for name, seconds in WINDOWS.items()
    }


@dataclass(frozen=True, slots=True)
class DayBar:
    """One UTC day of the 90-day bars."""

    day: date
    uptime: float | None
    worst: Status  # the most severe status present that day; unknown when there is none
    seconds: dict[Status, float]


def daily_bars(segments: Sequence[Segment], days: int, end: datetime) -> list[DayBar]:
    """``days`` UTC days ending with the day of ``end`` (cut at ``end``), oldest first.

    One pass over the segments, each cut at day boundaries: linear in segments + days (the
    status page builds 90 bars for every channel on each refresh).
    """
    first = end.astimezone(UTC).date() - timedelta(days=days - 1)
    start = datetime.combine(first, time(), tzinfo=UTC)
    per_day: list[dict[Status, float]] = [{} for _ in range(days)]
    for i, seg in enumerate(segments):
        seg_end = seg.end
        if seg_end is None:
            seg_end = segments[i + 1].start if i + 1 < len(segments) else end
        lo, hi = max(seg.start, start), min(seg_end, end)
        while lo < hi:
            day = lo.astimezone(UTC).date()
            piece_end = min(hi, datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC))
            bucket = per_day[(day - first).days]
            bucket[seg.status] = bucket.get(seg.status, 0.0) + (piece_end - lo).total_seconds()
            lo = piece_end
    return [
        DayBar(first + timedelta(days=k), uptime_of(seconds), worst(*seconds), seconds)
        for k, seconds in enumerate(per_day)
    ]
