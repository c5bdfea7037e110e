"""one current decision per application; a change supersedes it with a reason

Until now every decision was kept and the latest one stood. Existing rows are
numbered per application (`version`), and each one that a later decision
replaced is marked superseded at the moment the later one was recorded, so
the partial unique index "one current decision per application" holds.

Revision ID: 0009_decisions_supersede
Revises: 0008_no_double_booking
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_decisions_supersede"
down_revision = "0008_no_double_booking"
branch_labels = None
depends_on = None

CURRENT = "superseded_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
    # Correlated subqueries: the same SQL on SQLite and PostgreSQL.
    op.execute(
        "UPDATE decisions SET version = (SELECT COUNT(*) FROM decisions AS d "
        "WHERE d.application_id = decisions.application_id AND d.id <= decisions.id), "
        "supersedes_id = (SELECT MAX(d.id) FROM decisions AS d "
        "WHERE d.application_id = decisions.application_id AND d.id < decisions.id)"
    )
    op.execute(
        "UPDATE decisions SET superseded_at = (SELECT d.created_at FROM decisions AS d "
        "WHERE d.supersedes_id = decisions.id)"
    )
    op.execute(
        "UPDATE decisions SET reason = CASE WHEN supersedes_id IS NULL THEN '' "
        "ELSE 'recorded before a change of decision needed a reason' END"
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.alter_column("version", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("reason", existing_type=sa.Text(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_decisions_supersedes_id_decisions"),
            "decisions",
            ["supersedes_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_decisions_supersedes_id"), ["supersedes_id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_decisions_application_id_version"), ["application_id", "version"]
        )
        batch_op.create_index(
            "uq_decisions_current_application",
            ["application_id"],
            unique=True,
            postgresql_where=sa.text(CURRENT),
            sqlite_where=sa.text(CURRENT),
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("uq_decisions_current_application")
        batch_op.drop_constraint(batch_op.f("uq_decisions_application_id_version"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_decisions_supersedes_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_decisions_supersedes_id_decisions"), type_="foreignkey"
        )
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("supersedes_id")
        batch_op.drop_column("reason")
        batch_op.drop_column("version")
