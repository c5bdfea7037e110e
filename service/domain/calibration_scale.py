"""Calibrated scores on the rubric's scale, and whether a calibration applies at all.

A calibrated score is *what a typical interviewer would have given*: the
expected level a typical interviewer (shift 0) gives to a performance that this
interviewer rated at `raw`. Both models describe a rating as a latent value
falling between thresholds:

- linear model: the latent value is on the score scale, `z = level + shift + e`,
  and a rating k means z lies between the midpoints to the neighbouring levels;
- ordinal model: the latent value is on the logit scale with the fitted
  thresholds τ.

The interviewer's rating k says the typical interviewer's latent value lies in
(τ_{k−1} − shift, τ_k − shift]; spread over that interval by the pool's latent
distribution for the competency (normal with `latent_sd`, centred on the
competency's mean), the typical interviewer's levels get probabilities, and the
calibrated score is their expected level. So it never leaves the scale, it
equals the raw score when the shift is 0, and it rises with the raw score.

Pure Python (math only): the assessment imports it without numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

# The rater models `calibration` can fit (setting CALIBRATION_MODEL).
CalibrationModel = Literal["linear", "ordinal"]
MODELS: tuple[str, ...] = ("linear", "ordinal")


class CalibrationState(StrEnum):
    """Whether an interviewer's calibration is applied to their scores."""

    APPLIED = "applied"  # in the main pool: calibrated = typical interviewer's score
    NOT_COMPARABLE = "not_comparable"  # no shared candidate with the main pool: raw shown
    INSUFFICIENT_DATA = "insufficient_data"  # too little data to estimate: raw shown
    NOT_FITTED = "not_fitted"  # no stored calibration includes them yet: raw shown


CALIBRATION_STATES: tuple[str, ...] = tuple(s.value for s in CalibrationState)

STATE_NOTES = {
    CalibrationState.NOT_COMPARABLE: (
        "Not comparable with the main pool: these ratings share no candidate with the "
        "main pool of interviewers, so the data cannot tell a scoring habit from stronger "
        "or weaker candidates; the raw score is shown."
    ),
    CalibrationState.INSUFFICIENT_DATA: (
        "Insufficient data to calibrate this interviewer; the raw score is shown."
    ),
    CalibrationState.NOT_FITTED: (
        "No calibration yet for this interviewer; the calibrated score equals the raw score."
    ),
}


@dataclass(frozen=True)
class RatingScale:
    """How the fit's latent scale maps onto the rubric's levels."""

    levels: tuple[float, ...]  # the rated levels, ascending (1, 2, 3, 4)
    thresholds: tuple[float, ...]  # latent boundaries between consecutive levels
    latent_sd: float  # spread of a typical interviewer's latent values within a competency
    competency_means: Mapping[str, float]  # latent centre per competency

    def to_dict(self) -> dict[str, object]:
        return {
            "levels": list(self.levels),
            "thresholds": list(self.thresholds),
            "latent_sd": self.latent_sd,
            "competency_means": dict(self.competency_means),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RatingScale:
        levels = data["levels"]
        thresholds = data["thresholds"]
        means = data["competency_means"]
        assert isinstance(levels, Sequence) and isinstance(thresholds, Sequence)
        assert isinstance(means, Mapping)
        return cls(
            levels=tuple(float(x) for x in levels),
            thresholds=tuple(float(x) for x in thresholds),
            latent_sd=float(data["latent_sd"]),  # type: ignore[arg-type]
            competency_means={str(k): float(v) for k, v in means.items()},
        )


def typical_score(raw: float, shift: float, competency: str, scale: RatingScale) -> float:
    """The expected level a typical interviewer gives where this one gave `raw`."""
    levels = scale.levels
    k = min(range(len(levels)), key=lambda i: abs(levels[i] - raw))
    cuts = (-math.inf, *scale.thresholds, math.inf)
    means = scale.competency_means
    centre = means.get(competency, math.fsum(means.values()) / len(means) if means else 0.0)
    low, high = cuts[k] - shift, cuts[k + 1] - shift
    weights = []
    for j in range(len(levels)):
        a, b = max(low, cuts[j]), min(high, cuts[j + 1])
        weights.append(_mass(a, b, centre, scale.latent_sd) if a < b else 0.0)
    total = math.fsum(weights)
    if total <= 0.0:
        # The interval lies far in a tail: the level whose latent interval is nearest.
        middle = high if math.isinf(low) else low if math.isinf(high) else (low + high) / 2
        return levels[sum(middle > c for c in scale.thresholds)]
    value = math.fsum(w * level for w, level in zip(weights, levels, strict=True)) / total
    return min(max(value, levels[0]), levels[-1])


def nearest_level(value: float, levels: Sequence[int]) -> int:
    """The rubric level a calibrated score reads as (halves round up)."""
    return min(levels, key=lambda level: (abs(level - value), -level))


def _mass(a: float, b: float, centre: float, sd: float) -> float:
    """P(a < Z ≤ b) for Z ~ N(centre, sd²), accurate in either tail."""
    za, zb = (a - centre) / sd, (b - centre) / sd
    if za > 0:
        return 0.5 * (math.erfc(za / math.sqrt(2)) - math.erfc(zb / math.sqrt(2)))
    return 0.5 * (math.erfc(-zb / math.sqrt(2)) - math.erfc(-za / math.sqrt(2)))
