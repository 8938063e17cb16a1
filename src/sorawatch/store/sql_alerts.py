"""The SQL store's alert queries: the outbox, the alerts' cursor and maintenance windows.

Plain functions on a connection the caller already holds in a transaction (``SqlStore`` wraps
them in its ``_write()`` / ``_read()``), so several of them can share one transaction.
Every time is checked to be timezone-aware (``aware()``) before any statement runs: a naive
datetime is the caller's bug and fails with ``ValueError`` instead of a half-written batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from sorawatch.errors import StoreError
from sorawatch.store import schema as t
from sorawatch.store.base import DeliveryState, MaintenanceWindow, OutboxMessage
from sorawatch.store.codec import aware, aware_or_none

# change log --------------------------------------------------------------------------------------


def change_log_query(after_id: int, limit: int) -> sa.Select[Any]:
    c = t.status_changes
    return sa.select(c).where(c.c.id > after_id).order_by(c.c.id).limit(limit)


# cursor and state --------------------------------------------------------------------------------


async def load_state(conn: AsyncConnection) -> tuple[int, str | None]:
    s = t.alert_state
    stmt = sa.select(s.c.cursor, s.c.state).where(s.c.id == t.ALERT_STATE_ROW)
    row = (await conn.execute(stmt)).first()
    return (0, None) if row is None else (int(row.cursor), row.state)


async def save_state(conn: AsyncConnection, cursor: int, state: str) -> None:
    s = t.alert_state
    ins = _dialect_insert(conn, s)
    stmt = ins.on_conflict_do_update(
        index_elements=["id"], set_={"cursor": ins.excluded.cursor, "state": ins.excluded.state}
    )
    await conn.execute(stmt, {"id": t.ALERT_STATE_ROW, "cursor": cursor, "state": state})


# outbox ------------------------------------------------------------------------------------------


def message_rows(messages: Sequence[OutboxMessage]) -> list[dict[str, Any]]:
    """Rows to insert (``seq`` left to the database); raises before any write on a naive time."""
    return [_message_row(m) for m in messages]


async def commit(
    conn: AsyncConnection, cursor: int, state: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Add the outbox rows (keeping any already there for the same alert and notifier) and
    save the cursor, in the caller's transaction."""
    await insert_messages(conn, rows)
    await save_state(conn, cursor, state)


