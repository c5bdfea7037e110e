"""What I owe now: scorecards to write, decisions to make, applications past their target.

Each kind is one query (`persistence.tasks`, `persistence.reports`), whatever the
number of rows. A task names its application, candidate and requisition and links
to the resource to act on; nothing in it comes from another panelist's feedback
(but `decisions_waiting`, the web page's list, adds the panel's summary line,
behind the blind rule).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from service.domain.access import RECRUITER, SEES_EVERYTHING, Viewer
from service.domain.reports import stage_maps
from service.domain.templates import InterviewTemplate
from service.persistence import tasks as queries
from service.persistence.base import utcnow
from service.persistence.reports import ApplicationFilters, overdue_applications, template_versions
from service.usecases.access import get_application, open_panel_feedback
from service.usecases.assessments import assess_application

TASK_KINDS = ("scorecard", "decision", "overdue_application")


def my_tasks(session: Session, actor: Viewer, *, limit: int = 50) -> dict[str, Any]:
    """Every role's open tasks, overdue first, then by when they are due; at most `limit`
    of each kind, with how many there are of each."""
    now = utcnow()
    templates = {v.id: v.template() for v in template_versions(session)}
    totals: dict[str, int] = {}
    items: list[dict[str, Any]] = []

    totals["scorecard"], rows = queries.owed_scorecards(session, actor.id, now, limit)
    items += [_scorecard_task(r, templates[r.template_version_id], now) for r in rows]

    totals["decision"], rows = _awaiting_decision(session, actor, templates, limit)
    items += [_decision_task(r, templates[r.template_version_id], now) for r in rows]

    totals["overdue_application"] = 0
    if actor.role in SEES_EVERYTHING:
        # An admin's are every active application past its stage's target; a recruiter's
        # those of the requisitions they run and of those nobody has been assigned to.
        owned = ApplicationFilters(
            recruiter_or_unassigned=actor.id if actor.role == RECRUITER else None
        )
        _, sla = stage_maps(templates.items())
        totals["overdue_application"], overdue = overdue_applications(
            session, sla, owned, now, limit
        )
        candidates = queries.candidate_names(session, [r.id for r in overdue])
        items += [
            _overdue_task(r, templates[r.template_version_id], candidates[r.id], now)
            for r in overdue
        ]

    items.sort(key=lambda t: (not t["overdue"], t["due_at"] is None, t["due_at"] or now))
    return {"items": items, "totals": totals}


def decisions_waiting(session: Session, actor: Viewer, *, limit: int = 25) -> dict[str, Any]:
    """The hiring manager's applications waiting for a decision (as in `my_tasks`), each with
    the panel's summary line. The summary comes from the panel's feedback, so each row is
    opened through `open_panel_feedback`; the query already leaves out applications where
    `actor` still owes a scorecard."""
    now = utcnow()
    templates = {v.id: v.template() for v in template_versions(session)}
    total, rows = _awaiting_decision(session, actor, templates, limit)
    items = []
    for row in rows:
        application = get_application(session, actor, row.id)
        open_panel_feedback(session, actor, application.id)
        recommendations = assess_application(session, application).recommendations
        template = templates[row.template_version_id]
        stage = template.stage(row.stage)
        items.append(
            {
                **_decision_task(row, template, now),
                "stage_name": stage.name if stage else row.stage,
                "panel_summary": recommendations.summary,
                "recommend_hire": recommendations.recommend_hire,
                "panel_size": recommendations.panel_size,
            }
        )
    return {"items": items, "total": total}


def _awaiting_decision(
    session: Session, actor: Viewer, templates: dict[int, InterviewTemplate], limit: int
) -> tuple[int, list[Any]]:
    final = {(tv, t.final_stage.key): 1 for tv, t in templates.items()}
    planned = {tv: len({i.key for i in t.interviews}) for tv, t in templates.items()}
    return queries.awaiting_decision(session, actor.id, final, planned, limit)


def _scorecard_task(row: Any, template: InterviewTemplate, now: datetime) -> dict[str, Any]:
    planned = template.interview(row.interview_key)
    title = planned.title if planned else row.interview_key
    ends_at = row.starts_at + timedelta(minutes=row.duration_minutes)
    due_at = ends_at + timedelta(hours=template.scoring.late_feedback_hours)
    return {
        "kind": "scorecard",
        "summary": f"Submit your scorecard for {title} with {row.candidate_name}",
        "application_id": row.application_id,
        "interview_id": row.id,
        "requisition_id": row.requisition_id,
        "requisition_title": row.title,
        "candidate_id": row.candidate_id,
        "candidate_name": row.candidate_name,
        "stage": planned.stage if planned else None,
        "scorecard_state": row.scorecard_state,
        "due_at": due_at,
        "overdue": now > due_at,
        "link": f"/api/v1/interviews/{row.id}/scorecard",
    }


def _decision_task(row: Any, template: InterviewTemplate, now: datetime) -> dict[str, Any]:
    why = "is in the final stage" if row.in_final_stage else "has a complete loop"
    due_at = _stage_due(row, template)
    return {
        "kind": "decision",
        "summary": f"Decide on {row.candidate_name} for {row.title}: the application {why}",
        **_about_application(row, row.candidate_id, row.candidate_name),
        "due_at": due_at,
        "overdue": due_at is not None and now > due_at,
        "link": f"/api/v1/applications/{row.id}/decision",
    }


def _overdue_task(
    row: Any, template: InterviewTemplate, candidate: tuple[int, str], now: datetime
) -> dict[str, Any]:
    stage = template.stage(row.stage)
    return {
        "kind": "overdue_application",
        "summary": f"{candidate[1]} has been in {stage.name if stage else row.stage} "
        f"longer than its target of {stage.sla_days if stage else '?'} days",
        **_about_application(row, *candidate),
        "due_at": _stage_due(row, template),
        "overdue": True,
        "link": f"/api/v1/applications/{row.id}",
    }


def _about_application(row: Any, candidate_id: int, candidate_name: str) -> dict[str, Any]:
    return {
        "application_id": row.id,
        "interview_id": None,
        "requisition_id": row.requisition_id,
        "requisition_title": row.title,
        "candidate_id": candidate_id,
        "candidate_name": candidate_name,
        "stage": row.stage,
        "scorecard_state": None,
    }


def _stage_due(row: Any, template: InterviewTemplate) -> datetime | None:
    """When the application's time in its stage reaches the stage's target."""
    stage = template.stage(row.stage)
    if stage is None or stage.sla_days < 0:
        return None
    due: datetime = row.stage_entered_at + timedelta(days=stage.sla_days)
    return due
