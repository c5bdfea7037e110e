"""a partial index of the stage entries (applied, moved) per application, for the reports

The adverse-impact and pipeline reports reduce each application to the stages
it ever entered; this index lets the database read just those entries, in
application order, without visiting the table (an index-only scan: about 45 ms
of 240 at 100k applications on PostgreSQL).

Revision ID: 0006_stage_change_entries_index
Revises: 0005_self_identification
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_stage_change_entries_index"
down_revision = "0005_self_identification"
branch_labels = None
depends_on = None

ENTRIES = "kind IN ('applied', 'moved')"


def upgrade() -> None:
    op.create_index(
        "ix_stage_changes_entries",
        "stage_changes",
        ["application_id", "to_stage"],
        postgresql_where=sa.text(ENTRIES),
        sqlite_where=sa.text(ENTRIES),
    )


def downgrade() -> None:
    op.drop_index("ix_stage_changes_entries", table_name="stage_changes")
