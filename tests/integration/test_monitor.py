"""The monitor against the simulator: scripted faults give the expected timeline and incidents."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.helpers import channel_yaml, config_yaml, running_sim

from sorawatch.app import make_client
from sorawatch.config import parse_config
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.status import Status
from sorawatch.monitor import Monitor
from sorawatch.simulator import Simulator
from sorawatch.store import open_store
from sorawatch.store.base import Store

SCENARIO = """
name: monitor-test
channels:
  steady: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
  flaky: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""


async def probe_round(monitor: Monitor, times: int = 1) -> None:
    for _ in range(times):
        for ch in monitor.config.channels:
            await monitor.ingest(await monitor.probe(ch))


def statuses(monitor: Monitor) -> dict[str, Status]:
    return {cid: st.status for cid, st in monitor.states.items()}


async def make_monitor(
    sim: Simulator, store: Store, client: httpx.AsyncClient, extra: str = ""
) -> Monitor:
    text = config_yaml(sim, "memory://", [channel_yaml(sim, "steady"), channel_yaml(sim, "flaky")])
    return Monitor(parse_config(text + extra, env={}), store, client)


async def test_scripted_faults_give_the_expected_timeline_and_incident(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    await store.open()
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        monitor = await make_monitor(sim, store, client)
        await probe_round(monitor)
        assert statuses(monitor) == {"steady": Status.OPERATIONAL, "flaky": Status.OPERATIONAL}

        sim.set_fault("flaky", "rate_limited")
        await probe_round(monitor, 2)
        assert statuses(monitor)["flaky"] is Status.OPERATIONAL  # not confirmed yet
        await probe_round(monitor)
        assert statuses(monitor)["flaky"] is Status.RISK_CONTROL
        assert monitor.last["flaky"].outcome is Outcome.RATE_LIMITED
        assert monitor.last["flaky"].http_status == 429

        sim.set_fault("flaky", "paused")
        await probe_round(monitor, 3)
        assert statuses(monitor)["flaky"] is Status.SUSPENDED

        sim.set_fault("flaky", None)
        await probe_round(monitor)
        assert statuses(monitor)["flaky"] is Status.SUSPENDED  # one success is not a recovery
        await probe_round(monitor)
        assert statuses(monitor) == {"steady": Status.OPERATIONAL, "flaky": Status.OPERATIONAL}
        await monitor.flush()

    timeline = await store.timeline("flaky", since=monitor.states["flaky"].since.replace(year=2000))
    assert [s.status for s in timeline] == [
        Status.OPERATIONAL,
        Status.RISK_CONTROL,
        Status.SUSPENDED,
        Status.OPERATIONAL,
    ]
    incidents = await store.incidents("flaky")
    assert len(incidents) == 1
    inc = incidents[0]
    assert not inc.is_open
    assert inc.worst is Status.SUSPENDED
    assert "rate_limited" in inc.cause
    assert any(e.outcome is Outcome.PAUSED for e in inc.evidence)
    assert await store.incidents("steady") == []
    observations = await store.observations("flaky")
    assert len(observations) == 9
    await store.close()


async def test_missing_key_is_unknown_and_sends_nothing(tmp_path: Path) -> None:
    store = open_store("memory://")
    await store.open()
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        text = config_yaml(sim, "memory://", [channel_yaml(sim, "steady", api_key="${NOPE}")])
        monitor = Monitor(parse_config(text, env={}), store, client)
        await probe_round(monitor, 4)
        assert statuses(monitor) == {"steady": Status.UNKNOWN}
        assert monitor.last["steady"].inconclusive
    await store.close()


async def test_restart_resumes_open_incident(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    async with running_sim(tmp_path, SCENARIO) as sim, make_client() as client:
        store = open_store(url)
        await store.open()
        monitor = await make_monitor(sim, store, client)
        sim.set_fault("flaky", "overloaded")
        await probe_round(monitor, 3)
        assert statuses(monitor)["flaky"] is Status.DEGRADED
        opened = monitor.incidents["flaky"]
        await monitor.flush()
        await store.close()

        store = open_store(url)
        await store.open()
        again = await make_monitor(sim, store, client)
        await again.resume()
        assert statuses(again)["flaky"] is Status.DEGRADED
        assert again.incidents["flaky"].id == opened.id
        sim.set_fault("flaky", None)
        await probe_round(again, 2)
        assert statuses(again)["flaky"] is Status.OPERATIONAL
        closed = await store.incidents("flaky")
        assert [(i.id, i.is_open) for i in closed] == [(opened.id, False)]
        await store.close()


async def test_everyone_refusing_at_once_reads_as_our_network_unknown() -> None:
    from sorawatch.simulator import parse_scenario

    scenario = parse_scenario(SCENARIO.replace("latency_ms: 1}", "latency_ms: 1, own_port: true}"))
    sim = Simulator(scenario)
    store = open_store("memory://")
    await store.open()
    async with sim.serve() as running, make_client() as client:
        monitor = await make_monitor(sim, store, client)
        await probe_round(monitor)
        sim.set_fault("flaky", "connection_refused")
        sim.set_fault("steady", "connection_refused")
        await running.settle()
        await probe_round(monitor, 4)
        assert statuses(monitor) == {"steady": Status.UNKNOWN, "flaky": Status.UNKNOWN}
        assert monitor.incidents == {}

        sim.set_fault("steady", None)  # now only one refuses: that one is really down
        await running.settle()
        await probe_round(monitor, 3)
        assert statuses(monitor) == {"steady": Status.OPERATIONAL, "flaky": Status.SUSPENDED}
    await store.close()
