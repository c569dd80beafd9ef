"""hourly KPI rollup

Revision ID: 0002_kpi_rollup
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables.base

revision = "0002_kpi_rollup"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_stats_hourly",
        sa.Column("hour", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("threshold_s", sa.Integer(), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("answered_within_t", sa.Integer(), nullable=False),
        sa.Column("abandoned_within_t", sa.Integer(), nullable=False),
        sa.Column("answered_wait_total", sa.Double(), nullable=False),
        sa.Column("handle_total", sa.Double(), nullable=False),
        sa.Column("longest_wait", sa.Double(), nullable=True),
        sa.Column("closed_hours", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "queue", name=op.f("pk_call_stats_hourly")),
    )


def downgrade() -> None:
    op.drop_table("call_stats_hourly")
