"""users.node: the Asterisk node a lawyer's phone registers on (its bridge seats the lawyer)

Revision ID: 0004_lawyer_node
Revises: 0003_consoles_day
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_lawyer_node"
down_revision = "0003_consoles_day"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: the previous release neither reads nor writes it (rolling upgrade).
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("node")
