"""Canary runs: one row per canary job (or budget skip); its cost column is the spend ledger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _ms(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Float(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "canary_runs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("channel_id", sa.String(200), nullable=False),
        _time("started_at"),
        _time("finished_at", nullable=True),
        sa.Column("final_state", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("failure_class", sa.String(64), nullable=True),
        sa.Column("job_id", sa.String(200), nullable=True),
        _ms("accept_ms"),
        _ms("queue_ms"),
        _ms("generate_ms"),
        _ms("total_ms"),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_canary_runs_channel_started", "canary_runs", ["channel_id", "started_at"])
    op.create_index("ix_canary_runs_started", "canary_runs", ["started_at"])


def downgrade() -> None:
    op.drop_table("canary_runs")
