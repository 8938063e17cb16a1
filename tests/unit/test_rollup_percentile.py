"""Latency percentiles read off the rollups' histograms."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.store.base import LATENCY_BOUNDS_MS, Resolution
from sorawatch.store.rollup import fold, latency_bucket, latency_percentile

T0 = datetime(2026, 11, 24, tzinfo=UTC)


def rollups_of(latencies: list[float]):  # type: ignore[no-untyped-def]
    obs = [Observation("a", Source.LIGHT, T0, Outcome.OK, 200, ms) for ms in latencies]
    acc = fold(obs, [Resolution.HOUR])
    return [a.freeze(k) for k, a in acc.items() if k[2] is Resolution.HOUR]


latency_lists = st.lists(st.floats(0.1, 100_000), min_size=1, max_size=200)


@given(latency_lists, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_percentiles_are_monotonic_and_bounded(latencies: list[float], a: float, b: float) -> None:
    rollups = rollups_of(latencies)
    lo, hi = sorted((a, b))
    p_lo, p_hi = latency_percentile(rollups, lo), latency_percentile(rollups, hi)
    assert p_lo is not None and p_hi is not None
    assert 0.0 <= p_lo <= p_hi <= max(latencies) + 1e-9


@given(latency_lists, st.floats(0.05, 1.0))
def test_percentile_lands_in_the_bucket_of_the_true_value(latencies: list[float], q: float) -> None:
    """The error is bounded by one histogram bucket: the estimate lies within the bucket
    that holds the true q-quantile, or an adjacent bound."""
    rollups = rollups_of(latencies)
    estimate = latency_percentile(rollups, q)
    assert estimate is not None
    ordered = sorted(latencies)
    import math

    true = ordered[max(0, math.ceil(q * len(ordered)) - 1)]
    i = latency_bucket(true)
    lower = LATENCY_BOUNDS_MS[i - 1] if i > 0 else 0.0
    upper = LATENCY_BOUNDS_MS[i] if i < len(LATENCY_BOUNDS_MS) else max(latencies)
    assert lower - 1e-6 <= estimate <= upper + 1e-6


def test_no_latency_no_percentile() -> None:
    assert latency_percentile([], 0.5) is None
