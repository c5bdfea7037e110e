"""report snapshots: the organisation-wide reports of the admin's pages, stored with
when they were computed

The adverse-impact page over every requisition and the calibration page read their
report from here while it is fresh (REPORT_SNAPSHOT_MAX_AGE), instead of counting
every application on each view; see service/usecases/report_snapshots.py.

Revision ID: 0017_report_snapshots
Revises: 0016_applications_requisition_id
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_report_snapshots"
down_revision = "0016_applications_requisition_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("report_snapshots")
