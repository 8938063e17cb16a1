"""Canary budgets: how much real generation a channel (and all channels together) may buy per
UTC day.

Pure: the store sums what was spent and asks ``refusal`` inside the same transaction that
reserves the next job's cost, so two canaries running at once can never both overspend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Prices are fractions of a cent; 0.1 × 20 must fit a budget of 2.0 exactly.
_EPSILON = 1e-9


def utc_day(at: datetime) -> tuple[datetime, datetime]:
    """The UTC day holding ``at``: [midnight, next midnight). Budgets reset at its end."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} (expected timezone-aware)")
    start = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """USD per UTC day; None means no cap at that level."""

    channel_usd: float | None = None
    global_usd: float | None = None

    def __post_init__(self) -> None:
        for name in ("channel_usd", "global_usd"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")


def refusal(
    cost_usd: float, spent_channel_usd: float, spent_global_usd: float, limits: BudgetLimits
) -> str | None:
    """Why a job costing ``cost_usd`` must not run today, or None when both budgets allow it."""
    if cost_usd < 0:
        raise ValueError(f"a cost cannot be negative, got {cost_usd}")
    checks = (
        ("channel", limits.channel_usd, spent_channel_usd),
        ("global", limits.global_usd, spent_global_usd),
    )
    for level, limit, spent in checks:
        if limit is not None and spent + cost_usd > limit + _EPSILON:
            return (
                f"{level} canary budget: ${spent:.2f} spent today (UTC) + ${cost_usd:.2f} "
                f"would exceed ${limit:.2f}"
            )
    return None
