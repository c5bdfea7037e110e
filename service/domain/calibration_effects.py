"""Per-interviewer results of a calibration fit: state, leniency, cross-check, wording.

Split from `calibration` (which fits) so that each stays readable: this module
turns the per-group fits into one `InterviewerEffect` per interviewer and says
in plain words what it means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse

from service.domain.calibration_models import GroupFit
from service.domain.calibration_scale import CalibrationState
from service.domain.ordinal_effects import RatingEntries, key_codes

_Floats = npt.NDArray[np.float64]
_Codes = npt.NDArray[np.integer[Any]]

# Below this share of the observed deviation kept, say the estimate is mostly prior.
LOW_SHRINKAGE_SHARE = 0.5


@dataclass(frozen=True)
class VarianceComponents:
    """Variances on the model's scale: squared score points (linear) or squared logits
    (ordinal, whose residual is the logistic π²/3). None where the data cannot
    determine the component (one interviewer, one candidate), with the reason."""

    sigma2_unit: float | None
    sigma2_interviewer: float | None
    sigma2_residual: float
    unit_reason: str | None = None
    interviewer_reason: str | None = None


@dataclass(frozen=True)
class InterviewerEffect:
    """One interviewer's leniency (points above co-panelists) and its context."""

    interviewer: str
    # Within the interviewer's connected group; None without an estimate. It is
    # applied (calibrated scores) only when `state` is "applied".
    leniency: float | None
    se: float | None  # of `leniency` against co-panelists (relative)
    se_absolute: float | None  # against a typical interviewer: fixed effects' uncertainty too
    shift: float | None  # the same effect on the model's scale (points or logits)
    shift_se: float | None  # of `shift`, absolute
    state: CalibrationState
    n_ratings: int
    n_copanelists: int  # distinct other interviewers who rated a shared unit
    connected: bool  # in the largest component of the unit–interviewer graph
    component: int  # 0 is the largest (by ratings)
    copanel_deviation: float  # the O(n) cross-check estimate (NaN without co-panelists)
    disagrees: bool  # |leniency − copanel_deviation| > 2 se
    explanation: str

    @property
    def insufficient_data(self) -> bool:
        return self.state == CalibrationState.INSUFFICIENT_DATA


# Up to this many interviewers `copanelist_counts` marks pairs in a table (16 MB at most).
COPANEL_TABLE_RATERS = 4096


