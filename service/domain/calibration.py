"""Interviewer calibration: how much each interviewer's scores run high or low.

Two models (docs/scoring.md, "Calibration"), chosen by the `model` argument
(the service passes the CALIBRATION_MODEL setting):

- "linear": score = intercept + competency effect + unit level + leniency + noise,
  with unit levels and leniencies crossed random effects fitted by REML
  (`crossed_effects`);
- "ordinal": the same crossed effects inside a cumulative-logit model, with
  thresholds between the rubric's levels (`ordinal_effects`).

The unit is a candidate × competency cell (default) or a candidate. Leniency
is shrunk toward zero by an amount that shrinks as the track record grows;
unshrunk corrections can be worse than raw means for interviewers with a few
ratings, which is why we do not use them.

Leniency is identified only within a connected component of the
unit–interviewer graph, so each component is estimated on its own, with its own
intercept and competency effects: a group's overall level is never turned into
its interviewers' leniency. Only the main pool (the largest component) is
applied to scores (state "applied"); other groups are "not comparable with the
main pool", and groups too small to compare, or a pool whose interviewer
variance the data cannot determine, "insufficient data". Variance components
the data cannot determine are None with a reason, never a number.

Alongside the model we report, per interviewer, an O(n) co-panel deviation
estimate (the explainable cross-check, flagged where it and the model differ
by more than 2 standard errors) and a plain-words explanation that describes
the scores, never the person.

`refresh` recomputes effects with variance components held fixed from an
earlier fit, for the job after each submission.

Everything is vectorised over ratings; loops run only over interviewers or
components. Results do not depend on the order of the input rows: rows are
put in a canonical order first, and `data_digest` hashes that order.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import math
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse
from numpy._core import multiarray as np_multiarray
from scipy.sparse.csgraph import connected_components

from service.domain.calibration_effects import (
    InterviewerEffect,
    VarianceComponents,
    copanel_estimates,
    copanel_graph,
    copanelist_counts,
    interviewer_effects,
)
from service.domain.calibration_models import (
    GroupFit,
    OrdinalData,
    fit_group,
    ordinal_copanel,
    ordinal_data,
)
from service.domain.calibration_scale import MODELS, CalibrationModel, RatingScale
from service.domain.errors import RuleViolationError
from service.domain.ordinal_effects import NEGLIGIBLE_VARIANCE, RatingEntries, level_codes

__all__ = [
    "CalibrationDataError",
    "CalibrationFit",
    "CompetencyReliability",
    "InterviewerEffect",
    "Rating",
    "RatingTable",
    "VarianceComponents",
    "WarmStart",
    "copanel_estimates",
    "fit",
    "fit_arrays",
    "refresh",
]
from service.domain.reliability import OneWayIcc, TargetMoments

UnitLevel = Literal["cell", "candidate"]
_Floats = npt.NDArray[np.float64]
_Codes = npt.NDArray[np.integer[Any]]
UNIT_LEVELS = ("cell", "candidate")

# A component outside the main pool with fewer interviewers or ratings than
# this says nothing useful about leniency: we show "insufficient data".
MIN_COMPONENT_INTERVIEWERS = 2
MIN_COMPONENT_RATINGS = 20


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
class CompetencyReliability:
    """ICC(1), ICC(1,k) and alpha over one competency's raw scores, candidate = target."""

    n_ratings: int
    n_candidates: int
    icc1: float
    icck: float
    k: float
    krippendorff_alpha: float


@dataclass(frozen=True)
class CalibrationFit:
    model: CalibrationModel
    components: VarianceComponents  # of the main pool (component 0)
    intercept: float | None  # linear: level of the first competency (alphabetical)
    fixed_effects: dict[str, float]  # competency -> difference from the first
    reml_criterion: float  # −2 log (restricted / Laplace) likelihood of the main pool
    effects: dict[str, InterviewerEffect]
    scale: RatingScale  # how calibrated scores map onto the rubric (main pool)
    n_ratings: int
    n_units: int
    n_components: int
    icc1: float  # one-way ICC(1) on raw scores, unit = target
    icck: float  # ICC(1,k) with k = k0 (see `reliability`)
    icc_k: float  # the k0 behind icck
    krippendorff_alpha: float  # interval metric, units × interviewers
    reliability_by_competency: dict[str, CompetencyReliability]
    unit_level: UnitLevel
    data_digest: str
    fitted_with: Literal["reml", "refresh"]


