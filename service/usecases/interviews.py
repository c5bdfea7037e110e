"""Interview loops: schedule, reschedule or reassign, cancel, complete, no-show; the loop and the kit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, not_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload, undefer

from service.domain.access import HIRING_MANAGER, INTERVIEWER, Viewer, require
from service.domain.errors import (
    ConflictError,
    PermissionDeniedError,
    RuleViolationError,
)
from service.domain.loops import ACTIVE_INTERVIEW_STATUSES, PlannedInterview, plan_loop
from service.domain.scorecards import EVIDENCE_GUIDANCE
from service.domain.templates import MAX_INTERVIEW_MINUTES, InterviewTemplate
from service.domain.templates import Interview as TemplateInterview
from service.persistence.applications import Application
from service.persistence.audit import record_event
from service.persistence.base import snapshot, utcnow
from service.persistence.interviews import Interview, ProcessDeviation, is_double_booking
from service.persistence.loops import deviations_of, interview_facts
from service.persistence.paging import Page, paginate
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard, scorecard_of_interview, scorecard_owed
from service.persistence.templates import TemplateVersion
from service.persistence.users import User
from service.persistence.visibility import visible_applications
from service.usecases.access import get_application, get_interview
from service.usecases.deviations import record_deviation
from service.usecases.outbox import emit_event

MAY_INTERVIEW = (INTERVIEWER, HIRING_MANAGER)


def schedule_interview(
    session: Session,
    actor: Viewer,
    application_id: int,
    *,
    interview_key: str,
    interviewer_id: int,
    starts_at: datetime,
    reason: str = "",
) -> Interview:
    """Put one of the template's interviews on the loop; its duration is the template's time-box.

    Raises PermissionDeniedError, NotFoundError, ConflictError (application not
    active, interviewer double-booked), RuleViolationError (unknown interview,
    unfit interviewer, a second one of the same interview without a reason).
    """
    require(actor.role, "applications:write")
    application = get_application(session, actor, application_id)
    if application.status != "active":
        raise ConflictError(
            f"Interviews are scheduled for active applications; this one is {application.status}."
        )
    planned = _planned_interview(application, interview_key)
    _check_interviewer(session, interviewer_id)
    _refuse_double_booking(session, interviewer_id, starts_at, planned.duration_minutes)
    already = session.scalar(
        select(Interview.id).where(
            Interview.application_id == application.id,
            Interview.interview_key == interview_key,
            Interview.status.in_(ACTIVE_INTERVIEW_STATUSES),
        )
    )
    if already is not None and not reason.strip():
        raise RuleViolationError(
            f"'{interview_key}' is already on this loop (interview {already}). Every candidate "
            "gets the same process: give a reason to add it a second time.",
            errors={"reason": "required when adding an interview the loop already has"},
            existing_interview_id=already,
        )
    interview = Interview(
        application_id=application.id,
        interview_key=interview_key,
        interviewer_id=interviewer_id,
        starts_at=starts_at,
        duration_minutes=planned.duration_minutes,
    )
    with _booking(session, interviewer_id, starts_at, planned.duration_minutes):
        session.add(interview)
    if already is not None:
        record_deviation(
            session, actor, application.id, "added", interview_key, reason, interview.id
        )
    record_event(
        session,
        actor.id,
        "interview.scheduled",
        "interview",
        interview.id,
        after=snapshot(interview),
        reason=reason,
    )
    emit_event(session, "interview.scheduled", _event_data(interview))
    session.commit()
    return interview


def _planned_interview(application: Application, interview_key: str) -> TemplateInterview:
    """The interview of the application's template named `interview_key`.
    Raises RuleViolationError naming the template's interviews."""
    template = application.requisition.template_version.template()
    planned = template.interview(interview_key)
    if planned is None:
        known = ", ".join(i.key for i in template.interviews)
        raise RuleViolationError(
            f"'{interview_key}' is not an interview of this requisition's template.",
            errors={"interview_key": f"unknown interview; the template has: {known}"},
        )
    return planned


