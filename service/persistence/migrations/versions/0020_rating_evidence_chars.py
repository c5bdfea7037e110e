"""the evidence length of each rating, as a stored generated column

The interviewers report needs the length of every scored rating's evidence (its
median per interviewer). Computing `length(evidence)` for each of ~110k ratings was
about 40 % of the report's ratings read at 100k applications on PostgreSQL; the
database now keeps the length beside the text (GENERATED ALWAYS AS ... STORED), so
every writer of evidence (submission, amendment, redaction on erasure) keeps it
right without a change of its own.

SQLite adds only virtual generated columns with ALTER TABLE: there the table is
rebuilt (batch mode) to add a stored one, as the model declares it.

Revision ID: 0020_rating_evidence_chars
Revises: 0019_erased_candidates_index
Create Date: 2026-12-02
"""

from typing import Literal

import sqlalchemy as sa
from alembic import op

revision = "0020_rating_evidence_chars"
down_revision = "0019_erased_candidates_index"
branch_labels = None
depends_on = None


def _rebuilt_on_sqlite() -> Literal["always", "auto"]:
    """Batch mode's `recreate`: rebuild the table on SQLite, ALTER it elsewhere."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table("scorecard_ratings", recreate=_rebuilt_on_sqlite()) as batch_op:
        batch_op.add_column(
            sa.Column(
                "evidence_chars",
                sa.Integer(),
                sa.Computed("length(evidence)", persisted=True),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("scorecard_ratings", recreate=_rebuilt_on_sqlite()) as batch_op:
        batch_op.drop_column("evidence_chars")
