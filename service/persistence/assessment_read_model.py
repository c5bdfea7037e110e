"""The stored assessment read model: per application, the assessment's JSON as last computed.

Reading an application's assessment from its facts takes seven statements and
`assess()` (BENCHMARKS.md); the read model keeps the result, so a read that finds it
valid makes one statement: the access check's own (`with_stored_assessment`, beside
`usecases.access.open_application_feedback`). It is a cache of a pure function
of stored facts, never a source of truth: a missing, cleared or outdated row only
costs a recomputation. It never stands in for the access check either: it comes
in the check's statement, but the use case (`usecases.assessments`) looks at it only
once visibility and the blind rule have let the actor through.

Valid means all of:

- **the facts are unchanged**: `body` is not null. Every transaction that changes
  what the assessment shows (a scorecard, revision or rating, an interview, a process
  deviation) clears it and raises `generation`, at its commit, in the unit of work
  itself (`_note_changes`, `_invalidate_at_commit`): no writer can forget to, and a
  test fixture that writes through the ORM invalidates like a use case;
- **the calibration is the same**: `calibration_run_id` is the latest run's id (a new
  run changes leniencies for everyone, so it is compared on read instead of clearing
  every row);
- **the clock has not moved past a change**: `valid_until` is null or not before now.
  The only time-dependent fact is a scheduled interview's scorecard becoming overdue
  (`assessment_flags.flags_change_at`); storing that instant keeps a stored
  assessment byte-identical to one computed now.

The race (a reader computes from old facts while a writer changes them): the reader
reads `generation` before the facts and stores only where it is unchanged (`store`),
and the writer raises it in its own transaction, holding the row's lock until it
commits. So the stored body is never older than the facts a later reader would see.

One writer invalidates by itself: the submission sends its upsert, revision, ratings,
audit and outbox rows with Core in one statement on PostgreSQL
(`persistence.submissions.write_submission`), and the invalidation is part of that
statement (`invalidation_on_postgresql`); on SQLite it goes through the unit of work.

Not tracked, because no writer changes them: users' names (shown as interviewers'
and deviations' actors') and a requisition's template version. A Core UPDATE or
DELETE on a tracked table would bypass the unit of work; the one there is (a
reassignment discarding the draft) changes its interview, tracked, in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Row,
    Select,
    Text,
    event,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.util import identity_key

from service.persistence.applications import Application
from service.persistence.base import Base, transaction, upsert_into
from service.persistence.calibration import CalibrationRun
from service.persistence.interviews import Interview, ProcessDeviation
from service.persistence.scorecards import Scorecard, ScorecardRating, ScorecardRevision

# In a session's `info`: the applications whose assessment this transaction changed.
_CHANGED = "assessments_changed"
_TRACKED = (Scorecard, ScorecardRevision, ScorecardRating, Interview, ProcessDeviation)


class AssessmentReadModel(Base):
    __tablename__ = "assessment_read_models"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    # Raised by every transaction that changes the application's assessment.
    generation: Mapped[int] = mapped_column(default=0)
    # The assessment's JSON (`usecases.assessments`); null: to be computed again.
    body: Mapped[str | None] = mapped_column(Text)
    # The latest calibration run when it was computed (null: none yet).
    calibration_run_id: Mapped[int | None]
    # The last instant it holds on the clock alone (null: no time-dependent fact to come).
    valid_until: Mapped[datetime | None]


@dataclass(frozen=True)
class StoredAssessment:
    """What a reader found, and what a recomputation must store it against."""

    body: str | None  # valid now, or None
    generation: int | None  # None: no row yet
    calibration_run_id: int | None  # the latest run, read before any fact


def with_stored_assessment(stmt: Select[Any]) -> Select[Any]:
    """`stmt` (over Application) with what `stored_from` reads: the application's stored
    model (outer-joined: null before its first read or write) and the latest
    calibration run's id, so that a read finds both in its one statement."""
    latest_run = select(func.max(CalibrationRun.id)).scalar_subquery()
    return stmt.outerjoin(
        AssessmentReadModel, AssessmentReadModel.application_id == Application.id
    ).add_columns(
        AssessmentReadModel.generation.label("stored_generation"),
        AssessmentReadModel.body.label("stored_body"),
        AssessmentReadModel.calibration_run_id.label("stored_calibration_run_id"),
        AssessmentReadModel.valid_until.label("stored_valid_until"),
        latest_run.label("latest_calibration_run_id"),
    )