def check_booking(
    session: Session,
    actor: Viewer,
    application_id: int,
    *,
    interview_key: str,
    interviewer_id: int,
    starts_at: datetime,
    interview_id: int | None = None,
) -> dict[str, Any]:
    """Would scheduling (or, with `interview_id`, moving that interview) double-book the
    interviewer? The same rule `schedule_interview` and `update_interview` apply, asked
    before saving; with the interviewer's other scheduled interviews that day.

    Raises PermissionDeniedError, NotFoundError, RuleViolationError (unknown interview,
    unfit interviewer)."""
    require(actor.role, "applications:write")
    application = get_application(session, actor, application_id)
    planned = _planned_interview(application, interview_key)
    _check_interviewer(session, interviewer_id)
    conflict: ConflictError | None = None
    try:
        _refuse_double_booking(
            session, interviewer_id, starts_at, planned.duration_minutes, ignore_id=interview_id
        )
    except ConflictError as error:
        conflict = error
    day_start = starts_at.replace(hour=0, minute=0, second=0, microsecond=0)
    same_day = session.scalars(
        select(Interview)
        .where(
            Interview.interviewer_id == interviewer_id,
            Interview.status == "scheduled",
            Interview.starts_at >= day_start - timedelta(minutes=MAX_INTERVIEW_MINUTES),
            Interview.starts_at < day_start + timedelta(days=1),
            Interview.id != (interview_id or 0),
        )
        .order_by(Interview.starts_at, Interview.id)
    )
    return {
        "free": conflict is None,
        "detail": conflict.detail if conflict else None,
        "conflicting_interview_id": conflict.extra.get("conflicting_interview_id")
        if conflict
        else None,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=planned.duration_minutes),
        "same_day": [i for i in same_day if i.ends_at > day_start],
    }