@dataclass(frozen=True)
class WarmStart:
    """Where a refresh of the ordinal model starts: an earlier fit's scale (thresholds,
    competency effects) and shifts by interviewer. Only where to start, never the
    answer: the refreshed mode is the same from any start."""

    scale: RatingScale
    shifts: Mapping[str, float]  # interviewer -> shift on the model's scale

    @classmethod
    def from_fit(cls, fitted: CalibrationFit) -> WarmStart:
        return cls(
            fitted.scale,
            {name: e.shift for name, e in fitted.effects.items() if e.shift is not None},
        )


def fit(
    ratings: Sequence[Rating] | RatingTable,
    *,
    unit_level: UnitLevel = "cell",
    model: CalibrationModel = "linear",
) -> CalibrationFit:
    """Fit variance components and estimate every interviewer's leniency."""
    return fit_arrays(**_encode(ratings), unit_level=unit_level, model=model)


def refresh(
    ratings: Sequence[Rating] | RatingTable,
    components: VarianceComponents,
    *,
    unit_level: UnitLevel = "cell",
    model: CalibrationModel = "linear",
    start: WarmStart | None = None,
) -> CalibrationFit:
    """Recompute leniencies with variance components held fixed from an earlier fit
    (and, for the ordinal model, its Newton iterations started from `start`)."""
    return fit_arrays(
        **_encode(ratings), unit_level=unit_level, components=components, model=model, start=start
    )


def fit_arrays(
    unit_idx: np.ndarray,
    interviewer_idx: np.ndarray,
    competency_idx: np.ndarray,
    score: np.ndarray,
    *,
    unit_level: UnitLevel = "cell",
    model: CalibrationModel = "linear",
    interviewer_names: Sequence[str] | None = None,
    competency_names: Sequence[str] | None = None,
    unit_names: Sequence[str] | None = None,
    components: VarianceComponents | None = None,
    start: WarmStart | None = None,
) -> CalibrationFit:
    """Calibrate from integer-coded columns (codes index the optional name lists).

    With `components`, skip the variance search and hold them fixed (a refresh),
    the ordinal model's main pool starting from `start` when given.

    Raises CalibrationDataError for empty, mismatched or non-finite input, or
    data the chosen model cannot fit.
    """
    # Ordinary pages, kept in the heap, for the ordinal model's temporaries; the linear
    # model's REML search over large dense arrays is faster with huge pages (1M ratings:
    # 10.5-11.3 s with them, 13.5-15.9 s without, alternated runs of bench.calibration).
    held = contextlib.ExitStack()
    if model == "ordinal":
        held.enter_context(_small_pages())
        held.enter_context(_kept_heap())
    with held:
        # The digest and the reliabilities need nothing of the fit: they run on a thread
        # of their own (numpy and hashlib release the GIL), on the core the fit's
        # single-threaded steps leave free (1M ratings: ~0.05 s of a ~1 s refresh).
        side = held.enter_context(ThreadPoolExecutor(1, thread_name_prefix="calibration"))
        return _fit_arrays(
            side,
            unit_idx,
            interviewer_idx,
            competency_idx,
            score,
            unit_level=unit_level,
            model=model,
            interviewer_names=interviewer_names,
            competency_names=competency_names,
            unit_names=unit_names,
            components=components,
            start=start,
        )


