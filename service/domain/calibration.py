"""Interviewer calibration: how much each interviewer's scores run high or low.

Model (docs/scoring.md, "Calibration"): each submitted competency score is

    score = intercept + competency effect + unit level + interviewer leniency + noise

with the unit a candidate × competency cell (default) or a candidate, and unit
levels and leniencies crossed random effects fitted by REML
(`crossed_effects`). Leniency is the interviewer's BLUP: their observed
deviation from co-panelists, shrunk toward zero by an amount that shrinks as
their track record grows. Unshrunk corrections can be worse than raw means for
interviewers with a few ratings, which is why we do not use them.

Alongside the model we report, per interviewer:
- the connected component of the unit–interviewer graph. Leniency is only
  identified within a component; outside the largest one the estimate rests
  on the assumption that each group scores like the main pool on average;
- an O(n) co-panel deviation estimate, the explainable cross-check, and a
  flag where it and the BLUP differ by more than 2 standard errors;
- a plain-words explanation that describes the scores, never the person.

`refresh` recomputes BLUPs with variance components held fixed from an
earlier fit: one linear solve instead of an optimisation, for the nightly job.

Everything is vectorised over ratings; loops run only over interviewers or
unit sizes. Results do not depend on the order of the input rows: rows are
put in a canonical order first, and `data_digest` hashes that order.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from service.domain.crossed_effects import CrossedDesign, MixedModelSolution, fit_reml
from service.domain.errors import RuleViolationError
from service.domain.reliability import icc_oneway, krippendorff_alpha_interval

UnitLevel = Literal["cell", "candidate"]
_Floats = npt.NDArray[np.float64]
_Codes = npt.NDArray[np.integer[Any]]
UNIT_LEVELS = ("cell", "candidate")

# A component outside the main pool with fewer interviewers or ratings than
# this says nothing useful about leniency: we show "insufficient data".
MIN_COMPONENT_INTERVIEWERS = 2
MIN_COMPONENT_RATINGS = 20
# Below this share of the observed deviation kept, say the estimate is mostly prior.
LOW_SHRINKAGE_SHARE = 0.5


class CalibrationDataError(RuleViolationError):
    """Ratings that cannot be calibrated (empty, malformed, non-finite)."""


@dataclass(frozen=True)
class Rating:
    """One submitted competency score.

    `unit` identifies what was rated: a candidate (or application) id. With
    unit_level="cell" the model's unit is (unit, competency), so passing
    f"{application_id}:{competency}" here gives the same cells.
    """

    unit: str
    interviewer: str
    competency: str
    score: float


@dataclass(frozen=True, eq=False)
class RatingTable:
    """Ratings as parallel columns: the fast path for long histories."""

    unit: np.ndarray
    interviewer: np.ndarray
    competency: np.ndarray
    score: np.ndarray

    @classmethod
    def from_ratings(cls, ratings: Sequence[Rating]) -> RatingTable:
        return cls(
            unit=np.array([r.unit for r in ratings], dtype=str),
            interviewer=np.array([r.interviewer for r in ratings], dtype=str),
            competency=np.array([r.competency for r in ratings], dtype=str),
            score=np.array([r.score for r in ratings], dtype=float),
        )


@dataclass(frozen=True)
class VarianceComponents:
    """Variances in squared score points."""

    sigma2_unit: float
    sigma2_interviewer: float
    sigma2_residual: float


@dataclass(frozen=True)
class InterviewerEffect:
    """One interviewer's leniency (points above co-panelists) and its context."""

    interviewer: str
    leniency: float  # BLUP; adjusted score = raw − leniency
    se: float  # √(σ̂²[C⁻¹]), conditional on the fixed effects as in lme4
    n_ratings: int
    n_copanelists: int  # distinct other interviewers who rated a shared unit
    connected: bool  # in the largest component of the unit–interviewer graph
    component: int  # 0 is the largest (by ratings)
    copanel_deviation: float  # the O(n) cross-check estimate (NaN without co-panelists)
    disagrees: bool  # |leniency − copanel_deviation| > 2 se
    insufficient_data: bool
    explanation: str


@dataclass(frozen=True)
class CalibrationFit:
    components: VarianceComponents
    intercept: float  # level of the first competency (alphabetical)
    fixed_effects: dict[str, float]  # competency -> difference from the first
    reml_criterion: float  # −2 log restricted likelihood at the θ used
    effects: dict[str, InterviewerEffect]
    n_ratings: int
    n_units: int
    n_components: int
    icc1: float  # one-way ICC(1) on raw scores, unit = target
    icck: float  # ICC(1,k) with k = k0 (see `reliability`)
    icc_k: float  # the k0 behind icck
    krippendorff_alpha: float  # interval metric, units × interviewers
    unit_level: UnitLevel
    data_digest: str
    fitted_with: Literal["reml", "refresh"]


