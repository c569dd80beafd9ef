"""multinode: calls.node (a call is identified by node + Linkedid), periodic_runs

Revision ID: 0003_multinode
Revises: 0003_pbxbridge
Create Date: 2026-12-04

Upgrade order (README, operating): the bridges' ON CONFLICT moves from (linkedid) to (node,
linkedid), so stop each node's bridge, migrate, start the new bridge (its resync adopts what
happened meanwhile). API workers and workers of the previous release work with either schema.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.tables.base

revision = "0003_multinode"
down_revision = "0003_pbxbridge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node", sa.String(length=40), server_default="default", nullable=False))
        batch_op.drop_constraint(batch_op.f("uq_calls_linkedid"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_calls_node"), ["node", "linkedid"])
        batch_op.create_index(batch_op.f("ix_calls_linkedid"), ["linkedid"], unique=False)
    op.create_table(
        "periodic_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("scheduled_by", sa.String(length=128), nullable=False),
        sa.Column("started_at", storage.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.tables.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("job", "slot", name=op.f("pk_periodic_runs")),
    )


def downgrade() -> None:
    op.drop_table("periodic_runs")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_linkedid"))
        batch_op.drop_constraint(batch_op.f("uq_calls_node"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_calls_linkedid"), ["linkedid"])
        batch_op.drop_column("node")
