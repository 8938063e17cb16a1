"""The HTTP transport under every probe: aiohttp's engine behind the httpx API.

Why: at 10,000 channels the monitor is CPU-bound in HTTP handling, and httpcore's pool costs
about twice the CPU per request of aiohttp's C parser and connector (benchmarks/monitor_scale.py:
~190 vs ≥ 400 requests/s on one core). httpx-aiohttp supplies the transport; this module only
fixes how its errors map onto httpx's, because sorawatch's outcomes depend on that mapping
(a refused connection is ``connect_error``, never ``timeout``): httpx-aiohttp 0.2 reports every
aiohttp connection error as ``ConnectTimeout`` and lets a few errors through unmapped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def as_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception that says what really happened, judged on the aiohttp original."""
    root = exc.__cause__ if isinstance(exc, httpx.TransportError) and exc.__cause__ else exc
    text = str(root) or type(root).__name__
    if isinstance(root, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text, request=request)
    if isinstance(root, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(root, aiohttp.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout(text, request=request)
    if isinstance(root, httpx.TransportError):
        return root
    return httpx.RemoteProtocolError(text, request=request)  # disconnects, bad payloads…


class _MappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError, TimeoutError) as exc:
            raise as_httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        except (httpx.TransportError, aiohttp.ClientError, TimeoutError) as exc:
            raise as_httpx_error(exc, self._request) from exc


class ProbeTransport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        self._inner = AiohttpTransport(limits=limits, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError, TimeoutError) as exc:
            raise as_httpx_error(exc, request) from exc
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_MappedStream(response.stream, request),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
