"""``Simulator``: the public face of the fake upstreams."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette

from sorawatch.serving import Listener
from sorawatch.simulator.app import build_app, build_channel_app
from sorawatch.simulator.engine import Clock, SimEngine, SimStats
from sorawatch.simulator.scenario import Fault, Scenario
from sorawatch.simulator.server import Running, SimulatorUrls


class Simulator:
    """Fake upstreams scripted by a scenario.

    ``clock`` returns seconds (default ``time.monotonic``); the scenario's time 0 is the moment
    of construction or of ``reset()``. ``seed`` fixes every random choice (latency jitter, which
    requests a partial fault hits, ids, which jobs fail), so a run with a fake clock and the same
    requests is exactly repeatable. ``epoch`` pins the Unix time of t=0 (default: now).
    """

    def __init__(
        self,
        scenario: Scenario,
        clock: Clock | None = None,
        seed: int = 0,
        *,
        epoch: float | None = None,
    ) -> None:
        self.scenario = scenario
        self._engine = SimEngine(scenario, clock, seed, epoch)
        self._engine.on_fault_change = self._fault_changed
        self.app: Starlette = build_app(self._engine)
        self._running: Running | None = None

    # --- time, faults, counters -------------------------------------------------------------

    def reset(self) -> None:
        """Time starts again at 0; jobs, counters and manual faults are forgotten."""
        self._engine.reset()

    def elapsed(self) -> float:
        """Seconds since construction or ``reset()``, by the simulator's clock."""
        return self._engine.elapsed()

    @property
    def channels(self) -> list[str]:
        return list(self._engine.channels)

    def set_fault(self, channel: str, fault: str | Fault | None, **params: Any) -> None:
        """Force a fault (with parameters such as ``rate=0.5``) until ``set_fault(ch, None)``."""
        self._engine.set_fault(channel, fault, params)

    def fault_at(self, channel: str, t: float | None = None) -> Fault:
        """The fault in force on a channel now, or at scenario time ``t``."""
        return self._engine.fault_at(channel, t)

    def stats(self) -> SimStats:
        return self._engine.stats()

    def _fault_changed(self) -> None:
        if self._running is not None:
            self._running.wake()

    # --- URLs ---------------------------------------------------------------------------------

    def _serving(self) -> Running:
        if self._running is None:
            raise RuntimeError("the simulator is not serving; use `async with sim.serve()`")
        return self._running

    def base_url(self, channel: str) -> str:
        """The channel's OpenAI-style base URL (ends in ``/v1``)."""
        running = self._serving()
        self._engine.channel(channel)
        own = running.own.get(channel)
        if own is not None:
            return f"{own.url}/v1"
        return f"{running.url}/ch/{channel}/v1"

    def status_url(self, page: str) -> str:
        """The root of a status page (append ``/api/v2/summary.json`` etc.)."""
        return f"{self._serving().url}/status/{page}"

    def urls(self) -> SimulatorUrls:
        running = self._serving()
        return SimulatorUrls(
            main=running.url,
            channels={cid: self.base_url(cid) for cid in self._engine.channels},
            status_pages={pid: self.status_url(pid) for pid in self._engine.pages},
            control=f"{running.url}/_sim/state",
        )

    # --- serving ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Running]:
        """Serve on ``host:port`` (0 = any free port) in this event loop until the block exits.

        Channels with their own port (``own_port``, ``port``, or a ``connection_refused`` fault
        in their timeline) get a listener of their own, shut while that fault is in force.
        """
        if self._running is not None:
            raise RuntimeError("the simulator is already serving")
        engine = self._engine
        engine.release_holds = asyncio.Event()
        own: dict[str, Listener] = {}
        main = Listener(self.app, host, port)
        running = Running(main, own, self._refused)
        supervisor: asyncio.Task[None] | None = None
        try:
            for cid, (spec, _) in self.scenario.channel_specs.items():
                if spec.needs_own_port:
                    own[cid] = Listener(build_channel_app(engine, cid), host, spec.port or 0)
            await main.open()
            await running.settle()
            self._running = running
            supervisor = asyncio.create_task(running.supervise(), name="sim-supervisor")
            yield running
        finally:
            self._running = None
            engine.release_holds.set()
            running.stopping = True
            if supervisor is not None:
                supervisor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await supervisor
            await running.stop()
            engine.release_holds = None

    def _refused(self, channel: str) -> bool:
        return self._engine.fault_at(channel).fault == "connection_refused"

    async def run_forever(
        self,
        host: str = "127.0.0.1",
        port: int = 8765,
        on_ready: Callable[[SimulatorUrls], None] | None = None,
    ) -> None:
        """Serve until cancelled (Ctrl-C under ``asyncio.run``). Prints nothing: ``on_ready``
        receives the URLs once every listener is up."""
        async with self.serve(host, port):
            if on_ready is not None:
                on_ready(self.urls())
            await asyncio.Event().wait()
