"""Scorecards: a draft while the interviewer writes; immutable revisions once submitted."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Computed,
    Exists,
    ForeignKey,
    Row,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    exists,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import (
    Mapped,
    Session,
    aliased,
    column_property,
    joinedload,
    mapped_column,
    relationship,
)
from sqlalchemy.orm.attributes import set_committed_value

from service.domain.loops import ACTIVE_INTERVIEW_STATUSES
from service.domain.scorecards import SCORECARD_STATES, ScorecardState
from service.domain.templates import RECOMMENDATIONS
from service.persistence.applications import Application
from service.persistence.base import Base, checked_enum, persistent_from_row, utcnow
from service.persistence.interviews import Interview
from service.persistence.users import User


class Scorecard(Base):
    """One per interview. `revision` points at the current ScorecardRevision once submitted."""

    __tablename__ = "scorecards"

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(
        checked_enum(SCORECARD_STATES, "scorecard_state"),
        default=ScorecardState.DRAFT.value,
    )
    # The draft as last saved (ratings, recommendation, summary, warnings); only its author reads it.
    draft: Mapped[dict[str, Any] | None]
    submitted_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(default=False)
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    interview: Mapped[Interview] = relationship(lazy="joined")
    author: Mapped[User] = relationship(lazy="joined")
    revisions: Mapped[list[ScorecardRevision]] = relationship(
        order_by="ScorecardRevision.number", back_populates="scorecard"
    )

    @property
    def current(self) -> ScorecardRevision | None:
        return self.revisions[-1] if self.revisions else None


# The interview's scorecard state ("missing", "draft" or "submitted") as a column of
# the interview, defined here because Scorecard refers to Interview. Loaded only when
# asked for (`undefer`) and usable in filters: `Interview.scorecard_state == "missing"`.
Interview.scorecard_state = column_property(
    func.coalesce(
        select(Scorecard.state)
        .where(Scorecard.interview_id == Interview.id)
        .correlate_except(Scorecard)
        .scalar_subquery(),
        "missing",
        type_=String(20),  # not the Enum of `state`, which has no "missing"
    ),
    deferred=True,
)


def scorecard_owed(now: datetime) -> ColumnElement[bool]:
    """An interview whose scorecard is owed at `now`: it has started, it was held or is
    still scheduled (not cancelled, not a no-show), and nothing is submitted yet."""
    return and_(
        Interview.starts_at <= now,
        Interview.status.in_(ACTIVE_INTERVIEW_STATUSES),
        Interview.scorecard_state != ScorecardState.SUBMITTED.value,
    )


class ScorecardRevision(Base):
    """A submitted version of a scorecard. Never updated: an amendment adds the next one."""

    __tablename__ = "scorecard_revisions"
    __table_args__ = (UniqueConstraint("scorecard_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"), index=True)
    number: Mapped[int]
    recommendation: Mapped[str] = mapped_column(checked_enum(RECOMMENDATIONS, "recommendation"))
    summary: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    # True when its author had already read other panelists' scorecards.
    after_seeing_others: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scorecard: Mapped[Scorecard] = relationship(back_populates="revisions")
    ratings: Mapped[list[ScorecardRating]] = relationship(
        order_by="ScorecardRating.id", lazy="selectin"
    )


class ScorecardRating(Base):
    """One competency's score (1–4, or None for not assessed) with its evidence."""

    __tablename__ = "scorecard_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("scorecard_revisions.id"), index=True)
    competency: Mapped[str] = mapped_column(String(100))
    score: Mapped[int | None]
    evidence: Mapped[str] = mapped_column(Text, default="")
    # The evidence's length in characters, kept by the database itself whoever writes the
    # evidence (submission, amendment, redaction): the interviewers report reads it for
    # every rating, where length() per row was ~40 % of its ratings read (migration 0020).
    evidence_chars: Mapped[int] = mapped_column(
        Computed("length(evidence)", persisted=True), deferred=True
    )