def fit(
    ratings: Sequence[Rating] | RatingTable, *, unit_level: UnitLevel = "cell"
) -> CalibrationFit:
    """Fit variance components by REML and estimate every interviewer's leniency."""
    return fit_arrays(**_encode(ratings), unit_level=unit_level)


def refresh(
    ratings: Sequence[Rating] | RatingTable,
    components: VarianceComponents,
    *,
    unit_level: UnitLevel = "cell",
) -> CalibrationFit:
    """Recompute leniencies with variance components held fixed from an earlier fit."""
    return fit_arrays(**_encode(ratings), unit_level=unit_level, components=components)


def fit_arrays(
    unit_idx: np.ndarray,
    interviewer_idx: np.ndarray,
    competency_idx: np.ndarray,
    score: np.ndarray,
    *,
    unit_level: UnitLevel = "cell",
    interviewer_names: Sequence[str] | None = None,
    competency_names: Sequence[str] | None = None,
    unit_names: Sequence[str] | None = None,
    components: VarianceComponents | None = None,
) -> CalibrationFit:
    """Calibrate from integer-coded columns (codes index the optional name lists).

    With `components`, skip REML and hold them fixed (a refresh).

    Raises CalibrationDataError for empty, mismatched or non-finite input.
    """
    columns = _validated_columns(unit_idx, interviewer_idx, competency_idx, score, unit_level)
    unit_idx, interviewer_idx, competency_idx, score = columns
    # Canonical row order, so that neither the digest nor any float sum
    # depends on how the caller happened to order the rows.
    order = np.lexsort((score, competency_idx, interviewer_idx, unit_idx))
    unit_idx, interviewer_idx, competency_idx, score = (
        unit_idx[order],
        interviewer_idx[order],
        competency_idx[order],
        score[order],
    )
    digest = _digest(
        unit_idx,
        interviewer_idx,
        competency_idx,
        score,
        unit_names,
        interviewer_names,
        competency_names,
    )

    rater_codes, rater = np.unique(interviewer_idx, return_inverse=True)
    competency_codes, competency = np.unique(competency_idx, return_inverse=True)
    if unit_level == "cell":
        unit_key = unit_idx * (int(competency.max()) + 1) + competency
    else:
        unit_key = unit_idx
    _, unit = np.unique(unit_key, return_inverse=True)
    names = _names(interviewer_names, rater_codes)
    competencies = _names(competency_names, competency_codes)

    try:
        design = CrossedDesign(unit, rater, competency, score)
    except ValueError as error:
        raise CalibrationDataError(str(error)) from error
    fitted_with: Literal["reml", "refresh"]
    if components is None:
        solution = fit_reml(design)
        fitted_with = "reml"
    else:
        solution = _solve_fixed(design, components)
        fitted_with = "refresh"
    variance = VarianceComponents(
        sigma2_unit=solution.sigma2 * solution.theta_unit**2,
        sigma2_interviewer=solution.sigma2 * solution.theta_rater**2,
        sigma2_residual=solution.sigma2,
    )

    component, n_components = _rater_components(design)
    copanel, copanel_weight = copanel_estimates(
        unit, rater, competency, score, solution.beta, 1.0 / max(solution.theta_rater**2, 1e-300)
    )
    n_copanelists = _copanelist_counts(design)
    reliability = icc_oneway(unit, score)
    alpha = krippendorff_alpha_interval(unit, score)
    effects = _effects(
        names, design, solution, variance, component, copanel, copanel_weight, n_copanelists
    )
    beta = solution.beta
    return CalibrationFit(
        components=variance,
        intercept=float(beta[0]),
        fixed_effects={competencies[0]: 0.0}
        | {name: float(b) for name, b in zip(competencies[1:], beta[1:], strict=False)},
        reml_criterion=solution.reml_criterion,
        effects=effects,
        n_ratings=design.n,
        n_units=design.n_units,
        n_components=n_components,
        icc1=reliability.icc1,
        icck=reliability.icck,
        icc_k=reliability.k,
        krippendorff_alpha=alpha,
        unit_level=unit_level,
        data_digest=digest,
        fitted_with=fitted_with,
    )


def _solve_fixed(design: CrossedDesign, components: VarianceComponents) -> MixedModelSolution:
    """BLUPs at the θ implied by earlier components, with σ² held at its old value."""
    values = (components.sigma2_unit, components.sigma2_interviewer, components.sigma2_residual)
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise CalibrationDataError(f"variance components must be positive, got {components}")
    sigma2 = components.sigma2_residual
    return design.solve(
        math.sqrt(components.sigma2_unit / sigma2),
        math.sqrt(components.sigma2_interviewer / sigma2),
        sigma2=sigma2,
    )


