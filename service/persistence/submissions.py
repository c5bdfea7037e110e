"""Writing a submitted scorecard's first revision, its ratings, its audit event and its
outbox event: on PostgreSQL in one statement.

Through the unit of work these rows took one flush of four INSERTs and, at the commit,
the stored assessment's invalidation: five round trips and the flush's bookkeeping,
about a third of a submission's CPU time (BENCHMARKS.md, "Issue 18: the submission
in one statement"). PostgreSQL runs data-modifying CTEs, so `write_submission` sends them
as one statement, built once, with the invalidation in it. SQLite has no
data-modifying CTEs: there the rows go through the unit of work as before, and its
notes invalidate (`persistence.assessment_read_model`).

Either way the rows are written in the caller's transaction, so they commit or roll
back with the scorecard's upsert; and the revision and its ratings end up persistent
in the session, as a flush leaves them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    true,
)
from sqlalchemy import inspect as inspect_instance
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from service.persistence.assessment_read_model import invalidation_on_postgresql
from service.persistence.audit import AuditEvent
from service.persistence.base import Base
from service.persistence.outbox import OutboxEvent
from service.persistence.scorecards import Scorecard, ScorecardRating, ScorecardRevision


def write_submission(
    session: Session,
    scorecard: Scorecard,
    revision: ScorecardRevision,
    audit: AuditEvent,
    outbox: OutboxEvent,
) -> None:
    """Write `revision` (with its `ratings`) as `scorecard`'s revisions, `audit` and
    `outbox`, in `session`'s transaction; `scorecard` is the upsert's row, persistent.
    On PostgreSQL the application's stored assessment is invalidated in the same
    statement; on SQLite the unit of work invalidates it at the commit."""
    if session.get_bind().dialect.name != "postgresql":
        revision.scorecard = scorecard
        session.add_all([revision, audit, outbox])
        session.flush()
        return
    revision.scorecard_id = scorecard.id
    ratings = revision.ratings
    params = {
        **_bound_values(revision, "revision_"),
        **_bound_values(audit, "audit_"),
        **_bound_values(outbox, "outbox_"),
        "competencies": [r.competency for r in ratings],
        "scores": [r.score for r in ratings],
        "evidences": [r.evidence for r in ratings],
        "application_id": scorecard.application_id,
    }
    rows = session.connection().execute(_STATEMENT, params).all()
    revision.id = rows[0].revision_id
    rating_ids = [row.rating_id for row in rows if row.rating_id is not None]
    assert len(rating_ids) == len(ratings), "the statement wrote every rating once"
    for rating, rating_id in zip(ratings, rating_ids, strict=True):
        rating.id, rating.revision_id = rating_id, revision.id
    _persistent(session, scorecard, revision)


def _persistent(session: Session, scorecard: Scorecard, revision: ScorecardRevision) -> None:
    """Put the rows just written in the session as a flush would have left them:
    persistent, with nothing pending, `scorecard.revisions` loaded as `[revision]`."""
    for obj in (revision, *revision.ratings):
        make_transient_to_detached(obj)  # its values are the stored row's
    session.add(revision)  # detached to persistent: nothing to write (cascades to ratings)
    set_committed_value(revision, "scorecard", scorecard)
    set_committed_value(scorecard, "revisions", [revision])


def _bound_values(obj: Base, prefix: str) -> dict[str, Any]:
    """The row's column values (but its id) as `_STATEMENT`'s parameters, a column left
    unset taking its default, as a flush would (and set on `obj`, as after a flush)."""
    state = inspect_instance(obj)
    values = {}
    table: Table = obj.__table__  # type: ignore[assignment]
    for column in _written_columns(table):
        if column.key not in state.dict:
            setattr(obj, column.key, _default(column))
        values[prefix + column.key] = getattr(obj, column.key)
    return values


def _default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def _written_columns(table: Table) -> list[Any]:
    return [c for c in table.columns if c.key != "id"]


def _row_of(table: Table, prefix: str) -> dict[str, Any]:
    return {c.key: bindparam(prefix + c.key, type_=c.type) for c in _written_columns(table)}


def _one_statement() -> Select[Any]:
    """WITH revision (its id), ratings (from the arrays, in their order), audit, outbox,
    invalidated: SELECT the revision's id beside each rating's, in the ratings' order."""
    revisions: Table = ScorecardRevision.__table__  # type: ignore[assignment]
    ratings_table: Table = ScorecardRating.__table__  # type: ignore[assignment]
    revision = (
        insert(revisions)
        .values(_row_of(revisions, "revision_"))
        .returning(revisions.c.id)
        .cte("revision")
    )
    given = (
        func.unnest(
            cast(bindparam("competencies"), ARRAY(Text)),
            cast(bindparam("scores"), ARRAY(Integer)),
            cast(bindparam("evidences"), ARRAY(Text)),
        )
        .table_valued("competency", "score", "evidence", with_ordinality="position")
        .render_derived(name="given")
    )
    ratings = (
        insert(ratings_table)
        .from_select(
            ["revision_id", "competency", "score", "evidence"],
            select(revision.c.id, given.c.competency, given.c.score, given.c.evidence)
            .select_from(revision)
            .join(given, true())
            .order_by(given.c.position),  # ids are given in this order
        )
        .returning(ratings_table.c.id)
        .cte("ratings")
    )
    audits: Table = AuditEvent.__table__  # type: ignore[assignment]
    outboxes: Table = OutboxEvent.__table__  # type: ignore[assignment]
    audit = insert(audits).values(_row_of(audits, "audit_"))
    outbox = insert(outboxes).values(_row_of(outboxes, "outbox_"))
    invalidated = invalidation_on_postgresql(bindparam("application_id"))
    return (
        select(revision.c.id.label("revision_id"), ratings.c.id.label("rating_id"))
        .select_from(revision)
        .outerjoin(ratings, true())
        .order_by(ratings.c.id)
        .add_cte(audit.cte("audit"), outbox.cte("outbox"), invalidated.cte("invalidated"))
    )


# Built once: building it is most of what it would cost per request.
_STATEMENT = _one_statement()
