"""packets made ahead of a request have no requester

A packet is now also made in the background when an application's loop completes
(and again when its inputs change), before anyone asks: `requested_by_id` is
null for those.

Revision ID: 0013_packet_v2
Revises: 0012_calibration_v2
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_packet_v2"
down_revision = "0012_calibration_v2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("packets", schema=None) as batch_op:
        batch_op.alter_column("requested_by_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # A packet made ahead has no requester to restore; it is made again on request.
    op.execute("DELETE FROM packets WHERE requested_by_id IS NULL")
    with op.batch_alter_table("packets", schema=None) as batch_op:
        batch_op.alter_column("requested_by_id", existing_type=sa.Integer(), nullable=False)
