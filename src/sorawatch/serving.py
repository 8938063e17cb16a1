"""Serving an ASGI app with uvicorn inside the caller's event loop.

Each listener is a ``uvicorn.Server`` driven through its public ``startup``/``main_loop``/
``shutdown`` steps rather than ``serve()``, so it installs no signal handlers (the caller owns
Ctrl-C) and never calls ``sys.exit`` on a busy port (we bind the socket ourselves).

A listener can be closed while keeping its socket bound but not listening: the port number stays
reserved and the kernel answers every connect with a reset (the simulator's refused channels).
"""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from starlette.types import ASGIApp

from sorawatch.errors import SorawatchError


class _QuietShutdown(logging.Filter):
    """Drop uvicorn's complaints about requests cut short when we close a listener: the
    simulator holds requests open on purpose, and Ctrl-C must not end in a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            return False
        return "timeout graceful shutdown exceeded" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietShutdown())


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
        self._tick = asyncio.create_task(server.main_loop(), name=f"listener-{self.port}")

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
