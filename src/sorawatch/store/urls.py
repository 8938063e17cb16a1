"""Store URLs: which backend, which async driver, and how to name the target in a message
without its password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sorawatch.errors import StoreError


class Backend(StrEnum):
    MEMORY = "memory"
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Target:
    backend: Backend
    url: URL | None  # SQLAlchemy URL with the async driver; None for the memory store
    where: str  # "SQLite at data/sorawatch.db", "PostgreSQL at 127.0.0.1:5432/sorawatch"
    password: str | None = None

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, None for other backends and in-memory SQLite."""
        if self.backend is not Backend.SQLITE or self.url is None or self.sqlite_memory:
            return None
        return Path(str(self.url.database))

    @property
    def sqlite_memory(self) -> bool:
        return self.backend is Backend.SQLITE and self.url is not None and _is_memory(self.url)


_EXPECTED = "expected sqlite:///PATH, postgresql://USER@HOST:PORT/DB or memory://"
_CREDENTIALS = re.compile(r"(://[^:/@]*):[^@/]*@")


def redact_url(url: str) -> str:
    """``url`` with the password (if any) replaced by ``***``."""
    return _CREDENTIALS.sub(r"\1:***@", url)


def scrub(text: str, password: str | None) -> str:
    """``text`` with every occurrence of ``password`` replaced by ``***``."""
    return text.replace(password, "***") if password else text


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def parse_store_url(raw: str) -> Target:
    """Map a configured URL to a backend: ``memory://``, ``sqlite:///PATH``,
    ``sqlite:///:memory:``, ``postgresql://…`` (or ``postgres://…``)."""
    if raw.startswith("memory://"):
        return Target(Backend.MEMORY, None, "memory")
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        # Not echoed: an unparseable URL cannot be trusted to redact its own password.
        raise StoreError(f"invalid store URL: {_EXPECTED}") from exc
    name = url.get_backend_name()
    if name == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
        where = "SQLite in memory" if _is_memory(url) else f"SQLite at {url.database}"
        return Target(Backend.SQLITE, url, where)
    if name in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
        where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
        return Target(Backend.POSTGRESQL, url, where, password=url.password)
    raise StoreError(f"unsupported store URL {redact_url(raw)!r}: {_EXPECTED}")
