"""consoles: audit of personal-data views

Revision ID: 0002_consoles
Revises: 0002_asr
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables.base

revision = "0002_consoles"
down_revision = "0002_asr"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_data_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("caller_id", sa.Integer(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["caller_id"], ["callers.id"], name=op.f("fk_personal_data_views_caller_id_callers")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_personal_data_views_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_views")),
    )
    with op.batch_alter_table("personal_data_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_data_views_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_personal_data_views_caller_id"), ["caller_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_personal_data_views_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("personal_data_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_data_views_user_id"))
        batch_op.drop_index(batch_op.f("ix_personal_data_views_caller_id"))
        batch_op.drop_index(batch_op.f("ix_personal_data_views_at"))
    op.drop_table("personal_data_views")