def stored_from(row: Row[Any], now: datetime) -> StoredAssessment:
    """The stored model in a row of `with_stored_assessment`, its body only if valid at `now`."""
    latest = row.latest_calibration_run_id
    valid = (
        row.stored_body is not None
        and row.stored_calibration_run_id == latest
        and (row.stored_valid_until is None or now <= row.stored_valid_until)
    )
    return StoredAssessment(row.stored_body if valid else None, row.stored_generation, latest)


def store(
    session: Session,
    application_id: int,
    found: StoredAssessment,
    body: str,
    valid_until: datetime | None,
) -> None:
    """Keep `body`, computed from facts read after `found`, unless a writer changed them
    since (its generation differs, or it made the row): then the next read recomputes."""
    values = {
        "body": body,
        "calibration_run_id": found.calibration_run_id,
        "valid_until": valid_until,
    }
    with transaction(session) as writer:
        if found.generation is None:
            writer.execute(
                upsert_into(writer, AssessmentReadModel)
                .values(application_id=application_id, generation=0, **values)
                .on_conflict_do_nothing(index_elements=["application_id"])
            )
        else:
            writer.execute(
                update(AssessmentReadModel)
                .where(
                    AssessmentReadModel.application_id == application_id,
                    AssessmentReadModel.generation == found.generation,
                )
                .values(**values)
            )
        writer.commit()


def invalidate(session: Session, application_ids: Iterable[int]) -> None:
    """Clear the applications' stored assessments and raise their generation, in
    `session`'s transaction: one statement, rows in id order (writers lock alike)."""
    ids = sorted(set(application_ids))
    if not ids:
        return
    stmt = upsert_into(session, AssessmentReadModel).values(
        [{"application_id": i, "generation": 1} for i in ids]
    )
    session.execute(_clearing(stmt))


def invalidation_on_postgresql(application_id: ColumnElement[int]) -> Insert:
    """`invalidate`'s statement for the application `application_id` names (a column of a
    CTE, one row or none: no row, nothing invalidated), PostgreSQL's, to send inside a
    writer's own statement: `persistence.submissions.write_submission` writes its rows
    with Core in one statement, which the unit of work's notes (`_note_changes`) do not
    see, so it invalidates in that statement itself, for the scorecard its upsert wrote."""
    stmt = postgresql.insert(AssessmentReadModel).from_select(
        ["application_id", "generation"], select(application_id, literal_column("1"))
    )
    return _clearing(stmt)


def _clearing(stmt: Insert) -> Insert:
    return stmt.on_conflict_do_update(
        index_elements=["application_id"],
        set_={"generation": AssessmentReadModel.generation + 1, "body": None},
    )


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context: Any) -> None:
    """After each flush: which applications' assessments the flushed rows change."""
    changed: set[int] = session.info.setdefault(_CHANGED, set())
    flushed = [
        obj
        for obj in chain(session.new, session.dirty, session.deleted)
        if isinstance(obj, _TRACKED) and (obj not in session.dirty or session.is_modified(obj))
    ]
    # Rows new in this flush reach the identity map only after it: look them up here.
    at_hand = {(type(obj), obj.id): obj for obj in flushed}
    for obj in flushed:
        changed.add(_application_of(session, obj, at_hand))


def _application_of(session: Session, obj: Any, at_hand: dict[tuple[type, int], Any]) -> int:
    """The application a tracked row belongs to; its parents are at hand when it was
    just written (a rating with its revision, a revision with its scorecard)."""
    if isinstance(obj, ScorecardRating):
        obj = _loaded(session, ScorecardRevision, obj.revision_id, at_hand)
    if isinstance(obj, ScorecardRevision):
        obj = _loaded(session, Scorecard, obj.scorecard_id, at_hand)
    application_id: int = obj.application_id
    return application_id


def _loaded(
    session: Session, model: type[Any], id_: int, at_hand: dict[tuple[type, int], Any]
) -> Any:
    """The row from this flush or the identity map, without a query, when it is there."""
    return (
        at_hand.get((model, id_))
        or session.identity_map.get(identity_key(model, id_))
        or session.get(model, id_)
    )


@event.listens_for(Session, "before_commit")
def _invalidate_at_commit(session: Session) -> None:
    """Before the commit (not a savepoint's release: once per transaction): flush, then
    invalidate what the transaction changed. Last, so the row lock it takes is held only
    while committing (no lock-order deadlock)."""
    if session.in_nested_transaction():
        return
    session.flush()
    invalidate(session, session.info.pop(_CHANGED, ()))


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction: Any) -> None:
    """A rolled-back transaction changed nothing (a savepoint's notes may be kept: an
    extra invalidation is harmless, a missed one is not)."""
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED, None)
