"""Composition root: builds the concrete pieces from a config and owns their lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from sorawatch import __version__
from sorawatch.config import Config
from sorawatch.store import open_store
from sorawatch.store.base import Store
from sorawatch.transport import ProbeTransport

USER_AGENT = f"sorawatch/{__version__} (+availability monitor)"


def make_client(concurrency: int = 64) -> httpx.AsyncClient:
    """The one HTTP client every probe shares: pooled, no redirects followed silently."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(15.0, connect=5.0),
        follow_redirects=False,
        transport=ProbeTransport(limits),
    )


@asynccontextmanager
async def opened_store(config: Config) -> AsyncIterator[Store]:
    store = open_store(config.storage.url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