@contextlib.contextmanager
def _small_pages() -> Iterator[None]:
    """numpy without transparent huge pages for its arrays, for the duration of an
    ordinal fit.

    numpy asks the kernel for 2 MB pages (madvise) on every large array; a fit
    makes hundreds of short-lived O(n) temporaries, and the kernel zeroes a fresh
    2 MB page for each of their first touches: 1.7 of 6.7 s of CPU time of the 1M
    ordinal fit, 0.4 s with ordinary pages (issue 18; `perf`: clear_page_erms under
    do_huge_pmd_anonymous_page). The setting is numpy's, process-wide, and put
    back afterwards; without the hook (another numpy) nothing changes."""
    toggle = getattr(np_multiarray, "_set_madvise_hugepage", None)
    if toggle is None:
        yield
        return
    previous = toggle(False)
    try:
        yield
    finally:
        toggle(previous)


@contextlib.contextmanager
def _kept_heap() -> Iterator[None]:
    """glibc's malloc keeping freed memory in the heap for the duration of an ordinal
    fit, and giving it back at the end.

    By default glibc returns every freed block of more than 32 MB (mmap) and any free
    top of the heap beyond 64 MB (trim) to the kernel at once; a fit's temporaries come
    and go by hundreds of MB a Newton step, so each step had the kernel map and zero
    the same memory again: ~170k page faults, 0.35 s of kernel time, in a 1M-rating
    refresh after a fit (issue 18). Here both thresholds are raised for the fit, then
    set to those ceilings (where glibc's own adjustment ends up in a process that
    frees large arrays; once set they no longer move) and the free memory is returned
    with malloc_trim. Another C library (no `mallopt`) changes nothing."""
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _FIT_HEAP)
    libc.mallopt(_M_TRIM_THRESHOLD, _FIT_HEAP)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD_MAX)
        libc.malloc_trim(0)


# mallopt's parameters (malloc.h) and glibc's ceiling for the dynamic mmap threshold.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
_FIT_HEAP = 1 << 30


