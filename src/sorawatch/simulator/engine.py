"""The simulator's state and per-request flow, independent of how it is served.

Per request the work is O(1) in the number of channels: a dict lookup, a bisection in that
channel's own timeline, one RNG draw. Nothing runs per channel in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sorawatch.errors import ScenarioError
from sorawatch.simulator.jobs import ChannelState
from sorawatch.simulator.protocols import protocol_class
from sorawatch.simulator.protocols.base import Call, SimProtocol
from sorawatch.simulator.scenario import OK, ChannelSpec, Fault, Scenario, TimelineEntry
from sorawatch.simulator.statuspages import StatusPage
from sorawatch.simulator.wire import cloudflare_challenge, http_date, invalid_url

Clock = Callable[[], float]

_SLOW_EXTRA_MS = 5000.0
_HOLD_S = 60.0
_JITTER = 0.2


class CompiledTimeline:
    """A channel's timeline as parallel arrays for bisection."""

    def __init__(self, entries: Sequence[TimelineEntry], loop: float | None) -> None:
        self._ats = [e.at for e in entries]
        self._faults = [e.to_fault() for e in entries]
        self._loop = loop

    def at(self, t: float) -> Fault:
        if self._loop is not None:
            t %= self._loop
        i = bisect_right(self._ats, t) - 1
        return self._faults[i] if i >= 0 else OK


@dataclass(slots=True)
class _Channel:
    spec: ChannelSpec
    timeline: CompiledTimeline
    delay: float
    protocol: SimProtocol


@dataclass(frozen=True)
class SimStats:
    """What the simulator has served since start or ``reset()``."""

    requests: int
    by_channel: dict[str, dict[str, int]]  # channel -> fault name ("ok" when none hit) -> count
    by_status: dict[int, int]
    jobs_created: int
    jobs_alive: int
    status_page_requests: int


@dataclass
class _Counters:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    jobs_created: int = 0
    page_requests: int = 0


def make_fault(fault: str | Fault | None, params: dict[str, Any]) -> Fault:
    if isinstance(fault, Fault):
        return fault.model_copy(update=params) if params else fault
    from pydantic import ValidationError

    try:
        return Fault.model_validate({"fault": fault or "ok", **params})
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'fault'}: {e['msg']}" for e in exc.errors()
        )
        raise ScenarioError(f"invalid fault {fault!r}: {details}") from exc


