"""Reminders, found by a periodic pass (RQ cron in the workers, or `hiring reminders run`):
owed scorecards at each step (due, overdue, reminder 1..K from the template's
settings), and applications past their stage's target. Each step is an outbox event
with a key naming the step, stored at most once, so a pass that runs twice, or two
passes at once, never announce a step twice; a submitted scorecard is no longer owed,
so its later steps never come."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from service.domain.events import scorecard_steps, steps_due
from service.domain.reports import stage_maps
from service.persistence.applications import Application
from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.outbox import OutboxEvent
from service.persistence.reports import ApplicationFilters, overdue_applications, template_versions
from service.persistence.scorecards import scorecard_owed
from service.usecases.outbox import emit_event


def run_reminders(session: Session, now: datetime | None = None) -> dict[str, int]:
    """One pass; returns how many events of each kind it stored."""
    now = now or utcnow()
    counts = {"scorecard_steps": _scorecard_steps(session, now)}
    counts["stage_overdue"] = _stage_overdue(session, now)
    session.commit()
    return counts


def _scorecard_steps(session: Session, now: datetime) -> int:
    owed = list(
        session.scalars(
            select(Interview)
            .where(scorecard_owed(now))
            .options(joinedload(Interview.application).joinedload(Application.requisition))
            .order_by(Interview.id)
        )
    )
    wanted: dict[str, tuple[str, dict[str, Any]]] = {}
    for interview in owed:
        if interview.ends_at > now:
            continue
        template = interview.template
        steps = scorecard_steps(
            interview.ends_at, template.scoring.late_feedback_hours, template.reminder_settings
        )
        for step in steps_due(steps, now):
            data = {
                "interview_id": interview.id,
                "application_id": interview.application_id,
                "interviewer_id": interview.interviewer_id,
                "due_at": interview.ends_at.isoformat(),
                "step": step.key,
            }
            if step.number:
                data["reminder"] = step.number
            key = f"scorecard:{interview.id}:{interview.interviewer_id}:{step.key}"
            wanted[key] = (step.kind, data)
    return _emit_new(session, wanted)


def _stage_overdue(session: Session, now: datetime) -> int:
    templates = {v.id: v.template() for v in template_versions(session)}
    _, sla = stage_maps(templates.items())
    _, rows = overdue_applications(session, sla, ApplicationFilters(), now, limit=1000)
    wanted = {
        f"stage_overdue:{row.id}:{row.stage}:{row.stage_entered_at.isoformat()}": (
            "application.stage_overdue",
            {
                "application_id": row.id,
                "requisition_id": row.requisition_id,
                "stage": row.stage,
                "stage_entered_at": row.stage_entered_at.isoformat(),
            },
        )
        for row in rows
    }
    return _emit_new(session, wanted)


def _emit_new(session: Session, wanted: dict[str, tuple[str, dict[str, Any]]]) -> int:
    """Emit each (kind, data) under its key unless an event with that key is stored;
    returns how many were stored now."""
    stored = _stored_keys(session, list(wanted))
    made = 0
    for key, (kind, data) in wanted.items():
        if key not in stored and emit_event(session, kind, data, dedupe_key=key) is not None:
            made += 1
    return made


def _stored_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            k
            for k in session.scalars(
                select(OutboxEvent.dedupe_key).where(OutboxEvent.dedupe_key.in_(chunk))
            )
            if k
        )
    return found