class ScorecardView(Base):
    """When a panelist first read other panelists' scorecards for an application."""

    __tablename__ = "scorecard_views"
    __table_args__ = (UniqueConstraint("application_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


def scorecard_of_interview(
    session: Session, interview_id: int, *, for_update: bool = False
) -> Scorecard | None:
    """The interview's scorecard; `for_update` locks its row until the transaction ends
    (PostgreSQL; SQLite serialises writers anyway) and reloads it."""
    stmt = select(Scorecard).where(Scorecard.interview_id == interview_id)
    if for_update:
        stmt = stmt.with_for_update(of=Scorecard).execution_options(populate_existing=True)
    return session.scalar(stmt)


def insert_submitted(
    session: Session, interview: Interview, *, submitted_at: datetime, late: bool
) -> tuple[Scorecard, bool] | None:
    """The interview's scorecard as submitted at revision 1, in one statement: inserted, or
    its draft turned into the submission (ON CONFLICT on the unique interview_id, which
    also settles a parallel first save), with whether its author has read other
    panelists' feedback on the application (`has_seen_others`, returned by the same
    statement). None when it is already submitted.

    The row it writes stays locked until the transaction ends, so a parallel submission
    waits, then finds it submitted (None). A draft has no revisions, so the scorecard's
    collection of them starts empty, with nothing to load.
    """
    stmt = submission_upsert(session.get_bind().dialect.name)
    params = {
        "interview_id": interview.id,
        "application_id": interview.application_id,
        "author_id": interview.interviewer_id,
        "submitted_at": submitted_at,
        "late": late,
    }
    row = session.connection().execute(stmt, params).one_or_none()
    if row is None:
        return None
    values = dict(row._mapping)
    seen_others = values.pop(_SEEN_OTHERS)
    scorecard = persistent_from_row(session, Scorecard, values)
    set_committed_value(scorecard, "interview", interview)
    set_committed_value(scorecard, "revisions", [])
    return scorecard, bool(seen_others)


_SEEN_OTHERS = "seen_others"


@functools.lru_cache(maxsize=2)
def submission_upsert(dialect: str) -> Any:
    """`insert_submitted`'s statement for `dialect` (on PostgreSQL also the first part of
    `persistence.submissions.write_submission`'s), built once (parameters: the
    interview's ids, `submitted_at`, `late`): building it per request was about a sixth
    of the upsert's CPU time (BENCHMARKS.md, "Issue 18: the submission in one
    statement")."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    submitted_at = bindparam("submitted_at", type_=Scorecard.submitted_at.type, required=True)
    submitted = {
        "state": ScorecardState.SUBMITTED.value,
        "draft": None,
        "submitted_at": submitted_at,
        "late": bindparam("late", type_=Scorecard.late.type, required=True),
        "revision": 1,
        "updated_at": submitted_at,
    }
    table: Table = Scorecard.__table__  # type: ignore[assignment]
    stmt = insert(table).values(
        interview_id=bindparam("interview_id", required=True),
        application_id=bindparam("application_id", required=True),
        author_id=bindparam("author_id", required=True),
        created_at=submitted_at,
        **submitted,
    )
    return stmt.on_conflict_do_update(
        index_elements=[Scorecard.interview_id],
        set_={key: stmt.excluded[key] for key in submitted},
        where=Scorecard.state != ScorecardState.SUBMITTED.value,
    ).returning(
        *table.columns,
        _seen_others(bindparam("application_id"), bindparam("author_id")).label(_SEEN_OTHERS),
    )


def submitted_scorecards(session: Session, application_id: int) -> list[Scorecard]:
    """The application's submitted scorecards, oldest first, with every revision and rating."""
    # Joined, not selectin: one round trip for a handful of rows instead of three.
    return list(
        session.scalars(
            select(Scorecard)
            .where(
                Scorecard.application_id == application_id,
                Scorecard.state == ScorecardState.SUBMITTED,
            )
            .order_by(Scorecard.submitted_at, Scorecard.id)
            .options(joinedload(Scorecard.revisions).joinedload(ScorecardRevision.ratings))
        ).unique()
    )


def panelist_states(
    session: Session, application_id: int, user_id: int
) -> list[tuple[int, bool, bool]]:
    """Per interview of `user_id` on the application: (interview id, owes a scorecard,
    has submitted one)."""
    rows = session.execute(
        select(Interview.id, Interview.status, Scorecard.state)
        .outerjoin(Scorecard, Scorecard.interview_id == Interview.id)
        .where(Interview.application_id == application_id, Interview.interviewer_id == user_id)
    )
    return _states(rows)


# Table aliases, made once (an ORM alias per request cost more than the query): the
# visibility filter's own `interviews` must not correlate with the panelist's row.
_PANELIST_INTERVIEW = Interview.__table__.alias("panelist_interview")
_PANELIST_SCORECARD = Scorecard.__table__.alias("panelist_scorecard")


def with_panelist_states(stmt: Select[Any], user_id: int | BindParameter[int]) -> Select[Any]:
    """`stmt` (over Application) once per interview of `user_id` on the application, or
    once with nulls when there is none, with what `panelist_states_of` reads: the same
    answer as `panelist_states`, from the caller's statement."""
    mine, card = _PANELIST_INTERVIEW.c, _PANELIST_SCORECARD.c
    return (
        stmt.add_columns(
            mine.id.label("panelist_interview_id"),
            mine.status.label("panelist_interview_status"),
            card.state.label("panelist_scorecard_state"),
        )
        .outerjoin(
            _PANELIST_INTERVIEW,
            and_(mine.application_id == Application.id, mine.interviewer_id == user_id),
        )
        .outerjoin(_PANELIST_SCORECARD, card.interview_id == mine.id)
    )


def panelist_states_of(rows: Sequence[Row[Any]]) -> list[tuple[int, bool, bool]]:
    """`panelist_states` from the rows of a statement made by `with_panelist_states`."""
    return _states(
        (r.panelist_interview_id, r.panelist_interview_status, r.panelist_scorecard_state)
        for r in rows
        if r.panelist_interview_id is not None
    )


def _states(rows: Iterable[Any]) -> list[tuple[int, bool, bool]]:
    return [
        (
            interview_id,
            status in ACTIVE_INTERVIEW_STATUSES and state != ScorecardState.SUBMITTED,
            state == ScorecardState.SUBMITTED,
        )
        for interview_id, status, state in rows
    ]


def others_submitted(session: Session, application_id: int, user_id: int) -> bool:
    """Whether anyone but `user_id` has submitted feedback on the application."""
    return (
        session.scalar(
            select(Scorecard.id)
            .where(
                Scorecard.application_id == application_id,
                Scorecard.state == ScorecardState.SUBMITTED,
                Scorecard.author_id != user_id,
            )
            .limit(1)
        )
        is not None
    )


def has_seen_others(session: Session, application_id: int, user_id: int) -> bool:
    """Whether `user_id` has read other panelists' feedback on the application."""
    return bool(session.scalar(select(_seen_others(application_id, user_id))))


def _seen_others(
    application_id: int | BindParameter[int], user_id: int | BindParameter[int]
) -> Exists:
    # Aliased short: it is part of the submission's statement, which is kept under the
    # driver's 4 kB for parsed statements (`persistence.submissions`).
    views = aliased(ScorecardView, name="v")
    return exists().where(views.application_id == application_id, views.user_id == user_id)


def first_views(session: Session, application_id: int) -> dict[int, datetime]:
    """When each user first read others' scorecards on this application."""
    rows = session.scalars(
        select(ScorecardView).where(ScorecardView.application_id == application_id)
    )
    return {row.user_id: row.first_seen_at for row in rows}
