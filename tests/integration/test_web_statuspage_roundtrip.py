"""sorawatch's own status-page probe, pointed at a running sorawatch, reads back what it decided."""

from __future__ import annotations

import asyncio

import httpx
from tests.webdata import NOW, config, seed

from sorawatch.domain.status import Status
from sorawatch.statuspages import StatusPageReader, to_status
from sorawatch.statuspages.base import Level
from sorawatch.store.memory import MemoryStore
from sorawatch.web import WebService

# What a Statuspage reader can tell apart: risk_control is published as a partial outage, which
# a reader takes for "degraded"; retired is a major outage like suspended.
READ_BACK = {
    Status.OPERATIONAL: Status.OPERATIONAL,
    Status.DEGRADED: Status.DEGRADED,
    Status.RISK_CONTROL: Status.DEGRADED,
    Status.SUSPENDED: Status.SUSPENDED,
    Status.RETIRED: Status.SUSPENDED,
    Status.MAINTENANCE: Status.MAINTENANCE,
}


async def test_statuspage_probe_reads_sorawatch_back() -> None:
    store = MemoryStore()
    await store.open()
    await seed(store)
    cfg = config()
    web = WebService(cfg, store, now=lambda: NOW)
    task = asyncio.create_task(web.run())
    try:
        for _ in range(100):
            if web.listener.is_open:
                break
            await asyncio.sleep(0.02)
        published = {c.id: c.status for c in web.cache.board().cards}
        assert published["beta"] is Status.SUSPENDED
        assert published["gamma"] is Status.MAINTENANCE
        async with httpx.AsyncClient() as client:
            for kind in ("statuspage", "auto"):
                reader = StatusPageReader("self", web.url, kind, client, 5.0)
                reading = await reader.read(NOW)
                assert reading.error is None and not reading.stale
                for ch in cfg.channels:
                    level = reading.level_for(component=ch.name)
                    assert level is not Level.UNKNOWN, ch.id
                    assert to_status(level) is READ_BACK[published[ch.id]], (kind, ch.id)
                # the page as a whole: the worst of it, a major outage
                assert to_status(reading.level_for()) is Status.SUSPENDED
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()
