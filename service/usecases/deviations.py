"""Recording departures from the template's process (skipped, added, overran)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.domain.access import Viewer
from service.domain.loops import skipped_on_leaving
from service.domain.templates import InterviewTemplate
from service.persistence.applications import Application
from service.persistence.audit import record_event
from service.persistence.interviews import ProcessDeviation
from service.persistence.loops import interview_facts


def record_deviation(
    session: Session,
    actor: Viewer,
    application_id: int,
    kind: str,
    interview_key: str,
    reason: str,
    interview_id: int | None = None,
) -> None:
    deviation = ProcessDeviation(
        application_id=application_id,
        interview_id=interview_id,
        interview_key=interview_key,
        kind=kind,
        actor_id=actor.id,
        reason=reason,
    )
    session.add(deviation)
    session.flush()
    record_event(
        session,
        actor.id,
        f"deviation.{kind}",
        "application",
        application_id,
        after={
            "interview_key": interview_key,
            "interview_id": interview_id,
            "deviation_id": deviation.id,
        },
        reason=reason,
    )


def record_skipped_interviews(
    session: Session,
    actor: Viewer,
    application: Application,
    template: InterviewTemplate,
    left_stage: str,
    to_stage: str,
    reason: str,
) -> None:
    """A forward move past a stage whose planned interviews did not all happen skips them."""
    order = [s.key for s in template.stages]
    if order.index(to_stage) <= order.index(left_stage):
        return
    for key in skipped_on_leaving(template, left_stage, interview_facts(session, application.id)):
        record_deviation(session, actor, application.id, "skipped", key, reason)