class SimEngine:
    def __init__(
        self, scenario: Scenario, clock: Clock | None, seed: int, epoch: float | None
    ) -> None:
        self.scenario = scenario
        self._clock: Clock = clock or time.monotonic
        self._seed = seed
        self._fixed_epoch = epoch
        protocols: dict[str, SimProtocol] = {}
        compiled: dict[int, CompiledTimeline] = {}
        self.channels: dict[str, _Channel] = {}
        for cid, (spec, delay) in scenario.channel_specs.items():
            proto = protocols.get(spec.protocol)
            if proto is None:
                proto = protocols[spec.protocol] = protocol_class(spec.protocol)()
            timeline = compiled.get(id(spec))
            if timeline is None:
                timeline = compiled[id(spec)] = CompiledTimeline(spec.timeline, scenario.loop)
            self.channels[cid] = _Channel(spec, timeline, delay, proto)
        self.pages = {pid: StatusPage(pid, spec) for pid, spec in scenario.status_pages.items()}
        self.overrides: dict[str, Fault] = {}
        self.on_fault_change: Callable[[], None] | None = None
        self.release_holds: asyncio.Event | None = None
        self.reset()

    def reset(self) -> None:
        """Time starts again at 0; jobs, counters and manual faults are forgotten."""
        self.rng = random.Random(self._seed)
        self._t0 = self._clock()
        self.epoch = time.time() if self._fixed_epoch is None else self._fixed_epoch
        self.states: dict[str, ChannelState] = {}
        self.counters = _Counters()
        self.overrides.clear()
        self._changed()

    def elapsed(self) -> float:
        return self._clock() - self._t0

    # --- faults ----------------------------------------------------------------------------

    def channel(self, channel_id: str) -> _Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise ScenarioError(f"no channel {channel_id!r} in scenario") from None

    def fault_at(self, channel_id: str, t: float | None = None) -> Fault:
        chan = self.channel(channel_id)
        override = self.overrides.get(channel_id)
        if override is not None:
            return override
        return chan.timeline.at((self.elapsed() if t is None else t) - chan.delay)

    def set_fault(self, channel_id: str, fault: str | Fault | None, params: dict[str, Any]) -> None:
        self.channel(channel_id)
        if fault is None:
            self.overrides.pop(channel_id, None)
        else:
            self.overrides[channel_id] = make_fault(fault, params)
        self._changed()

    def _changed(self) -> None:
        if self.on_fault_change is not None:
            self.on_fault_change()

    def state(self, channel_id: str, spec: ChannelSpec) -> ChannelState:
        st = self.states.get(channel_id)
        if st is None:
            st = self.states[channel_id] = ChannelState(max_jobs=spec.max_jobs)
        return st

    def stats(self) -> SimStats:
        by_channel: dict[str, dict[str, int]] = {}
        for (cid, name), n in self.counters.requests.items():
            by_channel.setdefault(cid, {})[name] = n
        return SimStats(
            requests=sum(self.counters.requests.values()),
            by_channel=by_channel,
            by_status=dict(self.counters.statuses),
            jobs_created=sum(s.jobs_created for s in self.states.values()),
            jobs_alive=sum(len(s.jobs) for s in self.states.values()),
            status_page_requests=self.counters.page_requests,
        )

    # --- requests --------------------------------------------------------------------------

    def _hit(self, fault: Fault, route: str | None) -> bool:
        if fault.is_ok or fault.fault == "job_failures" or not fault.hits_route(route):
            return False
        return fault.rate >= 1.0 or self.rng.random() < fault.rate

    async def channel_request(self, request: Request, channel_id: str, path: str) -> Response:
        chan = self.channels.get(channel_id)
        if chan is None:
            return invalid_url(request.method, request.url.path)
        t = self.elapsed()
        in_force = self.fault_at(channel_id, t)
        route = chan.protocol.route_name(request.method, path)
        fault = in_force if self._hit(in_force, route) else OK
        key = "job_failures" if in_force.fault == "job_failures" else fault.fault
        self.counters.requests[(channel_id, key)] += 1
        response = await self._answer(request, chan, channel_id, path, route, fault, in_force, t)
        self.counters.statuses[response.status_code] += 1
        return response

    async def _answer(
        self,
        request: Request,
        chan: _Channel,
        channel_id: str,
        path: str,
        route: str | None,
        fault: Fault,
        in_force: Fault,
        t: float,
    ) -> Response:
        name = fault.fault
        if name == "connection_refused":
            # Reached only on the shared port (or in the instant before a listener closes):
            # the nearest an HTTP answer can get to a refused connection.
            return PlainTextResponse("connection refused (simulated)", status_code=502)
        latency = chan.spec.latency_ms * (1 + self.rng.uniform(-_JITTER, _JITTER))
        if name == "slow":
            latency += fault.latency_ms if fault.latency_ms is not None else _SLOW_EXTRA_MS
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        if name == "cloudflare":
            host = request.url.hostname or "localhost"
            return cloudflare_challenge(self.rng, fault.status or 403, host, self.epoch + t)
        if name == "timeout":
            hold = fault.hold_s if fault.hold_s is not None else _HOLD_S
            if await self._hold(request, hold):
                return Response(status_code=499)
        state = self.state(channel_id, chan.spec)
        call = Call(
            request=request,
            channel_id=channel_id,
            spec=chan.spec,
            state=state,
            method=request.method,
            path=path,
            route=route,
            fault=fault,
            in_force=in_force,
            t=self.elapsed(),
            epoch=self.epoch,
            rng=self.rng,
            processing_ms=round(latency),
        )
        if name == "malformed":
            return chan.protocol.malformed(call, fault.mode or "truncated")
        response = await chan.protocol.handle(call)
        if name == "sunset":
            _sunset_headers(response, fault, self.epoch)
        return response

    async def _hold(self, request: Request, seconds: float) -> bool:
        """Keep the request open; True when the client gave up first."""
        await request.body()
        left = asyncio.ensure_future(_wait_disconnect(request))
        waiters: list[asyncio.Future[Any]] = [left]
        if self.release_holds is not None:
            waiters.append(asyncio.ensure_future(self.release_holds.wait()))
        try:
            done, _ = await asyncio.wait(
                waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for w in waiters:
                w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*waiters, return_exceptions=True)
        return left in done

    def page_request(self, request: Request, page_id: str, path: str, base: str) -> Response:
        page = self.pages.get(page_id)
        if page is None:
            return PlainTextResponse("Not Found", status_code=404)
        self.counters.page_requests += 1
        elapsed = self.elapsed()
        loop = self.scenario.loop
        t = elapsed % loop if loop else elapsed
        return page.render(path, t, self.epoch + elapsed - t, base)


async def _wait_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _sunset_headers(response: Response, fault: Fault, start: float) -> None:
    """RFC 9745 ``Deprecation`` (deprecated since the simulator started, or the sunset if
    earlier, since it must not follow it) and RFC 8594 ``Sunset``."""
    sunset = fault.date.timestamp() if fault.date else start + 30 * 86400
    response.headers["deprecation"] = f"@{int(min(start, sunset))}"
    response.headers["sunset"] = http_date(sunset)
