"""Scorecard rules: what an interviewer may save as a draft and what they must give to submit.

Candour with evidence: every score carries written evidence of what the
candidate said or did, so a bare number is refused at submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from service.domain.errors import RuleViolationError
from service.domain.templates import RECOMMENDATIONS, Interview, Scoring


class ScorecardState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


SCORECARD_STATES: tuple[str, ...] = tuple(s.value for s in ScorecardState)

EVIDENCE_GUIDANCE = (
    "Write what the candidate said or did, not your impression of them: quote or "
    "paraphrase their words, name the approach they took, the trade-off they saw or "
    "missed, and where they needed a hint. Compare it with the rubric's anchors and "
    "score the level the behaviour matches. Leave a competency unscored (null) if the "
    "interview gave you no evidence for it. Avoid remarks about age, family, accent, "
    "appearance, background or 'fit'; they are not evidence."
)


@dataclass(frozen=True)
class RatingInput:
    competency: str
    score: int | None
    evidence: str


def check_draft(interview: Interview, ratings: Sequence[RatingInput]) -> None:
    """A draft may be incomplete, but may only rate this interview's competencies, once each.

    Raises RuleViolationError naming each offending field.
    """
    errors = _competency_errors(interview, ratings)
    if errors:
        raise RuleViolationError(_summary(errors), errors=errors)


def check_submission(
    interview: Interview,
    scoring: Scoring,
    ratings: Sequence[RatingInput],
    recommendation: str | None,
) -> None:
    """Everything a submitted scorecard must have. Raises RuleViolationError naming each field."""
    errors = _competency_errors(interview, ratings)
    rated = {r.competency for r in ratings}
    missing = [c for c in interview.competencies if c not in rated]
    if missing:
        errors["ratings"] = (
            "rate every competency this interview assesses (score null means not "
            f"assessed); missing: {', '.join(missing)}"
        )
    elif all(r.score is None for r in ratings):
        errors["ratings"] = "score at least one competency; every score is null"
    for index, rating in enumerate(ratings):
        length = len(rating.evidence.strip())
        if rating.score is not None and length < scoring.min_evidence_chars:
            errors[f"ratings[{index}].evidence"] = (
                f"evidence for '{rating.competency}' is {length} characters; write at least "
                f"{scoring.min_evidence_chars} describing what the candidate said or did"
            )
    if recommendation is None:
        errors["recommendation"] = f"required to submit; one of: {', '.join(RECOMMENDATIONS)}"
    if errors:
        raise RuleViolationError(_summary(errors), errors=errors)


def is_late(interview_ends_at: datetime, submitted_at: datetime, late_feedback_hours: int) -> bool:
    """Feedback later than the template allows after the interview ended (a risk signal)."""
    return submitted_at - interview_ends_at > timedelta(hours=late_feedback_hours)


def _competency_errors(interview: Interview, ratings: Sequence[RatingInput]) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    assessed = ", ".join(interview.competencies)
    for index, rating in enumerate(ratings):
        field = f"ratings[{index}].competency"
        if rating.competency not in interview.competencies:
            errors[field] = (
                f"'{rating.competency}' is not assessed in this interview; it assesses: {assessed}"
            )
        elif rating.competency in seen:
            errors[field] = f"'{rating.competency}' is rated more than once"
        seen.add(rating.competency)
    return errors


def _summary(errors: dict[str, str]) -> str:
    return "The scorecard is not valid: " + "; ".join(f"{f}: {m}" for f, m in errors.items()) + "."
