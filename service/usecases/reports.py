"""Fairness and pipeline reports: adverse impact per step, pipeline pacing, stuck applications.

SQL does the counting (`service.persistence.reports`); the statistics are the
tested pure functions of `service.domain.adverse_impact`. Adverse impact reads
self-identification only as group counts, and suppressed counts never leave
`adverse_impact.to_dict`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.access import Viewer, require
from service.domain.errors import RuleViolationError
from service.domain.pipeline import ApplicationStatus
from service.domain.reports import (
    Answers,
    InterviewState,
    analyse_steps,
    next_step,
    stage_maps,
    stay_summaries,
)
from service.domain.scorecards import ScorecardState
from service.domain.self_identification import DIMENSIONS
from service.domain.suppression import Chain
from service.persistence import reports as queries
from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.reports import ApplicationFilters
from service.persistence.scorecards import Scorecard
from service.persistence.tasks import candidate_names
from service.persistence.users import User
from service.usecases import report_snapshots
from service.usecases.access import get_requisition
from service.usecases.report_snapshots import RefreshJob, Snapshot

WHOLE_PROCESS = "whole_process"


def _templates(session: Session) -> dict[int, Any]:
    return {v.id: v for v in queries.template_versions(session)}


def adverse_impact_report(
    session: Session,
    actor: Viewer,
    filters: ApplicationFilters,
    *,
    stage: str | None = None,
    dimension: str | None = None,
    min_applicants: int = 10,
    min_selections: int = 5,
) -> dict[str, Any]:
    """Per dimension, per step (each stage, then applied -> hired), the four-fifths
    analysis of every group. Admin only. Raises PermissionDeniedError, RuleViolationError."""
    require(actor.role, "reports:read")
    return _adverse_impact(
        session,
        filters,
        stage=stage,
        dimension=dimension,
        min_applicants=min_applicants,
        min_selections=min_selections,
    )


REFRESH_ADVERSE_IMPACT_JOB = "workers.jobs.refresh_adverse_impact_snapshot"


def organisation_adverse_impact(
    session: Session,
    actor: Viewer,
    *,
    min_applicants: int,
    min_selections: int,
    max_age: int,
    refresh: bool = False,
) -> Snapshot:
    """The adverse-impact report over every requisition as a snapshot
    (`usecases.report_snapshots`), or computed now with `refresh`. Admin only.
    Raises PermissionDeniedError."""
    require(actor.role, "reports:read")
    key, compute = _organisation_adverse_impact(min_applicants, min_selections)
    if refresh:
        return report_snapshots.refresh(session, key, compute)
    return report_snapshots.serve(
        session,
        key,
        compute,
        max_age=max_age,
        refresh_job=RefreshJob(REFRESH_ADVERSE_IMPACT_JOB, (min_applicants, min_selections)),
    )


def refresh_adverse_impact_snapshot(
    session: Session, *, min_applicants: int, min_selections: int
) -> Snapshot:
    """Recompute the every-requisition snapshot (the refresh job a stale view enqueued)."""
    key, compute = _organisation_adverse_impact(min_applicants, min_selections)
    return report_snapshots.refresh(session, key, compute)


def _organisation_adverse_impact(
    min_applicants: int, min_selections: int
) -> tuple[str, report_snapshots.Compute]:
    """The snapshot's key (the minimum cell sizes are part of it: a report suppressed
    with other thresholds is another report) and how to compute it."""

    def compute(session: Session) -> dict[str, Any]:
        return _adverse_impact(
            session,
            ApplicationFilters(),
            min_applicants=min_applicants,
            min_selections=min_selections,
        )

    return f"adverse_impact-{min_applicants}-{min_selections}", compute


def _adverse_impact(
    session: Session,
    filters: ApplicationFilters,
    *,
    stage: str | None = None,
    dimension: str | None = None,
    min_applicants: int,
    min_selections: int,
) -> dict[str, Any]:
    versions = _templates(session)
    position, _ = stage_maps((v.id, v.template()) for v in versions.values())
    counted = queries.outcomes(session, position, filters, by_answers=True)
    # (template key, stage) -> [(answers, reached, selected)]; still in the stage or
    # withdrawn from it: no selection decision yet, so not counted.
    steps: dict[tuple[str, str], list[tuple[Answers, int, int]]] = defaultdict(list)
    for row in counted.stages:
        decided = row.entered - row.active - row.withdrawn
        steps[(row.template_key, row.stage)].append((row.answers, decided, row.advanced))
    for total in counted.overall:
        if total.status in (ApplicationStatus.HIRED, ApplicationStatus.REJECTED):
            steps[(total.template_key, WHOLE_PROCESS)].append(
                (total.answers, total.n, total.n if total.status == ApplicationStatus.HIRED else 0)
            )
    order = _step_order(versions)
    wanted = [d for d in DIMENSIONS if dimension in (None, d)]
    chosen = [s for s in sorted(steps, key=order) if stage in (None, s[1])]
    if stage is not None and not chosen and stage not in {k for _, k in order}:
        raise RuleViolationError(
            f"No template has a stage '{stage}'.",
            errors={"query.stage": "not a stage of any template"},
        )
    names = {step: _step_name(versions, *step) for step in chosen}
    # Suppression is decided over every step and dimension together, whatever was asked
    # for, so that answers to different `stage` / `dimension` filters never combine.
    analysed = analyse_steps(
        # The domain types a step as Hashable (its Step alias); Mapping's key is invariant.
        steps,  # type: ignore[arg-type]
        _chains(steps, order),
        min_applicants=min_applicants,
        min_selections=min_selections,
    )
    return {
        "filters": {**asdict(filters), "stage": stage, "dimension": dimension},
        "min_applicants": min_applicants,
        "min_selections": min_selections,
        "dimensions": [
            {
                "dimension": d,
                "steps": [
                    {
                        "template_key": key,
                        "stage": stage_key,
                        "step": names[(key, stage_key)],
                        **analysed[(d, (key, stage_key))],
                    }
                    for key, stage_key in chosen
                ],
            }
            for d in wanted
        ],
    }


class _StepOrder(dict[tuple[str, str], int]):
    """Sort key for (template key, stage): template, then stage position, whole process last."""

    def __call__(self, step: tuple[str, str]) -> tuple[str, int, str]:
        return (step[0], self.get(step, 10_000), step[1])


def _step_order(versions: dict[int, Any]) -> _StepOrder:
    order = _StepOrder()
    for version in sorted(versions.values(), key=lambda v: v.id):  # the newest version wins
        for index, s in enumerate(version.template().stages):
            order[(version.key, s.key)] = index
    return order


def _chains(
    steps: dict[tuple[str, str], list[tuple[Answers, int, int]]], order: _StepOrder
) -> list[Chain]:
    """Per template key, its stage steps in pipeline order and its whole-process step."""
    keys = sorted({key for key, _ in steps})
    return [
        Chain(
            stages=tuple(
                # Chain.stages is tuple[Step, ...] with the domain's Step = Hashable, which
                # makes mypy sort Hashables; these steps are (template key, stage) pairs.
                sorted(
                    (s for s in steps if s[0] == key and s[1] != WHOLE_PROCESS),
                    key=order,  # type: ignore[arg-type]
                )
            ),
            whole_process=(key, WHOLE_PROCESS) if (key, WHOLE_PROCESS) in steps else None,
        )
        for key in keys
    ]


def _step_name(versions: dict[int, Any], key: str, stage_key: str) -> str:
    if stage_key == WHOLE_PROCESS:
        return "applied -> hired"
    names = {s.key: s.name for v in versions.values() if v.key == key for s in v.template().stages}
    return f"reached {names.get(stage_key, stage_key)} -> advanced past it"


def pipeline_report(session: Session, actor: Viewer, requisition_id: int) -> dict[str, Any]:
    """Per stage of a requisition: entered, advanced, rejected by reason, withdrawn, still
    there, time in stage against target, conversion. Admins, recruiters and the
    requisition's hiring manager. Raises PermissionDeniedError, NotFoundError."""
    require(actor.role, "reports:pipeline")
    requisition = get_requisition(session, actor, requisition_id)
    template = requisition.template
    versions = _templates(session)
    position, _ = stage_maps((v.id, v.template()) for v in versions.values())
    filters = ApplicationFilters(requisition_id=requisition.id)
    counts = {
        row.stage: row
        for row in queries.stage_outcomes(session, position, filters, by_answers=False)
    }
    reasons: dict[str, dict[str, int]] = defaultdict(dict)
    for stage_key, reason, n in queries.rejections_by_reason(session, filters):
        reasons[stage_key][reason or "unspecified"] = n
    targets = {s.key: s.sla_days for s in template.stages}
    stays = stay_summaries(queries.stage_stays(session, filters), targets)
    first = counts.get(template.first_stage.key)
    stages = []
    for s in template.stages:
        row = counts.get(s.key)
        entered = row.entered if row else 0
        advanced = row.advanced if row else 0
        stages.append(
            {
                "stage": s.key,
                "name": s.name,
                "target_days": s.sla_days,
                "entered": entered,
                "advanced": advanced,
                "rejected": row.rejected if row else 0,
                "rejected_by_reason": dict(sorted(reasons.get(s.key, {}).items())),
                "withdrawn": row.withdrawn if row else 0,
                "still_there": row.active if row else 0,
                "conversion": round(advanced / entered, 4) if entered else None,
                "share_of_applicants": round(entered / first.entered, 4)
                if first and first.entered
                else None,
                **asdict(stays[s.key]),
            }
        )
    return {"requisition_id": requisition.id, "template_key": template.key, "stages": stages}


