"""The seed article's comparison tables, computed from measured data instead of prose.

Pure functions over the cards of channels that make video (image channels and plain URL checks
have no place in a comparison of video channels): access kinds compared on measured
availability, latency spread and risk-control entries; prices per clip and per month from the
configured prices; and per business scenario the channel that fits best right now, with the
numbers that decided it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sorawatch.domain.outcome import AccessKind
from sorawatch.domain.status import Status

from .board import CLIPS_PER_MONTH, ChannelCard


@dataclass(frozen=True, slots=True)
class AccessRow:
    access: AccessKind
    channels: int
    availability_30d: float | None  # mean of the channels' measured 30-day uptime
    p50_ms: float | None  # median of the channels' 30-day p50 latency
    p95_ms: float | None  # worst of the channels' 30-day p95 latency
    risk_control_per_week: float  # mean entries per channel per week (last 4 weeks)


@dataclass(frozen=True, slots=True)
class PriceRow:
    card: ChannelCard
    per_clip_usd: float
    per_month_usd: float


@dataclass(frozen=True, slots=True)
class Recommendation:
    scenario: str
    card: ChannelCard | None
    reason: str


def compare_access(cards: Sequence[ChannelCard]) -> list[AccessRow]:
    rows = []
    for kind in AccessKind:
        mine = [
            c
            for c in cards
            if c.makes_video and c.channel.access is kind and c.status is not Status.RETIRED
        ]
        if not mine:
            continue
        ups = [c.uptime["30d"] for c in mine if c.uptime.get("30d") is not None]
        p50s = [c.p50_30d_ms for c in mine if c.p50_30d_ms is not None]
        p95s = [c.p95_30d_ms for c in mine if c.p95_30d_ms is not None]
        rows.append(
            AccessRow(
                access=kind,
                channels=len(mine),
                availability_30d=statistics.fmean(u for u in ups if u is not None) if ups else None,
                p50_ms=statistics.median(p50s) if p50s else None,
                p95_ms=max(p95s) if p95s else None,
                risk_control_per_week=statistics.fmean(c.risk_control_per_week for c in mine),
            )
        )
    return rows


def prices(cards: Sequence[ChannelCard]) -> list[PriceRow]:
    """Channels with a price, cheapest first."""
    rows = [
        PriceRow(c, clip, clip * CLIPS_PER_MONTH)
        for c in cards
        if c.makes_video and (clip := c.clip_price_usd) is not None
    ]
    return sorted(rows, key=lambda r: (r.per_clip_usd, r.card.id))


def _up(c: ChannelCard) -> float:
    u = c.uptime.get("30d")
    return -1.0 if u is None else u


def _price(c: ChannelCard) -> float:
    p = c.clip_price_usd
    return float("inf") if p is None else p


def _facts(c: ChannelCard) -> str:
    bits = [f"{c.status.value}", f"30-day uptime {_fmt_pct(c.uptime.get('30d'))}"]
    if c.clip_price_usd is not None:
        bits.append(f"${c.clip_price_usd:.2f} per 10 s clip")
    if c.p95_24h_ms is not None:
        bits.append(f"p95 {c.p95_24h_ms:.0f} ms")
    if c.risk_control_per_week:
        bits.append(f"{c.risk_control_per_week:.1f} risk-control entries/week")
    return ", ".join(bits)


def _fmt_pct(v: float | None) -> str:
    return "unmeasured" if v is None else f"{v * 100:.2f}%"


Rule = tuple[str, str, Callable[[ChannelCard], bool], Callable[[ChannelCard], tuple[float, ...]]]

SERVING = (Status.OPERATIONAL, Status.DEGRADED)

# (scenario, what it needs, who qualifies, sort key: smallest first)
RULES: tuple[Rule, ...] = (
    (
        "production",
        "the most available official or relay channel that works now",
        lambda c: c.status is Status.OPERATIONAL and c.channel.access is not AccessKind.REVERSE,
        lambda c: (-_up(c), c.p95_24h_ms or float("inf")),
    ),
    (
        "commercial",
        "the cheapest working channel with at least ★★★★ (97 % measured)",
        lambda c: c.status is Status.OPERATIONAL and (c.stars or 0) >= 4,
        lambda c: (_price(c), -_up(c)),
    ),
    (
        "development/testing",
        "the cheapest channel that answers now",
        lambda c: c.status in SERVING,
        lambda c: (_price(c), -_up(c)),
    ),
    (
        "learning",
        "the cheapest channel that is not retired, whatever its stability",
        lambda c: c.status is not Status.RETIRED and c.clip_price_usd is not None,
        lambda c: (_price(c), -_up(c)),
    ),
    (
        "high frequency",
        "a working channel that never hits risk control, with the fastest answers",
        lambda c: c.status is Status.OPERATIONAL and c.risk_control_per_week == 0,
        lambda c: (-(c.success_rate_24h or 0.0), c.p50_24h_ms or float("inf"), _price(c)),
    ),
    (
        "tight budget",
        "the cheapest channel that answers now and stays above ★★ (80 % measured)",
        lambda c: c.status in SERVING and (c.stars or 0) >= 2,
        lambda c: (_price(c), -_up(c)),
    ),
)


def recommend(cards: Sequence[ChannelCard]) -> list[Recommendation]:
    out = []
    for scenario, need, fits, key in RULES:
        fitting = (c for c in cards if c.makes_video and fits(c))
        candidates = sorted(fitting, key=lambda c: (*key(c), c.id))
        if candidates:
            best = candidates[0]
            out.append(Recommendation(scenario, best, f"{need}: {_facts(best)}"))
        else:
            out.append(Recommendation(scenario, None, f"no channel fits right now ({need})"))
    return out