def list_interviews(
    session: Session,
    actor: Viewer,
    *,
    application_id: int | None = None,
    interviewer_id: int | None = None,
    status: str | None = None,
    scorecard_state: str | None = None,
    pending: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Interviews you may see, each with its candidate's name and scorecard state; an
    interviewer sees only their own slots. `pending`: started, not cancelled or a no-show,
    and without a submitted scorecard."""
    require(actor.role, "applications:read")
    stmt = (
        select(Interview)
        .where(Interview.application_id.in_(visible_applications(select(Application.id), actor)))
        .options(
            joinedload(Interview.interviewer),
            undefer(Interview.candidate_name),
            undefer(Interview.scorecard_state),
        )
    )
    if actor.role == INTERVIEWER:
        stmt = stmt.where(Interview.interviewer_id == actor.id)
    if application_id is not None:
        stmt = stmt.where(Interview.application_id == application_id)
    if interviewer_id is not None:
        stmt = stmt.where(Interview.interviewer_id == interviewer_id)
    if status:
        stmt = stmt.where(Interview.status == status)
    if scorecard_state:
        stmt = stmt.where(Interview.scorecard_state == scorecard_state)
    if pending is not None:
        owed = scorecard_owed(utcnow())
        stmt = stmt.where(owed if pending else not_(owed))
    return paginate(session, stmt, Interview.id, cursor, limit)


def update_interview(
    session: Session, actor: Viewer, interview_id: int, changes: dict[str, Any]
) -> Interview:
    """Reschedule (`starts_at`) or reassign (`interviewer_id`) a scheduled interview.

    A draft left by the previous interviewer is discarded (and audited); once a
    scorecard is submitted the interview cannot be reassigned.
    """
    require(actor.role, "applications:write")
    interview = _scheduled(session, actor, interview_id, "change")
    before = snapshot(interview)
    interviewer_id = changes.get("interviewer_id", interview.interviewer_id)
    starts_at = changes.get("starts_at", interview.starts_at)
    if interviewer_id != interview.interviewer_id:
        _check_interviewer(session, interviewer_id)
        _discard_previous_draft(session, actor, interview)
    _refuse_double_booking(
        session, interviewer_id, starts_at, interview.duration_minutes, ignore_id=interview.id
    )
    with _booking(
        session, interviewer_id, starts_at, interview.duration_minutes, ignore_id=interview.id
    ):
        interview.interviewer_id = interviewer_id
        interview.starts_at = starts_at
        interview.calendar_sequence += 1
    record_event(
        session,
        actor.id,
        "interview.updated",
        "interview",
        interview.id,
        before=before,
        after=snapshot(interview),
        reason=changes.get("reason", ""),
    )
    emit_event(session, _change_type(before, interview), _event_data(interview, before))
    session.commit()
    return interview


def cancel_interview(session: Session, actor: Viewer, interview_id: int, reason: str) -> Interview:
    return _close(session, actor, interview_id, "cancelled", reason)


def mark_no_show(session: Session, actor: Viewer, interview_id: int, reason: str) -> Interview:
    return _close(session, actor, interview_id, "no_show", reason, must_have_started=True)


def complete_interview(
    session: Session, actor: Viewer, interview_id: int, actual_minutes: int | None, reason: str
) -> Interview:
    """Mark it held. Running past the time-box is recorded as a deviation."""
    interview = _close(
        session,
        actor,
        interview_id,
        "completed",
        reason,
        must_have_started=True,
        actual_minutes=actual_minutes,
        commit=False,
    )
    # `_close` sets actual_minutes when it completes an interview.
    assert interview.actual_minutes is not None
    if interview.actual_minutes > interview.duration_minutes:
        record_deviation(
            session,
            actor,
            interview.application_id,
            "overran",
            interview.interview_key,
            reason
            or f"ran {interview.actual_minutes} minutes against a "
            f"{interview.duration_minutes}-minute time-box",
            interview.id,
        )
    session.commit()
    return interview


def get_loop(session: Session, actor: Viewer, application_id: int) -> dict[str, Any]:
    """The template's plan for this application, what happened to each interview, and deviations."""
    application = get_application(session, actor, application_id)
    template = application.requisition.template_version.template()
    planned: list[PlannedInterview] = plan_loop(
        template, application.stage, interview_facts(session, application.id)
    )
    deviations: list[ProcessDeviation] = deviations_of(session, application.id)
    return {
        "application_id": application.id,
        "stage": application.stage,
        "interviews": planned,
        "deviations": deviations,
    }


def get_kit(session: Session, actor: Viewer, interview_id: int) -> dict[str, Any]:
    """What the interviewer needs for this slot, and nothing of anyone else's feedback."""
    interview = get_interview(session, actor, interview_id)
    if actor.role == INTERVIEWER and interview.interviewer_id != actor.id:
        raise PermissionDeniedError("Only the assigned interviewer may open this interview's kit.")
    template: InterviewTemplate = interview.application.requisition.template_version.template()
    planned = template.interview(interview.interview_key)
    # The key was checked against the template when the interview was scheduled.
    assert planned is not None, "the interview's key names none of its template's interviews"
    return {
        "interview_id": interview.id,
        "application_id": interview.application_id,
        "candidate_name": interview.application.candidate.name,
        "title": planned.title,
        "stage": planned.stage,
        "starts_at": interview.starts_at,
        "duration_minutes": planned.duration_minutes,
        "questions": planned.questions,
        "competencies": [template.competency(key) for key in planned.competencies],
        "evidence_guidance": EVIDENCE_GUIDANCE,
        "min_evidence_chars": template.scoring.min_evidence_chars,
        "late_feedback_hours": template.scoring.late_feedback_hours,
        "recommendation_scale": template.recommendation_scale,
    }


def _close(
    session: Session,
    actor: Viewer,
    interview_id: int,
    status: str,
    reason: str,
    *,
    must_have_started: bool = False,
    actual_minutes: int | None = None,
    commit: bool = True,
) -> Interview:
    require(actor.role, "applications:write")
    interview = _scheduled(session, actor, interview_id, status.replace("_", "-"))
    if must_have_started and utcnow() < interview.starts_at:
        raise ConflictError(
            f"Interview {interview.id} starts at {interview.starts_at.isoformat()}; "
            f"it cannot be marked {status.replace('_', '-')} before it has started."
        )
    before = snapshot(interview)
    interview.status = status
    interview.status_reason = reason
    if status == "completed":
        interview.actual_minutes = actual_minutes or interview.duration_minutes
    if status == "cancelled":
        interview.calendar_sequence += 1
        emit_event(session, "interview.cancelled", _event_data(interview))
    session.flush()
    record_event(
        session,
        actor.id,
        f"interview.{status}",
        "interview",
        interview.id,
        before=before,
        after=snapshot(interview),
        reason=reason,
    )
    if commit:
        session.commit()
    return interview


def _scheduled(session: Session, actor: Viewer, interview_id: int, verb: str) -> Interview:
    interview = get_interview(session, actor, interview_id)
    if interview.status != "scheduled":
        raise ConflictError(
            f"Interview {interview.id} is {interview.status}; only scheduled interviews can be "
            f"{'changed' if verb == 'change' else 'marked ' + verb}.",
            interview_status=interview.status,
        )
    return interview


def _check_interviewer(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is None or not user.active or user.role not in MAY_INTERVIEW:
        raise RuleViolationError(
            f"User {user_id} cannot interview.",
            errors={
                "interviewer_id": "must be an active user with the interviewer or "
                "hiring_manager role"
            },
        )


def _refuse_double_booking(
    session: Session,
    interviewer_id: int,
    starts_at: datetime,
    minutes: int,
    ignore_id: int | None = None,
) -> None:
    ends_at = starts_at + timedelta(minutes=minutes)
    # Only interviews starting within the longest time-box before ours can overlap it.
    nearby = session.scalars(
        select(Interview).where(
            Interview.interviewer_id == interviewer_id,
            Interview.status == "scheduled",
            Interview.starts_at > starts_at - timedelta(minutes=MAX_INTERVIEW_MINUTES),
            Interview.starts_at < ends_at,
            Interview.id != (ignore_id or 0),
        )
    )
    for other in nearby:
        if other.ends_at > starts_at:
            raise ConflictError(
                f"The interviewer already has interview {other.id} from "
                f"{other.starts_at.isoformat()} to {other.ends_at.isoformat()}, which overlaps.",
                errors={"starts_at": "the interviewer is booked at this time"},
                conflicting_interview_id=other.id,
            )


@contextmanager
def _booking(
    session: Session,
    interviewer_id: int,
    starts_at: datetime,
    minutes: int,
    ignore_id: int | None = None,
) -> Iterator[None]:
    """Write the slot in a savepoint. A parallel request that booked the interviewer in the
    meantime passed `_refuse_double_booking` too; PostgreSQL's exclusion constraint refuses
    the loser, which then gets the same ConflictError, naming the interview that won."""
    try:
        with session.begin_nested():
            yield
    except (IntegrityError, OperationalError) as error:
        if not is_double_booking(error):
            raise
        # The constraint waited for the winner to commit, so a new query sees it (after a
        # deadlock the winner may not have committed yet: the refusal below says so).
        _refuse_double_booking(session, interviewer_id, starts_at, minutes, ignore_id)
        raise ConflictError(
            "The interviewer was booked at this time by a request made at the same moment.",
            errors={"starts_at": "the interviewer is booked at this time"},
        ) from error


def _discard_previous_draft(session: Session, actor: Viewer, interview: Interview) -> None:
    scorecard = scorecard_of_interview(session, interview.id)
    if scorecard is None:
        return
    if scorecard.state == "submitted":
        raise ConflictError(
            f"Interview {interview.id} has a submitted scorecard; it cannot be reassigned."
        )
    record_event(
        session,
        actor.id,
        "scorecard.draft_discarded",
        "scorecard",
        scorecard.id,
        before=snapshot(scorecard),
        reason="interview reassigned",
    )
    session.execute(delete(Scorecard).where(Scorecard.id == scorecard.id))


def _change_type(before: dict[str, Any], interview: Interview) -> str:
    if before["interviewer_id"] != interview.interviewer_id:
        return "interview.reassigned"
    return "interview.rescheduled"


def _event_data(interview: Interview, before: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an interview event carries: ids and the slot, nothing about the candidate."""
    data: dict[str, Any] = {
        "interview_id": interview.id,
        "application_id": interview.application_id,
        "interview_key": interview.interview_key,
        "interviewer_id": interview.interviewer_id,
        "starts_at": interview.starts_at.isoformat(),
        "ends_at": interview.ends_at.isoformat(),
        "status": interview.status,
    }
    if before is not None:
        data["previous_starts_at"] = before["starts_at"]
        data["previous_interviewer_id"] = before["interviewer_id"]
    return data


def interview_titles(session: Session, listed: list[Interview]) -> dict[int, str]:
    """Each listed interview's title from its template (its key when the template has no
    such interview), in two queries: naming them one by one loaded the application,
    requisition and template version of every row.

    Only names interviews the caller already listed through the visibility rules."""
    if not listed:
        return {}
    version_of = dict(
        session.execute(
            select(Application.id, Requisition.template_version_id)
            .join(Requisition, Requisition.id == Application.requisition_id)
            .where(Application.id.in_({i.application_id for i in listed}))
        ).all()
    )
    versions = {
        v.id: v.template()
        for v in session.scalars(
            select(TemplateVersion)
            .where(TemplateVersion.id.in_(set(version_of.values())))
            .options(undefer(TemplateVersion.content))
        )
    }
    titles = {}
    for interview in listed:
        planned = versions[version_of[interview.application_id]].interview(interview.interview_key)
        titles[interview.id] = planned.title if planned else interview.interview_key
    return titles
