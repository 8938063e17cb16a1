"""A vendor status page's word counts at once, through the real reader and the simulator."""

from __future__ import annotations

import pytest
from tests.helpers import channel_yaml, config_yaml

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.status import Status
from sorawatch.monitor import Monitor
from sorawatch.simulator import Simulator, parse_scenario
from sorawatch.store import open_store

SCENARIO = """
name: vendor-test
channels:
  sora: {{protocol: openai-videos, models: [sora-2], latency_ms: 1}}
status_pages:
  openai:
    kind: {kind}
    components: {{"Video generation": operational, "Sora": operational}}
    timeline:
      - {{at: 100s, components: {{"Video generation": major_outage}}, incident: "Sora down"}}
      - {{at: 200s, components: {{"Video generation": under_maintenance}}, resolve: true}}
      - {{at: 300s, components: {{"Video generation": operational}}}}
"""


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("kind", ["statuspage", "incidentio"])
async def test_vendor_word_moves_the_status_at_once(kind: str) -> None:
    clock = Clock()
    sim = Simulator(parse_scenario(SCENARIO.format(kind=kind)), clock=clock)
    store = open_store("memory://")
    await store.open()
    async with sim.serve(), make_client() as client:
        pages = f'status_pages:\n  openai: {{url: "{sim.status_url("openai")}", kind: auto}}\n'
        chan = channel_yaml(
            sim, "sora", extra=('status_page: {page: openai, component: "Video generation"}',)
        )
        monitor = Monitor(
            parse_config(config_yaml(sim, "memory://", [chan], pages), env={}), store, client
        )
        ch = monitor.config.channels[0]

        async def round_() -> Status:
            for obs in await monitor.read_status_page("openai"):
                await monitor.ingest(obs)
            await monitor.ingest(await monitor.probe(ch))
            return monitor.states["sora"].status

        assert await round_() is Status.OPERATIONAL
        clock.t = 150
        assert await round_() is Status.SUSPENDED  # once is enough: the vendor said so
        assert monitor.incidents["sora"].cause.startswith("vendor")
        clock.t = 250
        assert await round_() is Status.MAINTENANCE
        clock.t = 350
        assert await round_() is Status.OPERATIONAL
    changes = await store.changes("sora")
    assert [c.new for c in changes] == [
        Status.OPERATIONAL,
        Status.SUSPENDED,
        Status.MAINTENANCE,
        Status.OPERATIONAL,
    ]
    assert all("statuspage" in c.sources for c in changes[1:])
    await store.close()
