"""Table definitions used by the SQL store's queries.

The migrations in ``migrations/versions`` are the source of truth for the database; these tables
mirror them (a unit test compares the two) so a new column means a new migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sorawatch.domain.outcome import Outcome
from sorawatch.store.base import LATENCY_BOUNDS_MS


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so it stores naive UTC text whose
    lexical order is the time order.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} (expected timezone-aware UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# One counter column per outcome and per latency histogram bucket: the rollup upsert is then
# plain arithmetic (``n = n + excluded.n``), atomic even with several PostgreSQL writers.
OUTCOME_COLUMNS: dict[Outcome, str] = {o: f"n_{o.value}" for o in Outcome}
LATENCY_COLUMNS: tuple[str, ...] = tuple(f"lb_{i:02d}" for i in range(len(LATENCY_BOUNDS_MS) + 1))

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

observations = sa.Table(
    "observations",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.String(200), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("http_status", sa.Integer(), nullable=True),
    sa.Column("latency_ms", sa.Float(), nullable=True),
    sa.Column("cost_usd", sa.Float(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("reported", sa.String(32), nullable=True),
    sa.Column("inconclusive", sa.Boolean(), nullable=False),
    sa.Column("sunset", UtcDateTime(), nullable=True),
    sa.Index("ix_observations_channel_at", "channel_id", "at"),
    sa.Index("ix_observations_at", "at"),
)

status_changes = sa.Table(
    "status_changes",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.String(200), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("old", sa.String(32), nullable=False),
    sa.Column("new", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("sources", sa.JSON(), nullable=False),
    sa.Column("evidence", sa.JSON(), nullable=False),
    sa.Index("ix_status_changes_channel_at", "channel_id", "at"),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("channel_id", sa.String(200), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("worst", sa.String(32), nullable=False),
    sa.Column("cause", sa.Text(), nullable=False),
    sa.Column("evidence", sa.JSON(), nullable=False),
    sa.Index("ix_incidents_channel_started", "channel_id", "started_at"),
)

ROLLUP_KEY: tuple[str, ...] = ("channel_id", "resolution", "bucket", "source")

rollups = sa.Table(
    "rollups",
    metadata,
    sa.Column("channel_id", sa.String(200), nullable=False),
    sa.Column("resolution", sa.String(16), nullable=False),
    sa.Column("bucket", UtcDateTime(), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in OUTCOME_COLUMNS.values()),
    sa.Column("latency_count", sa.Integer(), nullable=False),
    sa.Column("latency_sum_ms", sa.Float(), nullable=False),
    sa.Column("latency_max_ms", sa.Float(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in LATENCY_COLUMNS),
    sa.Column("cost_usd", sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint(*ROLLUP_KEY, name="pk_rollups"),
    sa.Index("ix_rollups_resolution_bucket", "resolution", "bucket"),
)

ADDITIVE_ROLLUP_COLUMNS: tuple[str, ...] = (
    "count",
    *OUTCOME_COLUMNS.values(),
    "latency_count",
    "latency_sum_ms",
    *LATENCY_COLUMNS,
    "cost_usd",
)

canary_runs = sa.Table(
    "canary_runs",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("channel_id", sa.String(200), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("final_state", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("failure_class", sa.String(64), nullable=True),
    sa.Column("job_id", sa.String(200), nullable=True),
    sa.Column("accept_ms", sa.Float(), nullable=True),
    sa.Column("queue_ms", sa.Float(), nullable=True),
    sa.Column("generate_ms", sa.Float(), nullable=True),
    sa.Column("total_ms", sa.Float(), nullable=True),
    sa.Column("cost_usd", sa.Float(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Index("ix_canary_runs_channel_started", "channel_id", "started_at"),
    sa.Index("ix_canary_runs_started", "started_at"),
)

alert_outbox = sa.Table(
    "alert_outbox",
    metadata,
    sa.Column("seq", _ID, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(64), nullable=False),
    sa.Column("notifier", sa.String(200), nullable=False),
    sa.Column("route", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("channels", sa.JSON(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=False),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("alert_id", "notifier", name="uq_alert_outbox_alert_notifier"),
    sa.Index("ix_alert_outbox_state_seq", "state", "seq"),
)

# Always the single row ``ALERT_STATE_ROW``.
ALERT_STATE_ROW = 1

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("cursor", _ID, nullable=False),
    sa.Column("state", sa.Text(), nullable=True),
)

maintenance_windows = sa.Table(
    "maintenance_windows",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("start", UtcDateTime(), nullable=False),
    sa.Column("end", UtcDateTime(), nullable=False),
    sa.Column("channels", sa.JSON(), nullable=False),
    sa.Column("groups", sa.JSON(), nullable=False),
    sa.Column("every_s", sa.Float(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("until", UtcDateTime(), nullable=False),
)
