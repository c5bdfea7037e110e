"""Interviews on an application's loop, and recorded deviations from the template's process."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, select, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from service.domain.loops import DEVIATION_KINDS
from service.domain.pipeline import INTERVIEW_STATUSES, InterviewStatus
from service.domain.templates import InterviewTemplate
from service.persistence.applications import Application
from service.persistence.base import Base, checked_enum, utcnow
from service.persistence.candidates import Candidate
from service.persistence.users import User

NO_DOUBLE_BOOKING = "ex_interviews_no_double_booking"
DEADLOCK_DETECTED = "40P01"  # PostgreSQL's SQLSTATE
# The slot as a range of UTC wall-clock times. `timestamptz + interval` is only STABLE
# (it depends on the session's time zone), so an index cannot use it; in UTC, where
# there is no daylight saving, `timestamp + interval` is IMMUTABLE and means the same.
# Ranges are half-open, so back-to-back interviews do not overlap.
INTERVIEW_SLOT = (
    "tsrange((starts_at AT TIME ZONE 'UTC'), "
    "(starts_at AT TIME ZONE 'UTC') + make_interval(mins => duration_minutes))"
)


class Interview(Base):
    __tablename__ = "interviews"
    __table_args__ = (
        Index("ix_interviews_interviewer_id_starts_at", "interviewer_id", "starts_at"),
        # No interviewer in two scheduled interviews at once, even under parallel requests
        # (PostgreSQL only; SQLite serialises writers, so the use case's check suffices).
        ExcludeConstraint(
            ("interviewer_id", "="),
            (text(INTERVIEW_SLOT), "&&"),
            name=NO_DOUBLE_BOOKING,
            using="gist",
            where=text("status = 'scheduled'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    interview_key: Mapped[str] = mapped_column(String(100))
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(
        checked_enum(INTERVIEW_STATUSES, "interview_status"),
        default=InterviewStatus.SCHEDULED.value,
    )
    # How long it really took, recorded on completion (the time-box is duration_minutes).
    actual_minutes: Mapped[int | None]
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # The iCalendar SEQUENCE of its invitation: raised by each reschedule, reassignment
    # and cancellation, so calendars replace the event they hold (same UID).
    calendar_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    application: Mapped[Application] = relationship()
    interviewer: Mapped[User] = relationship()

    if TYPE_CHECKING:
        # Column properties attached after the class is built (declared here for type
        # checkers only, so the mapper does not see them as columns): `candidate_name`
        # below, `scorecard_state` in service.persistence.scorecards.
        candidate_name: Mapped[str]
        scorecard_state: Mapped[str]

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def template(self) -> InterviewTemplate:
        """The parsed interview template of the application's requisition."""
        return self.application.template


# The candidate's name as a column of the interview, loaded only when asked for
# (`undefer`): a list of interviews shows it without a query per row.
Interview.candidate_name = column_property(
    select(Candidate.name)
    .join(Application, Application.candidate_id == Candidate.id)
    .where(Application.id == Interview.application_id)
    .correlate_except(Application, Candidate)
    .scalar_subquery(),
    deferred=True,
)


def is_double_booking(error: DBAPIError) -> bool:
    """Whether the database refused a write because the interviewer is booked then: the
    exclusion constraint's violation, or the deadlock PostgreSQL breaks while checking
    it (two transactions each writing a slot that overlaps the other's, each waiting
    for the other to end; one is made to fail, and the other is booked)."""
    diag = getattr(error.orig, "diag", None)
    if getattr(diag, "constraint_name", None) == NO_DOUBLE_BOOKING:
        return True
    context = getattr(diag, "context", None) or ""
    return (
        getattr(error.orig, "sqlstate", None) == DEADLOCK_DETECTED
        and "exclusion constraint" in context
        and f'relation "{Interview.__tablename__}"' in context
    )


class ProcessDeviation(Base):
    """A departure from the one process for all: who did it and why."""

    __tablename__ = "process_deviations"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    interview_id: Mapped[int | None] = mapped_column(ForeignKey("interviews.id"))
    interview_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(checked_enum(DEVIATION_KINDS, "deviation_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")
