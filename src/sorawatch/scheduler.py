"""Runs jobs on fixed intervals with jitter and bounded concurrency.

One timer heap drives every job, so 10,000 channels cost one sleeping task, not 10,000. Each run
is its own task behind a semaphore: a slow channel holds one slot and never delays the others'
start times. Runs are scheduled from their *due* time (fixed rate, not fixed delay), so a slow
upstream does not drift its own schedule; a run still going when the next is due is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class _Entry:
    key: str
    every: float
    job: Job
    running: bool = False
    runs: int = 0
    skipped: int = 0


@dataclass(slots=True)
class SchedulerStats:
    started: int = 0
    finished: int = 0
    skipped: int = 0
    failed: int = 0
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))

    def lag_percentile(self, q: float) -> float | None:
        """Schedule lag (seconds between due time and actual start) at quantile ``q``."""
        if not self.lags:
            return None
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Scheduler:
    def __init__(
        self,
        concurrency: int = 64,
        jitter: float = 0.1,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sem = asyncio.Semaphore(concurrency)
        self._jitter = jitter
        self._rng = rng or random.Random()
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = SchedulerStats()

    def add(self, key: str, every: float, job: Job, first_in: float | None = None) -> None:
        """Schedule ``job`` every ``every`` seconds; the first run is spread over one interval
        unless ``first_in`` says otherwise, so a restart does not probe everything at once."""
        self._entries[key] = _Entry(key, every, job)
        delay = self._rng.uniform(0, every) if first_in is None else first_in
        self._push(self._clock() + delay, key)

    def set_interval(self, key: str, every: float) -> None:
        """Change a job's interval from its next run on (e.g. back off a retired channel)."""
        self._entries[key].every = every

    def interval(self, key: str) -> float:
        return self._entries[key].every

    def _push(self, due: float, key: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, key))
        self._wake.set()

    def _next_due(self, due: float, every: float) -> float:
        spread = every * self._jitter
        return due + every + (self._rng.uniform(-spread, spread) if spread else 0.0)

    async def run(self) -> None:
        """Run until cancelled; on cancellation, running jobs are cancelled and awaited."""
        try:
            while True:
                if not self._heap:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                due, _, key = self._heap[0]
                delay = due - self._clock()
                if delay > 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), delay)
                    continue
                heapq.heappop(self._heap)
                entry = self._entries.get(key)
                if entry is None:
                    continue
                self._push(self._next_due(due, entry.every), key)
                if entry.running:
                    entry.skipped += 1
                    self.stats.skipped += 1
                    continue
                entry.running = True
                task = asyncio.create_task(self._run_one(entry, due), name=f"job:{key}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            await self._stop_tasks()

    async def _run_one(self, entry: _Entry, due: float) -> None:
        try:
            async with self._sem:
                self.stats.lags.append(max(0.0, self._clock() - due))
                self.stats.started += 1
                await entry.job()
                self.stats.finished += 1
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one job must not stop the schedule
            self.stats.failed += 1
            log.exception("scheduled job %s failed", entry.key)
        finally:
            entry.running = False
            entry.runs += 1

    async def _stop_tasks(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
