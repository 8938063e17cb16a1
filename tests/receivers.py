"""Real local receivers for alerts: an HTTP webhook endpoint and an SMTP server on loopback."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sorawatch.serving import Listener


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ALERT_ID = re.compile(r"alert id: ([0-9a-f]{24})")


def alert_id(text: str) -> str:
    m = ALERT_ID.search(text)
    assert m, f"no alert id in {text!r}"
    return m.group(1)


@dataclass
class Webhook:
    """Takes Apprise ``json://`` posts. ``delay_s`` holds each answer (a slow receiver);
    ``listener.close()`` takes it off the network (connections refused) until ``open()``."""

    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # of each post, lower-case names
    delay_s: float = 0.0
    listener: Listener | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def hook(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.headers.append(dict(request.headers))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.received.append(body)
        self.arrived.set()
        return JSONResponse({"ok": True})

    @property
    def url(self) -> str:
        assert self.listener is not None
        return "json://" + self.listener.url.removeprefix("http://") + "/hook"

    def ids(self) -> list[str]:
        return [alert_id(b["message"]) for b in self.received]

    def titles(self) -> list[str]:
        return [str(b["title"]) for b in self.received]

    async def wait(self, count: int, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


@asynccontextmanager
async def webhook(port: int = 0) -> AsyncIterator[Webhook]:
    hook = Webhook()
    app = Starlette(routes=[Route("/hook", hook.hook, methods=["POST"])])
    hook.listener = Listener(app, "127.0.0.1", port)
    await hook.listener.open()
    try:
        yield hook
    finally:
        await hook.listener.close(reserve=False)


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        mail = message_from_bytes(raw, policy=policy.default)  # headers decoded
        assert isinstance(mail, EmailMessage)
        self.messages.append(mail)
        return "250 OK"

    def url(self, to: str = "ops@example.com") -> str:
        return f"mailto://{self.host}:{self.port}?from=sorawatch@example.com&to={to}"


@asynccontextmanager
async def smtp_server() -> AsyncIterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()  # runs its own thread and loop, like a mail server next door
    try:
        yield box
    finally:
        controller.stop()