def copanel_estimates(
    unit: _Codes,
    rater: _Codes,
    competency: _Codes,
    score: _Floats,
    beta: _Floats,
    lam: float,
    entry: npt.NDArray[np.intp] | None = None,
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
    `entry`: each rating's (unit, interviewer) code from `key_codes`, if already made.
    """
    n_raters = int(rater.max()) + 1
    resid = score - beta[0] - np.concatenate([[0.0], beta[1:]])[competency]
    unit_n = np.bincount(unit)
    unit_sum = np.bincount(unit, weights=resid)
    pair = key_codes(unit.astype(np.int64) * n_raters + rater)[1] if entry is None else entry
    pair_n = np.bincount(pair)
    pair_sum = np.bincount(pair, weights=resid)
    rating_unit_n = unit_n[unit]
    others_n = rating_unit_n - pair_n[pair]
    # A rating without others gets weight 0, which adds exactly nothing to the sums
    # below: the same sums as over the ratings with others, without masked copies.
    others_mean = (unit_sum[unit] - pair_sum[pair]) / np.maximum(others_n, 1)
    weight = others_n / rating_unit_n
    deviation = resid - others_mean
    # numpy's stubs say bincount returns intp even with float weights; it is float64.
    weight_sum: _Floats = np.bincount(rater, weights=weight, minlength=n_raters)  # type: ignore[assignment]
    total = np.bincount(rater, weights=weight * deviation, minlength=n_raters)
    with np.errstate(invalid="ignore", divide="ignore"):
        estimate = np.where(weight_sum > 0, total / (weight_sum + lam), np.nan)
    return estimate, weight_sum


def copanel_graph(
    n_matrix: scipy.sparse.csr_matrix[Any], rater_pair: npt.NDArray[np.intp] | None = None
) -> npt.NDArray[np.bool_] | scipy.sparse.csr_matrix[Any]:
    """Which interviewers shared at least one unit: interviewers × interviewers.

    Each pair of entries in a unit's row of `n_matrix` (a unit has a handful) marks
    its two interviewers in an interviewers² table of booleans (diagonal False): a
    quarter of the time of the boolean product NᵀN (1M ratings), which also sums
    every pair. `rater_pair`: the pairs' interviewers as `RatingEntries` has them,
    if already made. Above COPANEL_TABLE_RATERS interviewers the table would be
    large, and the sparse product is returned instead (diagonal included)."""
    n_raters = n_matrix.shape[1]
    if n_raters > COPANEL_TABLE_RATERS:
        shared = n_matrix.astype(bool).astype(np.int32)
        return scipy.sparse.csr_matrix(shared.T @ shared)
    if rater_pair is None:
        units = np.repeat(np.arange(n_matrix.shape[0]), np.diff(n_matrix.indptr))
        entries = RatingEntries.of(units, n_matrix.indices, n_raters)
        rater_pair = entries.rater_pair
    seen = np.zeros(n_raters * n_raters, dtype=bool)
    seen[rater_pair] = True
    table = seen.reshape(n_raters, n_raters)
    table |= table.T
    np.fill_diagonal(table, False)
    return table


def copanelist_counts(
    n_matrix: scipy.sparse.csr_matrix[Any],
    graph: npt.NDArray[np.bool_] | scipy.sparse.csr_matrix[Any] | None = None,
) -> _Codes:
    """Distinct other interviewers each interviewer shared at least one unit with
    (from `copanel_graph`, computed here unless given)."""
    graph = copanel_graph(n_matrix) if graph is None else graph
    if isinstance(graph, np.ndarray):
        counts: _Codes = np.count_nonzero(graph, axis=1)
        return counts
    return np.diff(graph.indptr) - 1


def interviewer_effects(
    names: Sequence[str],
    n_ratings: _Codes,
    groups: dict[int, tuple[GroupFit, _Codes]],
    variance: VarianceComponents,
    component: _Codes,
    copanel: _Floats,
    copanel_weight: _Floats,
    n_copanelists: _Codes,
) -> dict[str, InterviewerEffect]:
    """One InterviewerEffect per interviewer, with its state and explanation."""
    main_fit = groups[0][0]
    columns: dict[str, _Floats] = {
        key: np.full(len(names), np.nan)
        for key in ("leniency", "se", "se_absolute", "shift", "shift_se")
    }
    fitted = np.zeros(len(names), dtype=bool)
    for fit_c, raters in groups.values():
        for key, column in columns.items():
            column[raters] = getattr(fit_c, key)
        fitted[raters] = True
    main_estimable = variance.sigma2_interviewer is not None
    lam = main_fit.copanel_lambda
    share = copanel_weight / (copanel_weight + lam)
    # Python numbers up front (`tolist`, the same values as float()/int() of each
    # element): indexing numpy arrays one element at a time was most of this loop.
    lists = {key: column.tolist() for key, column in columns.items()}
    fitted_list, share_list, copanel_list = fitted.tolist(), share.tolist(), copanel.tolist()
    ratings_list, copanelists_list = n_ratings.tolist(), n_copanelists.tolist()
    component_list = component.tolist()
    effects: dict[str, InterviewerEffect] = {}
    for i, name in enumerate(names):
        connected = component_list[i] == 0
        if copanelists_list[i] == 0 or not fitted_list[i] or not main_estimable:
            state = CalibrationState.INSUFFICIENT_DATA
        elif connected:
            state = CalibrationState.APPLIED
        else:
            state = CalibrationState.NOT_COMPARABLE
        has = state != CalibrationState.INSUFFICIENT_DATA
        leniency, se, copanel_i = lists["leniency"][i], lists["se"][i], copanel_list[i]
        disagrees = has and abs(leniency - copanel_i) > 2.0 * se  # False where NaN
        effects[name] = InterviewerEffect(
            interviewer=name,
            leniency=leniency if has else None,
            se=se if has else None,
            se_absolute=lists["se_absolute"][i] if has else None,
            shift=lists["shift"][i] if has else None,
            shift_se=lists["shift_se"][i] if has else None,
            state=state,
            n_ratings=ratings_list[i],
            n_copanelists=copanelists_list[i],
            connected=connected,
            component=component_list[i],
            copanel_deviation=copanel_i,
            disagrees=disagrees,
            explanation=explain(
                name,
                leniency,
                se,
                ratings_list[i],
                state=state,
                reason=_insufficient_reason(copanelists_list[i], main_estimable),
                kept_share=share_list[i],
                disagrees=disagrees,
                copanel_deviation=copanel_i,
            ),
        )
    return effects


def _insufficient_reason(n_copanelists: int, main_estimable: bool) -> str:
    if n_copanelists == 0:
        return "share no candidate with another interviewer"
    if not main_estimable:
        return "are not enough to tell interviewers' habits apart"
    return "share candidates only within a group too small to compare"


def explain(
    name: str,
    leniency: float,
    se: float,
    n_ratings: int,
    *,
    state: CalibrationState = CalibrationState.APPLIED,
    reason: str = "share no candidate with another interviewer",
    kept_share: float = 1.0,
    disagrees: bool = False,
    copanel_deviation: float = math.nan,
) -> str:
    """Plain words about an interviewer's *scores*, never a judgement of the person."""
    ratings = f"{n_ratings} rating{'' if n_ratings == 1 else 's'}"
    if state == CalibrationState.INSUFFICIENT_DATA:
        return (
            f"Insufficient data: {name}'s {ratings} {reason}, so no comparison is possible "
            "yet and no adjustment is made."
        )
    decimals = 2 if se < 0.05 else 1
    size = round(abs(leniency), decimals)
    who = "co-panelists" if state == CalibrationState.APPLIED else "co-panelists in their group"
    if size == 0:
        text = f"{name} scores in line with {who} on average"
    else:
        direction = "above" if leniency > 0 else "below"
        text = f"{name} scores {size:.{decimals}f} points {direction} {who} on average"
    text += f" ({ratings}, ±{se:.{decimals}f})."
    if kept_share < LOW_SHRINKAGE_SHARE:
        text += (
            f" With few ratings the adjustment keeps only {kept_share:.0%} of the "
            "observed difference; the share grows with more ratings."
        )
    if state == CalibrationState.NOT_COMPARABLE:
        text += (
            " Not comparable with the main pool: these ratings share no candidate with it, "
            "so no adjustment is made and the raw scores are shown."
        )
    if disagrees:
        text += (
            f" A simple co-panel comparison gives {copanel_deviation:+.{decimals}f} "
            "instead; the panels' make-up matters here, so read with care."
        )
    return text
