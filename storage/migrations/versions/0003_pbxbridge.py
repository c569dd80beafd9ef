"""calls whose end was not seen; AHT's own denominator in the hourly rollup

Revision ID: 0003_pbxbridge
Revises: 0003_runtime
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_pbxbridge"
down_revision = "0003_runtime"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_seen", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("call_stats_hourly", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled", sa.Integer(), server_default="0", nullable=False))
    # Until now AHT divided by every answered call: the existing hours keep that meaning.
    op.execute("UPDATE call_stats_hourly SET handled = answered")


def downgrade() -> None:
    with op.batch_alter_table("call_stats_hourly", schema=None) as batch_op:
        batch_op.drop_column("handled")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("end_seen")
