"""Serving the simulator with uvicorn inside the caller's event loop.

Each listener is a ``uvicorn.Server`` driven through its public ``startup``/``main_loop``/
``shutdown`` steps rather than ``serve()``, so it installs no signal handlers (the caller owns
Ctrl-C) and never calls ``sys.exit`` on a busy port (we bind the socket ourselves).

A channel with its own port can really refuse connections: while ``connection_refused`` is in
force its listener is shut and its socket stays bound but not listening, which keeps the port
number reserved and makes the kernel answer every connect with a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from sorawatch.errors import SorawatchError

_SUPERVISE_EVERY_S = 0.05


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Listener:
    """One port, opened and closed on demand, keeping its number across closes."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.app, self.host = app, host
        self._sock: socket.socket | None = self._bind(port)
        self.port: int = self._sock.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._tick: asyncio.Task[None] | None = None

    def _bind(self, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
        # socket says it is TCP; without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            raise SorawatchError(f"cannot listen on {self.host}:{port}: {exc.strerror}") from exc
        return sock

    @property
    def url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def open(self) -> None:
        if self._server is not None:
            return
        if self._sock is None:
            self._sock = self._bind(self.port)
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            ws="none",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=1,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)  # as Server.serve() would set it
        await server.startup(sockets=[self._sock])
        self._server = server
        self._tick = asyncio.create_task(server.main_loop(), name=f"sim-listener-{self.port}")

    async def close(self, *, reserve: bool = True) -> None:
        server, tick = self._server, self._tick
        if server is None or tick is None:
            if not reserve and self._sock is not None:
                self._sock.close()
                self._sock = None
            return
        self._server = self._tick = None
        server.should_exit = True
        await tick
        sock = self._sock
        await server.shutdown(sockets=[sock] if sock else None)
        self._sock = self._bind(self.port) if reserve else None


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
