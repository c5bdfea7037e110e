"""Hiring-committee packets (rendered PDFs) and the hiring manager's decisions."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Label,
    Select,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column, relationship

from service.domain.packet import DECISION_OUTCOMES, PACKET_STATUSES, PacketStatus
from service.domain.pipeline import ApplicationStatus
from service.persistence.applications import Application, application_rows
from service.persistence.base import Base, checked_enum, utcnow
from service.persistence.scorecards import Scorecard, ScorecardRevision
from service.persistence.users import User


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
        checked_enum(PACKET_STATUSES, "packet_status"),
        default=PacketStatus.QUEUED.value,
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
    # None: made ahead in the background, before anyone asked (`prepare_packets`).
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # A tombstone once the candidate was erased: no content, no file.
    erased_at: Mapped[datetime | None]

    application: Mapped[Application] = relationship()


class Decision(Base):
    """A hire / no-hire call with its rationale, on a packet.

    One is current per application (`superseded_at` is null); changing the call
    adds a new decision that supersedes the current one, with a `reason`, so
    every call ever made stays on record. `version` counts the application's
    decisions (1, 2, ...) and is the ETag clients send back in `If-Match`.
    """

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("application_id", "version"),
        # One current decision per application, even under concurrent requests
        # (a second insert fails here and is answered 409).
        Index(
            "uq_decisions_current_application",
            "application_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    version: Mapped[int]
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(checked_enum(DECISION_OUTCOMES, "decision_outcome"))
    rationale: Mapped[str] = mapped_column(Text, default="")
    # Why the previous decision was changed; empty on an application's first decision.
    reason: Mapped[str] = mapped_column(Text, default="")
    against_majority: Mapped[bool] = mapped_column(default=False)
    packet_id: Mapped[int | None] = mapped_column(ForeignKey("packets.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), unique=True)
    superseded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    decided_by: Mapped[User] = relationship(lazy="joined")
    packet: Mapped[Packet | None] = relationship()
    supersedes: Mapped[Decision | None] = relationship(
        remote_side=[id], back_populates="superseded_by"
    )
    superseded_by: Mapped[Decision | None] = relationship(back_populates="supersedes")


@dataclass(frozen=True)
class RevisionAfterDecision:
    """A scorecard revision submitted after a decision was made (an amendment, or a
    first submission the decision could not have read)."""

    scorecard_id: int
    interview_id: int
    interviewer_name: str
    revision: int
    amended_at: datetime


def _outcome_ids(
    application_id: ColumnElement[int] | InstrumentedAttribute[int] | int,
) -> tuple[Label[int], Label[int]]:
    """The ids of the application's current decision and latest packet (null when none),
    as scalar subqueries: `Application.id` correlates them to a select over applications."""
    decision_id = (
        select(Decision.id)
        .where(Decision.application_id == application_id, Decision.superseded_at.is_(None))
        .scalar_subquery()
    )
    packet_id = (
        select(Packet.id)
        .where(Packet.application_id == application_id)
        .order_by(Packet.version.desc())
        .limit(1)
        .scalar_subquery()
    )
    return decision_id.label("decision_id"), packet_id.label("packet_id")


@functools.cache
def application_rows_with_outcome() -> Select[*tuple[Any, ...]]:
    """`application_rows` with each row's `decision_id` and `packet_id` (`_outcome_ids`):
    reading one application then finds its outcome in the same round trip."""
    return application_rows().add_columns(*_outcome_ids(Application.id))


def outcome_of(session: Session, application_id: int) -> tuple[Decision | None, Packet | None]:
    """The current decision and the latest packet, found in one round trip (most
    applications have neither); each present one is then loaded by its key."""
    found = session.execute(select(*_outcome_ids(application_id))).one()
    return load_outcome(session, found.decision_id, found.packet_id)


def load_outcome(
    session: Session, decision_id: int | None, packet_id: int | None
) -> tuple[Decision | None, Packet | None]:
    """The decision and the packet of these ids (from `_outcome_ids`), None for a null id."""
    return (
        session.get(Decision, decision_id) if decision_id is not None else None,
        session.get(Packet, packet_id) if packet_id is not None else None,
    )


def current_decision(session: Session, application_id: int) -> Decision | None:
    return session.scalar(
        select(Decision).where(
            Decision.application_id == application_id, Decision.superseded_at.is_(None)
        )
    )


def decisions_of(session: Session, application_id: int) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.application_id == application_id)
            .order_by(Decision.version)
        )
    )


def packet_with_digest(
    session: Session, application_id: int, digest: str, anonymized: bool
) -> Packet | None:
    return session.scalar(
        select(Packet).where(
            Packet.application_id == application_id,
            Packet.input_digest == digest,
            Packet.anonymized == anonymized,
        )
    )


def revisions_after(session: Session, decision: Decision) -> list[RevisionAfterDecision]:
    """Scorecard revisions of the decision's application created after it was made
    (and, for a superseded decision, before it was superseded), oldest first."""
    stmt = (
        select(
            Scorecard.id,
            Scorecard.interview_id,
            User.name,
            ScorecardRevision.number,
            ScorecardRevision.created_at,
        )
        .join(Scorecard, ScorecardRevision.scorecard_id == Scorecard.id)
        .join(User, Scorecard.author_id == User.id)
        .where(
            Scorecard.application_id == decision.application_id,
            ScorecardRevision.created_at > decision.created_at,
        )
        .order_by(ScorecardRevision.created_at, ScorecardRevision.id)
    )
    if decision.superseded_at is not None:
        stmt = stmt.where(ScorecardRevision.created_at < decision.superseded_at)
    return [RevisionAfterDecision(*row) for row in session.execute(stmt)]


@dataclass(frozen=True)
class DecisionRecord:
    """A decision with the scorecard revisions submitted after it was made."""

    decision: Decision
    changed_after_decision: list[RevisionAfterDecision]


def decision_records(session: Session, application_id: int) -> list[DecisionRecord]:
    """Every decision of the application, oldest first, each with what changed after it."""
    return [
        DecisionRecord(d, revisions_after(session, d))
        for d in decisions_of(session, application_id)
    ]


def applications_awaiting_decision(session: Session) -> list[int]:
    """Ids of the active applications with a packet and no current decision: the ones a
    hiring manager is still to decide on."""
    decided = select(Decision.id).where(
        Decision.application_id == Application.id, Decision.superseded_at.is_(None)
    )
    return list(
        session.scalars(
            select(Application.id)
            .where(Application.status == ApplicationStatus.ACTIVE)
            .where(select(Packet.id).where(Packet.application_id == Application.id).exists())
            .where(~decided.exists())
            .order_by(Application.id)
        )
    )


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
                Packet.status.in_((PacketStatus.QUEUED, PacketStatus.RENDERING)),
                func.coalesce(Packet.started_at, Packet.created_at) < cutoff,
            )
            .order_by(Packet.id)
            .with_for_update(of=Packet, skip_locked=True)
        )
    )


def packet_counts_by_status(session: Session) -> dict[str, int]:
    """How many packets are in each state (every state listed, zero included)."""
    counts = dict.fromkeys(PACKET_STATUSES, 0)
    rows = session.execute(select(Packet.status, func.count()).group_by(Packet.status))
    counts.update({status: count for status, count in rows})
    return counts
