"""The plain inputs of the assessment: one application's submitted scorecards, its loop,
its process deviations and its interviewers' stored calibration.

Their own module so that `assessment` and `assessment_flags` both read them
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.calibration_scale import RatingScale


@dataclass(frozen=True)
class RatingIn:
    competency: str
    score: int | None  # None: not assessed in this interview
    evidence: str


@dataclass(frozen=True)
class ScorecardIn:
    """The latest revision of one submitted scorecard."""

    scorecard_id: int
    interview_id: int
    interview_key: str
    interviewer_id: int
    interviewer_name: str
    recommendation: str
    summary: str
    ratings: tuple[RatingIn, ...]
    submitted_at: datetime
    late: bool
    revision: int
    after_seeing_others: bool  # any revision (incl. the first) written after reading others
    warnings: tuple[
        dict[str, Any], ...
    ] = ()  # stored language warnings: phrase, category, suggestion, field


@dataclass(frozen=True)
class InterviewIn:
    interview_id: int
    interview_key: str
    interviewer_id: int
    interviewer_name: str
    status: str  # "scheduled", "completed", "cancelled" or "no_show"
    starts_at: datetime
    scorecard_state: str  # "missing", "draft" or "submitted"


@dataclass(frozen=True)
class DeviationIn:
    kind: str  # "skipped", "added" or "overran"
    interview_key: str
    interview_id: int | None
    actor_name: str | None
    reason: str
    at: datetime


@dataclass(frozen=True)
class LeniencyIn:
    """An interviewer's stored calibration (see `calibration.InterviewerEffect`)."""

    interviewer_id: int
    leniency: float | None  # points above co-panelists (None: no estimate)
    se: float | None
    n_ratings: int
    connected: bool
    explanation: str
    # `calibration_scale.CalibrationState` value: only "applied" changes scores.
    state: str = "applied"
    shift: float | None = None  # on the fit's latent scale; None: use `leniency`
    # The run's mapping onto the rubric; None (runs before v2): raw − leniency, kept in the scale.
    scale: RatingScale | None = None