async def insert_messages(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:  # an empty executemany would insert one row of defaults
        return
    stmt = _dialect_insert(conn, t.alert_outbox).on_conflict_do_nothing(
        index_elements=["alert_id", "notifier"]
    )
    await conn.execute(stmt, list(rows))


def pending_query(limit: int) -> sa.Select[Any]:
    o = t.alert_outbox
    return (
        sa.select(o).where(o.c.state == DeliveryState.PENDING.value).order_by(o.c.seq).limit(limit)
    )


def messages_query(
    state: DeliveryState | None, limit: int, before_seq: int | None
) -> sa.Select[Any]:
    o = t.alert_outbox
    stmt = sa.select(o).order_by(o.c.seq.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(o.c.state == DeliveryState(state).value)
    if before_seq is not None:
        stmt = stmt.where(o.c.seq < before_seq)
    return stmt


def prune_statement(before: datetime) -> sa.Delete:
    o = t.alert_outbox
    return sa.delete(o).where(
        o.c.state != DeliveryState.PENDING.value, o.c.created_at < aware(before, "before")
    )


def attempt_values(
    at: datetime, error: str | None, next_attempt_at: datetime | None, give_up: bool
) -> dict[str, Any]:
    """The columns one delivery attempt sets (``attempts`` counts up in the statement)."""
    at = aware(at, "at")
    next_at = aware_or_none(next_attempt_at, "next_attempt_at")
    if error is None:
        # Nothing is left to attempt: no next time, no error to show.
        return {
            "state": DeliveryState.DELIVERED.value,
            "delivered_at": at,
            "last_error": "",
            "next_attempt_at": None,
        }
    state = DeliveryState.FAILED if give_up else DeliveryState.PENDING
    return {"state": state.value, "last_error": error, "next_attempt_at": next_at}


async def record_attempt(conn: AsyncConnection, seq: int, values: dict[str, Any]) -> None:
    o = t.alert_outbox
    stmt = sa.update(o).where(o.c.seq == seq).values(attempts=o.c.attempts + 1, **values)
    if (await conn.execute(stmt)).rowcount == 0:
        raise StoreError(f"no outbox message with seq {seq}")


def _message_row(m: OutboxMessage) -> dict[str, Any]:
    return {
        "alert_id": m.alert_id,
        "notifier": m.notifier,
        "route": m.route,
        "kind": m.kind,
        "severity": m.severity,
        "title": m.title,
        "body": m.body,
        "channels": list(m.channels),
        "created_at": aware(m.created_at, "message.created_at"),
        "state": DeliveryState(m.state).value,
        "attempts": m.attempts,
        "next_attempt_at": aware_or_none(m.next_attempt_at, "message.next_attempt_at"),
        "last_error": m.last_error,
        "delivered_at": aware_or_none(m.delivered_at, "message.delivered_at"),
    }


def message(row: Row[Any]) -> OutboxMessage:
    m = row._mapping
    return OutboxMessage(
        alert_id=m["alert_id"],
        notifier=m["notifier"],
        route=m["route"],
        kind=m["kind"],
        severity=m["severity"],
        title=m["title"],
        body=m["body"],
        channels=tuple(m["channels"]),
        created_at=m["created_at"],
        state=DeliveryState(m["state"]),
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        last_error=m["last_error"],
        delivered_at=m["delivered_at"],
        seq=m["seq"],
    )


# maintenance windows -----------------------------------------------------------------------------


async def add_window(conn: AsyncConnection, window: MaintenanceWindow) -> int:
    """Insert ``window`` (already in UTC, see ``codec.utc_window``); returns its id."""
    result = await conn.execute(sa.insert(t.maintenance_windows), _window_row(window))
    (window_id,) = result.inserted_primary_key or (None,)
    if window_id is None:
        raise StoreError("the database assigned no id to the maintenance window")
    return int(window_id)


def windows_query() -> sa.Select[Any]:
    w = t.maintenance_windows
    return sa.select(w).order_by(w.c.id)


async def end_window(conn: AsyncConnection, window_id: int, at: datetime) -> MaintenanceWindow:
    """End the window at ``at`` unless it ended earlier already; returns it as stored.

    One conditional UPDATE, so two processes ending the same window keep the earlier end
    without reading it first.
    """
    w = t.maintenance_windows
    await conn.execute(
        sa.update(w)
        .where(w.c.id == window_id, sa.or_(w.c.ended_at.is_(None), w.c.ended_at > at))
        .values(ended_at=at)
    )
    row = (await conn.execute(sa.select(w).where(w.c.id == window_id))).first()
    if row is None:
        raise StoreError(f"no maintenance window with id {window_id}")
    return window(row)


def _window_row(w: MaintenanceWindow) -> dict[str, Any]:
    return {
        "name": w.name,
        "start": w.start,
        "end": w.end,
        "channels": list(w.channels),
        "groups": list(w.groups),
        "every_s": w.every_s,
        "reason": w.reason,
        "ended_at": w.ended_at,
    }


def window(row: Row[Any]) -> MaintenanceWindow:
    m = row._mapping
    return MaintenanceWindow(
        name=m["name"],
        start=m["start"],
        end=m["end"],
        channels=tuple(m["channels"]),
        groups=tuple(m["groups"]),
        every_s=m["every_s"],
        reason=m["reason"],
        ended_at=m["ended_at"],
        id=m["id"],
    )


async def take_lease(
    conn: AsyncConnection, name: str, holder: str, now: datetime, until: datetime
) -> bool:
    # One statement: insert the lease, or take it over when it is ours or has expired; a row
    # comes back only when it is ours afterwards.
    lease = t.leases
    insert = _dialect_insert(conn, lease).values(name=name, holder=holder, until=until)
    stmt = insert.on_conflict_do_update(
        index_elements=[lease.c.name],
        set_={"holder": holder, "until": until},
        where=(lease.c.holder == holder) | (lease.c.until < aware(now, "now")),
    ).returning(lease.c.holder)
    return (await conn.execute(stmt)).first() is not None


# dialects ----------------------------------------------------------------------------------------


def _dialect_insert(conn: AsyncConnection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT with the ON CONFLICT clauses of the connection's dialect (both speak it, with
    the same ``index_elements`` spelling)."""
    return sqlite.insert(table) if conn.dialect.name == "sqlite" else postgresql.insert(table)
