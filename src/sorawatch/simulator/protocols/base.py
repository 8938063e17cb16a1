"""What a simulated protocol is given per request, and what it must provide."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar, Protocol

from starlette.requests import Request
from starlette.responses import Response

from sorawatch.simulator.jobs import ChannelState
from sorawatch.simulator.scenario import ChannelSpec, Fault


@dataclass(slots=True)
class Call:
    """One request to one simulated channel, with the fault that hits it (if any)."""

    request: Request
    channel_id: str
    spec: ChannelSpec
    state: ChannelState
    method: str
    path: str  # after the channel's ``/v1``, starting with ``/``
    route: str | None
    fault: Fault  # the fault hitting this request; ``OK`` when none does
    in_force: Fault  # the fault in force now, hit or not (``job_failures`` reads its rate)
    t: float  # seconds since the simulator started
    epoch: float  # Unix time of t = 0
    rng: random.Random
    processing_ms: int

    @property
    def unix(self) -> float:
        return self.epoch + self.t


class SimProtocol(Protocol):
    name: ClassVar[str]
    routes: ClassVar[tuple[str, ...]]

    def route_name(self, method: str, path: str) -> str | None:
        """The route a request is for (``create``, ``retrieve`` …), None for an unknown one."""
        ...

    async def handle(self, call: Call) -> Response:
        """Answer: authentication, the fault's wire form if one hits, else the real handler."""
        ...

    def malformed(self, call: Call, mode: str) -> Response:
        """A 200 whose body is truncated or the wrong shape for this protocol."""
        ...
