"""The probe transport maps every network failure to the httpx error that says what happened."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from sorawatch.app import make_client
from sorawatch.domain.observation import TransportError
from sorawatch.providers.http import exchange

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[str]:
    """A raw TCP peer that misbehaves as ``handler`` says; every connection closed on exit."""
    handlers: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await reader.read()  # until the client gives up and closes
    await close(writer)


async def hangs_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await close(writer)


async def cuts_the_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
    await writer.drain()
    await close(writer)


async def answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno")
    await writer.drain()
    await close(writer)


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


async def test_refused_connection_is_a_connect_error() -> None:
    async with make_client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(closed_port())
        ex = await exchange(client, "GET", closed_port(), timeout=2)
    assert ex.transport_error is TransportError.CONNECT


@pytest.mark.parametrize(
    ("handler", "kind"),
    [
        pytest.param(never_answers, TransportError.TIMEOUT, id="no-answer-is-timeout"),
        pytest.param(hangs_up, TransportError.PROTOCOL, id="hang-up-is-protocol"),
        pytest.param(cuts_the_body, TransportError.PROTOCOL, id="cut-body-is-protocol"),
    ],
)
async def test_failures_become_the_right_transport_error(
    handler: Handler, kind: TransportError
) -> None:
    async with tcp_server(handler) as url, make_client() as client:
        ex = await exchange(client, "GET", url, timeout=0.5)
    assert ex.transport_error is kind, ex.error_text
    assert ex.status is None


async def test_a_plain_answer_passes_through() -> None:
    async with tcp_server(answers) as url, make_client() as client:
        ex = await exchange(client, "GET", url, timeout=2)
    assert (ex.status, ex.body, ex.transport_error) == (503, b"no", None)
