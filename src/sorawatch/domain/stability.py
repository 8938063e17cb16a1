"""Stability: stars from measured availability, success rate of recent attempts, and how often
a channel enters risk control. Pure functions over data the store already keeps.

Star thresholds (30-day availability, from ``domain.uptime``), calibrated on the seed article's
ratings — official relay 99.84 % ★★★★★, reverse ~85 % ★★, Pro reverse ~70 % ★:

| stars | availability |
|---|---|
| ★★★★★ | ≥ 99.5 % |
| ★★★★ | ≥ 97 % |
| ★★★ | ≥ 90 % |
| ★★ | ≥ 80 % |
| ★ | below 80 % |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

from sorawatch.domain.incident import StatusChange
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.status import Status

STAR_THRESHOLDS: Final = ((0.995, 5), (0.97, 4), (0.90, 3), (0.80, 2))


def stars(availability: float | None) -> int | None:
    """1–5 stars for a measured availability (0–1); None when nothing was measured."""
    if availability is None:
        return None
    for floor, count in STAR_THRESHOLDS:
        if availability >= floor:
            return count
    return 1


def star_text(count: int | None) -> str:
    return "—" if count is None else "★" * count + "☆" * (5 - count)


def success_rate(outcomes: Mapping[Outcome, int]) -> float | None:
    """Share of attempts the channel answered well; the caller's own mistakes (``rejected``)
    are left out, as they say nothing about the channel."""
    counted = {o: n for o, n in outcomes.items() if not o.is_neutral}
    total = sum(counted.values())
    if total == 0:
        return None
    return sum(n for o, n in counted.items() if o.is_good) / total


def risk_control_entries_per_week(
    changes: Iterable[StatusChange], now: datetime, weeks: int = 4
) -> float:
    """How often the channel entered ``risk_control`` per week, over the last ``weeks`` weeks."""
    since = now - timedelta(weeks=weeks)
    entries = sum(
        1
        for c in changes
        if c.new is Status.RISK_CONTROL and c.old is not Status.RISK_CONTROL and c.at >= since
    )
    return entries / weeks