@functools.cache
def _glibc() -> Any:
    """The process's glibc (for mallopt and malloc_trim), or None under another libc."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def _fit_arrays(
    side: ThreadPoolExecutor,
    unit_idx: np.ndarray,
    interviewer_idx: np.ndarray,
    competency_idx: np.ndarray,
    score: np.ndarray,
    *,
    unit_level: UnitLevel,
    model: CalibrationModel,
    interviewer_names: Sequence[str] | None,
    competency_names: Sequence[str] | None,
    unit_names: Sequence[str] | None,
    components: VarianceComponents | None,
    start: WarmStart | None,
) -> CalibrationFit:
    if model not in MODELS:
        raise CalibrationDataError(f"model must be one of {MODELS}, got {model!r}")
    columns = _validated_columns(unit_idx, interviewer_idx, competency_idx, score, unit_level)
    unit_idx, interviewer_idx, competency_idx, score = columns
    # Canonical row order, so that neither the digest nor any float sum
    # depends on how the caller happened to order the rows.
    order = _canonical_order(unit_idx, interviewer_idx, competency_idx, score)
    if order is not None:
        unit_idx, interviewer_idx, competency_idx, score = (
            unit_idx[order],
            interviewer_idx[order],
            competency_idx[order],
            score[order],
        )
    digest = side.submit(
        _digest,
        unit_idx,
        interviewer_idx,
        competency_idx,
        score,
        unit_names,
        interviewer_names,
        competency_names,
    )
    rater_codes, rater = _dense_codes(interviewer_idx)
    competency_codes, competency = _dense_codes(competency_idx)
    if unit_level == "cell":
        unit_key = unit_idx * (int(competency.max()) + 1) + competency
    else:
        unit_key = unit_idx
    _, unit = _dense_codes(unit_key)
    names = _names(interviewer_names, rater_codes)
    competencies = _names(competency_names, competency_codes)
    if len(score) <= len(competencies):
        raise CalibrationDataError(
            f"{len(score)} ratings cannot estimate {len(competencies)} competency effects"
        )
    reliabilities = side.submit(
        _reliabilities,
        unit,
        unit_idx,
        competency,
        score,
        competencies,
        cells=unit if unit_level == "cell" else None,
    )

    # Each rating's (unit, interviewer) entry, for N, the co-panel estimates and the
    # ordinal model's design (of the main pool, when it holds every rating).
    entries = RatingEntries.of(unit, rater, len(names))
    # The ordinal design of every rating, on the side thread while the graph is analysed
    # here: the main pool holds every rating unless the interviewers fall apart.
    design = (
        side.submit(ordinal_data, unit, rater, competency, score, entries)
        if model == "ordinal"
        else None
    )
    n_matrix = _count_matrix((entries.keys, entries.codes), int(unit.max()) + 1, len(names))
    graph = copanel_graph(n_matrix, entries.rater_pair)
    component, n_components = _rater_components(n_matrix, graph)
    n_copanelists = copanelist_counts(n_matrix, graph)
    del graph
    copanel = None
    if model == "ordinal" and components is not None and not component.any():
        # A refresh of the ordinal model with one pool knows the cross-check's inputs
        # (the data's competency means, the given σ_v²) before the fit: it runs meanwhile.
        beta, lam = ordinal_copanel(
            competency, score, components.sigma2_interviewer or NEGLIGIBLE_VARIANCE
        )
        copanel = side.submit(
            copanel_estimates, unit, rater, competency, score, beta, lam, entry=entries.codes
        )
    variance, groups = _fit_groups(
        model,
        unit,
        rater,
        competency,
        score,
        unit_idx,
        competencies,
        component,
        components,
        (names, start) if start is not None and components is not None else None,
        design,
    )
    main_fit = groups[0][0]
    copanel_deviation, copanel_weight = (
        copanel_estimates(
            unit,
            rater,
            competency,
            score,
            main_fit.copanel_beta,
            main_fit.copanel_lambda,
            entry=entries.codes,
        )
        if copanel is None
        else copanel.result()
    )
    reliability, alpha, by_competency = reliabilities.result()
    effects = interviewer_effects(
        names,
        np.bincount(rater, minlength=len(names)),
        groups,
        variance,
        component,
        copanel_deviation,
        copanel_weight,
        n_copanelists,
    )
    return CalibrationFit(
        model=model,
        components=variance,
        intercept=main_fit.intercept,
        fixed_effects=_fixed_effects(competencies, component, competency, rater, main_fit),
        reml_criterion=main_fit.criterion,
        effects=effects,
        scale=main_fit.scale,
        n_ratings=len(score),
        n_units=int(unit.max()) + 1,
        n_components=n_components,
        icc1=reliability.icc1,
        icck=reliability.icck,
        icc_k=reliability.k,
        krippendorff_alpha=alpha,
        reliability_by_competency=by_competency,
        unit_level=unit_level,
        data_digest=digest.result(),
        fitted_with="reml" if components is None else "refresh",
    )


def _fit_groups(
    model: CalibrationModel,
    unit: _Codes,
    rater: _Codes,
    competency: _Codes,
    score: _Floats,
    candidate: _Codes,
    competencies: Sequence[str],
    component: _Codes,
    components: VarianceComponents | None,
    start: tuple[Sequence[str], WarmStart] | None = None,
    design: Future[OrdinalData] | None = None,
) -> tuple[VarianceComponents, dict[int, tuple[GroupFit, _Codes]]]:
    """Fit the main pool (component 0), then each other group large enough, on its own.

    The main pool's variance components are estimated (or, in a refresh, the
    given ones used); each other group reuses them and gets its own intercept
    and competency effects, so its level never becomes its interviewers'
    leniency. Returns the main pool's variance components and, per fitted
    component, the fit with its raters' codes (groups too small are left out).
    `design`: the ordinal model's `ordinal_data` of every rating, being made, for a
    group that holds them all.
    """
    if component.any():
        by_rating = component[rater]
        order = np.argsort(by_rating, kind="stable")
        bounds = np.searchsorted(by_rating[order], np.arange(component.max() + 2))
    else:  # one component: no sort
        order, bounds = np.arange(len(rater)), np.array([0, len(rater)])
    comp_raters = np.bincount(component)
    results: dict[int, tuple[GroupFit, _Codes]] = {}
    main_variance: VarianceComponents | None = None
    variances: tuple[float | None, float | None, float | None] | None = None
    if components is not None:
        variances = (
            components.sigma2_unit,
            components.sigma2_interviewer,
            components.sigma2_residual,
        )
    for c in range(len(comp_raters)):
        rows = order[bounds[c] : bounds[c + 1]]
        if c > 0 and (
            comp_raters[c] < MIN_COMPONENT_INTERVIEWERS or len(rows) < MIN_COMPONENT_RATINGS
        ):
            continue
        raters, sub_rater, comps, sub_comp, sub_unit = _group_codes(
            rows, rater, competency, unit, len(competencies)
        )
        # A group of every rating (the usual case) holds them in their own order.
        everyone = len(rows) == len(rater)
        group_score = score if everyone else score[rows]
        unit_reason = _unit_reason(candidate if everyone else candidate[rows], sub_comp)
        rater_reason = _interviewer_reason(sub_rater)
        try:
            fitted = fit_group(
                model,
                sub_unit,
                sub_rater,
                sub_comp,
                group_score,
                [competencies[i] for i in comps],
                variances=variances,
                estimate_unit=unit_reason is None,
                estimate_rater=rater_reason is None,
                start=_start_arrays(start, raters, [competencies[i] for i in comps], group_score)
                if c == 0 and start is not None and model == "ordinal"
                else None,
                design=design.result() if design is not None and everyone else None,
            )
        except (ValueError, np.linalg.LinAlgError) as error:
            if c == 0:
                raise CalibrationDataError(f"cannot fit the {model} model: {error}") from error
            continue
        results[c] = (fitted, raters)
        if c == 0:
            main_variance = VarianceComponents(
                sigma2_unit=None if unit_reason else fitted.sigma2_unit,
                sigma2_interviewer=None if rater_reason else fitted.sigma2_interviewer,
                sigma2_residual=fitted.sigma2_residual,
                unit_reason=unit_reason,
                interviewer_reason=rater_reason,
            )
            if variances is None:
                variances = (
                    main_variance.sigma2_unit,
                    main_variance.sigma2_interviewer,
                    fitted.sigma2_residual,
                )
    assert main_variance is not None  # component 0 always exists and raises if unfitted
    return main_variance, results


def _group_codes(
    rows: _Codes, rater: _Codes, competency: _Codes, unit: _Codes, n_competencies: int
) -> tuple[_Codes, _Codes, _Codes, _Codes, _Codes]:
    """A group's raters and competencies (as codes of the whole data) and its own dense
    rater, competency and unit codes. Where the group holds every rating (rows are
    0..n−1, the usual case) the whole data's codes are dense already."""
    if len(rows) == len(rater):
        all_raters: _Codes = np.arange(int(rater.max()) + 1)
        return all_raters, rater, np.arange(n_competencies), competency, unit
    raters, sub_rater = _dense_codes(rater[rows])
    comps, sub_comp = _dense_codes(competency[rows])
    _, sub_unit = _dense_codes(unit[rows])
    return raters, sub_rater, comps, sub_comp, sub_unit


