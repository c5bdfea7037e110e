"""Interviews scheduled on an application's loop."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.domain.pipeline import INTERVIEW_STATUSES
from service.persistence.applications import Application
from service.persistence.base import Base, utcnow
from service.persistence.users import User


class Interview(Base):
    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    interview_key: Mapped[str] = mapped_column(String(100))
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(
        Enum(*INTERVIEW_STATUSES, name="interview_status", native_enum=False,
             create_constraint=True, length=20),
        default="scheduled",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship()
    interviewer: Mapped[User] = relationship()
