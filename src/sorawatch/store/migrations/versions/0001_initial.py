"""Initial schema: observations, status changes, incidents, rollups.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies (a migration must not change when the code does).
_OUTCOMES = (
    "ok",
    "slow",
    "rate_limited",
    "risk_control",
    "overloaded",
    "quota_exhausted",
    "auth_failed",
    "paused",
    "retired",
    "server_error",
    "timeout",
    "connect_error",
    "bad_response",
    "rejected",
    "job_failed",
)
_LATENCY_BUCKETS = 17

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("channel_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        _time("at"),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reported", sa.String(32), nullable=True),
        sa.Column("inconclusive", sa.Boolean(), nullable=False),
        _time("sunset", nullable=True),
    )
    op.create_index("ix_observations_channel_at", "observations", ["channel_id", "at"])
    op.create_index("ix_observations_at", "observations", ["at"])

    op.create_table(
        "status_changes",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("channel_id", sa.String(200), nullable=False),
        _time("at"),
        sa.Column("old", sa.String(32), nullable=False),
        sa.Column("new", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
    )
    op.create_index("ix_status_changes_channel_at", "status_changes", ["channel_id", "at"])

    op.create_table(
        "incidents",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("channel_id", sa.String(200), nullable=False),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("worst", sa.String(32), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
    )
    op.create_index("ix_incidents_channel_started", "incidents", ["channel_id", "started_at"])

    op.create_table(
        "rollups",
        sa.Column("channel_id", sa.String(200), nullable=False),
        sa.Column("resolution", sa.String(16), nullable=False),
        _time("bucket"),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        *(sa.Column(f"n_{o}", sa.Integer(), nullable=False) for o in _OUTCOMES),
        sa.Column("latency_count", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        sa.Column("latency_max_ms", sa.Float(), nullable=False),
        *(sa.Column(f"lb_{i:02d}", sa.Integer(), nullable=False) for i in range(_LATENCY_BUCKETS)),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "resolution", "bucket", "source", name="pk_rollups"),
    )
    op.create_index("ix_rollups_resolution_bucket", "rollups", ["resolution", "bucket"])


def downgrade() -> None:
    for table in ("rollups", "incidents", "status_changes", "observations"):
        op.drop_table(table)
