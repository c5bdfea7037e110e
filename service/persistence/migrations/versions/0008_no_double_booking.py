"""no interviewer in two scheduled interviews at once, enforced by PostgreSQL

The use case checks for an overlapping interview before it books, but two
parallel requests both pass that check before either commits. On PostgreSQL an
exclusion constraint now refuses the second: no two *scheduled* interviews of
one interviewer whose slots overlap (`interviewer_id WITH =`, slot `WITH &&`,
GiST; `btree_gist` supplies `=` on integers).

The slot is an expression, not a stored column. `starts_at` is `timestamptz`
(UTCDateTime is `DateTime(timezone=True)`), and `timestamptz + interval` is only
STABLE, which an index refuses. Taken as UTC wall-clock time
(`starts_at AT TIME ZONE 'UTC'`, IMMUTABLE), `timestamp + make_interval(...)` is
IMMUTABLE and, UTC having no daylight saving, exactly the same instant range.
A stored `ends_at` column would give the same constraint at the cost of a
second copy of the duration that every write must keep in step. The range is
half-open, `[starts, ends)`, so back-to-back interviews are allowed, as before.

SQLite has no such constraint; it serialises writers (BEGIN IMMEDIATE), so the
use case's check is enough there. Double bookings made before this revision
stop the upgrade with their interview ids: reschedule or cancel one of each
pair, then upgrade again.

Revision ID: 0008_no_double_booking
Revises: 0007_audit_append_only
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_no_double_booking"
down_revision = "0007_audit_append_only"
branch_labels = None
depends_on = None

NAME = "ex_interviews_no_double_booking"


def slot(table: str = "") -> str:
    """An interview's slot as a range of UTC wall-clock times (of `table`, if given)."""
    prefix = f"{table}." if table else ""
    starts = f"({prefix}starts_at AT TIME ZONE 'UTC')"
    return f"tsrange({starts}, {starts} + make_interval(mins => {prefix}duration_minutes))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    clashes = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT a.id, b.id FROM interviews a JOIN interviews b"
                " ON b.interviewer_id = a.interviewer_id AND b.id > a.id"
                f" AND {slot('a')} && {slot('b')}"
                " WHERE a.status = 'scheduled' AND b.status = 'scheduled' ORDER BY a.id, b.id"
            )
        )
        .all()
    )
    if clashes:
        pairs = "; ".join(f"{a} and {b}" for a, b in clashes[:20])
        more = f" (and {len(clashes) - 20} more pairs)" if len(clashes) > 20 else ""
        raise RuntimeError(
            f"Interviewers are double-booked in scheduled interviews {pairs}{more}; "
            "reschedule or cancel one of each pair, then upgrade again."
        )
    # A trusted extension since PostgreSQL 13: a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    # Plain SQL: op.create_exclude_constraint takes columns, not an expression.
    op.execute(
        f"ALTER TABLE interviews ADD CONSTRAINT {NAME} EXCLUDE USING gist "
        f"(interviewer_id WITH =, {slot()} WITH &&) WHERE (status = 'scheduled')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(NAME, "interviews")
    # btree_gist stays: other objects may have come to use it, and it is harmless.
