"""Queries over an application's loop: its interviews with their scorecard state, its deviations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from service.domain.loops import InterviewFact
from service.persistence.interviews import Interview, ProcessDeviation
from service.persistence.scorecards import Scorecard


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


def deviations_of(session: Session, application_id: int) -> list[ProcessDeviation]:
    return list(
        session.scalars(
            select(ProcessDeviation)
            .where(ProcessDeviation.application_id == application_id)
            .order_by(ProcessDeviation.at, ProcessDeviation.id)
        )
    )
