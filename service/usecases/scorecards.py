"""Scorecards: drafts, submission, amendments, and reading others' only after giving your own."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import jobs
from service.domain import language
from service.domain.access import Viewer
from service.domain.errors import ConflictError, NotFoundError, PermissionDeniedError
from service.domain.pipeline import InterviewStatus
from service.domain.scorecards import (
    RatingInput,
    ScorecardState,
    check_draft,
    check_submission,
    is_late,
)
from service.domain.templates import Interview as PlannedInterview
from service.domain.templates import InterviewTemplate
from service.persistence.audit import record_event
from service.persistence.base import columns, snapshot, utcnow
from service.persistence.interviews import Interview
from service.persistence.scorecards import (
    Scorecard,
    ScorecardRating,
    ScorecardRevision,
    has_seen_others,
    scorecard_of_interview,
    submitted_scorecards,
)
from service.persistence.submissions import Submission, write_submission
from service.usecases.access import (
    get_application,
    get_interview,
    get_interview_and_template,
    open_panel_feedback,
)
from service.usecases.calibration import schedule_refresh
from service.usecases.outbox import dispatch_after_commit, event_to_write


def save_draft(
    session: Session, actor: Viewer, interview_id: int, data: dict[str, Any]
) -> Scorecard:
    """Save the interviewer's work in progress; returns language warnings, never errors, for wording."""
    interview = _own_interview(session, actor, interview_id)
    if interview.status == InterviewStatus.CANCELLED:
        raise ConflictError(f"Interview {interview.id} was cancelled; there is nothing to score.")
    scorecard = _locked_scorecard(session, interview)
    check_draft(_planned(interview), _ratings(data))
    scorecard = scorecard or _new_scorecard(session, interview)
    scorecard.draft = {**_content(data), "warnings": _warnings(data)}
    session.flush()
    record_event(
        session,
        actor.id,
        "scorecard.draft_saved",
        "scorecard",
        scorecard.id,
        after={"interview_id": interview.id},
    )
    session.commit()
    return scorecard


def submit_scorecard(
    session: Session, actor: Viewer, interview_id: int, data: dict[str, Any]
) -> Scorecard:
    """Submit once, after the interview has started. Raises PermissionDeniedError,
    ConflictError (not started, cancelled, already submitted), RuleViolationError.

    The rules are checked before anything is written; then the scorecard's upsert, its
    first revision with its ratings, the audit event and the outbox event go in one
    transaction, on PostgreSQL in one statement (`persistence.submissions.write_submission`;
    docs/architecture.md, "Submitting a scorecard"). After the commit one job is enqueued, the outbox event's dispatch; the
    dispatcher then asks for the calibration refresh and the packet's preparation
    (`usecases.notifications`), so those follow even when Redis was away at the commit
    (the periodic sweep dispatches the event)."""
    interview, template = get_interview_and_template(session, actor, interview_id)
    _check_own(actor, interview)
    if interview.status in (InterviewStatus.CANCELLED, InterviewStatus.NO_SHOW):
        raise ConflictError(
            f"Interview {interview.id} is {interview.status}; it takes no scorecard."
        )
    now = utcnow()
    if now < interview.starts_at:
        raise ConflictError(
            f"Interview {interview.id} starts at {interview.starts_at.isoformat()}; "
            "submit your scorecard after the interview has taken place."
        )
    check_submission(
        _planned(interview, template),
        template.scoring,
        _ratings(data),
        data.get("recommendation"),
    )
    late = is_late(interview.ends_at, now, template.scoring.late_feedback_hours)
    # Whether its author has read others' feedback: set by `write_submission`.
    revision = _revision(actor, data, number=1, reason="", seen_others=False)
    revision.created_at = now
    submission = Submission(
        interview,
        revision,
        submitted_at=now,
        late=late,
        actor_id=actor.id,
        audit_action="scorecard.submitted",
        audit_after=_submitted_snapshot(revision),
        event=event_to_write("scorecard.submitted", _event_data(interview)),
    )
    scorecard = write_submission(session, submission)
    if scorecard is None:
        raise _already_submitted(interview)
    # The one job after the commit is the event's dispatch; the calibration refresh and
    # the packet's preparation follow the event when it is dispatched.
    dispatch_after_commit(session)
    session.commit()
    return scorecard


