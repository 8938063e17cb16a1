"""Persistence: pick a backend from a URL.

``memory://`` → ``MemoryStore``; ``sqlite:///PATH`` (``sqlite:///:memory:``) and
``postgresql://…`` → ``SqlStore``.
"""

from __future__ import annotations

from sorawatch.store.base import (
    LATENCY_BOUNDS_MS,
    CanaryRun,
    CanaryState,
    ChannelSnapshot,
    Resolution,
    Rollup,
    Store,
)
from sorawatch.store.memory import MemoryStore
from sorawatch.store.sql import SqlStore
from sorawatch.store.urls import Backend, parse_store_url

__all__ = [
    "LATENCY_BOUNDS_MS",
    "CanaryRun",
    "CanaryState",
    "ChannelSnapshot",
    "MemoryStore",
    "Resolution",
    "Rollup",
    "SqlStore",
    "Store",
    "open_store",
]


def open_store(url: str) -> Store:
    """The store for ``url``, not yet connected: call ``await store.open()``, which connects,
    applies pending migrations, and raises ``StoreError`` with one clear line (never the
    password) when the database cannot be reached. A URL naming no supported backend raises
    ``StoreError`` here."""
    if parse_store_url(url).backend is Backend.MEMORY:
        return MemoryStore()
    return SqlStore(url)
