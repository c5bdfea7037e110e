"""The interview loop of one application against its template's plan.

One process for all candidates is a fairness rule, so every departure from the
plan — an interview skipped, added twice, or run past its time-box — is
recorded with who and why, and shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from service.domain.pipeline import InterviewStatus
from service.domain.templates import InterviewTemplate

DEVIATION_KINDS = ("skipped", "added", "overran")
PLANNED_INTERVIEW_STATES = ("not_scheduled", "scheduled", "completed", "cancelled", "no_show")
ACTIVE_INTERVIEW_STATUSES = (InterviewStatus.SCHEDULED.value, InterviewStatus.COMPLETED.value)


@dataclass(frozen=True)
class InterviewFact:
    id: int
    interview_key: str
    interviewer_id: int
    interviewer_name: str
    starts_at: datetime
    duration_minutes: int
    actual_minutes: int | None
    status: str
    scorecard: str  # "missing", "draft" or "submitted"


@dataclass(frozen=True)
class PlannedInterview:
    key: str
    title: str
    stage: str
    stage_position: str  # "past", "current" or "upcoming"
    duration_minutes: int
    state: str  # "not_scheduled", "scheduled", "completed", "cancelled", "no_show"
    interviews: tuple[InterviewFact, ...]


def plan_loop(
    template: InterviewTemplate, current_stage: str, interviews: Sequence[InterviewFact]
) -> list[PlannedInterview]:
    """Every interview the template plans, with what has happened to it."""
    stage_index = {s.key: i for i, s in enumerate(template.stages)}
    current = stage_index[current_stage]
    planned = []
    for item in template.interviews:
        mine = tuple(i for i in interviews if i.interview_key == item.key)
        index = stage_index[item.stage]
        position = "past" if index < current else "current" if index == current else "upcoming"
        planned.append(
            PlannedInterview(
                item.key,
                item.title,
                item.stage,
                position,
                item.duration_minutes,
                _state(mine),
                mine,
            )
        )
    return planned


def loop_complete(
    template: InterviewTemplate, interviews: Sequence[InterviewFact], skipped: Iterable[str]
) -> bool:
    """Every interview the template plans has been held with its scorecard submitted (every
    scheduled or held one of its kind, added ones too) or was recorded as skipped."""
    passed = set(skipped)
    for item in template.interviews:
        mine = [
            i
            for i in interviews
            if i.interview_key == item.key and i.status in ACTIVE_INTERVIEW_STATUSES
        ]
        if not mine and item.key in passed:
            continue
        if not mine or any(i.scorecard != "submitted" for i in mine):
            return False
    return True


def skipped_on_leaving(
    template: InterviewTemplate, left_stage: str, interviews: Sequence[InterviewFact]
) -> list[str]:
    """Interview keys of `left_stage` with no completed interview: skipped by this move."""
    completed = {i.interview_key for i in interviews if i.status == "completed"}
    return [
        item.key
        for item in template.interviews
        if item.stage == left_stage and item.key not in completed
    ]


def _state(interviews: Sequence[InterviewFact]) -> str:
    statuses = {i.status for i in interviews}
    for status in ("completed", "scheduled", "no_show", "cancelled"):
        if status in statuses:
            return status
    return "not_scheduled"
