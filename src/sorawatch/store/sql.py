"""The SQL store: SQLAlchemy Core on SQLite (aiosqlite) or PostgreSQL (asyncpg).

SQLite runs with one writer connection (writes are serialized by an asyncio lock and take the
database lock up front with ``BEGIN IMMEDIATE``) and a small pool of read-only readers, which
WAL lets run while the writer commits.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from sorawatch.budget import BudgetLimits, refusal, utc_day
from sorawatch.domain.incident import Incident, Segment, StatusChange
from sorawatch.domain.observation import Observation
from sorawatch.domain.outcome import Outcome, Source
from sorawatch.domain.status import Status
from sorawatch.errors import StoreError
from sorawatch.store import schema as t
from sorawatch.store import sql_alerts as alerts
from sorawatch.store.base import (
    CanaryRun,
    CanaryState,
    ChannelSnapshot,
    DeliveryState,
    LoggedChange,
    MaintenanceWindow,
    OutboxMessage,
    Resolution,
    Rollup,
)
from sorawatch.store.codec import (
    aware,
    aware_or_none,
    build_segments,
    evidence_from_json,
    evidence_to_json,
    utc_window,
)
from sorawatch.store.rollup import RollupAcc, RollupKey, fold, retention_cutoffs
from sorawatch.store.urls import Backend, Target, parse_store_url, scrub

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SNAPSHOT_OBSERVATIONS = 20
# Arbitrary constant key: concurrent PostgreSQL processes take turns migrating.
_MIGRATION_LOCK_KEY = 0x50A4A_0001
# Held while a canary's cost is checked against the day's spend and reserved: two processes
# sharing one PostgreSQL database cannot both take the last dollar of a budget.
_BUDGET_LOCK_KEY = 0x50A4A_0002
# Held while a status change is inserted: several processes writing one PostgreSQL database
# then commit change ids in increasing order, so a reader of the change log that has passed an
# id (the alerts) never sees a lower one appear later.
_CHANGE_LOCK_KEY = 0x50A4A_0003


class SqlStore:
    def __init__(self, url: str, *, snapshot_observations: int = SNAPSHOT_OBSERVATIONS) -> None:
        self._target: Target = parse_store_url(url)
        if self._target.backend is Backend.MEMORY or self._target.url is None:
            raise StoreError("SqlStore needs a sqlite:// or postgresql:// URL")
        self._snapshot_observations = snapshot_observations
        self._lock = asyncio.Lock()
        self._writer: AsyncEngine | None = None
        self._reader: AsyncEngine | None = None
        # With one shared connection (SQLite :memory:) reads must queue behind writes too.
        self._reads_locked = self._target.sqlite_memory

    @property
    def url(self) -> sa.URL:
        """The SQLAlchemy URL with the async driver (it holds the password: never print it)."""
        assert self._target.url is not None
        return self._target.url

    @property
    def where(self) -> str:
        """The database, named for messages (never with its password)."""
        return self._target.where

    # lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._writer is not None:
            return
        self._writer, self._reader = self._engines()
        try:
            await self._check_connection()
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        if reader is not None and reader is not writer:
            await reader.dispose()
        if writer is not None:
            await writer.dispose()

    async def schema_version(self) -> str | None:
        """The applied Alembic revision (``"0001"``…), None before any migration."""
        async with self._read() as conn:
            try:
                return (
                    await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                ).scalar()
            except SQLAlchemyError:
                return None

    def _engines(self) -> tuple[AsyncEngine, AsyncEngine]:
        url = self._target.url
        assert url is not None
        if self._target.backend is Backend.POSTGRESQL:
            engine = create_async_engine(
                url,
                pool_size=5,
                max_overflow=10,
                pool_pre_ping=True,
                connect_args={"timeout": 10},
            )
            return engine, engine
        if self._target.sqlite_memory:
            engine = create_async_engine(url)
            _sqlite_session(engine, begin="BEGIN IMMEDIATE", writer=True)
            return engine, engine
        writer = create_async_engine(url, pool_size=1, max_overflow=0)
        _sqlite_session(writer, begin="BEGIN IMMEDIATE", writer=True)
        reader = create_async_engine(url, pool_size=4, max_overflow=4)
        _sqlite_session(reader, begin="BEGIN", writer=False)
        return writer, reader

    async def _check_connection(self) -> None:
        assert self._writer is not None
        path = self._target.sqlite_path
        if path is not None and not path.parent.is_dir():
            # Checked up front: aiosqlite leaves a worker thread behind on a failed connect.
            raise StoreError(f"cannot open {self.where}: no directory {path.parent}")
        try:
            async with self._writer.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            verb = "connect to" if self._target.backend is Backend.POSTGRESQL else "open"
            raise StoreError(f"cannot {verb} {self.where}: {self._reason(exc)}") from exc

    async def _migrate(self) -> None:
        assert self._writer is not None
        try:
            async with self._lock, self._writer.begin() as conn:
                if conn.dialect.name == "postgresql":
                    await conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY}
                    )
                await conn.run_sync(_upgrade)
        except Exception as exc:
            raise StoreError(f"cannot migrate {self.where}: {self._reason(exc)}") from exc

    def _reason(self, exc: BaseException) -> str:
        cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
        text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        return scrub(text, self._target.password)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        if self._writer is None:
            raise StoreError("the store is not open")
        async with self._lock:
            try:
                async with self._writer.begin() as conn:
                    yield conn
            except (SQLAlchemyError, OSError) as exc:
                raise StoreError(f"cannot write to {self.where}: {self._reason(exc)}") from exc

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction: several queries inside it see one consistent state."""
        if self._reader is None:
            raise StoreError("the store is not open")
        async with self._maybe_locked():
            try:
                async with self._reader.connect() as conn:
                    yield conn
            except (SQLAlchemyError, OSError) as exc:
                raise StoreError(f"cannot read from {self.where}: {self._reason(exc)}") from exc

    @asynccontextmanager
    async def _maybe_locked(self) -> AsyncIterator[None]:
        if self._reads_locked:
            async with self._lock:
                yield
        else:
            yield

    # observations -------------------------------------------------------------------------
    async def add_observations(self, observations: Sequence[Observation]) -> None:
        if not observations:
            return
        rows = [_observation_row(o) for o in observations]
        accs = fold(observations)
        # Sorted keys: concurrent PostgreSQL writers lock rollup rows in one order, no deadlock.
        rollup_rows = [_rollup_row(k, accs[k]) for k in sorted(accs, key=_key_order)]
        async with self._write() as conn:
            await conn.execute(sa.insert(t.observations), rows)
            await conn.execute(_rollup_upsert(conn.dialect.name), rollup_rows)

    async def observations(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[Observation]:
        o = t.observations
        stmt = sa.select(o).order_by(o.c.at, o.c.id).limit(limit)
        if channel_id is not None:
            stmt = stmt.where(o.c.channel_id == channel_id)
        if since is not None:
            stmt = stmt.where(o.c.at >= aware(since, "since"))
        if until is not None:
            stmt = stmt.where(o.c.at < aware(until, "until"))
        async with self._read() as conn:
            return [_observation(r) for r in await conn.execute(stmt)]

    async def rollups(
        self,
        channel_id: str | None,
        resolution: Resolution,
        since: datetime,
        until: datetime,
        source: Source | None = None,
    ) -> list[Rollup]:
        r = t.rollups
        stmt = (
            sa.select(r)
            .where(
                r.c.resolution == Resolution(resolution).value,
                r.c.bucket >= aware(since, "since"),
                r.c.bucket < aware(until, "until"),
            )
            .order_by(r.c.bucket, r.c.source)
        )
        if channel_id is not None:
            stmt = stmt.where(r.c.channel_id == channel_id)
        if source is not None:
            stmt = stmt.where(r.c.source == Source(source).value)
        async with self._read() as conn:
            return [_rollup(row) for row in await conn.execute(stmt)]

    # status timeline and incidents ----------------------------------------------------------
    async def record_change(self, change: StatusChange, incident: Incident | None) -> None:
        change_row = _change_row(change)
        incident_row = None if incident is None else _incident_row(incident)
        async with self._write() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHANGE_LOCK_KEY}
                )
            await conn.execute(sa.insert(t.status_changes), change_row)
            if incident_row is not None:
                await conn.execute(_incident_upsert(conn.dialect.name), incident_row)

    async def timeline(
        self, channel_id: str, since: datetime, until: datetime | None = None
    ) -> list[Segment]:
        since = aware(since, "since")
        until = aware_or_none(until, "until")
        c = t.status_changes
        mine = sa.select(c).where(c.c.channel_id == channel_id)
        before = mine.where(c.c.at <= since).order_by(c.c.at.desc(), c.c.id.desc()).limit(1)
        inside = mine.where(c.c.at > since).order_by(c.c.at, c.c.id)
        if until is not None:
            inside = inside.where(c.c.at < until)
        async with self._read() as conn:
            in_force = (await conn.execute(before)).first()
            changes = [_change(row) for row in await conn.execute(inside)]
            later = False
            if until is not None:
                probe = sa.select(c.c.id).where(c.c.channel_id == channel_id, c.c.at >= until)
                later = (await conn.execute(probe.limit(1))).first() is not None
        first = None if in_force is None else _change(in_force)
        return build_segments(first, changes, since, until, later)

    async def timelines(
        self, since: datetime, until: datetime | None = None
    ) -> dict[str, list[Segment]]:
        since = aware(since, "since")
        until = aware_or_none(until, "until")
        c = t.status_changes
        # Only what a segment needs: no reasons, no evidence JSON to decode for every change.
        cols = (c.c.id, c.c.channel_id, c.c.at, c.c.old, c.c.new)
        # The change in force at `since` for every channel: the newest at or before it.
        rank = (
            sa.func.row_number()
            .over(partition_by=c.c.channel_id, order_by=(c.c.at.desc(), c.c.id.desc()))
            .label("rank")
        )
        ranked = sa.select(*cols, rank).where(c.c.at <= since).subquery()
        before = sa.select(*(ranked.c[col.name] for col in cols)).where(ranked.c.rank == 1)
        inside = sa.select(*cols).where(c.c.at > since).order_by(c.c.channel_id, c.c.at, c.c.id)
        if until is not None:
            inside = inside.where(c.c.at < until)

        def light(row: Any) -> StatusChange:
            return StatusChange(row.channel_id, row.at, Status(row.old), Status(row.new), "")

        async with self._read() as conn:
            in_force = {row.channel_id: light(row) for row in await conn.execute(before)}
            by_channel: dict[str, list[StatusChange]] = {}
            for row in await conn.execute(inside):
                by_channel.setdefault(row.channel_id, []).append(light(row))
            later: set[str] = set()
            if until is not None:
                probe = sa.select(c.c.channel_id).where(c.c.at >= until).distinct()
                later = {row.channel_id for row in await conn.execute(probe)}
        return {
            cid: build_segments(
                in_force.get(cid), by_channel.get(cid, []), since, until, cid in later
            )
            for cid in sorted(in_force.keys() | by_channel.keys())
        }

    async def changes(
        self, channel_id: str | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[StatusChange]:
        c = t.status_changes
        stmt = sa.select(c).order_by(c.c.at, c.c.id).limit(limit)
        if channel_id is not None:
            stmt = stmt.where(c.c.channel_id == channel_id)
        if since is not None:
            stmt = stmt.where(c.c.at >= aware(since, "since"))
        async with self._read() as conn:
            return [_change(row) for row in await conn.execute(stmt)]

    async def incidents(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        open_only: bool = False,
        limit: int = 500,
    ) -> list[Incident]:
        i = t.incidents
        stmt = sa.select(i).order_by(i.c.started_at.desc(), i.c.id.desc()).limit(limit)
        if channel_id is not None:
            stmt = stmt.where(i.c.channel_id == channel_id)
        if open_only:
            stmt = stmt.where(i.c.ended_at.is_(None))
        elif since is not None:
            stmt = stmt.where(sa.or_(i.c.ended_at.is_(None), i.c.ended_at > aware(since, "since")))
        async with self._read() as conn:
            return [_incident(row) for row in await conn.execute(stmt)]

    async def snapshots(self) -> list[ChannelSnapshot]:
        async with self._read() as conn:
            last = {ch.channel_id: ch for ch in map(_change, await conn.execute(_last_changes()))}
            o = t.observations
            first_seen: dict[str, datetime] = {
                row[0]: row[1]
                for row in await conn.execute(
                    sa.select(o.c.channel_id, sa.func.min(o.c.at)).group_by(o.c.channel_id)
                )
            }
            i = t.incidents
            open_stmt = sa.select(i).where(i.c.ended_at.is_(None)).order_by(i.c.started_at, i.c.id)
            open_incidents = {
                inc.channel_id: inc for inc in map(_incident, await conn.execute(open_stmt))
            }
            snapshots = []
            for channel_id in sorted(last.keys() | first_seen.keys()):
                recent = await self._recent(conn, channel_id)
                change = last.get(channel_id)
                snapshots.append(
                    ChannelSnapshot(
                        channel_id=channel_id,
                        status=change.new if change else Status.UNKNOWN,
                        since=change.at if change else first_seen[channel_id],
                        open_incident=open_incidents.get(channel_id),
                        last_observations=recent,
                    )
                )
        return snapshots

    async def _recent(self, conn: AsyncConnection, channel_id: str) -> tuple[Observation, ...]:
        o = t.observations
        stmt = (
            sa.select(o)
            .where(o.c.channel_id == channel_id)
            .order_by(o.c.at.desc(), o.c.id.desc())
            .limit(self._snapshot_observations)
        )
        return tuple(reversed([_observation(r) for r in await conn.execute(stmt)]))

    # canary runs and spend --------------------------------------------------------------------
    async def reserve_canary(
        self, channel_id: str, at: datetime, cost_usd: float, limits: BudgetLimits
    ) -> CanaryRun:
        at = aware(at, "at")
        async with self._write() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _BUDGET_LOCK_KEY}
                )
            spent_channel = await _spent(conn, at, channel_id)
            spent_global = await _spent(conn, at, None)
            why = refusal(cost_usd, spent_channel, spent_global, limits)
            run = CanaryRun(
                channel_id=channel_id,
                started_at=at,
                final_state=CanaryState.RUNNING if why is None else CanaryState.SKIPPED_BUDGET,
                cost_usd=cost_usd if why is None else 0.0,
                finished_at=None if why is None else at,
                detail=why or "",
            )
            result = await conn.execute(sa.insert(t.canary_runs), _canary_row(run))
            (run_id,) = result.inserted_primary_key or (None,)
        return dataclasses.replace(run, id=run_id)

    async def finish_canary(self, run: CanaryRun) -> None:
        if run.id is None:
            raise StoreError("no canary run with id None")
        c = t.canary_runs
        row = _canary_row(run)
        async with self._write() as conn:
            result = await conn.execute(sa.update(c).where(c.c.id == run.id).values(row))
            if result.rowcount == 0:
                raise StoreError(f"no canary run with id {run.id}")

    async def canary_runs(
        self,
        channel_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        newest_first: bool = False,
    ) -> list[CanaryRun]:
        c = t.canary_runs
        order = (c.c.started_at.desc(), c.c.id.desc()) if newest_first else (c.c.started_at, c.c.id)
        stmt = sa.select(c).order_by(*order).limit(limit)
        if channel_id is not None:
            stmt = stmt.where(c.c.channel_id == channel_id)
        if since is not None:
            stmt = stmt.where(c.c.started_at >= aware(since, "since"))
        if until is not None:
            stmt = stmt.where(c.c.started_at < aware(until, "until"))
        async with self._read() as conn:
            return [_canary_run(r) for r in await conn.execute(stmt)]

    async def spend(self, day: datetime, channel_id: str | None = None) -> float:
        day = aware(day, "day")
        async with self._read() as conn:
            return await _spent(conn, day, channel_id)

    # alerts -----------------------------------------------------------------------------------
    async def change_log(self, after_id: int = 0, limit: int = 1000) -> list[LoggedChange]:
        async with self._read() as conn:
            rows = await conn.execute(alerts.change_log_query(after_id, limit))
            return [LoggedChange(row.id, _change(row)) for row in rows]

    async def alert_cursor(self) -> tuple[int, str | None]:
        async with self._read() as conn:
            return await alerts.load_state(conn)

    async def commit_alerts(
        self, cursor: int, state: str, messages: Sequence[OutboxMessage]
    ) -> None:
        rows = alerts.message_rows(messages)  # a naive time fails here, before the transaction
        async with self._write() as conn:
            await alerts.commit(conn, cursor, state, rows)

    async def pending_messages(self, limit: int = 1000) -> list[OutboxMessage]:
        async with self._read() as conn:
            return [alerts.message(row) for row in await conn.execute(alerts.pending_query(limit))]

    async def record_attempt(
        self,
        seq: int,
        at: datetime,
        *,
        error: str | None,
        next_attempt_at: datetime | None = None,
        give_up: bool = False,
    ) -> None:
        values = alerts.attempt_values(at, error, next_attempt_at, give_up)
        async with self._write() as conn:
            await alerts.record_attempt(conn, seq, values)

    async def messages(
        self,
        state: DeliveryState | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[OutboxMessage]:
        stmt = alerts.messages_query(state, limit, before_seq)
        async with self._read() as conn:
            return [alerts.message(row) for row in await conn.execute(stmt)]

    async def prune_messages(self, before: datetime) -> int:
        stmt = alerts.prune_statement(before)
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount or 0

    async def take_lease(self, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
        now = aware(now, "now")
        async with self._write() as conn:
            return await alerts.take_lease(conn, name, holder, now, now + timedelta(seconds=ttl_s))

    async def add_window(self, window: MaintenanceWindow) -> MaintenanceWindow:
        window = utc_window(window)
        async with self._write() as conn:
            window_id = await alerts.add_window(conn, window)
        return dataclasses.replace(window, id=window_id)

    async def windows(self) -> list[MaintenanceWindow]:
        async with self._read() as conn:
            return [alerts.window(row) for row in await conn.execute(alerts.windows_query())]

    async def end_window(self, window_id: int, at: datetime) -> MaintenanceWindow:
        at = aware(at, "at")
        async with self._write() as conn:
            return await alerts.end_window(conn, window_id, at)

    # maintenance ------------------------------------------------------------------------------
    async def compact(self, now: datetime, raw_retention_s: float) -> int:
        cut = retention_cutoffs(aware(now, "now"), raw_retention_s)
        r = t.rollups
        statements = [
            sa.delete(t.observations).where(t.observations.c.at < cut.raw),
            sa.delete(r).where(r.c.resolution == Resolution.MINUTE.value, r.c.bucket < cut.minute),
            sa.delete(r).where(r.c.resolution == Resolution.HOUR.value, r.c.bucket < cut.hour),
        ]
        deleted = 0
        async with self._write() as conn:
            for stmt in statements:
                deleted += (await conn.execute(stmt)).rowcount
        return deleted

    async def size_bytes(self) -> int | None:
        async with self._read() as conn:
            if conn.dialect.name == "postgresql":
                query = "SELECT pg_database_size(current_database())"
                return int((await conn.execute(sa.text(query))).scalar_one())
            pages = (await conn.execute(sa.text("PRAGMA page_count"))).scalar_one()
            page_size = (await conn.execute(sa.text("PRAGMA page_size"))).scalar_one()
            return int(pages) * int(page_size)


# SQLite connection setup ------------------------------------------------------------------------


def _sqlite_session(engine: AsyncEngine, *, begin: str, writer: bool) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (the sqlite3
    module skips BEGIN before SELECT and DDL), and set the pragmas on every new connection."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if writer:
                cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode synchronous=NORMAL already survives a killed process (a commit is in
            # the WAL file once it returns); FULL also survives power loss, at one fsync per
            # commit, which batched writes easily afford.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            if not writer:
                cursor.execute("PRAGMA query_only=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(begin)


def _upgrade(conn: sa.Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


# statements -------------------------------------------------------------------------------------


def _rollup_upsert(dialect: str) -> sa.Insert:
    r = t.rollups
    ins = sqlite.insert(r) if dialect == "sqlite" else postgresql.insert(r)
    excluded = ins.excluded
    largest = sa.func.max if dialect == "sqlite" else sa.func.greatest  # sqlite: 2-arg max
    changes: dict[str, Any] = {c: r.c[c] + excluded[c] for c in t.ADDITIVE_ROLLUP_COLUMNS}
    changes["latency_max_ms"] = largest(r.c.latency_max_ms, excluded.latency_max_ms)
    return ins.on_conflict_do_update(index_elements=list(t.ROLLUP_KEY), set_=changes)


def _incident_upsert(dialect: str) -> sa.Insert:
    i = t.incidents
    ins = sqlite.insert(i) if dialect == "sqlite" else postgresql.insert(i)
    columns = [c.name for c in i.columns if c.name != "id"]
    return ins.on_conflict_do_update(
        index_elements=["id"], set_={c: ins.excluded[c] for c in columns}
    )


def _last_changes() -> sa.Select[Any]:
    c = t.status_changes
    rank = (
        sa.func.row_number()
        .over(partition_by=c.c.channel_id, order_by=(c.c.at.desc(), c.c.id.desc()))
        .label("rank")
    )
    ranked = sa.select(c, rank).subquery()
    return sa.select(*(ranked.c[col.name] for col in c.columns)).where(ranked.c.rank == 1)


async def _spent(conn: AsyncConnection, at: datetime, channel_id: str | None) -> float:
    c = t.canary_runs
    start, end = utc_day(at)
    stmt = sa.select(sa.func.coalesce(sa.func.sum(c.c.cost_usd), 0.0)).where(
        c.c.started_at >= start, c.c.started_at < end
    )
    if channel_id is not None:
        stmt = stmt.where(c.c.channel_id == channel_id)
    return float((await conn.execute(stmt)).scalar_one())


# rows ↔ domain objects -----------------------------------------------------------------------


def _key_order(key: RollupKey) -> tuple[str, str, datetime, str]:
    channel_id, source, resolution, bucket = key
    return (channel_id, resolution.value, bucket, source.value)


def _observation_row(o: Observation) -> dict[str, Any]:
    return {
        "channel_id": o.channel_id,
        "source": Source(o.source).value,
        "at": aware(o.at, "observation.at"),
        "outcome": Outcome(o.outcome).value,
        "http_status": o.http_status,
        "latency_ms": o.latency_ms,
        "cost_usd": o.cost_usd,
        "detail": o.detail,
        "reported": None if o.reported is None else Status(o.reported).value,
        "inconclusive": o.inconclusive,
        "sunset": aware_or_none(o.sunset, "observation.sunset"),
    }


def _observation(row: Row[Any]) -> Observation:
    m = row._mapping
    return Observation(
        channel_id=m["channel_id"],
        source=Source(m["source"]),
        at=m["at"],
        outcome=Outcome(m["outcome"]),
        http_status=m["http_status"],
        latency_ms=m["latency_ms"],
        cost_usd=m["cost_usd"],
        detail=m["detail"],
        reported=None if m["reported"] is None else Status(m["reported"]),
        inconclusive=bool(m["inconclusive"]),
        sunset=m["sunset"],
        id=m["id"],
    )


def _rollup_row(key: RollupKey, acc: RollupAcc) -> dict[str, Any]:
    channel_id, source, resolution, bucket = key
    row: dict[str, Any] = {
        "channel_id": channel_id,
        "source": source.value,
        "resolution": resolution.value,
        "bucket": bucket,
        "count": acc.count,
        "latency_count": acc.latency_count,
        "latency_sum_ms": acc.latency_sum_ms,
        "latency_max_ms": acc.latency_max_ms,
        "cost_usd": acc.cost_usd,
    }
    row.update({col: acc.outcomes.get(o, 0) for o, col in t.OUTCOME_COLUMNS.items()})
    row.update(zip(t.LATENCY_COLUMNS, acc.latency_buckets, strict=True))
    return row


def _rollup(row: Row[Any]) -> Rollup:
    m = row._mapping
    return Rollup(
        channel_id=m["channel_id"],
        source=Source(m["source"]),
        resolution=Resolution(m["resolution"]),
        bucket=m["bucket"],
        count=m["count"],
        outcomes={o: m[col] for o, col in t.OUTCOME_COLUMNS.items() if m[col]},
        latency_count=m["latency_count"],
        latency_sum_ms=m["latency_sum_ms"],
        latency_max_ms=m["latency_max_ms"],
        latency_buckets=tuple(m[col] for col in t.LATENCY_COLUMNS),
        cost_usd=m["cost_usd"],
    )


def _change_row(change: StatusChange) -> dict[str, Any]:
    return {
        "channel_id": change.channel_id,
        "at": aware(change.at, "change.at"),
        "old": Status(change.old).value,
        "new": Status(change.new).value,
        "reason": change.reason,
        "sources": list(change.sources),
        "evidence": evidence_to_json(change.evidence),
    }


def _change(row: Row[Any]) -> StatusChange:
    m = row._mapping
    return StatusChange(
        channel_id=m["channel_id"],
        at=m["at"],
        old=Status(m["old"]),
        new=Status(m["new"]),
        reason=m["reason"],
        sources=tuple(m["sources"]),
        evidence=evidence_from_json(m["evidence"]),
    )


def _incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "channel_id": incident.channel_id,
        "started_at": aware(incident.started_at, "incident.started_at"),
        "ended_at": aware_or_none(incident.ended_at, "incident.ended_at"),
        "status": Status(incident.status).value,
        "worst": Status(incident.worst).value,
        "cause": incident.cause,
        "evidence": evidence_to_json(incident.evidence),
    }


def _incident(row: Row[Any]) -> Incident:
    m = row._mapping
    return Incident(
        id=m["id"],
        channel_id=m["channel_id"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        status=Status(m["status"]),
        worst=Status(m["worst"]),
        cause=m["cause"],
        evidence=evidence_from_json(m["evidence"]),
    )


def _canary_row(run: CanaryRun) -> dict[str, Any]:
    return {
        "channel_id": run.channel_id,
        "started_at": aware(run.started_at, "run.started_at"),
        "finished_at": aware_or_none(run.finished_at, "run.finished_at"),
        "final_state": CanaryState(run.final_state).value,
        "outcome": None if run.outcome is None else Outcome(run.outcome).value,
        "failure_class": run.failure_class,
        "job_id": run.job_id,
        "accept_ms": run.accept_ms,
        "queue_ms": run.queue_ms,
        "generate_ms": run.generate_ms,
        "total_ms": run.total_ms,
        "cost_usd": run.cost_usd,
        "detail": run.detail,
    }


def _canary_run(row: Row[Any]) -> CanaryRun:
    m = row._mapping
    return CanaryRun(
        channel_id=m["channel_id"],
        started_at=m["started_at"],
        final_state=CanaryState(m["final_state"]),
        cost_usd=m["cost_usd"],
        outcome=None if m["outcome"] is None else Outcome(m["outcome"]),
        failure_class=m["failure_class"],
        job_id=m["job_id"],
        accept_ms=m["accept_ms"],
        queue_ms=m["queue_ms"],
        generate_ms=m["generate_ms"],
        total_ms=m["total_ms"],
        finished_at=m["finished_at"],
        detail=m["detail"],
        id=m["id"],
    )
