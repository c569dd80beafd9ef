"""runtime: ticket idempotency keys; outbox messages owed until their job completes

Revision ID: 0003_runtime
Revises: 0003_router
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables.base

revision = "0003_runtime"
down_revision = "0003_router"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_idempotency_keys_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ticket_idempotency_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_ticket_idempotency_keys_user_key"),
    )
    with op.batch_alter_table("ticket_idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_idempotency_keys_ticket_id"), ["ticket_id"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", storage.tables.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("redeliver_at", storage.tables.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_at", storage.tables.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_completed_at"), ["completed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_redeliver_at"), ["redeliver_at"], unique=False)
    # Messages relayed before this revision count as done: the old relay could not tell.
    op.execute("UPDATE outbox SET completed_at = dispatched_at WHERE dispatched_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_redeliver_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_completed_at"))
        batch_op.drop_column("failed_at")
        batch_op.drop_column("redeliver_at")
        batch_op.drop_column("completed_at")
    with op.batch_alter_table("ticket_idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_idempotency_keys_ticket_id"))
    op.drop_table("ticket_idempotency_keys")
