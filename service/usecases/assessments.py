"""The assessment of one application: load its facts, combine them in the pure domain module.

A read serves the stored read model (`persistence.assessment_read_model`) when it is
still valid, after the same access check as ever, and otherwise computes the
assessment and stores it. Time matters to one fact only (a scheduled interview's
scorecard becoming overdue): the stored model carries the instant that next changes
(`assessment_flags.flags_change_at`) rather than recomputing that part on each read,
so a valid read is one statement and no computation.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.domain.access import Viewer
from service.domain.assessment import Assessment, assess, to_dict
from service.domain.assessment_flags import flags_change_at
from service.domain.assessment_inputs import (
    DeviationIn,
    InterviewIn,
    LeniencyIn,
    RatingIn,
    ScorecardIn,
)
from service.domain.calibration_scale import RatingScale
from service.domain.packet_inputs import RevisionIn, ScorecardHistoryIn
from service.domain.templates import InterviewTemplate
from service.persistence.applications import Application
from service.persistence.assessment_read_model import store, stored_from, with_stored_assessment
from service.persistence.base import utcnow
from service.persistence.calibration import panel_calibration
from service.persistence.loops import deviations_of, interview_facts
from service.persistence.scorecards import Scorecard, first_views, submitted_scorecards
from service.persistence.templates import parsed_template
from service.usecases.access import open_application_feedback


def application_assessment(session: Session, actor: Viewer, application_id: int) -> dict[str, Any]:
    """`assessment_json`, parsed (the pages)."""
    body: dict[str, Any] = json.loads(assessment_json(session, actor, application_id))
    return body


def assessment_json(session: Session, actor: Viewer, application_id: int) -> str:
    """The assessment as JSON text: for the hiring team, and for panelists once they have
    submitted their own scorecard. One statement when the stored model is valid: the
    access check (`open_application_feedback`: visibility, then the blind rule) with
    the stored model beside it, which is looked at only after the check has passed."""
    row = open_application_feedback(session, actor, application_id, with_stored_assessment)
    now = utcnow()
    found = stored_from(row, now)
    if found.body is not None:
        return found.body
    template = parsed_template(session, row.template_version_id, row.template_version)
    body, valid_until = _computed(template, assessment_inputs(session, row.id, template), now)
    store(session, row.id, found, body, valid_until)
    return body


def _computed(
    template: InterviewTemplate, inputs: AssessmentInputs, now: datetime
) -> tuple[str, datetime | None]:
    """The assessment's JSON at `now` (keys sorted, compact: the same facts give the same
    bytes) and the last instant it holds on the clock alone."""
    body = json.dumps(to_dict(assess(*inputs, now=now)), sort_keys=True, separators=(",", ":"))
    return body, flags_change_at(template, inputs[2], now)


def assess_application(session: Session, application: Application) -> Assessment:
    """The assessment from what is stored now: submitted scorecards, the loop, the latest calibration."""
    return assess(*assessment_inputs(session, application.id, application.template), now=utcnow())


AssessmentInputs = tuple[
    InterviewTemplate,
    list[ScorecardIn],
    list[InterviewIn],
    list[DeviationIn],
    dict[int, LeniencyIn],
]


def assessment_inputs(
    session: Session, application_id: int, template: InterviewTemplate
) -> AssessmentInputs:
    """The plain inputs of `assess` for one application (under `template`), as stored now."""
    scorecards = submitted_scorecards(session, application_id)
    facts = interview_facts(session, application_id)
    panel = {f.interviewer_id for f in facts} | {card.author_id for card in scorecards}
    return (
        template,
        [_scorecard_in(card) for card in scorecards],
        [
            InterviewIn(
                f.id,
                f.interview_key,
                f.interviewer_id,
                f.interviewer_name,
                f.status,
                f.starts_at,
                f.scorecard,
            )
            for f in facts
        ],
        [
            DeviationIn(
                d.kind,
                d.interview_key,
                d.interview_id,
                d.actor.name if d.actor else None,
                d.reason,
                d.at,
            )
            for d in deviations_of(session, application_id)
        ],
        _leniencies(session, panel),
    )


def _leniencies(session: Session, panel: set[int]) -> dict[int, LeniencyIn]:
    """The panel's stored calibration, with the latest run's rating scale."""
    stored_scale, effects = panel_calibration(session, panel)
    scale = RatingScale.from_dict(stored_scale) if stored_scale else None
    return {
        e.interviewer_id: LeniencyIn(
            e.interviewer_id,
            e.leniency,
            e.se,
            e.n_ratings,
            e.connected,
            e.explanation,
            state=e.state,
            shift=e.shift,
            scale=scale,
        )
        for e in effects.values()
    }


def scorecard_histories(session: Session, application_id: int) -> dict[int, ScorecardHistoryIn]:
    """Per submitted scorecard: the interview's time-box and length, every revision, and
    when its author first read the panel's feedback."""
    seen = first_views(session, application_id)
    return {
        card.id: ScorecardHistoryIn(
            scorecard_id=card.id,
            duration_minutes=card.interview.duration_minutes,
            actual_minutes=card.interview.actual_minutes,
            first_saw_others_at=seen.get(card.author_id),
            revisions=tuple(
                RevisionIn(
                    number=r.number,
                    created_at=r.created_at,
                    reason=r.reason,
                    recommendation=r.recommendation,
                    after_seeing_others=r.after_seeing_others,
                    summary=r.summary,
                    ratings=tuple(RatingIn(x.competency, x.score, x.evidence) for x in r.ratings),
                )
                for r in card.revisions
            ),
        )
        for card in submitted_scorecards(session, application_id)
    }


def _scorecard_in(card: Scorecard) -> ScorecardIn:
    current = card.current
    # Only submitted scorecards come here, and a submitted one has a current revision.
    assert current is not None and card.submitted_at is not None
    return ScorecardIn(
        scorecard_id=card.id,
        interview_id=card.interview_id,
        interview_key=card.interview.interview_key,
        interviewer_id=card.author_id,
        interviewer_name=card.author.name,
        recommendation=current.recommendation,
        summary=current.summary,
        ratings=tuple(RatingIn(r.competency, r.score, r.evidence) for r in current.ratings),
        submitted_at=card.submitted_at,
        late=card.late,
        revision=current.number,
        after_seeing_others=any(r.after_seeing_others for r in card.revisions),
        warnings=tuple(current.warnings),
    )
