"""consoles: ticket drafts per lawyer and call, audit of account administration

Revision ID: 0003_consoles_day
Revises: 0003_multinode
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables.base

revision = "0003_consoles_day"
down_revision = "0003_multinode"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ticket_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_drafts")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_ticket_drafts_user_id")),
    )
    with op.batch_alter_table("ticket_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_drafts_user_id"), ["user_id"], unique=False)
    op.create_table(
        "account_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_account_audit_actor_id_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_account_audit_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_audit")),
    )
    with op.batch_alter_table("account_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_audit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_audit_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_audit_user_id"))
        batch_op.drop_index(batch_op.f("ix_account_audit_at"))
    op.drop_table("account_audit")
    with op.batch_alter_table("ticket_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_drafts_user_id"))
    op.drop_table("ticket_drafts")
