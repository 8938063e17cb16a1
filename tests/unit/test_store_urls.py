"""Store URLs: backend choice, async drivers, and messages that never show a password."""

from __future__ import annotations

import pytest

from sorawatch.errors import StoreError
from sorawatch.store import MemoryStore, SqlStore, open_store
from sorawatch.store.urls import Backend, parse_store_url, redact_url, scrub


@pytest.mark.parametrize(
    ("url", "backend", "driver", "where"),
    [
        pytest.param("memory://", Backend.MEMORY, None, "memory", id="memory"),
        pytest.param(
            "sqlite:///data/sw.db",
            Backend.SQLITE,
            "sqlite+aiosqlite",
            "SQLite at data/sw.db",
            id="sqlite-relative",
        ),
        pytest.param(
            "sqlite:////var/lib/sw.db",
            Backend.SQLITE,
            "sqlite+aiosqlite",
            "SQLite at /var/lib/sw.db",
            id="sqlite-absolute",
        ),
        pytest.param(
            "sqlite:///:memory:",
            Backend.SQLITE,
            "sqlite+aiosqlite",
            "SQLite in memory",
            id="sqlite-memory",
        ),
        pytest.param(
            "postgresql://u:pw@db.internal:6432/sw",
            Backend.POSTGRESQL,
            "postgresql+asyncpg",
            "PostgreSQL at db.internal:6432/sw",
            id="postgresql",
        ),
        pytest.param(
            "postgres://u@db/sw",
            Backend.POSTGRESQL,
            "postgresql+asyncpg",
            "PostgreSQL at db:5432/sw",
            id="postgres-alias-default-port",
        ),
        pytest.param(
            "postgresql+asyncpg://u@db/sw",
            Backend.POSTGRESQL,
            "postgresql+asyncpg",
            "PostgreSQL at db:5432/sw",
            id="explicit-driver",
        ),
    ],
)
def test_parse_store_url(url: str, backend: Backend, driver: str | None, where: str) -> None:
    target = parse_store_url(url)

    assert target.backend is backend
    assert (target.url.drivername if target.url else None) == driver
    assert target.where == where
    assert "pw" not in target.where


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("mysql://root:topsecret@db/sw", id="unsupported"),
        pytest.param("postgresql//u:topsecret@h/db", id="garbage"),
    ],
)
def test_bad_urls_are_store_errors_without_the_password(url: str) -> None:
    with pytest.raises(StoreError) as err:
        open_store(url)

    assert "topsecret" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        pytest.param("memory://", MemoryStore, id="memory"),
        pytest.param("sqlite:///x.db", SqlStore, id="sqlite"),
        pytest.param("postgresql://h/db", SqlStore, id="postgresql"),
    ],
)
def test_open_store_picks_the_backend_without_connecting(url: str, kind: type) -> None:
    assert isinstance(open_store(url), kind)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("postgresql://u:p4ss@h/db", "postgresql://u:***@h/db", id="user-and-pass"),
        pytest.param("postgresql://:p4ss@h/db", "postgresql://:***@h/db", id="pass-only"),
        pytest.param("postgresql://u@h/db", "postgresql://u@h/db", id="no-pass"),
        pytest.param("sqlite:///a:b.db", "sqlite:///a:b.db", id="colon-in-path"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_scrub_removes_every_occurrence() -> None:
    assert scrub("pw=s3cret; again s3cret", "s3cret") == "pw=***; again ***"
    assert scrub("nothing to hide", None) == "nothing to hide"
