"""the stages each application ever entered, kept on the application

The adverse-impact and pipeline reports reduce each application to the set of stages it
ever entered (its `applied` and `moved` timeline entries). Grouping the entries of
every application on each read was about a third of the report over every requisition
at 100k applications on PostgreSQL (84 ms of the query, and the join of its 99k groups);
the application now keeps the set beside its current stage, written in the same
transaction as each entry (`Application.stage`'s validator), and the reports read it.

The set is the stage keys, distinct, sorted by code point and comma-separated (as
`self_identification_counts.entered` keeps erased applicants'): stage keys, not
positions, because a stage's position or bit is not the same from one template version
to the next. This backfills it from the timeline.

Revision ID: 0021_application_entered_stages
Revises: 0020_rating_evidence_chars
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_application_entered_stages"
down_revision = "0020_rating_evidence_chars"
branch_labels = None
depends_on = None

ENTRIES = "kind IN ('applied', 'moved')"

# Sorted by code point on both: PostgreSQL's collation (and not "C") could order
# `tech_screen` and `technical` otherwise than Python's `sorted` does.
BACKFILL = {
    "postgresql": f"""
        UPDATE applications AS a SET entered_stages = e.stages
        FROM (
            SELECT application_id,
                   string_agg(DISTINCT to_stage::text COLLATE "C", ','
                              ORDER BY to_stage::text COLLATE "C")
                       AS stages
            FROM stage_changes WHERE {ENTRIES} GROUP BY application_id
        ) AS e
        WHERE e.application_id = a.id
    """,
    # SQLite's group_concat takes no ORDER BY (before 3.44); it concatenates in the
    # order of its input, here the sorted distinct stages (BINARY: by code point).
    "sqlite": f"""
        UPDATE applications SET entered_stages = coalesce((
            SELECT group_concat(to_stage, ',') FROM (
                SELECT DISTINCT to_stage FROM stage_changes
                WHERE stage_changes.application_id = applications.id AND {ENTRIES}
                ORDER BY to_stage
            )
        ), '')
    """,
}


def upgrade() -> None:
    op.add_column(
        "applications",
        sa.Column("entered_stages", sa.Text(), server_default="", nullable=False),
    )
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_column("entered_stages")