def _start_arrays(
    start: tuple[Sequence[str], WarmStart],
    raters: _Codes,
    competencies: Sequence[str],
    score: _Floats,
) -> tuple[_Floats, _Floats, _Floats] | None:
    """(thresholds, competency effects, shifts) for the group from a warm start, or
    None when its scale does not fit this group's levels (then the fit starts cold)."""
    names, warm = start
    thresholds = np.array(warm.scale.thresholds, dtype=float)
    levels = tuple(float(x) for x in level_codes(score)[0])
    if levels != tuple(warm.scale.levels) or len(thresholds) != len(levels) - 1:
        return None
    if not (np.all(np.isfinite(thresholds)) and np.all(np.diff(thresholds) > 0)):
        return None
    means = warm.scale.competency_means
    beta = np.array([means.get(name, 0.0) for name in competencies])
    shifts = np.array([warm.shifts.get(names[i], 0.0) for i in raters])
    return thresholds, beta - beta[0], shifts


def _unit_reason(candidate: _Codes, competency: _Codes) -> str | None:
    """Why the candidates' variance cannot be estimated, or None when it can."""
    # How many distinct candidates: a count of the used codes, no codes made.
    if int(candidate.max()) > 4 * len(candidate) + 1024:
        distinct = len(np.unique(candidate))
    else:
        distinct = int(np.count_nonzero(np.bincount(candidate)))
    if distinct < 2:
        return "one candidate: the spread between candidates cannot be estimated from this data"
    per_competency = np.bincount(competency, minlength=int(competency.max()) + 1)
    if distinct == len(candidate) and per_competency.max() < 2:
        return "no candidate was rated twice: candidates cannot be told from noise"
    return None


