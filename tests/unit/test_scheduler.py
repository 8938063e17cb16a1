"""The scheduler: fixed rate with jitter, bounded concurrency, no slow job delaying others."""

from __future__ import annotations

import asyncio
import random

import pytest

from sorawatch.scheduler import Scheduler


async def run_for(sched: Scheduler, seconds: float) -> None:
    task = asyncio.create_task(sched.run())
    await asyncio.sleep(seconds)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_runs_each_job_on_its_interval() -> None:
    sched = Scheduler(concurrency=4, jitter=0.0, rng=random.Random(1))
    counts = {"a": 0, "b": 0}

    def job(key: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            counts[key] += 1

        return run

    sched.add("a", 0.05, job("a"), first_in=0)
    sched.add("b", 0.1, job("b"), first_in=0)
    await run_for(sched, 0.52)
    assert 9 <= counts["a"] <= 12
    assert 5 <= counts["b"] <= 6


async def test_a_slow_job_never_delays_the_others() -> None:
    sched = Scheduler(concurrency=8, jitter=0.0)
    fast_runs = 0

    async def slow() -> None:
        await asyncio.sleep(10)

    async def fast() -> None:
        nonlocal fast_runs
        fast_runs += 1

    sched.add("slow", 0.02, slow, first_in=0)
    sched.add("fast", 0.05, fast, first_in=0)
    await run_for(sched, 0.3)
    assert fast_runs >= 5
    assert sched.stats.skipped >= 5  # the slow one never overlapped itself
    assert sched.stats.lag_percentile(0.99) is not None
    assert (sched.stats.lag_percentile(0.99) or 0) < 0.05


async def test_concurrency_is_bounded() -> None:
    sched = Scheduler(concurrency=3, jitter=0.0)
    active = peak = 0

    async def job() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1

    for i in range(10):
        sched.add(f"j{i}", 1.0, job, first_in=0)
    await run_for(sched, 0.3)
    assert peak == 3
    assert sched.stats.finished == 10


async def test_shutdown_cancels_running_jobs() -> None:
    sched = Scheduler(concurrency=2, jitter=0.0)
    cancelled = asyncio.Event()

    async def job() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sched.add("x", 60, job, first_in=0)
    await run_for(sched, 0.05)
    assert cancelled.is_set()


async def test_a_failing_job_is_counted_and_the_schedule_goes_on() -> None:
    sched = Scheduler(concurrency=2, jitter=0.0)

    async def boom() -> None:
        raise RuntimeError("bug")

    sched.add("x", 0.02, boom, first_in=0)
    await run_for(sched, 0.15)
    assert sched.stats.failed >= 3


async def test_jitter_spreads_runs_within_bounds() -> None:
    rng = random.Random(7)
    sched = Scheduler(jitter=0.2, rng=rng)
    dues = [sched._next_due(0.0, 10.0) for _ in range(500)]
    assert min(dues) >= 8.0
    assert max(dues) <= 12.0
    assert max(dues) - min(dues) > 2.0
