"""The two rater models behind `calibration`, fitted on one connected group of ratings.

- "linear": the crossed random-effects linear mixed model fitted by REML
  (`crossed_effects`), leniency in score points;
- "ordinal": the cumulative-logit model with the same crossed random effects
  (`ordinal_effects`), shifts in logits, turned into score points as the mean
  difference, over the interviewer's own ratings, between the expected score
  at the fitted latent value and at that value without the interviewer's shift.

Both return a `GroupFit`: per-interviewer effects in points and on the model's
own scale, the variance components, and the `RatingScale` that maps ratings to
what a typical interviewer would have given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.domain.calibration_scale import CalibrationModel, RatingScale
from service.domain.crossed_effects import LOG_THETA_BOUNDS, CrossedDesign, fit_reml
from service.domain.ordinal_effects import (
    NEGLIGIBLE_VARIANCE,
    OrdinalDesign,
    RatingEntries,
    level_codes,
)

LOGISTIC_VARIANCE = math.pi**2 / 3  # the ordinal model's residual, fixed by its scale
_Floats = npt.NDArray[np.float64]
OrdinalData = tuple[_Floats, OrdinalDesign]  # a group's score levels and ordinal design


@dataclass(frozen=True, eq=False)
class GroupFit:
    leniency: _Floats  # points above co-panelists (relative)
    se: _Floats  # of `leniency`, conditional on the fixed effects (relative figure)
    se_absolute: _Floats  # including the fixed effects' uncertainty (against a typical rater)
    shift: _Floats  # on the model's scale: points (linear) or logits (ordinal)
    shift_se: _Floats  # of `shift`, absolute (fixed effects' uncertainty included)
    sigma2_unit: float
    sigma2_interviewer: float
    sigma2_residual: float
    criterion: float  # REML (linear) or Laplace (ordinal) −2 log likelihood
    intercept: float | None  # linear only; the ordinal model has thresholds instead
    contrasts: _Floats  # competency effects against the first, on the model's scale
    scale: RatingScale
    copanel_beta: _Floats  # intercept and competency contrasts in points, for the cross-check
    copanel_lambda: float  # σ²/σ_v² on the model's scale
    n_evaluations: int


def fit_group(
    model: CalibrationModel,
    unit: np.ndarray,
    rater: np.ndarray,
    group: np.ndarray,
    score: np.ndarray,
    competency_names: Sequence[str],
    *,
    variances: tuple[float | None, float | None, float | None] | None = None,
    estimate_unit: bool = True,
    estimate_rater: bool = True,
    start: tuple[_Floats, _Floats, _Floats] | None = None,
    design: OrdinalData | None = None,
) -> GroupFit:
    """Fit one connected group (dense codes). `variances` = (σ_u², σ_v², σ²) held fixed.

    `start`: the ordinal model's (thresholds, group effects, shifts) from an earlier
    fit, where its Newton iterations start (the linear model solves directly).
    `design`: the ordinal model's `ordinal_data` of these columns, if already made.
    Raises ValueError when the group cannot be fitted (too few ratings or levels).
    """
    if model == "ordinal":
        return _fit_ordinal(
            design or ordinal_data(unit, rater, group, score),
            group,
            score,
            competency_names,
            variances,
            estimate_unit,
            estimate_rater,
            start,
        )
    return _fit_linear(
        unit, rater, group, score, competency_names, variances, estimate_unit, estimate_rater
    )


def _fit_linear(
    unit: np.ndarray,
    rater: np.ndarray,
    group: np.ndarray,
    score: np.ndarray,
    competency_names: Sequence[str],
    variances: tuple[float | None, float | None, float | None] | None,
    estimate_unit: bool,
    estimate_rater: bool,
) -> GroupFit:
    design = CrossedDesign(unit, rater, group, score)
    if variances is None:
        solution = fit_reml(design, estimate_unit=estimate_unit, estimate_rater=estimate_rater)
        sigma2_fixed = None
    else:
        s2u, s2v, s2e = variances
        if s2e is None or not s2e > 0:
            raise ValueError("a refresh needs a positive residual variance")
        floor = math.exp(LOG_THETA_BOUNDS[0])
        theta_u = math.sqrt(s2u / s2e) if s2u else floor
        theta_v = math.sqrt(s2v / s2e) if s2v else floor
        solution = design.solve(theta_u, theta_v, sigma2=s2e)
        sigma2_fixed = s2e
    sigma2 = solution.sigma2 if sigma2_fixed is None else sigma2_fixed
    s2u = sigma2 * solution.theta_unit**2
    s2v = sigma2 * solution.theta_rater**2
    beta = solution.beta
    levels = np.unique(score)
    means = beta[0] + np.concatenate([[0.0], beta[1:]])
    return GroupFit(
        leniency=solution.rater_effects,
        se=np.sqrt(solution.rater_variance),
        se_absolute=np.sqrt(solution.rater_variance_absolute),
        shift=solution.rater_effects,
        shift_se=np.sqrt(solution.rater_variance_absolute),
        sigma2_unit=s2u,
        sigma2_interviewer=s2v,
        sigma2_residual=sigma2,
        criterion=solution.reml_criterion,
        intercept=float(beta[0]),
        contrasts=beta[1:],
        scale=RatingScale(
            levels=tuple(float(x) for x in levels),
            thresholds=tuple(float(x) for x in (levels[1:] + levels[:-1]) / 2),
            latent_sd=math.sqrt(s2u + sigma2),
            competency_means={
                name: float(m) for name, m in zip(competency_names, means, strict=True)
            },
        ),
        copanel_beta=beta,
        copanel_lambda=1.0 / max(solution.theta_rater**2, 1e-300),
        n_evaluations=solution.n_evaluations,
    )


def _fit_ordinal(
    data: OrdinalData,
    group: np.ndarray,
    score: np.ndarray,
    competency_names: Sequence[str],
    variances: tuple[float | None, float | None, float | None] | None,
    estimate_unit: bool,
    estimate_rater: bool,
    start: tuple[_Floats, _Floats, _Floats] | None,
) -> GroupFit:
    levels, design = data
    if variances is None:
        solution = design.fit(
            estimate_unit=estimate_unit,
            estimate_rater=estimate_rater,
            start=start,
            score_levels=levels,
        )
    else:
        s2u, s2v, _ = variances
        solution = design.fit(
            s2u or NEGLIGIBLE_VARIANCE,
            s2v or NEGLIGIBLE_VARIANCE,
            start=start,
            score_levels=levels,
        )
    tau, v = solution.thresholds, solution.rater_effects
    assert solution.rater_lift is not None and solution.rater_slope is not None
    leniency, mean_slope = solution.rater_lift, solution.rater_slope
    copanel_beta, copanel_lambda = ordinal_copanel(group, score, solution.sigma2_rater)
    return GroupFit(
        leniency=leniency,
        se=np.sqrt(solution.rater_variance_relative) * mean_slope,
        se_absolute=np.sqrt(solution.rater_variance) * mean_slope,
        shift=v,
        shift_se=np.sqrt(solution.rater_variance),
        sigma2_unit=solution.sigma2_unit,
        sigma2_interviewer=solution.sigma2_rater,
        sigma2_residual=LOGISTIC_VARIANCE,
        criterion=solution.laplace_criterion,
        intercept=None,
        contrasts=solution.beta[1:],
        scale=RatingScale(
            levels=tuple(float(x) for x in levels),
            thresholds=tuple(float(x) for x in tau),
            latent_sd=math.sqrt(solution.sigma2_unit + LOGISTIC_VARIANCE),
            competency_means={
                name: float(m) for name, m in zip(competency_names, solution.beta, strict=True)
            },
        ),
        copanel_beta=copanel_beta,
        copanel_lambda=copanel_lambda,
        n_evaluations=solution.n_iterations,
    )


def ordinal_data(
    unit: np.ndarray,
    rater: np.ndarray,
    group: np.ndarray,
    score: np.ndarray,
    entries: RatingEntries | None = None,
) -> OrdinalData:
    """The score levels and the `OrdinalDesign` of a group's ratings (`entries`: their
    `RatingEntries`, if already made)."""
    levels, code = level_codes(score)
    return levels, OrdinalDesign(unit, rater, group, code, entries=entries)


def ordinal_copanel(
    group: np.ndarray, score: np.ndarray, sigma2_rater: float
) -> tuple[_Floats, float]:
    """An ordinal fit's inputs to the co-panel cross-check (`GroupFit.copanel_beta` and
    `copanel_lambda`): the first group's mean score and each other group's difference from
    it, in points (the data's alone), and σ²/σ_v² on the logit scale."""
    group_mean = np.bincount(group, score) / np.bincount(group).astype(float)
    beta = np.concatenate([[group_mean[0]], group_mean[1:] - group_mean[0]])
    return beta, LOGISTIC_VARIANCE / sigma2_rater