def amend_scorecard(
    session: Session, actor: Viewer, interview_id: int, data: dict[str, Any]
) -> Scorecard:
    """Add a new revision to a submitted scorecard; earlier revisions are kept as they were."""
    interview = _own_interview(session, actor, interview_id)
    scorecard = scorecard_of_interview(session, interview.id, for_update=True)
    if scorecard is None or scorecard.state != ScorecardState.SUBMITTED:
        raise ConflictError(
            f"Interview {interview.id} has no submitted scorecard to amend; submit it first."
        )
    template = interview.template
    check_submission(
        _planned(interview), template.scoring, _ratings(data), data.get("recommendation")
    )
    before = _revision_snapshot(scorecard)
    scorecard.revision += 1
    seen_others = has_seen_others(session, scorecard.application_id, actor.id)
    _new_revision(session, actor, scorecard, data, reason=data["reason"], seen_others=seen_others)
    session.flush()  # the audit's "after" carries the row as written (its new updated_at)
    record_event(
        session,
        actor.id,
        "scorecard.amended",
        "scorecard",
        scorecard.id,
        before=before,
        after=_revision_snapshot(scorecard),
        reason=data["reason"],
    )
    schedule_refresh(session)
    jobs.prepare_packets_after_commit(session, interview.application_id)
    session.commit()
    return scorecard


def get_scorecard(session: Session, actor: Viewer, interview_id: int) -> Scorecard:
    """The author sees their draft or submission; others see it only once submitted, and
    a panelist only after submitting their own (`open_panel_feedback`)."""
    interview = get_interview(session, actor, interview_id)
    scorecard = scorecard_of_interview(session, interview.id)
    if scorecard is not None and scorecard.author_id == actor.id:
        return scorecard
    if scorecard is None or scorecard.state != ScorecardState.SUBMITTED:
        raise NotFoundError(f"Interview {interview.id} has no submitted scorecard yet.")
    open_panel_feedback(session, actor, interview.application_id)
    return scorecard


def list_scorecards(session: Session, actor: Viewer, application_id: int) -> list[Scorecard]:
    """Submitted scorecards of an application. Raises PermissionDeniedError for a
    panelist who has not yet submitted their own (`open_panel_feedback`)."""
    application = get_application(session, actor, application_id)
    open_panel_feedback(session, actor, application.id)
    return submitted_scorecards(session, application.id)


def _new_revision(
    session: Session,
    actor: Viewer,
    scorecard: Scorecard,
    data: dict[str, Any],
    *,
    reason: str,
    seen_others: bool,
) -> None:
    """Revision number `scorecard.revision` with its ratings, added to the session (it is
    written with the rest of the change at the next flush)."""
    revision = _revision(
        actor, data, number=scorecard.revision, reason=reason, seen_others=seen_others
    )
    revision.scorecard = scorecard
    session.add(revision)


def _revision(
    actor: Viewer, data: dict[str, Any], *, number: int, reason: str, seen_others: bool
) -> ScorecardRevision:
    """Revision `number` of `data` with its ratings, in no session yet. `seen_others`: its
    author had already read other panelists' feedback."""
    return ScorecardRevision(
        number=number,
        recommendation=data["recommendation"],
        summary=data.get("summary", ""),
        reason=reason,
        warnings=_warnings(data),
        after_seeing_others=seen_others,
        created_by_id=actor.id,
        ratings=[
            ScorecardRating(competency=r["competency"], score=r["score"], evidence=r["evidence"])
            for r in data["ratings"]
        ],
    )


def _own_interview(session: Session, actor: Viewer, interview_id: int) -> Interview:
    interview = get_interview(session, actor, interview_id)
    _check_own(actor, interview)
    return interview


