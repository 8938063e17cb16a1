"""Serving the simulator: one ``sorawatch.serving.Listener`` for the shared port and one per
channel with its own port.

A channel with its own port can really refuse connections: while ``connection_refused`` is in
force its listener is shut and its socket stays bound but not listening, which keeps the port
number reserved and makes the kernel answer every connect with a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sorawatch.serving import Listener

_SUPERVISE_EVERY_S = 0.05


@dataclass(frozen=True)
class SimulatorUrls:
    """Where everything is, for ``sorawatch simulate`` to print."""

    main: str
    channels: dict[str, str]  # channel id -> base URL (ending in /v1)
    status_pages: dict[str, str]  # page id -> page root
    control: str


@dataclass
class Running:
    """A serving simulator: the shared listener plus one per own-port channel."""

    main: Listener
    own: dict[str, Listener]
    _refused: Callable[[str], bool]
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: bool = False

    @property
    def url(self) -> str:
        return self.main.url

    @property
    def channel_ports(self) -> dict[str, int]:
        return {cid: lst.port for cid, lst in self.own.items()}

    async def settle(self) -> None:
        """Open or close own-port listeners to match the faults in force right now."""
        async with self._lock:
            for cid, listener in self.own.items():
                refused = self._refused(cid)
                if refused and listener.is_open:
                    await listener.close()
                elif not refused and not listener.is_open:
                    await listener.open()

    def wake(self) -> None:
        self._wake.set()

    async def supervise(self) -> None:
        while not self.stopping:
            self._wake.clear()
            await self.settle()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # lands as the event fires, leaving this loop running forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_SUPERVISE_EVERY_S):
                    await self._wake.wait()

    async def stop(self) -> None:
        self.stopping = True
        async with self._lock:
            for listener in [self.main, *self.own.values()]:
                await listener.close(reserve=False)
