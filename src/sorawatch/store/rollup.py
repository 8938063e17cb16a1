"""Pure rollup arithmetic shared by every store backend.

Observations are folded into minute, hour and day buckets as they are written, so every
resolution always agrees with the raw data; compaction then only has to delete old buckets.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.store.base import LATENCY_BOUNDS_MS, Resolution, Rollup

# How long each resolution is kept by ``compact``; day buckets are kept forever.
MINUTE_RETENTION = timedelta(days=2)
HOUR_RETENTION = timedelta(days=90)

RESOLUTIONS: tuple[Resolution, ...] = (Resolution.MINUTE, Resolution.HOUR, Resolution.DAY)

RollupKey = tuple[str, Source, Resolution, datetime]


def bucket_start(at: datetime, resolution: Resolution) -> datetime:
    """Start (UTC) of the bucket of ``resolution`` that contains ``at``."""
    at = at.astimezone(UTC)
    if resolution is Resolution.MINUTE:
        return at.replace(second=0, microsecond=0)
    if resolution is Resolution.HOUR:
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def latency_bucket(latency_ms: float) -> int:
    """Index in a latency histogram: the first bound ``>= latency_ms``, or the overflow slot."""
    return bisect_left(LATENCY_BOUNDS_MS, latency_ms)


@dataclass(slots=True)
class RollupAcc:
    """A mutable rollup under construction."""

    count: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    latency_count: int = 0
    latency_sum_ms: float = 0.0
    latency_max_ms: float = 0.0
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))
    cost_usd: float = 0.0

    def add(self, obs: Observation) -> None:
        self.count += 1
        self.outcomes[obs.outcome] += 1
        self.cost_usd += obs.cost_usd
        if obs.latency_ms is not None:
            self.latency_count += 1
            self.latency_sum_ms += obs.latency_ms
            self.latency_max_ms = max(self.latency_max_ms, obs.latency_ms)
            self.latency_buckets[latency_bucket(obs.latency_ms)] += 1

    def freeze(self, key: RollupKey) -> Rollup:
        channel_id, source, resolution, bucket = key
        return Rollup(
            channel_id=channel_id,
            source=source,
            resolution=resolution,
            bucket=bucket,
            count=self.count,
            outcomes={o: n for o, n in self.outcomes.items() if n},
            latency_count=self.latency_count,
            latency_sum_ms=self.latency_sum_ms,
            latency_max_ms=self.latency_max_ms,
            latency_buckets=tuple(self.latency_buckets),
            cost_usd=self.cost_usd,
        )


def fold(
    observations: Iterable[Observation], resolutions: Iterable[Resolution] = RESOLUTIONS
) -> dict[RollupKey, RollupAcc]:
    """Combine observations per (channel, source, resolution, bucket)."""
    wanted = tuple(resolutions)
    accs: dict[RollupKey, RollupAcc] = {}
    for obs in observations:
        for resolution in wanted:
            key = (obs.channel_id, obs.source, resolution, bucket_start(obs.at, resolution))
            acc = accs.get(key)
            if acc is None:
                acc = accs[key] = RollupAcc()
            acc.add(obs)
    return accs


def merge(a: Rollup, b: Rollup) -> Rollup:
    """Two rollups of the same key as one."""
    outcomes = Counter(a.outcomes)
    outcomes.update(b.outcomes)
    return Rollup(
        channel_id=a.channel_id,
        source=a.source,
        resolution=a.resolution,
        bucket=a.bucket,
        count=a.count + b.count,
        outcomes={o: n for o, n in outcomes.items() if n},
        latency_count=a.latency_count + b.latency_count,
        latency_sum_ms=a.latency_sum_ms + b.latency_sum_ms,
        latency_max_ms=max(a.latency_max_ms, b.latency_max_ms),
        latency_buckets=tuple(
            x + y for x, y in zip(a.latency_buckets, b.latency_buckets, strict=True)
        ),
        cost_usd=a.cost_usd + b.cost_usd,
    )


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """``compact`` deletes what is older than these (raw observations by ``at``, rollups by
    bucket start)."""

    raw: datetime
    minute: datetime
    hour: datetime


def retention_cutoffs(now: datetime, raw_retention_s: float) -> Cutoffs:
    return Cutoffs(
        raw=now - timedelta(seconds=raw_retention_s),
        minute=bucket_start(now - MINUTE_RETENTION, Resolution.MINUTE),
        hour=bucket_start(now - HOUR_RETENTION, Resolution.HOUR),
    )


def latency_percentile(rollups: Iterable[Rollup], q: float) -> float | None:
    """The ``q``-quantile (0–1) of the latencies counted in ``rollups``, in ms.

    Read off the merged histogram with linear interpolation inside the bucket that holds it,
    so the error is bounded by that bucket's width; the overflow bucket answers with the
    largest latency seen. None when no latency was counted.
    """
    counts = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    total, top = 0, 0.0
    for r in rollups:
        for i, n in enumerate(r.latency_buckets):
            counts[i] += n
        total += r.latency_count
        top = max(top, r.latency_max_ms)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        if n and seen + n >= rank:
            if i == len(LATENCY_BOUNDS_MS):
                return top
            lo = LATENCY_BOUNDS_MS[i - 1] if i else 0.0
            hi = min(LATENCY_BOUNDS_MS[i], top) if top > lo else LATENCY_BOUNDS_MS[i]
            return lo + (hi - lo) * max(0.0, rank - seen) / n
        seen += n
    return top
