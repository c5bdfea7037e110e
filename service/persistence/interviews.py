"""Interviews on an application's loop, and recorded deviations from the template's process."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.domain.loops import DEVIATION_KINDS
from service.domain.pipeline import INTERVIEW_STATUSES
from service.persistence.applications import Application
from service.persistence.base import Base, utcnow
from service.persistence.users import User


class Interview(Base):
    __tablename__ = "interviews"
    __table_args__ = (
        Index("ix_interviews_interviewer_id_starts_at", "interviewer_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    interview_key: Mapped[str] = mapped_column(String(100))
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(
        Enum(
            *INTERVIEW_STATUSES,
            name="interview_status",
            native_enum=False,
            create_constraint=True,
            length=20,
        ),
        default="scheduled",
    )
    # How long it really took, recorded on completion (the time-box is duration_minutes).
    actual_minutes: Mapped[int | None]
    status_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    application: Mapped[Application] = relationship()
    interviewer: Mapped[User] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class ProcessDeviation(Base):
    """A departure from the one process for all: who did it and why."""

    __tablename__ = "process_deviations"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    interview_id: Mapped[int | None] = mapped_column(ForeignKey("interviews.id"))
    interview_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(
        Enum(
            *DEVIATION_KINDS,
            name="deviation_kind",
            native_enum=False,
            create_constraint=True,
            length=20,
        )
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")
