"""Store fixtures: one store per backend, on a throwaway database.

PostgreSQL tests run against the server named by ``SORAWATCH_TEST_POSTGRES`` (default: the
local one), in a database created for this test session and dropped after it, so parallel runs
do not collide.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from sorawatch.store import MemoryStore, SqlStore, Store

PG_ADMIN_URL = os.environ.get(
    "SORAWATCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_TABLES = (
    "observations, status_changes, incidents, rollups, canary_runs,"
    " alert_outbox, alert_state, maintenance_windows, leases"
)

StoreFactory = Callable[[], Awaitable[Store]]


def _admin_dsn() -> str:
    return make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_execute(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of an empty PostgreSQL database that lives for this test session."""
    name = f"sorawatch_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_execute(_admin_dsn(), f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        where = make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
        pytest.skip(f"PostgreSQL not reachable at {where}: {exc}")
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_pg_execute(_admin_dsn(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _empty_pg(url: str) -> None:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    await _pg_execute(dsn, f"TRUNCATE {_TABLES} RESTART IDENTITY")


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("sqlite-memory", id="sqlite-memory"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database of the backend the test is parametrized with
    (every backend unless a test narrows ``store_url`` with ``indirect=True``)."""
    backend: str = request.param
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'sorawatch.db'}"
    if backend == "sqlite-memory":
        return "sqlite:///:memory:"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def store_factory(store_url: str) -> AsyncIterator[StoreFactory]:
    """Opens stores on the test's database (a MemoryStore is its own database: one instance)."""
    opened: list[Store] = []
    memory = MemoryStore()

    async def factory() -> Store:
        store: Store = memory if store_url == "memory://" else SqlStore(store_url)
        await store.open()
        opened.append(store)
        return store

    if store_url.startswith("postgresql"):
        first = await factory()  # creates the tables on first use
        await _empty_pg(store_url)
        del first
    yield factory
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def store(store_factory: StoreFactory) -> Store:
    return await store_factory()
