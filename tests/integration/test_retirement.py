"""A channel announces its Sunset, warns with the date, then turns retired at that date and is
backed off to one probe a day; it stays visible with its date."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers import channel_yaml, config_yaml, running_sim

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.status import Status
from sorawatch.monitor import RETIRED_EVERY, Monitor
from sorawatch.scheduler import Scheduler
from sorawatch.store import open_store

SCENARIO = """
name: sunset-test
channels:
  old: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""


async def test_sunset_warning_then_retired_at_the_date(tmp_path: Path) -> None:
    store = open_store("memory://")
    await store.open()
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        cfg = parse_config(config_yaml(sim, "memory://", [channel_yaml(sim, "old")]), env={})
        monitor = Monitor(cfg, store, client)
        monitor.scheduler = Scheduler()
        monitor.scheduler.add("light:old", 1.0, _never, first_in=3600)
        ch = cfg.channels[0]
        sunset = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
        sim.set_fault("old", "sunset", date=sunset)

        obs = await monitor.probe(ch)
        await monitor.ingest(obs)
        assert obs.outcome is Outcome.OK
        assert obs.sunset == sunset
        [view] = monitor.views()
        assert (view.status, view.sunset) == (Status.OPERATIONAL, sunset)

        await asyncio.sleep(max(0.0, (sunset - datetime.now(UTC)).total_seconds()) + 0.2)
        for _ in range(3):
            obs = await monitor.probe(ch)
            await monitor.ingest(obs)
            assert obs.outcome is Outcome.RETIRED
        [view] = monitor.views()
        assert view.status is Status.RETIRED
        assert view.sunset == sunset  # still shown, with its date
        assert monitor.scheduler.interval("light:old") == RETIRED_EVERY
        [incident] = await store.incidents("old")
        assert incident.worst is Status.RETIRED
    await store.close()


async def _never() -> None:
    raise AssertionError("not scheduled in this test")