def _rater_components(design: CrossedDesign) -> tuple[np.ndarray, int]:
    """Component of each interviewer in the unit–interviewer graph, 0 = most ratings."""
    u, r = design.n_units, design.n_raters
    incidence = design.n_matrix.tocoo()
    graph = scipy.sparse.coo_matrix(
        (np.ones(incidence.nnz), (incidence.row, u + incidence.col)), shape=(u + r, u + r)
    )
    n_components, labels = connected_components(graph, directed=False)
    rater_labels = labels[u:]
    ratings = np.bincount(rater_labels, weights=design.d_rater, minlength=n_components)
    rank = np.empty(n_components, dtype=np.int64)
    rank[np.argsort(-ratings, kind="stable")] = np.arange(n_components)
    return rank[rater_labels], n_components


def copanel_estimates(
    unit: _Codes,
    rater: _Codes,
    competency: _Codes,
    score: _Floats,
    beta: _Floats,
    lam: float,
) -> tuple[_Floats, _Floats]:
    """The O(n) cross-check: shrunk mean deviation from the other panelists on a unit.

    `unit`, `rater`, `competency` are dense integer codes, `beta` the fixed
    effects (intercept, then competency contrasts), `lam` = σ²/σ_v².

    dev = (score − mean of the *other* interviewers' scores on the same unit),
    after removing competency effects. Leave-one-out deviations are inflated
    by k/(k−1) against deviations from the full unit mean, and carry only
    (k−1)/k of a rating's information once the unit level is absorbed, so each
    is weighted by w = k_others/k:  leniency ≈ Σ w·dev / (Σ w + λ), λ = σ²/σ_v².
    Returns the estimate and Σ w per interviewer (0 without co-panelists).
    """
    n_raters = int(rater.max()) + 1
    resid = score - beta[0] - np.concatenate([[0.0], beta[1:]])[competency]
    unit_n = np.bincount(unit)
    unit_sum = np.bincount(unit, weights=resid)
    _, pair = np.unique(unit * n_raters + rater, return_inverse=True)
    pair_n = np.bincount(pair)
    pair_sum = np.bincount(pair, weights=resid)
    others_n = unit_n[unit] - pair_n[pair]
    has = others_n > 0
    others_mean = (unit_sum[unit] - pair_sum[pair])[has] / others_n[has]
    weight = others_n[has] / unit_n[unit][has]
    deviation = resid[has] - others_mean
    # numpy's stubs say bincount returns intp even with float weights; it is float64.
    weight_sum: _Floats = np.bincount(rater[has], weights=weight, minlength=n_raters)  # type: ignore[assignment]
    total = np.bincount(rater[has], weights=weight * deviation, minlength=n_raters)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(weight_sum > 0, total / (weight_sum + lam), np.nan)
    return estimate, weight_sum


def _copanelist_counts(design: CrossedDesign) -> np.ndarray:
    """Distinct other interviewers each interviewer shared at least one unit with."""
    shared = design.n_matrix.astype(bool).astype(np.int32)
    # scipy-stubs type sparse @ sparse as sparse-or-dense, so .tocsr() is unknown on it.
    co: scipy.sparse.csr_matrix[Any] = (shared.T @ shared).tocsr()  # type: ignore[union-attr,misc,assignment]
    return np.diff(co.indptr) - 1


def _effects(
    names: Sequence[str],
    design: CrossedDesign,
    solution: MixedModelSolution,
    variance: VarianceComponents,
    component: _Codes,
    copanel: _Floats,
    copanel_weight: _Floats,
    n_copanelists: _Codes,
) -> dict[str, InterviewerEffect]:
    """One InterviewerEffect per interviewer, with its explanation."""
    se = np.sqrt(solution.rater_variance)
    leniency = solution.rater_effects
    comp_raters = np.bincount(component)
    comp_ratings = np.bincount(component, weights=design.d_rater)
    tiny = (comp_raters < MIN_COMPONENT_INTERVIEWERS) | (comp_ratings < MIN_COMPONENT_RATINGS)
    disagrees = np.abs(leniency - copanel) > 2.0 * se  # False where copanel is NaN
    lam = variance.sigma2_residual / max(variance.sigma2_interviewer, 1e-300)
    share = copanel_weight / (copanel_weight + lam)
    effects: dict[str, InterviewerEffect] = {}
    for i, name in enumerate(names):
        connected = bool(component[i] == 0)
        insufficient = bool(n_copanelists[i] == 0 or (not connected and tiny[component[i]]))
        effects[name] = InterviewerEffect(
            interviewer=name,
            leniency=float(leniency[i]),
            se=float(se[i]),
            n_ratings=int(design.d_rater[i]),
            n_copanelists=int(n_copanelists[i]),
            connected=connected,
            component=int(component[i]),
            copanel_deviation=float(copanel[i]),
            disagrees=bool(disagrees[i]),
            insufficient_data=insufficient,
            explanation=explain(
                name,
                float(leniency[i]),
                float(se[i]),
                int(design.d_rater[i]),
                connected=connected,
                insufficient_data=insufficient,
                kept_share=float(share[i]),
                disagrees=bool(disagrees[i]),
                copanel_deviation=float(copanel[i]),
            ),
        )
    return effects


