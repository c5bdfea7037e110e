"""Recording voluntary self-identification answers, and the admin export.

Answers never travel anywhere else: the PUT returns no body, its audit event
names the action but not the answers, and the only per-candidate read is the
admin export, which is itself audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.access import Viewer, require
from service.domain.self_identification import QUESTIONS
from service.persistence.applications import Application
from service.persistence.audit import record_event
from service.persistence.self_identification import SelfIdentification
from service.usecases.access import get_application


def record_self_identification(
    session: Session, actor: Viewer, application_id: int, answers: dict[str, str]
) -> None:
    """Store (or replace) the candidate's answers. Raises PermissionDeniedError, NotFoundError."""
    require(actor.role, "self_identification:write")
    application = get_application(session, actor, application_id)
    row = session.scalar(
        select(SelfIdentification).where(SelfIdentification.application_id == application.id)
    )
    if row is None:
        row = SelfIdentification(application_id=application.id, recorded_by_id=actor.id)
        session.add(row)
    for question in QUESTIONS:
        setattr(row, question, answers[question])
    row.recorded_by_id = actor.id
    session.flush()
    # Deliberately no before/after: the audit log is readable by recruiters.
    record_event(session, actor.id, "self_identification.recorded", "application", application.id)
    session.commit()


EXPORT_COLUMNS = ("application_id", "requisition_id", *QUESTIONS, "recorded_at")


def export_self_identification(session: Session, actor: Viewer) -> list[dict[str, Any]]:
    """Every stored answer with its application and requisition id, no names (admin only).

    Raises PermissionDeniedError. The export is an audit event.
    """
    require(actor.role, "self_identification:export")
    rows = session.execute(
        select(
            SelfIdentification.application_id,
            Application.requisition_id,
            *(getattr(SelfIdentification, q) for q in QUESTIONS),
            SelfIdentification.recorded_at,
        )
        .join(Application, Application.id == SelfIdentification.application_id)
        .order_by(SelfIdentification.application_id)
    ).all()
    record_event(
        session,
        actor.id,
        "self_identification.exported",
        "self_identification",
        0,
        after={"rows": len(rows)},
    )
    session.commit()
    return [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows]
