"""Recording departures from the template's process (skipped, added, overran)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from service.domain.loops import InterviewFact, skipped_on_leaving
from service.domain.templates import InterviewTemplate
from service.persistence.applications import Application
from service.persistence.audit import record_event
from service.persistence.interviews import Interview, ProcessDeviation
from service.persistence.scorecards import Scorecard
from service.persistence.users import User


def record_deviation(
    session: Session,
    actor: User,
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
    actor: User,
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


def interview_facts(session: Session, application_id: int) -> list[InterviewFact]:
    """The application's interviews as plain data, with each one's scorecard state."""
    rows = session.execute(
        select(Interview, Scorecard.state)
        .outerjoin(Scorecard, Scorecard.interview_id == Interview.id)
        .where(Interview.application_id == application_id)
        .order_by(Interview.starts_at, Interview.id)
        # The names are read below: one join instead of a query per interviewer.
        .options(joinedload(Interview.interviewer))
    ).all()
    return [
        InterviewFact(
            id=interview.id,
            interview_key=interview.interview_key,
            interviewer_id=interview.interviewer_id,
            interviewer_name=interview.interviewer.name,
            starts_at=interview.starts_at,
            duration_minutes=interview.duration_minutes,
            actual_minutes=interview.actual_minutes,
            status=interview.status,
            scorecard=state or "missing",
        )
        for interview, state in rows
    ]


def list_deviations(session: Session, application_id: int) -> list[ProcessDeviation]:
    return list(
        session.scalars(
            select(ProcessDeviation)
            .where(ProcessDeviation.application_id == application_id)
            .order_by(ProcessDeviation.at, ProcessDeviation.id)
        )
    )
