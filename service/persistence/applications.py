"""Applications (candidate × requisition) and their stage history."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Select, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from service.domain.pipeline import (
    APPLICATION_STATUSES,
    TIMELINE_KINDS,
    ApplicationStatus,
    joined_stages,
    split_stages,
)
from service.domain.templates import InterviewTemplate
from service.persistence.base import Base, checked_enum, utcnow
from service.persistence.candidates import Candidate
from service.persistence.requisitions import Requisition
from service.persistence.templates import TemplateVersion
from service.persistence.users import User


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        # One active application per candidate and requisition.
        Index(
            "uq_applications_active_candidate_requisition",
            "candidate_id",
            "requisition_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_applications_requisition_id_stage", "requisition_id", "stage"),
        # A requisition's applications in keyset order (migration 0016).
        Index("ix_applications_requisition_id_id", "requisition_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("requisitions.id"))
    stage: Mapped[str] = mapped_column(String(100))
    # Every stage the application ever entered (its `applied` and `moved` timeline
    # entries), as `pipeline.joined_stages`: the reports count from it instead of
    # grouping the timeline on every read (migration 0021). `_entered` keeps it.
    entered_stages: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(
        checked_enum(APPLICATION_STATUSES, "application_status"),
        default=ApplicationStatus.ACTIVE.value,
        index=True,
    )
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    rejection_reason: Mapped[str | None] = mapped_column(String(50))
    rejection_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    # Optimistic concurrency: every UPDATE checks and bumps it (409 when stale).
    version: Mapped[int] = mapped_column(default=1)

    candidate: Mapped[Candidate] = relationship(lazy="joined")
    requisition: Mapped[Requisition] = relationship(lazy="joined")

    @property
    def template(self) -> InterviewTemplate:
        """The parsed interview template of the requisition applied to."""
        return self.requisition.template

    @validates("stage")
    def _entered(self, _key: str, stage: str) -> str:
        """An application is put in a stage only by entering it (applying, a move): each
        stage set is added to `entered_stages` here, in the same UPDATE (or INSERT) as
        the stage and so in the transaction of the entry written beside it, whichever
        use case sets it."""
        self.entered_stages = joined_stages([*split_stages(self.entered_stages or ""), stage])
        return stage

    __mapper_args__ = {"version_id_col": version}


class StageChange(Base):
    """One entry of an application's timeline: a stage move or a status change."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        # The stage entries alone, per application (migration 0006); the reports read
        # which stages an application entered from `entered_stages` since 0021.
        Index(
            "ix_stage_changes_entries",
            "application_id",
            "to_stage",
            sqlite_where=text("kind IN ('applied', 'moved')"),
            postgresql_where=text("kind IN ('applied', 'moved')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(checked_enum(TIMELINE_KINDS, "stage_change_kind"))
    from_stage: Mapped[str | None] = mapped_column(String(100))
    to_stage: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


@functools.cache
def application_rows() -> Select[*tuple[Any, ...]]:
    """Applications as plain rows of what a listing shows: the application's columns,
    its candidate's and requisition's reference, and its template version (`template_version`
    names the parsed template). One row per application and no ORM objects: loading
    five objects per row was most of the cost of a page (BENCHMARKS.md). Built once (a
    select is immutable: `.where` makes a new one), not on every request."""
    return (
        select(
            Application.id,
            Application.version,
            Application.candidate_id,
            Candidate.name.label("candidate_name"),
            Candidate.email.label("candidate_email"),
            Application.requisition_id,
            Requisition.title.label("requisition_title"),
            Requisition.template_version_id,
            TemplateVersion.version.label("template_version"),
            Application.stage,
            Application.status,
            Application.stage_entered_at,
            Application.rejection_reason,
            Application.rejection_note,
            Application.created_at,
            Application.updated_at,
        )
        .join(Candidate, Candidate.id == Application.candidate_id)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .join(TemplateVersion, TemplateVersion.id == Requisition.template_version_id)
    )


def timeline_of(session: Session, application_id: int) -> list[StageChange]:
    """Every stage change of the application, oldest first."""
    return list(
        session.scalars(
            select(StageChange)
            .where(StageChange.application_id == application_id)
            .order_by(StageChange.at, StageChange.id)
        )
    )
