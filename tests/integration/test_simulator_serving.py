"""Serving over real sockets: own ports that really refuse, clean shutdown, run_forever."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from sorawatch.errors import SorawatchError
from sorawatch.simulator import Simulator, SimulatorUrls, parse_scenario

SCENARIO = """
name: serving
channels:
  plain: {}
  flaky:
    timeline:
      - {at: 0s, fault: ok}
      - {at: 10s, fault: connection_refused}
      - {at: 20s, fault: ok}
  dedicated:
    own_port: true
  held:
    timeline: [{at: 0s, fault: timeout, hold_s: 30}]
"""
AUTH = {"Authorization": "Bearer sk-test"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _refuses(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def test_connection_refused_really_refuses_then_recovers() -> None:
    clock = FakeClock()
    sim = Simulator(parse_scenario(SCENARIO), clock=clock)
    async with sim.serve() as running, httpx.AsyncClient(headers=AUTH, timeout=2) as client:
        base = sim.base_url("flaky")
        port = running.channel_ports["flaky"]
        assert base == f"http://127.0.0.1:{port}/v1"
        assert (await client.get(base + "/models")).status_code == 200

        clock.now = 10.0
        await running.settle()
        with pytest.raises(httpx.ConnectError):
            await client.get(base + "/models")
        assert _refuses(port)
        # the shared port still answers for the other channels
        assert (await client.get(sim.base_url("plain") + "/models")).status_code == 200

        clock.now = 20.0
        await running.settle()
        resp = await client.get(base + "/models")
        assert resp.status_code == 200
        assert sim.base_url("flaky") == base  # the same port came back


async def test_manual_connection_refused_closes_the_listener_without_help() -> None:
    sim = Simulator(parse_scenario(SCENARIO), clock=FakeClock())
    async with sim.serve() as running:
        port = running.channel_ports["dedicated"]
        assert not _refuses(port)
        sim.set_fault("dedicated", "connection_refused")
        for _ in range(100):  # the supervisor wakes on set_fault; give it a moment
            if _refuses(port):
                break
            await asyncio.sleep(0.01)
        assert _refuses(port)
        sim.set_fault("dedicated", None)
        await running.settle()
        assert not _refuses(port)


async def test_exit_releases_held_requests_and_every_port() -> None:
    sim = Simulator(parse_scenario(SCENARIO), clock=FakeClock())
    async with httpx.AsyncClient(headers=AUTH, timeout=10) as client:
        async with sim.serve() as running:
            ports = [int(running.url.rsplit(":", 1)[1]), *running.channel_ports.values()]
            held = asyncio.create_task(client.get(sim.base_url("held") + "/models"))
            await asyncio.sleep(0.1)
            assert not held.done()
            loop = asyncio.get_running_loop()
            started = loop.time()
        assert held.done()  # shutdown lets held requests go: they answer instead of hanging
        assert held.result().status_code == 200
        assert loop.time() - started < 3
    assert all(_refuses(p) for p in ports)
    with pytest.raises(RuntimeError, match="not serving"):
        sim.base_url("plain")


async def test_busy_port_is_a_clear_error() -> None:
    sim = Simulator(parse_scenario(SCENARIO))
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(SorawatchError, match=f"cannot listen on 127.0.0.1:{port}"):
            async with sim.serve(port=port):
                pass


async def test_run_forever_reports_urls_and_stops_when_cancelled() -> None:
    sim = Simulator(parse_scenario(SCENARIO))
    ready: asyncio.Queue[SimulatorUrls] = asyncio.Queue()
    task = asyncio.create_task(sim.run_forever(port=0, on_ready=ready.put_nowait))
    urls = await asyncio.wait_for(ready.get(), 5)
    assert set(urls.channels) == {"plain", "flaky", "dedicated", "held"}
    assert urls.channels["plain"] == f"{urls.main}/ch/plain/v1"
    assert urls.control == f"{urls.main}/_sim/state"
    async with httpx.AsyncClient() as client:
        state = (await client.get(urls.control)).json()
    assert state["scenario"] == "serving"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _refuses(int(urls.main.rsplit(":", 1)[1]))


async def test_the_inbox_takes_webhooks_for_the_demo_alerts() -> None:
    sim = Simulator(parse_scenario(SCENARIO))
    async with sim.serve(host="127.0.0.1", port=0) as running, httpx.AsyncClient() as client:
        inbox = f"{running.url}/_sim/inbox"
        assert (await client.post(inbox, json={"title": "t", "message": "m"})).status_code == 200
        assert (await client.post(inbox, content=b"not json")).status_code == 400
        assert (await client.get(inbox)).json() == [{"title": "t", "message": "m"}]
