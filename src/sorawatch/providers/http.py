"""One HTTP exchange, measured and turned into an ``Exchange`` (failures become data)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from sorawatch.domain.observation import Exchange, TransportError, Verdict
from sorawatch.domain.outcome import Outcome
from sorawatch.domain.redact import redact
from sorawatch.providers.base import Download

# Enough of a body to classify any error page; a video never passes through here.
MAX_BODY = 64 * 1024


async def exchange(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    secrets: tuple[str, ...] = (),
    timeout: float | None = None,
    max_body: int = MAX_BODY,
    **kwargs: Any,
) -> Exchange:
    """Send one request and return what happened, never raising for network trouble.

    At most ``max_body`` bytes of the answer are kept (raise it for answers whose payload
    matters, such as an image in base64).
    """
    started = time.perf_counter()
    shown_url = redact(url, secrets)
    try:
        req_timeout = httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT
        async with client.stream(method, url, timeout=req_timeout, **kwargs) as resp:
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) >= max_body:
                    break
            latency = (time.perf_counter() - started) * 1000
            return Exchange(
                method=method,
                url=shown_url,
                status=resp.status_code,
                headers={k.lower(): v for k, v in resp.headers.items()},
                body=bytes(body[:max_body]),
                latency_ms=latency,
            )
    except httpx.TransportError as err:
        return _transport_exchange(method, shown_url, started, err, secrets)


def _transport_exchange(
    method: str, url: str, started: float, err: httpx.TransportError, secrets: tuple[str, ...]
) -> Exchange:
    kind = (
        TransportError.TIMEOUT
        if isinstance(err, httpx.TimeoutException)
        else TransportError.CONNECT
        if isinstance(err, httpx.ConnectError)
        else TransportError.PROTOCOL
    )
    return Exchange(
        method=method,
        url=url,
        status=None,
        latency_ms=(time.perf_counter() - started) * 1000,
        transport_error=kind,
        error_text=redact(f"{type(err).__name__}: {err}".rstrip(": "), secrets),
    )


async def open_stream(
    client: httpx.AsyncClient,
    url: str,
    *,
    classify: Callable[[Exchange], Verdict],
    secrets: tuple[str, ...] = (),
    timeout: float | None = None,
    **kwargs: Any,
) -> Download:
    """GET a (possibly large) body as a stream; a non-2xx answer is read and classified."""
    started = time.perf_counter()
    shown = redact(url, secrets)
    request = client.build_request("GET", url, timeout=timeout, **kwargs)
    try:
        resp = await client.send(request, stream=True)
    except httpx.TransportError as err:
        ex = _transport_exchange("GET", shown, started, err, secrets)
        return Download(classify(ex), ex)
    headers = {k.lower(): v for k, v in resp.headers.items()}
    if resp.status_code >= 300:
        body = bytearray()
        try:
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) >= MAX_BODY:
                    break
        except httpx.TransportError:
            pass  # the status and what we have are enough to classify
        finally:
            await resp.aclose()
        ex = Exchange("GET", shown, resp.status_code, headers, bytes(body[:MAX_BODY]))
        return Download(classify(ex), ex)
    ex = Exchange(
        "GET", shown, resp.status_code, headers, b"", (time.perf_counter() - started) * 1000
    )

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.aiter_bytes():
                yield chunk
        finally:
            await resp.aclose()

    return Download(classify(ex), ex, headers.get("content-type"), chunks())


def json_of(ex: Exchange) -> Any:
    """The answer's JSON document, or None when the body is not JSON."""
    try:
        return json.loads(ex.body)
    except (ValueError, UnicodeDecodeError):
        return None


def bad_shape(ex: Exchange, what: str) -> Verdict:
    """A 2xx whose body is not what the protocol promises: the channel answered wrongly."""
    return Verdict(Outcome.BAD_RESPONSE, f"{ex.status} {what}")