def _interviewer_reason(rater: _Codes) -> str | None:
    """Why the interviewers' variance cannot be estimated, or None when it can."""
    if int(rater.max()) < 1:
        return "one interviewer: the spread between interviewers cannot be estimated from this data"
    return None


def _fixed_effects(
    competencies: Sequence[str],
    component: _Codes,
    competency: _Codes,
    rater: _Codes,
    main: GroupFit,
) -> dict[str, float]:
    """The main pool's competency contrasts, by name (first competency 0)."""
    if component.any():
        in_main, _ = _dense_codes(competency[component[rater] == 0])
        names = [competencies[i] for i in in_main]
    else:  # one component: it has every (dense) competency
        names = list(competencies)
    return {names[0]: 0.0} | {
        name: float(b) for name, b in zip(names[1:], main.contrasts, strict=True)
    }


def _reliabilities(
    unit: _Codes,
    candidate: _Codes,
    competency: _Codes,
    score: _Floats,
    competencies: Sequence[str],
    cells: _Codes | None = None,
) -> tuple[OneWayIcc, float, dict[str, CompetencyReliability]]:
    """ICC and alpha over all ratings (target: the model's unit) and per competency
    (target: the candidate). Per competency the targets are the (candidate,
    competency) cells; pooling competencies would count differences between
    competencies as agreement between interviewers. `cells`: their dense codes when
    the units are the cells already. One set of moments per kind of target
    (`TargetMoments`), not two passes per statistic and competency."""
    n_competencies = len(competencies)
    if cells is None:
        cells = _dense_codes(candidate * n_competencies + competency)[1]
    cell_moments = TargetMoments.of(cells, score)
    cell_competency = np.empty(len(cell_moments.counts), dtype=np.intp)
    cell_competency[cells] = competency
    iccs = cell_moments.icc(cell_competency, n_competencies)
    alphas = cell_moments.alpha(cell_competency, n_competencies)
    by_competency = {
        name: CompetencyReliability(
            n_ratings=icc.n_ratings,
            n_candidates=icc.n_targets,
            icc1=icc.icc1,
            icck=icc.icck,
            k=icc.k,
            krippendorff_alpha=float(alpha),
        )
        for name, icc, alpha in zip(competencies, iccs, alphas, strict=True)
    }
    unit_moments = cell_moments if cells is unit else TargetMoments.of(unit, score)
    everyone = np.zeros(len(unit_moments.counts), dtype=np.intp)
    (overall,) = unit_moments.icc(everyone, 1)
    (overall_alpha,) = unit_moments.alpha(everyone, 1)
    return overall, float(overall_alpha), by_competency


