"""router: people's category decisions (training data) and trained topic models

Revision ID: 0003_router
Revises: 0002_consoles
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables.base

revision = "0003_router"
down_revision = "0002_consoles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("subcategory", sa.String(length=32), nullable=True),
        sa.Column("suggested", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_routing_labels_ticket_id_tickets"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_routing_labels_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_labels")),
    )
    with op.batch_alter_table("routing_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_labels_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_routing_labels_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_routing_labels_user_id"), ["user_id"], unique=False)
    op.create_table(
        "routing_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("activated_at", storage.tables.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["routing_models.id"], name=op.f("fk_routing_models_previous_id_routing_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_models")),
        sa.UniqueConstraint("version", name=op.f("uq_routing_models_version")),
    )
    with op.batch_alter_table("routing_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_models_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("routing_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_models_status"))
    op.drop_table("routing_models")
    with op.batch_alter_table("routing_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_labels_user_id"))
        batch_op.drop_index(batch_op.f("ix_routing_labels_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_routing_labels_at"))
    op.drop_table("routing_labels")
