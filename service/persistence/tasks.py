"""What a person owes now, one query per kind: scorecards to write, decisions to make.

(Applications past their stage's target are `reports.overdue_applications`.) Each
function returns how many there are and the first `limit` rows, oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, not_, or_, select
from sqlalchemy.orm import Session, aliased

from service.domain.loops import ACTIVE_INTERVIEW_STATUSES
from service.persistence.applications import Application
from service.persistence.candidates import Candidate
from service.persistence.interviews import Interview
from service.persistence.packets import Decision
from service.persistence.reports import StageMap, by_stage
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard, scorecard_owed


def owed_scorecards(
    session: Session, interviewer_id: int, now: datetime, limit: int
) -> tuple[int, list[Any]]:
    """The interviewer's interviews that have started, were not cancelled or missed by
    the candidate, and have no submitted scorecard: earliest first."""
    condition = and_(Interview.interviewer_id == interviewer_id, scorecard_owed(now))
    stmt = (
        select(
            Interview.id,
            Interview.application_id,
            Interview.interview_key,
            Interview.starts_at,
            Interview.duration_minutes,
            Interview.scorecard_state,
            Application.requisition_id,
            Requisition.title,
            Requisition.template_version_id,
            Application.candidate_id,
            Candidate.name.label("candidate_name"),
        )
        .join(Application, Application.id == Interview.application_id)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .where(condition)
    )
    return _count(session, stmt), list(
        session.execute(stmt.order_by(Interview.starts_at, Interview.id).limit(limit)).all()
    )


def awaiting_decision(
    session: Session,
    manager_id: int,
    final_stages: StageMap,
    planned_interviews: Mapping[int, int],
    limit: int,
) -> tuple[int, list[Any]]:
    """Active applications of the manager's requisitions without a current decision that
    are in their template's final stage (`final_stages`: (version, stage) -> 1) or whose
    loop is complete: every planned interview (`planned_interviews`: version -> how many)
    held and its scorecard submitted, and nobody owing one. Applications where the
    manager owes a scorecard are left out: they cannot decide before giving their own."""
    owed = aliased(Interview)
    owes = exists().where(
        owed.application_id == Application.id,
        owed.status.in_(ACTIVE_INTERVIEW_STATUSES),
        owed.scorecard_state != "submitted",
    )
    held = (
        select(func.count(func.distinct(Interview.interview_key)))
        .join(Scorecard, Scorecard.interview_id == Interview.id)
        .where(
            Interview.application_id == Application.id,
            Interview.status == "completed",
            Scorecard.state == "submitted",
        )
        .correlate(Application)
        .scalar_subquery()
    )
    planned = (
        case(
            *((Requisition.template_version_id == tv, n) for tv, n in planned_interviews.items()),
            else_=-1,
        )
        if planned_interviews
        else literal(-1)
    )
    in_final = by_stage(Requisition.template_version_id, Application.stage, final_stages, 0) == 1
    loop_complete = and_(planned > 0, held >= planned, not_(owes))
    stmt = (
        select(
            Application.id,
            Application.requisition_id,
            Application.stage,
            Application.stage_entered_at,
            Requisition.title,
            Requisition.template_version_id,
            Application.candidate_id,
            Candidate.name.label("candidate_name"),
            in_final.label("in_final_stage"),
        )
        .join(Requisition, Requisition.id == Application.requisition_id)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .where(
            Requisition.hiring_manager_id == manager_id,
            Application.status == "active",
            ~exists().where(
                Decision.application_id == Application.id, Decision.superseded_at.is_(None)
            ),
            ~exists().where(
                owed.application_id == Application.id,
                owed.interviewer_id == manager_id,
                owed.status.in_(ACTIVE_INTERVIEW_STATUSES),
                owed.scorecard_state != "submitted",
            ),
            or_(in_final, loop_complete),
        )
    )
    return _count(session, stmt), list(
        session.execute(
            stmt.order_by(Application.stage_entered_at, Application.id).limit(limit)
        ).all()
    )


def candidate_names(session: Session, application_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Per application: (candidate id, candidate name), in one query."""
    rows = session.execute(
        select(Application.id, Candidate.id, Candidate.name)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .where(Application.id.in_(application_ids))
    )
    return {application_id: (cid, name) for application_id, cid, name in rows}


def _count(session: Session, stmt: Select[*tuple[Any, ...]]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
