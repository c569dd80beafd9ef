"""duty rosters

Revision ID: 0002_roster
Revises: 0002_kpi_rollup
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables.base

revision = "0002_roster"
down_revision = "0002_kpi_rollup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("ends_next_day", sa.Boolean(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("penalty", sa.Integer(), nullable=True),
        sa.Column("source_file", sa.String(length=200), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("imported_at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_duty_shifts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
        sa.UniqueConstraint("user_id", "day", "starts_at", name="uq_duty_shifts_user_day_start"),
    )
    with op.batch_alter_table("duty_shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_shifts_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_shifts_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("duty_shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_shifts_user_id"))
        batch_op.drop_index(batch_op.f("ix_duty_shifts_day"))

    op.drop_table("duty_shifts")
