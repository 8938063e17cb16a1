"""Alerts: the delivery outbox, the alerts' cursor into the change log, maintenance windows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("seq", _ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("notifier", sa.String(200), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        _time("created_at"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _time("delivered_at", nullable=True),
        # A restart re-derives the same alerts: the second copy must not be sent again.
        sa.UniqueConstraint("alert_id", "notifier", name="uq_alert_outbox_alert_notifier"),
    )
    op.create_index("ix_alert_outbox_state_seq", "alert_outbox", ["state", "seq"])
    op.create_table(
        "alert_state",
        # Always the single row 1: where the alerts stopped reading the change log.
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("cursor", _ID, nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
    )
    op.create_table(
        "maintenance_windows",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        _time("start"),
        _time("end"),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("every_s", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        _time("ended_at", nullable=True),
    )


def downgrade() -> None:
    op.drop_table("maintenance_windows")
    op.drop_table("alert_state")
    op.drop_table("alert_outbox")