def explain(
    name: str,
    leniency: float,
    se: float,
    n_ratings: int,
    *,
    connected: bool = True,
    insufficient_data: bool = False,
    kept_share: float = 1.0,
    disagrees: bool = False,
    copanel_deviation: float = math.nan,
) -> str:
    """Plain words about an interviewer's *scores*, never a judgement of the person."""
    ratings = f"{n_ratings} rating{'' if n_ratings == 1 else 's'}"
    if insufficient_data:
        return (
            f"Insufficient data: {name}'s {ratings} share no candidate with the "
            "main pool of interviewers, so no comparison is possible yet."
        )
    decimals = 2 if se < 0.05 else 1
    size = round(abs(leniency), decimals)
    if size == 0:
        text = f"{name} scores in line with co-panelists on average"
    else:
        direction = "above" if leniency > 0 else "below"
        text = f"{name} scores {size:.{decimals}f} points {direction} co-panelists on average"
    text += f" ({ratings}, ±{se:.{decimals}f})."
    if kept_share < LOW_SHRINKAGE_SHARE:
        text += (
            f" With few ratings the adjustment keeps only {kept_share:.0%} of the "
            "observed difference; the share grows with more ratings."
        )
    if not connected:
        text += (
            " These ratings share no candidate with the main pool, so the adjustment "
            "assumes this group scores like the main pool on average."
        )
    if disagrees:
        text += (
            f" A simple co-panel comparison gives {copanel_deviation:+.{decimals}f} "
            "instead; the panels' make-up matters here, so read with care."
        )
    return text


def _encode(ratings: Sequence[Rating] | RatingTable) -> dict[str, Any]:
    """Integer codes in sorted-label order, so codes are canonical too."""
    table = ratings if isinstance(ratings, RatingTable) else RatingTable.from_ratings(ratings)
    if len(table.score) == 0:
        raise CalibrationDataError("no ratings to calibrate")
    unit_names, unit_idx = np.unique(table.unit, return_inverse=True)
    interviewer_names, interviewer_idx = np.unique(table.interviewer, return_inverse=True)
    competency_names, competency_idx = np.unique(table.competency, return_inverse=True)
    return {
        "unit_idx": unit_idx,
        "interviewer_idx": interviewer_idx,
        "competency_idx": competency_idx,
        "score": table.score,
        "unit_names": unit_names.tolist(),
        "interviewer_names": interviewer_names.tolist(),
        "competency_names": competency_names.tolist(),
    }


def _validated_columns(
    unit_idx: npt.ArrayLike,
    interviewer_idx: npt.ArrayLike,
    competency_idx: npt.ArrayLike,
    score: npt.ArrayLike,
    unit_level: str,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], _Floats]:
    if unit_level not in UNIT_LEVELS:
        raise CalibrationDataError(f"unit_level must be one of {UNIT_LEVELS}, got {unit_level!r}")
    codes = [
        np.asarray(c, dtype=np.int64).ravel() for c in (unit_idx, interviewer_idx, competency_idx)
    ]
    score = np.asarray(score, dtype=float).ravel()
    if not len(score):
        raise CalibrationDataError("no ratings to calibrate")
    if any(len(c) != len(score) for c in codes):
        raise CalibrationDataError(
            "unit, interviewer, competency and score columns differ in length"
        )
    if any(c.min() < 0 for c in codes):
        raise CalibrationDataError("codes must be non-negative integers")
    bad = np.flatnonzero(~np.isfinite(score))
    if len(bad):
        raise CalibrationDataError(f"score in row {bad[0]} is not a finite number")
    return codes[0], codes[1], codes[2], score


def _digest(
    unit_idx: npt.NDArray[Any],
    interviewer_idx: npt.NDArray[Any],
    competency_idx: npt.NDArray[Any],
    score: npt.NDArray[Any],
    *name_lists: Sequence[str] | None,
) -> str:
    """sha256 of the canonically ordered rows and the names the codes stand for."""
    h = hashlib.sha256()
    for column in (unit_idx, interviewer_idx, competency_idx, score):
        h.update(np.ascontiguousarray(column).tobytes())
    for names in name_lists:
        h.update(b"\x00".join(str(n).encode() for n in (names or [])) + b"\x01")
    return h.hexdigest()


def _names(names: Sequence[str] | None, codes: np.ndarray) -> list[str]:
    return [str(c) for c in codes] if names is None else [str(names[c]) for c in codes]
