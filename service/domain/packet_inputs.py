"""The plain inputs of the packet: one application's facts as stored when it is requested.

Frozen data, loaded by the use case and handed to `service.domain.packet.build_packet`,
which shapes (and, for blind review, redacts) everything the packet and the
assessment page show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.assessment_inputs import (
    DeviationIn,
    InterviewIn,
    LeniencyIn,
    RatingIn,
    ScorecardIn,
)
from service.domain.templates import InterviewTemplate


@dataclass(frozen=True)
class RoleIn:
    title: str
    team: str
    hiring_manager: str  # the requisition's hiring manager's name


@dataclass(frozen=True)
class CandidateIn:
    name: str
    email: str
    phone: str
    links: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class ApplicationIn:
    id: int
    stage: str
    status: str
    anonymous_code: str  # `domain.packet.anonymous_code`, keyed by the deployment's secret


@dataclass(frozen=True)
class RevisionIn:
    """One submitted revision of a scorecard."""

    number: int
    created_at: datetime
    reason: str  # why it was amended; empty for the first
    recommendation: str
    after_seeing_others: bool
    summary: str = ""
    ratings: tuple[RatingIn, ...] = ()  # what this revision scored, to show what changed


@dataclass(frozen=True)
class ScorecardHistoryIn:
    """A submitted scorecard's interview time-box and length, its revisions, and when its
    author first read the panel's feedback."""

    scorecard_id: int
    duration_minutes: int
    actual_minutes: int | None
    first_saw_others_at: datetime | None
    revisions: tuple[RevisionIn, ...]


@dataclass(frozen=True)
class StageChangeIn:
    kind: str  # "applied", "moved", "reopened", ...
    from_stage: str | None
    to_stage: str
    at: datetime
    actor_name: str | None
    reason: str


@dataclass(frozen=True)
class CalibrationRunIn:
    """The stored calibration run whose leniencies the packet uses (the latest one)."""

    run_id: int
    fitted_at: datetime


@dataclass(frozen=True)
class PacketInputs:
    template: InterviewTemplate
    role: RoleIn
    candidate: CandidateIn
    application: ApplicationIn
    scorecards: tuple[ScorecardIn, ...]  # submitted, latest revision each
    interviews: tuple[InterviewIn, ...]
    deviations: tuple[DeviationIn, ...]
    leniencies: Mapping[int, LeniencyIn]  # by interviewer id, from `calibration`
    calibration: CalibrationRunIn | None  # None: no run stored yet
    histories: Mapping[int, ScorecardHistoryIn]  # by scorecard id
    timeline: tuple[StageChangeIn, ...]  # oldest first
    # The latest decision as the decisions code shapes it (ISO dates), or None.
    decision: Mapping[str, Any] | None
    now: datetime  # the clock of the assessment's time-based flags
