"""Requisitions: an open role, its hiring manager and its pinned template version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.domain.pipeline import REQUISITION_STATUSES, RequisitionStatus
from service.domain.templates import InterviewTemplate
from service.persistence.base import Base, checked_enum, utcnow
from service.persistence.templates import TemplateVersion
from service.persistence.users import User


class Requisition(Base):
    __tablename__ = "requisitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    hiring_manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The recruiter who runs the requisition's pipeline day to day; none until assigned.
    recruiter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    status: Mapped[str] = mapped_column(
        checked_enum(REQUISITION_STATUSES, "requisition_status"),
        default=RequisitionStatus.OPEN.value,
    )
    headcount: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    hiring_manager: Mapped[User] = relationship(lazy="joined", foreign_keys=[hiring_manager_id])
    recruiter: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[recruiter_id])
    template_version: Mapped[TemplateVersion] = relationship(lazy="joined")

    @property
    def template(self) -> InterviewTemplate:
        """The parsed interview template this requisition is pinned to."""
        return self.template_version.template()
