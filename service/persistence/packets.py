"""Hiring-committee packets (rendered PDFs) and the hiring manager's decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from service.persistence.applications import Application
from service.persistence.base import Base, utcnow
from service.persistence.users import User

PACKET_STATUSES = ("queued", "rendering", "ready", "failed")
DECISION_OUTCOMES = ("hire", "no_hire")


class Packet(Base):
    __tablename__ = "packets"
    __table_args__ = (
        UniqueConstraint("application_id", "version"),
        # The same inputs and options are rendered once, even under concurrent requests.
        UniqueConstraint("application_id", "input_digest", "anonymized"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    version: Mapped[int]
    anonymized: Mapped[bool]
    status: Mapped[str] = mapped_column(
        Enum(
            *PACKET_STATUSES,
            name="packet_status",
            native_enum=False,
            create_constraint=True,
            length=20,
        ),
        default="queued",
    )
    input_digest: Mapped[str] = mapped_column(String(64))
    # The document's data as of the request (already anonymized when asked): the
    # job renders exactly this, so the digest always describes the PDF.
    content: Mapped[dict[str, Any]]
    storage_key: Mapped[str | None] = mapped_column(String(500))
    size_bytes: Mapped[int | None]
    page_count: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    application: Mapped[Application] = relationship()


class Decision(Base):
    """A hire / no-hire call with its rationale; the latest one per application stands."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(
        Enum(
            *DECISION_OUTCOMES,
            name="decision_outcome",
            native_enum=False,
            create_constraint=True,
            length=20,
        )
    )
    rationale: Mapped[str] = mapped_column(Text, default="")
    against_majority: Mapped[bool] = mapped_column(default=False)
    packet_id: Mapped[int | None] = mapped_column(ForeignKey("packets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    decided_by: Mapped[User] = relationship(lazy="joined")
    packet: Mapped[Packet | None] = relationship()


def packets_of(session: Session, application_id: int) -> list[Packet]:
    return list(
        session.scalars(
            select(Packet).where(Packet.application_id == application_id).order_by(Packet.version)
        )
    )


def packets_past_lease(session: Session, cutoff: datetime) -> list[Packet]:
    """Packets still queued or rendering since before `cutoff`, locked for the caller;
    rows another transaction holds are skipped (PostgreSQL; SQLite serialises writers)."""
    return list(
        session.scalars(
            select(Packet)
            .where(
                Packet.status.in_(("queued", "rendering")),
                func.coalesce(Packet.started_at, Packet.created_at) < cutoff,
            )
            .order_by(Packet.id)
            .with_for_update(of=Packet, skip_locked=True)
        )
    )