def _count_matrix(
    entries: tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]], n_units: int, n_raters: int
) -> scipy.sparse.csr_matrix[Any]:
    """N, the units × interviewers rating counts, in CSR from the entries' keys
    (sorted by unit, then interviewer, as CSR's rows and columns are): the matrix
    scipy's COO conversion gives, without its sort of every rating."""
    keys, entry = entries
    indptr = np.concatenate([[0], np.cumsum(np.bincount(keys // n_raters, minlength=n_units))])
    counts = np.bincount(entry, minlength=len(keys)).astype(np.float64)
    n_matrix = scipy.sparse.csr_matrix((counts, keys % n_raters, indptr), shape=(n_units, n_raters))
    n_matrix.has_canonical_format = True
    return n_matrix


def _rater_components(
    n_matrix: scipy.sparse.csr_matrix[Any],
    graph: npt.NDArray[np.bool_] | scipy.sparse.csr_matrix[Any],
) -> tuple[_Codes, int]:
    """Component of each interviewer in the unit–interviewer graph, 0 = most ratings.

    Two interviewers are connected there exactly when a chain of shared units joins
    them, so the components are those of the interviewers' co-panel `graph`
    (`copanel_graph`, also behind the co-panelist counts): a graph on the
    interviewers alone, a tenth of the time of the units' and interviewers' (1M)."""
    table = graph
    if isinstance(graph, np.ndarray):
        # CSR straight from the table's nonzeros, row by row (4× faster than converting).
        r = graph.shape[0]
        flat = np.flatnonzero(graph)
        indptr = np.concatenate([[0], np.cumsum(np.count_nonzero(graph, axis=1))])
        table = scipy.sparse.csr_matrix((np.ones(len(flat)), flat % r, indptr), shape=(r, r))
    n_components, rater_labels = connected_components(table, directed=False)
    d_rater = np.asarray(n_matrix.sum(axis=0)).ravel()
    ratings = np.bincount(rater_labels, weights=d_rater, minlength=n_components)
    # Ties in ratings go to the component with the lowest unit code, as they would in
    # the unit–interviewer graph (units numbered first, labels by lowest node).
    lowest_unit = np.zeros(n_components, dtype=np.int64)
    if len(np.unique(ratings)) < n_components:
        unit_labels = rater_labels[n_matrix.indices[n_matrix.indptr[:-1]]]
        lowest_unit[:] = n_matrix.shape[0]
        np.minimum.at(lowest_unit, unit_labels, np.arange(n_matrix.shape[0]))
    rank = np.empty(n_components, dtype=np.int64)
    rank[np.lexsort((lowest_unit, -ratings))] = np.arange(n_components)
    # Units with no rater cannot occur, so every component holds a rater.
    return rank[rater_labels], n_components


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


def _canonical_order(
    unit_idx: npt.NDArray[np.int64],
    interviewer_idx: npt.NDArray[np.int64],
    competency_idx: npt.NDArray[np.int64],
    score: _Floats,
) -> npt.NDArray[np.intp] | None:
    """`np.lexsort((score, competency, interviewer, unit))`, by one stable sort of a
    single int64 key where the four columns' ranges fit in one: 10× faster than the
    lexsort on unsorted rows. Rows with equal keys are equal in every column, so any
    tie order is the same. None when the rows are in that order already (the
    service's query and the bench's histories return them so): one comparison of
    neighbouring keys, instead of a sort and a copy of every column (1M: ~10 ms)."""
    levels, level = level_codes(score)
    ranges = [int(c.max()) + 1 for c in (interviewer_idx, competency_idx)] + [len(levels)]
    if math.prod(ranges) * (int(unit_idx.max()) + 1) >= 2**62:
        return np.lexsort((score, competency_idx, interviewer_idx, unit_idx))
    key = unit_idx
    for column, size in zip((interviewer_idx, competency_idx, level), ranges, strict=True):
        key = key * size + column
    if bool(np.all(key[1:] >= key[:-1])):
        return None
    return np.argsort(key, kind="stable")


def _dense_codes(codes: _Codes) -> tuple[_Codes, _Codes]:
    """`np.unique(codes, return_inverse=True)` for non-negative integer codes, by a
    lookup table instead of a sort where the codes' range is not much larger than
    their count (it always is after `_encode`)."""
    if not len(codes) or int(codes.max()) > 4 * len(codes) + 1024:
        return np.unique(codes, return_inverse=True)
    used = np.bincount(codes) > 0
    rank = np.cumsum(used) - 1
    return np.flatnonzero(used), rank[codes]


def _names(names: Sequence[str] | None, codes: np.ndarray) -> list[str]:
    return [str(c) for c in codes] if names is None else [str(names[c]) for c in codes]
