"""What erasure leaves behind: the audit events it scrubbed, and self-identification
answers kept only as counts.

The audit log is append-only (the ORM guard in `audit.py`, and database triggers
since migration 0007). Erasure is its one exception: it first lists each event it
will scrub in `audit_scrubs` (itself never changed), and the triggers let through
an UPDATE of a listed event that changes nothing but its `before`, `after` and
`reason`. So an event keeps who did what to which record and when; only the
personal values in it are replaced.

An erased person's self-identification answers leave the row linked to their
application and are added to `self_identification_counts`: per requisition, day
of application, the stage path the application took and its final status, how
many applicants gave each set of answers. The adverse-impact report adds these
counts to the linked answers, so its figures do not change with an erasure.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.domain.pipeline import joined_stages
from service.domain.self_identification import QUESTIONS
from service.persistence.applications import Application
from service.persistence.audit import AuditEvent
from service.persistence.base import Base, utcnow
from service.persistence.interviews import Interview
from service.persistence.packets import Packet
from service.persistence.scorecards import Scorecard
from service.persistence.self_identification import SelfIdentification, _answer


class AuditScrub(Base):
    """An audit event an erasure was allowed to scrub, and which erasure did."""

    __tablename__ = "audit_scrubs"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), unique=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    scrubbed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SelfIdentificationCount(Base):
    """How many erased applicants of one pattern gave one set of answers."""

    __tablename__ = "self_identification_counts"
    __table_args__ = (
        UniqueConstraint(
            "requisition_id",
            "applied_on",
            "status",
            "stage",
            "entered",
            *QUESTIONS,
            name="uq_self_identification_counts_pattern",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("requisitions.id"))
    applied_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(100))
    # The stages the applications entered, as `pipeline.joined_stages`.
    entered: Mapped[str] = mapped_column(String(2000))
    sex: Mapped[str] = mapped_column(_answer("sex"))
    race_ethnicity: Mapped[str] = mapped_column(_answer("race_ethnicity"))
    veteran_status: Mapped[str] = mapped_column(_answer("veteran_status"))
    disability_status: Mapped[str] = mapped_column(_answer("disability_status"))
    applicants: Mapped[int] = mapped_column(default=0)


def candidate_audit_events(
    session: Session, candidate_id: int, application_ids: list[int]
) -> list[AuditEvent]:
    """Every audit event about the candidate or one of their applications, interviews,
    scorecards or packets."""
    subjects = [
        ("application", select(Application.id).where(Application.id.in_(application_ids))),
        ("interview", select(Interview.id).where(Interview.application_id.in_(application_ids))),
        ("scorecard", select(Scorecard.id).where(Scorecard.application_id.in_(application_ids))),
        ("packet", select(Packet.id).where(Packet.application_id.in_(application_ids))),
    ]
    condition = or_(
        (AuditEvent.entity_type == "candidate") & (AuditEvent.entity_id == candidate_id),
        *(
            (AuditEvent.entity_type == kind) & AuditEvent.entity_id.in_(ids)
            for kind, ids in subjects
        ),
    )
    return list(session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id)))


def scrub_audit_event(
    session: Session,
    event: AuditEvent,
    candidate_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str,
) -> None:
    """Replace one event's values (the exception the triggers allow: see the module doc)."""
    session.add(AuditScrub(audit_event_id=event.id, candidate_id=candidate_id))
    session.flush()
    session.execute(
        update(AuditEvent)
        .where(AuditEvent.id == event.id)
        .values(before=before, after=after, reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.expire(event)


def count_self_identification(
    session: Session, application: Application, entered: list[str]
) -> bool:
    """Fold the application's answers into the counts and delete them; False if none."""
    answers = session.scalar(
        select(SelfIdentification).where(SelfIdentification.application_id == application.id)
    )
    if answers is None:
        return False
    key = {
        "requisition_id": application.requisition_id,
        "applied_on": application.created_at.date(),
        "status": application.status,
        "stage": application.stage,
        "entered": joined_stages(entered),
        **{question: getattr(answers, question) for question in QUESTIONS},
    }
    row = session.scalar(
        select(SelfIdentificationCount).filter_by(**key).with_for_update()
    ) or SelfIdentificationCount(**key, applicants=0)
    row.applicants += 1
    session.add(row)
    session.delete(answers)
    session.flush()
    return True
