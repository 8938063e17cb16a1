"""Rollup arithmetic: bucketing, the latency histogram, and merging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.store.base import LATENCY_BOUNDS_MS, Resolution
from sorawatch.store.rollup import bucket_start, fold, latency_bucket, merge, retention_cutoffs

AT = datetime(2025, 3, 1, 23, 59, 58, 999_999, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "resolution", "expected"),
    [
        pytest.param(AT, Resolution.MINUTE, datetime(2025, 3, 1, 23, 59, tzinfo=UTC), id="minute"),
        pytest.param(AT, Resolution.HOUR, datetime(2025, 3, 1, 23, tzinfo=UTC), id="hour"),
        pytest.param(AT, Resolution.DAY, datetime(2025, 3, 1, tzinfo=UTC), id="day"),
        pytest.param(
            datetime(2025, 3, 2, 7, 30, tzinfo=timezone(timedelta(hours=8))),
            Resolution.DAY,
            datetime(2025, 3, 1, tzinfo=UTC),
            id="day-of-the-utc-instant",
        ),
        pytest.param(
            datetime(2025, 3, 1, 10, 15, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            Resolution.HOUR,
            datetime(2025, 3, 1, 4, tzinfo=UTC),
            id="half-hour-offset",
        ),
    ],
)
def test_bucket_start(at: datetime, resolution: Resolution, expected: datetime) -> None:
    got = bucket_start(at, resolution)

    assert got == expected
    assert got.tzinfo is UTC


@pytest.mark.parametrize(
    ("latency", "slot"),
    [
        pytest.param(0.0, 0, id="zero"),
        pytest.param(50.0, 0, id="on-first-bound"),
        pytest.param(50.001, 1, id="just-above-first-bound"),
        pytest.param(60000.0, len(LATENCY_BOUNDS_MS) - 1, id="on-last-bound"),
        pytest.param(60000.5, len(LATENCY_BOUNDS_MS), id="overflow"),
    ],
)
def test_latency_bucket_counts_up_to_each_bound(latency: float, slot: int) -> None:
    assert latency_bucket(latency) == slot


observations = st.lists(
    st.builds(
        Observation,
        channel_id=st.sampled_from(["a", "b"]),
        source=st.sampled_from(list(Source)),
        at=st.datetimes(
            min_value=datetime(2025, 1, 1), max_value=datetime(2025, 1, 4), timezones=st.just(UTC)
        ),
        outcome=st.sampled_from(list(Outcome)),
        latency_ms=st.none() | st.floats(0, 100_000, allow_nan=False),
        cost_usd=st.sampled_from([0.0, 0.25, 1.5]),
    ),
    max_size=40,
)


@given(observations, st.integers(0, 40))
def test_folding_in_two_parts_and_merging_equals_folding_at_once(
    data: list[Observation], split: int
) -> None:
    whole = {k: acc.freeze(k) for k, acc in fold(data).items()}
    first = {k: acc.freeze(k) for k, acc in fold(data[:split]).items()}
    second = {k: acc.freeze(k) for k, acc in fold(data[split:]).items()}

    merged = dict(first)
    for key, rollup in second.items():
        merged[key] = merge(merged[key], rollup) if key in merged else rollup

    assert merged.keys() == whole.keys()
    for key, rollup in whole.items():
        got = merged[key]
        assert (got.count, got.outcomes, got.latency_buckets, got.latency_count) == (
            rollup.count,
            rollup.outcomes,
            rollup.latency_buckets,
            rollup.latency_count,
        )
        assert got.latency_max_ms == rollup.latency_max_ms
        assert got.latency_sum_ms == pytest.approx(rollup.latency_sum_ms)
        assert got.cost_usd == pytest.approx(rollup.cost_usd)


@given(observations)
def test_every_resolution_holds_the_same_totals(data: list[Observation]) -> None:
    accs = fold(data)

    for resolution in Resolution:
        mine = [acc for (_, _, res, _), acc in accs.items() if res is resolution]
        assert sum(a.count for a in mine) == len(data)
        assert sum(sum(a.latency_buckets) for a in mine) == sum(
            o.latency_ms is not None for o in data
        )


def test_retention_keeps_two_days_of_minutes_and_ninety_days_of_hours() -> None:
    now = datetime(2025, 6, 1, 12, 30, 15, tzinfo=UTC)

    cut = retention_cutoffs(now, raw_retention_s=3600)

    assert cut.raw == datetime(2025, 6, 1, 11, 30, 15, tzinfo=UTC)
    assert cut.minute == datetime(2025, 5, 30, 12, 30, tzinfo=UTC)
    assert cut.hour == datetime(2025, 3, 3, 12, tzinfo=UTC)
