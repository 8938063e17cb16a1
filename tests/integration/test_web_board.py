"""The board cache: bulk and per-card reads agree, touched cards move at once, measures refresh
without re-reading history, and history is re-read in the end."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from tests.webdata import NOW, config, seed

from sorawatch.domain.incident import StatusChange
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.store.memory import MemoryStore
from sorawatch.store.sql import SqlStore
from sorawatch.web.board import BoardCache, build_card, fetch_all, fetch_one


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    s = MemoryStore() if request.param == "memory" else SqlStore(f"sqlite:///{tmp_path}/b.db")
    await s.open()
    await seed(s)
    yield s
    await s.close()


async def test_bulk_and_single_reads_build_the_same_cards(store) -> None:  # type: ignore[no-untyped-def]
    cfg = config()
    bulk = await fetch_all(store, NOW)
    for ch in cfg.channels:
        one = await fetch_one(store, ch, NOW)
        got = build_card(ch, bulk[ch.id], NOW)
        expected = build_card(ch, one, NOW)
        assert got == expected, ch.id


async def test_touch_rebuilds_a_card_and_the_periodic_refresh_only_reads_measures(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(NOW)
    cache = BoardCache(config(), store, refresh_s=60, now=clock)
    await cache.rebuild()
    before = cache.board().by_id["alpha"]
    assert before.status is Status.OPERATIONAL
    v0 = cache.board().version

    # another writer records a change: a measures-only refresh does not see it...
    later = NOW + timedelta(minutes=5)
    await store.record_change(
        StatusChange("alpha", later, Status.OPERATIONAL, Status.DEGRADED, "slow"), None
    )
    await store.add_observations(
        [Observation("alpha", Source.LIGHT, later, Outcome.SLOW, 200, 9000.0)]
    )
    clock.t = later + timedelta(seconds=1)
    await cache.rebuild([ch.id for ch in config().channels], history=False)
    card = cache.board().by_id["alpha"]
    assert card.status is Status.OPERATIONAL
    assert cache.board().version > v0
    assert card.latency_24h != before.latency_24h  # ...but it does see the new latency

    # ...while a touch (what the monitor does on a change) re-reads that channel's history
    cache.touch("alpha")
    await cache.rebuild()
    assert cache.board().by_id["alpha"].status is Status.DEGRADED


async def test_run_picks_up_a_touch_within_a_second(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(NOW)
    cache = BoardCache(config(), store, refresh_s=3600, now=clock)
    task = asyncio.create_task(cache.run())
    try:
        while cache.board().by_id.get("beta") is None:  # noqa: ASYNC110 - polling a cache
            await asyncio.sleep(0.01)
        await store.record_change(
            StatusChange(
                "beta", NOW - timedelta(seconds=1), Status.SUSPENDED, Status.OPERATIONAL, "ok"
            ),
            None,
        )
        cache.touch("beta")
        async with asyncio.timeout(2):
            while cache.board().by_id["beta"].status is not Status.OPERATIONAL:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
