"""The pipeline state machine: stage moves and application status changes.

Pure rules over plain values; the use cases load the rows and persist the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from service.domain.errors import ConflictError, RuleViolationError
from service.domain.templates import InterviewTemplate


class RequisitionStatus(StrEnum):
    OPEN = "open"
    ON_HOLD = "on_hold"
    CLOSED = "closed"


class ApplicationStatus(StrEnum):
    ACTIVE = "active"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    HIRED = "hired"


class InterviewStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# The plain values, in order: database CHECKs, validators and report codes use them.
REQUISITION_STATUSES: tuple[str, ...] = tuple(s.value for s in RequisitionStatus)
APPLICATION_STATUSES: tuple[str, ...] = tuple(s.value for s in ApplicationStatus)
INTERVIEW_STATUSES: tuple[str, ...] = tuple(s.value for s in InterviewStatus)
TIMELINE_KINDS = ("applied", "moved", "rejected", "withdrawn", "hired", "reopened")
REJECTION_REASONS = (
    "skills_gap",
    "experience_level",
    "interview_performance",
    "position_filled",
    "candidate_unresponsive",
    "duplicate",
    "other",
)

# Which status an action needs, and which it leads to.
STATUS_ACTIONS: dict[str, tuple[ApplicationStatus, ApplicationStatus]] = {
    "reject": (ApplicationStatus.ACTIVE, ApplicationStatus.REJECTED),
    "withdraw": (ApplicationStatus.ACTIVE, ApplicationStatus.WITHDRAWN),
    "hire": (ApplicationStatus.ACTIVE, ApplicationStatus.HIRED),
    "reopen": (ApplicationStatus.REJECTED, ApplicationStatus.ACTIVE),
}
PAST_TENSE = {"reject": "rejected", "withdraw": "withdrawn", "hire": "hired", "reopen": "reopened"}


def check_move(
    template: InterviewTemplate, status: str, current_stage: str, from_stage: str, to_stage: str
) -> None:
    """Refuse a stage move that is stale, not active, or not allowed by the template.

    Raises ConflictError (stale `from_stage`, application not active) or
    RuleViolationError (the template does not allow the move).
    """
    if status != ApplicationStatus.ACTIVE:
        raise ConflictError(
            f"Only active applications move between stages; this one is {status}.",
            application_status=status,
        )
    if from_stage != current_stage:
        raise ConflictError(
            f"The application is in stage '{current_stage}', not '{from_stage}'; "
            "reload it and try again.",
            errors={"from_stage": f"stale: the current stage is '{current_stage}'"},
            current_stage=current_stage,
        )
    allowed = template.allowed_moves(current_stage)
    if to_stage not in allowed:
        listed = ", ".join(f"'{s}'" for s in allowed) or "none (this is the final stage)"
        raise RuleViolationError(
            f"The template does not allow a move from '{current_stage}' to '{to_stage}'. "
            f"Allowed next stages: {listed}.",
            errors={"to_stage": f"not allowed from '{current_stage}'; allowed: {listed}"},
            allowed_stages=list(allowed),
        )


def check_status_action(template: InterviewTemplate, action: str, status: str, stage: str) -> str:
    """Return the status that `action` leads to, or raise ConflictError saying why not."""
    needed, result = STATUS_ACTIONS[action]
    if status != needed:
        raise ConflictError(
            f"Cannot {action} an application that is {status}; "
            f"only {needed} applications can be {PAST_TENSE[action]}.",
            application_status=status,
        )
    if action == "hire" and stage != template.final_stage.key:
        raise ConflictError(
            f"A hire is made from the final stage '{template.final_stage.key}'; "
            f"this application is in '{stage}'.",
            current_stage=stage,
        )
    return result


def joined_stages(stages: Iterable[str]) -> str:
    """A set of stage keys as stored (`applications.entered_stages`,
    `self_identification_counts.entered`): distinct, sorted, comma-separated. Sorted, so
    that one set is one value to group on; stage keys are snake_case, never a comma."""
    return ",".join(sorted(set(stages)))


def split_stages(joined: str) -> list[str]:
    """The stage keys of a `joined_stages` value, in its (sorted) order."""
    return joined.split(",") if joined else []


class TimeInStage(NamedTuple):
    """A named tuple, not a frozen dataclass: a list computes one per row, and a frozen
    dataclass costs three times as much to make (BENCHMARKS.md, "Issue 18: the list")."""

    days: float
    target_days: int
    over_target: bool


def time_in_stage(entered_at: datetime, now: datetime, target_days: int) -> TimeInStage:
    return TimeInStage(**time_in_stage_fields(entered_at, now, target_days))


def time_in_stage_fields(entered_at: datetime, now: datetime, target_days: int) -> dict[str, Any]:
    """`time_in_stage`'s fields as a dict, for a list that writes them straight into its
    JSON (one named tuple a row cost more than the rest of the row's time in stage)."""
    days = (now - entered_at).total_seconds() / 86400
    return {"days": round(days, 2), "target_days": target_days, "over_target": days > target_days}