def _check_own(actor: Viewer, interview: Interview) -> None:
    if interview.interviewer_id != actor.id:
        raise PermissionDeniedError(
            f"Only the assigned interviewer writes the scorecard for interview {interview.id}."
        )


def _planned(interview: Interview, template: InterviewTemplate | None = None) -> PlannedInterview:
    """The template's interview that `interview` is (its application's template unless
    `template` is given)."""
    template = template if template is not None else interview.template
    planned = template.interview(interview.interview_key)
    # The key was checked against the template when the interview was scheduled.
    assert planned is not None, "the interview's key names none of its template's interviews"
    return planned


def _locked_scorecard(session: Session, interview: Interview) -> Scorecard | None:
    """The interview's scorecard if it has one yet, locked until commit (PostgreSQL; SQLite
    serialises writers), so parallel saves and submissions of one scorecard take turns.
    Raises ConflictError once it is submitted."""
    scorecard = scorecard_of_interview(session, interview.id, for_update=True)
    if scorecard is not None and scorecard.state == ScorecardState.SUBMITTED:
        raise _already_submitted(interview)
    return scorecard


def _new_scorecard(session: Session, interview: Interview) -> Scorecard:
    """The interview's first scorecard; when a parallel request (a double-click on save)
    created it a moment earlier, that one, locked, instead."""
    scorecard = Scorecard(
        interview_id=interview.id,
        application_id=interview.application_id,
        author_id=interview.interviewer_id,
    )
    try:
        with session.begin_nested():
            session.add(scorecard)
    except IntegrityError:
        existing = _locked_scorecard(session, interview)
        assert existing is not None  # the unique interview_id that refused ours is its row
        return existing
    return scorecard


def _ratings(data: dict[str, Any]) -> list[RatingInput]:
    return [
        RatingInput(r["competency"], r["score"], r["evidence"]) for r in data.get("ratings", [])
    ]


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "ratings": data.get("ratings", []),
        "recommendation": data.get("recommendation"),
        "summary": data.get("summary", ""),
    }


def _warnings(data: dict[str, Any]) -> list[dict[str, Any]]:
    texts = {f"ratings[{i}].evidence": r["evidence"] for i, r in enumerate(data.get("ratings", []))}
    texts["summary"] = data.get("summary", "")
    return [asdict(w) for w in language.check_scorecard(texts)]


def _revision_snapshot(scorecard: Scorecard) -> dict[str, Any]:
    """The audit's view of `scorecard` with its current revision."""
    return {**snapshot(scorecard, exclude=_NOT_AUDITED), **_content_snapshot(scorecard.current)}


def _submitted_snapshot(revision: ScorecardRevision) -> dict[str, Any]:
    """`_revision_snapshot` of the scorecard `write_submission` writes with `revision`:
    its columns stand for the written row's values, which the write fills in."""
    return {**columns(Scorecard, exclude=_NOT_AUDITED), **_content_snapshot(revision)}


# The draft is its author's work in progress, not a fact of the submission.
_NOT_AUDITED = frozenset({"draft"})


def _content_snapshot(current: ScorecardRevision | None) -> dict[str, Any]:
    return {
        "recommendation": current.recommendation if current else None,
        "ratings": [{"competency": r.competency, "score": r.score} for r in current.ratings]
        if current
        else [],
    }


def _already_submitted(interview: Interview) -> ConflictError:
    return ConflictError(
        f"The scorecard for interview {interview.id} is already submitted; it is never edited "
        "in place. Add an amendment with a reason instead.",
    )


def _event_data(interview: Interview) -> dict[str, Any]:
    """Ids only: never the ratings, evidence or recommendation. The scorecard's own
    values are its columns, which `write_submission` fills in from the written row."""
    return {
        "scorecard_id": Scorecard.id,
        "interview_id": interview.id,
        "application_id": interview.application_id,
        "interviewer_id": interview.interviewer_id,
        "late": Scorecard.late,
    }