def stuck_report(
    session: Session, actor: Viewer, filters: ApplicationFilters, *, limit: int = 50
) -> dict[str, Any]:
    """Active applications over their stage's target, oldest first, with who owns the next
    step (admin). Raises PermissionDeniedError."""
    require(actor.role, "reports:read")
    return _stuck(session, filters, limit)


def recruiter_stuck(
    session: Session, actor: Viewer, *, mine_only: bool, limit: int = 50
) -> dict[str, Any]:
    """The stuck report for the recruiter's Stuck page, each item with its candidate: with
    `mine_only`, of the requisitions `actor` runs and those nobody has been assigned to
    (as their tasks count them). Admins and recruiters. Raises PermissionDeniedError."""
    require(actor.role, "applications:write")
    filters = ApplicationFilters(recruiter_or_unassigned=actor.id if mine_only else None)
    report = _stuck(session, filters, limit)
    names = candidate_names(session, [i["application_id"] for i in report["items"]])
    for item in report["items"]:
        item["candidate_id"], item["candidate_name"] = names[item["application_id"]]
    return report


def _stuck(session: Session, filters: ApplicationFilters, limit: int) -> dict[str, Any]:
    versions = _templates(session)
    _, sla = stage_maps((v.id, v.template()) for v in versions.values())
    now = utcnow()
    total, rows = queries.overdue_applications(session, sla, filters, now, limit)
    interviews = _interview_states(session, [r.id for r in rows])
    named = {r.hiring_manager_id for r in rows} | {r.recruiter_id for r in rows if r.recruiter_id}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(named))).all())
    items = []
    for r in rows:
        template = versions[r.template_version_id].template()
        stage = template.stage(r.stage)
        at_stage = [
            i
            for i in interviews.get(r.id, [])
            if (planned := template.interview(i.interview_key)) and planned.stage == r.stage
        ]
        step = next_step(
            template,
            r.stage,
            at_stage,
            (r.hiring_manager_id, names[r.hiring_manager_id]),
            (r.recruiter_id, names[r.recruiter_id]) if r.recruiter_id else None,
        )
        days = (now - r.stage_entered_at).total_seconds() / 86400
        items.append(
            {
                "application_id": r.id,
                "requisition_id": r.requisition_id,
                "requisition_title": r.title,
                "stage": r.stage,
                "stage_name": stage.name,
                "stage_entered_at": r.stage_entered_at,
                "days_in_stage": round(days, 2),
                "target_days": stage.sla_days,
                "days_over_target": round(days - stage.sla_days, 2),
                "next_step": step.action,
                "owner_role": step.owner_role,
                "owners": [
                    {"id": i, "name": n}
                    for i, n in zip(step.owner_ids, step.owner_names, strict=True)
                ],
            }
        )
    return {"total": total, "items": items}


def _interview_states(
    session: Session, application_ids: list[int]
) -> dict[int, list[InterviewState]]:
    """The loops of a page of applications (at most `limit` of them)."""
    rows = session.execute(
        select(
            Interview.application_id,
            Interview.interview_key,
            Interview.interviewer_id,
            User.name,
            Interview.status,
            Scorecard.state,
        )
        .join(User, User.id == Interview.interviewer_id)
        .outerjoin(Scorecard, Scorecard.interview_id == Interview.id)
        .where(Interview.application_id.in_(application_ids))
        .order_by(Interview.starts_at, Interview.id)
    ).all()
    states: dict[int, list[InterviewState]] = defaultdict(list)
    for application_id, key, interviewer_id, name, status, state in rows:
        states[application_id].append(
            InterviewState(key, interviewer_id, name, status, state == ScorecardState.SUBMITTED)
        )
    return states
