"""The calibration's fast paths give what the general computations give.

Each shortcut taken for speed (issue 18: one sort key instead of a lexsort, lookup
tables instead of sorts, the count matrix from the sorted entry keys, the units × fixed
block from d_u when every unit has one group, the per-rating derivatives as short
products, the last Newton step without a line search, the variances' secant steps and
the Newton steps aimed at them, the chord steps between Newton steps, the passes over
the ratings in parts on threads) is checked here against the plain computation it
replaces.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse

from bench.calibration_simulation import simulate
from service.domain import ordinal_effects
from service.domain.calibration import (
    WarmStart,
    _canonical_order,
    _count_matrix,
    copanel_estimates,
    fit_arrays,
)
from service.domain.ordinal_effects import (
    CHORD_GUARD,
    CHORD_RATE,
    CHORD_TARGET,
    SECANT_REACH,
    STEP_TOLERANCE,
    TOLERANCE,
    OrdinalDesign,
    RatingEntries,
    _Secant,
    key_codes,
    level_codes,
)
from service.domain.reliability import (
    TargetMoments,
    _codes,
    icc_oneway,
    krippendorff_alpha_interval,
)


@pytest.mark.parametrize("seed", range(4))
def test_canonical_order_is_the_four_column_lexsort(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    # Few distinct values per column, so that rows tie on every column but the last.
    unit = rng.integers(0, 40, n)
    rater = rng.integers(0, 7, n)
    competency = rng.integers(0, 3, n)
    score = rng.choice([1.0, 2.5, 3.0, 4.0], n)
    order = _canonical_order(unit, rater, competency, score)
    expected = np.lexsort((score, competency, rater, unit))
    for column in (unit, rater, competency, score):
        assert np.array_equal(column[order], column[expected])


def test_rows_in_canonical_order_need_no_sort_and_give_the_same_fit():
    rng = np.random.default_rng(8)
    n = 2000
    columns = (
        rng.integers(0, 300, n),
        rng.integers(0, 30, n),
        rng.integers(0, 3, n),
        rng.integers(1, 5, n).astype(float),
    )
    expected = np.lexsort(columns[::-1])
    ordered = [c[expected] for c in columns]
    assert _canonical_order(*ordered) is None
    # One pair of rows out of place: the sort again.
    swapped = [c.copy() for c in ordered]
    first = int(np.flatnonzero(np.diff(swapped[0]))[0])
    for c in swapped:
        c[[first, first + 1]] = c[[first + 1, first]]
    order = _canonical_order(*swapped)
    assert order is not None
    assert all(np.array_equal(c[order], o) for c, o in zip(swapped, ordered, strict=True))
    shuffle = rng.permutation(n)
    shuffled = [c[shuffle] for c in ordered]
    assert fit_arrays(*ordered) == fit_arrays(*shuffled)


def test_canonical_order_falls_back_to_lexsort_when_the_key_would_overflow():
    rng = np.random.default_rng(5)
    unit = rng.integers(0, 2**40, 500)
    rater = rng.integers(0, 2**20, 500)
    competency = rng.integers(0, 9, 500)
    score = rng.integers(1, 5, 500).astype(float)
    order = _canonical_order(unit, rater, competency, score)
    assert np.array_equal(order, np.lexsort((score, competency, rater, unit)))


@pytest.mark.parametrize(
    "score",
    [
        np.array([3.0, 1.0, 4.0, 4.0, 2.0, 1.0]),  # a rubric's whole numbers
        np.array([-2.0, 0.0, 5.0, -2.0]),  # negative whole numbers
        np.array([1.0, 2.5, 1.0, 3.75]),  # not whole: the sort
        np.array([0.0, 5000.0, 2.0]),  # whole but wide: the sort
    ],
)
def test_level_codes_are_numpys_unique_with_inverse(score):
    levels, codes = level_codes(score)
    expected_levels, expected_codes = np.unique(score, return_inverse=True)
    assert np.array_equal(levels, expected_levels)
    assert levels.dtype == np.float64
    assert np.array_equal(codes, expected_codes)


@pytest.mark.parametrize("seed", range(3))
def test_key_codes_are_numpys_unique_with_inverse(seed):
    rng = np.random.default_rng(seed)
    keys = np.sort(rng.integers(0, 10**9, 2000))[rng.permutation(2000) % 500]
    unique, codes = key_codes(keys)
    expected_unique, expected_codes = np.unique(keys, return_inverse=True)
    assert np.array_equal(unique, expected_unique)
    assert np.array_equal(codes, expected_codes)


@pytest.mark.parametrize("seed", range(3))
def test_count_matrix_from_the_entry_keys_is_scipys_from_the_ratings(seed):
    """N from the sorted (unit, interviewer) keys is the CSR matrix scipy builds from
    the ratings' coordinates (duplicates summed): the same rows, columns and counts,
    for unsorted ratings with repeated entries and units or raters without any."""
    rng = np.random.default_rng(seed)
    n_units, n_raters = 300, 40
    unit = rng.integers(0, n_units - 5, 3000)
    rater = rng.integers(0, n_raters - 3, 3000)
    n_matrix = _count_matrix(key_codes(unit * n_raters + rater), n_units, n_raters)
    expected = scipy.sparse.csr_matrix(
        (np.ones(len(unit)), (unit, rater)), shape=(n_units, n_raters)
    )
    expected.sum_duplicates()
    assert n_matrix.shape == expected.shape
    assert np.array_equal(n_matrix.indptr, expected.indptr)
    assert np.array_equal(n_matrix.indices, expected.indices)
    assert np.array_equal(n_matrix.data, expected.data)
    assert n_matrix.data.max() > 1  # some entries were rated more than once


@pytest.mark.parametrize(
    "ids",
    [
        np.array([5, 2, 2, 9, 0, 5]),  # small non-negative integers: the lookup
        np.array([10**12, 3, 10**12]),  # too wide for a table
        np.array([-1, 4, -1]),  # negative
        np.array(["b", "a", "b"]),  # strings
    ],
)
def test_reliability_codes_are_numpys_unique_inverse(ids):
    assert np.array_equal(_codes(ids), np.unique(ids, return_inverse=True)[1])


def test_reliability_is_the_same_from_integer_ids_and_their_names():
    rng = np.random.default_rng(3)
    target = rng.integers(0, 60, 400)
    value = rng.integers(1, 5, 400).astype(float)
    names = np.array([f"t{t:03d}" for t in target])
    assert icc_oneway(target, value) == icc_oneway(names, value)
    assert krippendorff_alpha_interval(target, value) == krippendorff_alpha_interval(names, value)


def _assert_same_reliability(icc, alpha, expected_icc, expected_alpha):
    assert (icc.n_targets, icc.n_ratings) == (expected_icc.n_targets, expected_icc.n_ratings)
    got = [icc.icc1, icc.icck, icc.k, alpha]
    want = [expected_icc.icc1, expected_icc.icck, expected_icc.k, expected_alpha]
    for x, y in zip(got, want, strict=True):
        assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_grouped_moments_give_each_groups_icc_and_alpha(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    target = _codes(rng.integers(0, int(rng.integers(1, n + 1)), n))
    n_groups = int(rng.integers(1, 5))
    group = rng.integers(0, n_groups, int(target.max()) + 1)
    # Whole-number scores, scores far from zero (where Σv² − (Σv)²/n would cancel),
    # and all-equal scores (no variation: NaN).
    value = [
        rng.integers(1, 5, n).astype(float),
        rng.normal(100.0, 3.0, n),
        np.full(n, 3.0),
    ][seed % 3]
    moments = TargetMoments.of(target, value)
    iccs, alphas = moments.icc(group, n_groups), moments.alpha(group, n_groups)
    for g in range(n_groups):
        rows = group[target] == g
        if not rows.any():
            continue
        _assert_same_reliability(
            iccs[g],
            float(alphas[g]),
            icc_oneway(target[rows], value[rows]),
            krippendorff_alpha_interval(target[rows], value[rows]),
        )


@pytest.mark.parametrize("unit_level", ["cell", "candidate"])
def test_a_fits_reliabilities_are_the_plain_per_competency_ones(unit_level):
    data = simulate(5, n_candidates=150, pool=30)
    candidate, rater, competency, score = data.candidate, data.rater, data.competency, data.score
    fitted = fit_arrays(candidate, rater, competency, score, unit_level=unit_level)
    unit = candidate * (int(competency.max()) + 1) + competency
    unit = unit if unit_level == "cell" else candidate
    overall = icc_oneway(unit, score)
    assert (fitted.icc1, fitted.icck, fitted.icc_k) == pytest.approx(
        (overall.icc1, overall.icck, overall.k), rel=1e-10
    )
    assert fitted.krippendorff_alpha == pytest.approx(
        krippendorff_alpha_interval(unit, score), rel=1e-10
    )
    for c, name in enumerate(str(c) for c in np.unique(competency)):
        rows = competency == c
        got = fitted.reliability_by_competency[name]
        want = icc_oneway(candidate[rows], score[rows])
        assert (got.n_ratings, got.n_candidates) == (want.n_ratings, want.n_targets)
        assert (got.icc1, got.icck, got.k, got.krippendorff_alpha) == pytest.approx(
            (
                want.icc1,
                want.icck,
                want.k,
                krippendorff_alpha_interval(candidate[rows], score[rows]),
            ),
            rel=1e-10,
        )


def _design_and_point(unit_level: str, seed: int = 21):
    sim = simulate(seed, n_candidates=60, pool=12)
    if unit_level == "cell":
        _, unit = np.unique(sim.candidate * 4 + sim.competency, return_inverse=True)
    else:
        _, unit = np.unique(sim.candidate, return_inverse=True)
    _, rater = np.unique(sim.rater, return_inverse=True)
    design = OrdinalDesign(unit, rater, sim.competency, (sim.score - 1).astype(int))
    rng = np.random.default_rng(seed)
    tau, beta, u, v = design.start()
    beta = np.concatenate([[0.0], rng.normal(0, 0.3, design.n_groups - 1)])
    u, v = rng.normal(0, 1.5, design.n_units), rng.normal(0, 0.8, design.n_raters)
    return design, (tau, beta, u, v)


@pytest.mark.parametrize("unit_level", ["cell", "candidate"])
def test_units_by_fixed_block_matches_its_definition(unit_level):
    """J_uf[unit, column] = Σ over the unit's ratings of the information between u and
    that fixed effect: qa at the threshold above, qb at the one below, w at the group's
    contrast. Cells (one group per unit) take the shortcut, candidates do not."""
    design, (tau, beta, u, v) = _design_and_point(unit_level)
    assert (design.unit_keys is None) == (unit_level == "cell")
    eta = beta[design.group] + u[design.unit] + v[design.rater]
    _, t = design._terms(tau, eta)
    k1 = design.n_levels - 1
    expected = np.zeros((design.n_units, design.n_fixed + 1))
    upper = np.minimum(design.level, design.n_levels - 2)
    lower = np.maximum(design.level - 1, 0)
    np.add.at(expected, (design.unit, upper), t["qa"])
    np.add.at(expected, (design.unit, lower), t["qb"])
    grouped = design.group > 0
    np.add.at(
        expected,
        (design.unit[grouped], k1 + design.group[grouped] - 1),
        t["w"][grouped],
    )
    system = design._system(tau, beta, u, v, 2.0, 0.5)
    assert system.j_uf == pytest.approx(expected[:, : design.n_fixed], abs=1e-12)


def test_per_rating_derivatives_match_finite_differences_in_both_tails():
    """d log p/dη and the information about η, where η sits up to 14 logits beyond
    the thresholds (ratings the model finds very unlikely, as far line-search trials
    do): the products used stay accurate where F(a) − F(b) cancels."""
    level = np.tile(np.arange(4), 8)
    eta = np.linspace(-14.0, 14.0, len(level))
    design = OrdinalDesign(np.arange(len(level)), np.zeros(len(level), int), level * 0, level)
    tau = np.array([-1.0, 0.5, 2.0])
    _, t = design._terms(tau, eta)
    h = 1e-5
    for j in range(len(level)):
        step = np.zeros(len(level))
        step[j] = h
        slope = (design._loglik(tau, eta + step) - design._loglik(tau, eta - step)) / (2 * h)
        # The sum of all ratings' log p differs by ~1e-13 in rounding: ~1e-8 in the slope.
        assert t["s"][j] == pytest.approx(slope, rel=1e-5, abs=1e-8)
    s_up, s_down = design._terms(tau, eta + h)[1]["s"], design._terms(tau, eta - h)[1]["s"]
    assert t["w"] == pytest.approx(-(s_up - s_down) / (2 * h), rel=1e-5, abs=1e-9)
    score, weight = design._eta_derivatives(tau, eta)
    assert score == pytest.approx(t["s"], rel=1e-12, abs=1e-300)
    assert weight == pytest.approx(t["w"], rel=1e-9, abs=1e-300)


def test_a_refresh_started_from_the_fit_itself_returns_the_fit():
    """The service's refresh (variances held, Newton from the last run's scale and
    shifts) on the data the fit saw converges to the fit's own estimates: the same
    mode, standard errors and criterion, within the fit's numerical tolerance."""
    sim = simulate(14, n_candidates=200, pool=40)
    columns = (sim.candidate, sim.rater, sim.competency, sim.score)
    fitted = fit_arrays(*columns, model="ordinal")
    again = fit_arrays(
        *columns,
        model="ordinal",
        components=fitted.components,
        start=WarmStart.from_fit(fitted),
    )
    assert again.fitted_with == "refresh"
    for name, effect in fitted.effects.items():
        # The refresh's cross-check, taken before its fit from the given σ_v², is the fit's.
        assert again.effects[name].copanel_deviation == pytest.approx(
            effect.copanel_deviation, abs=1e-12, nan_ok=True
        )
        assert again.effects[name].shift == pytest.approx(effect.shift, abs=1e-7)
        assert again.effects[name].leniency == pytest.approx(effect.leniency, abs=1e-7)
        assert again.effects[name].se == pytest.approx(effect.se, rel=1e-6)
    assert again.scale.thresholds == pytest.approx(fitted.scale.thresholds, abs=1e-7)
    assert again.reml_criterion == pytest.approx(fitted.reml_criterion, abs=1e-6)


def _cell_design(seed: int, n_candidates: int = 300, pool: int = 40) -> OrdinalDesign:
    sim = simulate(seed, n_candidates=n_candidates, pool=pool)
    _, unit = np.unique(sim.candidate * 4 + sim.competency, return_inverse=True)
    _, rater = np.unique(sim.rater, return_inverse=True)
    return OrdinalDesign(unit, rater, sim.competency, (sim.score - 1).astype(int))


def _newton_to_the_end(design, point, s2u, s2v):
    """The plain computation: double-precision Newton steps, each from its own point's
    system, until a step is at rounding level; the solution from the system there."""
    for _ in range(30):
        system = design._system(*point, s2u, s2v)
        design._factor(system)
        *point, step, _ = design._step(*point, system, s2u, s2v)
        if step < 1e-12:
            break
    system = design._system(*point, s2u, s2v)
    design._factor(system)
    return design._solution(*point, s2u, s2v, system, 0, True)


def _warm_start(design, seed):
    """A refresh's start: the variances of a full fit and its τ, β, v moved by about
    what dropping a few candidates moves them."""
    full = design.fit()
    rng = np.random.default_rng(seed)
    shifts = full.rater_effects + rng.normal(0.0, 0.05, design.n_raters)
    return full, (full.thresholds + 0.05, full.beta, shifts)


@pytest.mark.parametrize("seed", [35, 36])
def test_chord_steps_stop_within_their_target_of_the_mode(seed):
    """After a Newton step from a single-precision factor, the chord steps on that
    factor stop where they predict the mode to be within CHORD_TARGET; the next
    system's Newton step is then below STEP_TOLERANCE, so the fit ends there."""
    design = _cell_design(seed)
    full, (tau, beta, v) = _warm_start(design, seed)
    s2u, s2v = full.sigma2_unit, full.sigma2_rater
    u = design._unit_modes(tau, beta, v, s2u)
    system = design._system(tau, beta, u, v, s2u, s2v)
    design._factor(system, single=True)
    *point, step, terms = design._step(tau, beta, u, v, system, s2u, s2v, light=True)
    assert step > 1e-3  # far enough for the chord steps to have work to do
    *point, _ = design._chord(*point, system, s2u, s2v, step, terms)
    mode = _newton_to_the_end(design, point, s2u, s2v)
    here = np.concatenate(point)
    there = np.concatenate([mode.thresholds, mode.beta, mode.unit_effects, mode.rater_effects])
    assert np.max(np.abs(here - there)) < CHORD_TARGET
    # One Newton step then finishes: the fit takes two systems, not three.
    refreshed = design.fit(s2u, s2v, start=(tau, beta, v))
    assert refreshed.n_iterations == 2


def test_chord_steps_without_a_line_search_stop_when_they_overshoot(monkeypatch):
    """After a small step the chord steps skip the line search; their contraction is
    the check. With a factor of 0.3 × the information (every step 3.3× too long,
    each overshooting the mode by 2.3× the distance) they stop on their rate at the
    second step, instead of running on to CHORD_STEPS: the point is left within a
    few times its start's distance of the mode, for the line-searched Newton steps."""
    design = _cell_design(35)
    full, _ = _warm_start(design, 35)
    s2u, s2v = full.sigma2_unit, full.sigma2_rater
    mode = (full.thresholds, full.beta, full.unit_effects, full.rater_effects)
    system = design._system(*mode, s2u, s2v)
    design._factor(system)
    system.chol = system.chol * math.sqrt(0.3)
    steps = []
    plain_step = design._step

    def spy(*args, **kwargs):
        out = plain_step(*args, **kwargs)
        steps.append((kwargs["search"], out[4]))
        return out

    monkeypatch.setattr(design, "_step", spy)
    start = (mode[0], mode[1], mode[2], mode[3] + 1e-6)
    point = design._chord(*start, system, s2u, s2v, CHORD_GUARD / 10, None)[:4]
    assert [search for search, _ in steps] == [False, False]
    assert steps[1][1] > CHORD_RATE * steps[0][1]
    distance = np.max(np.abs(np.concatenate(point) - np.concatenate(mode)))
    assert 1e-6 < distance < 1e-5


@pytest.mark.parametrize("seed", [35, 36])
def test_a_refresh_with_chord_steps_is_the_fully_converged_mode(seed):
    """The refresh (a Newton step, chord steps, one more Newton step, the variances from
    the last system) gives the mode, posterior variances and criterion that Newton run
    to rounding level gives: modes within a thousandth of STEP_TOLERANCE, variances and
    the Laplace criterion within 1e-9 (relative), far inside the refresh tests' 1e-7
    and 1e-6."""
    design = _cell_design(seed)
    full, (tau, beta, v) = _warm_start(design, seed)
    s2u, s2v = full.sigma2_unit, full.sigma2_rater
    refreshed = design.fit(s2u, s2v, start=(tau, beta, v))
    assert refreshed.converged
    u = design._unit_modes(tau, beta, v, s2u)
    mode = _newton_to_the_end(design, (tau, beta, u, v), s2u, s2v)
    for name in ("thresholds", "beta", "unit_effects", "rater_effects"):
        assert getattr(refreshed, name) == pytest.approx(
            getattr(mode, name), abs=STEP_TOLERANCE / 1000
        )
    for name in ("rater_variance", "rater_variance_relative"):
        assert getattr(refreshed, name) == pytest.approx(getattr(mode, name), rel=1e-9)
    assert refreshed.laplace_criterion == pytest.approx(mode.laplace_criterion, rel=1e-9)


def _uneven_parts(n: int) -> list[slice]:
    """Three parts of different sizes, whatever the machine's cores."""
    return [slice(0, n // 5), slice(n // 5, n // 2), slice(n // 2, n)]


@pytest.mark.parametrize("unit_level", ["cell", "candidate"])
def test_a_fit_in_parts_on_threads_is_the_fit_in_one_part(unit_level, monkeypatch):
    """Every pass over the ratings in parts (each part's sums, added) on the design's
    threads gives what one pass over all of them gives: the full fit, the refresh from
    it (unit modes, chord steps) and the interviewers' effects, to rounding; and the
    parts did run on those threads."""
    sim = simulate(17, n_candidates=250, pool=30)
    columns = (sim.candidate, sim.rater, sim.competency, sim.score)
    whole = fit_arrays(*columns, model="ordinal", unit_level=unit_level)
    warm = {"components": whole.components, "start": WarmStart.from_fit(whole)}
    refreshed = fit_arrays(*columns[:3], sim.score, model="ordinal", unit_level=unit_level, **warm)
    threads = set()
    terms = OrdinalDesign._terms

    def watched(design, *args):
        threads.add(threading.current_thread().name)
        return terms(design, *args)

    monkeypatch.setattr(ordinal_effects, "_parts", _uneven_parts)
    monkeypatch.setattr(OrdinalDesign, "_terms", watched)
    in_parts = fit_arrays(*columns, model="ordinal", unit_level=unit_level)
    refreshed_in_parts = fit_arrays(*columns, model="ordinal", unit_level=unit_level, **warm)
    assert threads and all(name.startswith("ordinal") for name in threads)
    for one, split in ((whole, in_parts), (refreshed, refreshed_in_parts)):
        assert split.reml_criterion == pytest.approx(one.reml_criterion, rel=1e-9)
        assert split.scale.thresholds == pytest.approx(one.scale.thresholds, abs=1e-8)
        for name, effect in one.effects.items():
            assert split.effects[name].shift == pytest.approx(effect.shift, abs=1e-8)
            assert split.effects[name].leniency == pytest.approx(effect.leniency, abs=1e-8)
            assert split.effects[name].se == pytest.approx(effect.se, rel=1e-7)


def test_a_large_design_splits_its_ratings_and_pairs_into_contiguous_parts(monkeypatch):
    """From PARALLEL_RATINGS ratings on there is a part per core (at most MAX_PARTS),
    covering every rating once, and the co-rating pairs' parts cover every pair once,
    each part's pairs those of its entries; below it, one part."""
    design = _cell_design(41)
    assert design.parts == [slice(0, design.n)]
    monkeypatch.setattr(ordinal_effects, "_parts", _uneven_parts)
    design = _cell_design(41)
    assert [(part.start, part.stop) for part in design.parts] == [
        (0, design.n // 5),
        (design.n // 5, design.n // 2),
        (design.n // 2, design.n),
    ]
    pair_a = np.repeat(np.arange(len(design.pair_repeats)), design.pair_repeats)
    covered = np.concatenate([pair_a[pairs] for _, pairs in design.pair_parts])
    assert np.array_equal(covered, pair_a)
    for entries, pairs in design.pair_parts:
        assert set(pair_a[pairs]) == set(range(entries.start, entries.stop))
    monkeypatch.undo()
    cores = min(ordinal_effects.MAX_PARTS, len(os.sched_getaffinity(0)))
    large = ordinal_effects._parts(ordinal_effects.PARALLEL_RATINGS)
    assert len(large) == cores
    assert large[0].start == 0 and large[-1].stop == ordinal_effects.PARALLEL_RATINGS
    assert all(a.stop == b.start for a, b in itertools.pairwise(large))


def _plain_laplace_em(design: OrdinalDesign, tolerance: float) -> tuple[float, float]:
    """The variances by the plain iteration σ² ← U(σ²), each U at its variances' mode
    (Newton run to convergence first): the computation the secant steps replace."""
    s2u, s2v = 1.0, 0.25
    point = design.start()
    for _ in range(500):
        held = design.fit(s2u, s2v, start=(point[0], point[1], point[3]))
        point = (held.thresholds, held.beta, held.unit_effects, held.rater_effects)
        system = design._system(*point, s2u, s2v)
        design._factor(system)
        new_u, new_v = design._updated(system, point[2], point[3], s2u, s2v, True, True)
        if max(abs(new_u / s2u - 1), abs(new_v / s2v - 1)) < tolerance:
            return new_u, new_v
        s2u, s2v = new_u, new_v
    raise AssertionError("the plain iteration did not converge")


@pytest.mark.parametrize("seed", [31, 32])
def test_secant_fit_reaches_the_plain_iterations_fixed_point(seed):
    """The fit (secant steps on the variances, each Newton step aimed at the next
    variances) ends at the fixed point the plain Laplace-EM iteration converges to,
    and the shifts there are the shifts at those variances; in fewer steps."""
    design = _cell_design(seed)
    solution = design.fit()
    plain_u, plain_v = _plain_laplace_em(design, 1e-10)
    # The plain iteration closes ~40% of the gap a step: within 1e-10 of its last
    # move puts it within ~1e-9 of the limit; the fit is within its tolerance.
    assert solution.sigma2_unit == pytest.approx(plain_u, rel=TOLERANCE)
    assert solution.sigma2_rater == pytest.approx(plain_v, rel=TOLERANCE)
    at_plain = design.fit(plain_u, plain_v)
    assert solution.rater_effects == pytest.approx(at_plain.rater_effects, abs=1e-5)
    assert solution.thresholds == pytest.approx(at_plain.thresholds, abs=1e-5)
    assert solution.n_iterations < 20


def test_an_aimed_step_lands_on_the_new_variances_mode():
    """From the mode at one pair of variances, one step aimed at another pair (the
    factor of the first, the gradient of the second) lands near the mode at the
    second pair: it misses by a share of the distance that shrinks with the change
    (second order), where a step at the first pair would not move at all."""
    design = _cell_design(33)
    s2u, s2v = 1.5, 0.6
    here = design.fit(s2u, s2v)
    point = (here.thresholds, here.beta, here.unit_effects, here.rater_effects)
    system = design._system(*point, s2u, s2v)
    design._factor(system)
    directions = design._directions(system)
    misses = []
    for change in (0.05, 0.01):
        target = (s2u * (1 + change), s2v * (1 - change))
        there = design.fit(*target)
        tau, beta, u, v, _, _ = design._step(*point, system, *target, directions=directions)
        moved = np.concatenate([there.thresholds, there.beta, there.unit_effects])
        moved = np.concatenate([moved, there.rater_effects])
        landed = np.concatenate([tau, beta, u, v])
        start = np.concatenate(point)
        apart = np.max(np.abs(moved - start))
        assert apart > 1e-3
        misses.append(np.max(np.abs(landed - moved)) / apart)
    assert misses[0] < 0.1
    assert misses[1] < misses[0] / 3
    # Aimed at the system's own variances, the directions give the plain Newton step.
    plain = design._step(*point, system, s2u, s2v, directions=directions)
    solved = design._step(*point, system, s2u, s2v)
    for a, b in zip(plain[:4], solved[:4], strict=True):
        assert a == pytest.approx(b, abs=1e-12)


def test_a_secant_step_solves_a_linear_fixed_point_along_its_direction():
    """For an update that closes a fixed share of the gap in log σ² along one
    direction (the plain iteration's behaviour near the limit), the secant through
    two plain steps lands on the fixed point; a jump beyond its reach is refused."""
    limit, rho = np.log([2.3, 1.7]), 0.6

    def update(s2):
        return tuple(np.exp(limit + rho * (np.log(s2) - limit)))

    secant = _Secant()
    s0 = (1.2, 1.1)
    s1 = secant.next(s0, update(s0), (True, True))
    assert s1 == pytest.approx(update(s0))  # the first call: the plain update
    s2 = secant.next(s1, update(s1), (True, True))
    assert np.log(s2) == pytest.approx(limit, abs=1e-12)
    # A variance that is not updated stays where it is.
    held = _Secant()
    t1 = held.next((1.2, 1.1), (update((1.2, 1.1))[0], 1.1), (True, False))
    t2 = held.next(t1, (update(t1)[0], 1.1), (True, False))
    assert t2[1] == 1.1 and np.log(t2[0]) == pytest.approx(limit[0], abs=1e-12)
    # An update whose move barely shrinks: the secant's root is ~100 plain moves away,
    # beyond SECANT_REACH of them, so the plain update is taken.
    wild = _Secant()
    first = math.exp(0.01)
    wild.next((1.0, 1.0), (first, first), (True, True))
    second = first * math.exp(0.0099)
    assert SECANT_REACH < 100
    assert wild.next((first, first), (second, second), (True, True)) == (second, second)


@pytest.mark.parametrize("huge_pages", [True, False])
def test_a_fit_without_huge_pages_gives_the_same_fit_and_restores_numpys_setting(
    huge_pages, monkeypatch
):
    """`fit_arrays` turns numpy's huge-page hint off for the ordinal fit's temporaries (a
    kernel-time saving only; the linear fit keeps it): the estimates are bit for bit those of the same fit
    with the hint as it was, and the hint is put back as it was, even on an error."""
    from numpy._core import multiarray

    from service.domain import calibration
    from service.domain.calibration import CalibrationDataError, _fit_arrays

    during = []

    def recording(*args, **kwargs):
        state = multiarray._set_madvise_hugepage(False)
        multiarray._set_madvise_hugepage(state)
        during.append(state)
        return _fit_arrays(*args, **kwargs)

    monkeypatch.setattr(calibration, "_fit_arrays", recording)
    sim = simulate(41, n_candidates=120, pool=20)
    columns = (sim.candidate, sim.rater, sim.competency, sim.score)
    previous = multiarray._set_madvise_hugepage(huge_pages)
    try:
        plain = _fit_arrays(
            ThreadPoolExecutor(1),
            *columns,
            unit_level="cell",
            model="ordinal",
            interviewer_names=None,
            competency_names=None,
            unit_names=None,
            components=None,
            start=None,
        )
        fitted = fit_arrays(*columns, model="ordinal")
        assert multiarray._set_madvise_hugepage(huge_pages) is huge_pages
        with pytest.raises(CalibrationDataError):
            fit_arrays(*(c[:0] for c in columns), model="ordinal")
        assert multiarray._set_madvise_hugepage(huge_pages) is huge_pages
        fit_arrays(*columns, model="linear")
    finally:
        multiarray._set_madvise_hugepage(previous)
    # Off inside both ordinal fits, whatever it was outside; the linear fit's as it was.
    assert during == [False, False, huge_pages]
    for name, effect in plain.effects.items():
        assert fitted.effects[name] == effect
    assert fitted.components == plain.components
    assert fitted.reml_criterion == plain.reml_criterion


def test_an_ordinal_fit_keeps_freed_memory_in_the_heap_and_puts_malloc_back(monkeypatch):
    """`fit_arrays` raises glibc's mmap and trim thresholds for an ordinal fit (so the
    fit's temporaries reuse heap pages instead of the kernel mapping and zeroing them
    again), sets them to glibc's dynamic ceilings afterwards, even on an error, and
    returns the free memory with malloc_trim; the linear fit leaves malloc alone. The
    estimates are bit for bit those of the same fit with malloc untouched."""
    from service.domain import calibration
    from service.domain.calibration import CalibrationDataError, _fit_arrays

    calls: list[tuple[str, int, int]] = []

    class RecordingLibc:
        def mallopt(self, parameter: int, value: int) -> int:
            calls.append(("mallopt", parameter, value))
            return 1

        def malloc_trim(self, pad: int) -> int:
            calls.append(("malloc_trim", pad, 0))
            return 1

    def recording(*args, **kwargs):
        calls.append(("fit", 0, 0))
        return _fit_arrays(*args, **kwargs)

    sim = simulate(43, n_candidates=120, pool=20)
    columns = (sim.candidate, sim.rater, sim.competency, sim.score)
    real = fit_arrays(*columns, model="ordinal")  # with the real libc, where there is one
    monkeypatch.setattr(calibration, "_glibc", RecordingLibc)
    monkeypatch.setattr(calibration, "_fit_arrays", recording)
    untouched = _fit_arrays(
        ThreadPoolExecutor(1),
        *columns,
        unit_level="cell",
        model="ordinal",
        interviewer_names=None,
        competency_names=None,
        unit_names=None,
        components=None,
        start=None,
    )
    calls.clear()
    fit_arrays(*columns, model="ordinal")
    with pytest.raises(CalibrationDataError):
        fit_arrays(*(c[:0] for c in columns), model="ordinal")
    fit_arrays(*columns, model="linear")
    mmap, trim, ceiling = -3, -1, 32 * 1024 * 1024
    kept = [("mallopt", mmap, 1 << 30), ("mallopt", trim, 1 << 30), ("fit", 0, 0)]
    put_back = [("mallopt", mmap, ceiling), ("mallopt", trim, 2 * ceiling), ("malloc_trim", 0, 0)]
    assert calls == (kept + put_back) * 2 + [("fit", 0, 0)]
    for name, effect in untouched.effects.items():
        assert real.effects[name] == effect
    assert real.components == untouched.components
    assert real.reml_criterion == untouched.reml_criterion


@pytest.mark.parametrize("seed", range(3))
def test_copanelist_counts_from_the_pairs_table_are_the_boolean_products(seed, monkeypatch):
    """Distinct co-panelists from each unit's pairs of interviewers equal the row counts
    of the boolean product NᵀN less the diagonal, duplicates in the rows included, and
    so do the counts from the pairs of the ratings' entries."""
    import scipy.sparse

    from service.domain import calibration_effects
    from service.domain.calibration_effects import copanelist_counts

    rng = np.random.default_rng(seed)
    n, units, raters = 3000, 400, 60
    unit, rater = rng.integers(0, units, n), rng.integers(0, raters, n)
    unit[-1], rater[-1] = unit[0], rater[0]  # a duplicate entry
    n_matrix = scipy.sparse.csr_matrix((np.ones(n), (unit, rater)), shape=(units, raters))
    table = copanelist_counts(n_matrix)
    # The fit's way: the table from the pairs its `RatingEntries` already hold.
    pairs = RatingEntries.of(unit, rater, raters).rater_pair
    from_entries = copanelist_counts(n_matrix, calibration_effects.copanel_graph(n_matrix, pairs))
    monkeypatch.setattr(calibration_effects, "COPANEL_TABLE_RATERS", 0)
    product = copanelist_counts(n_matrix)
    assert table.tolist() == product.tolist() == from_entries.tolist()
    assert table.max() > 0


def _bipartite_components(n_matrix):
    """The plain computation: components of the unit–interviewer graph, ranked by
    ratings (ties to the lower label, i.e. the component with the lowest unit)."""
    import scipy.sparse
    from scipy.sparse.csgraph import connected_components

    u, r = n_matrix.shape
    incidence = n_matrix.tocoo()
    graph = scipy.sparse.coo_matrix(
        (np.ones(incidence.nnz), (incidence.row, u + incidence.col)), shape=(u + r, u + r)
    )
    n_components, labels = connected_components(graph, directed=False)
    ratings = np.bincount(labels[u:], weights=np.asarray(n_matrix.sum(axis=0)).ravel())
    rank = np.empty(n_components, dtype=np.int64)
    rank[np.argsort(-ratings, kind="stable")] = np.arange(n_components)
    return rank[labels[u:]], n_components


@pytest.mark.parametrize("seed", range(3))
def test_interviewer_components_from_the_copanel_graph_are_the_unit_graphs(seed):
    """Components found on the interviewers' co-panel graph are those of the
    unit–interviewer graph, numbered alike (by ratings, ties as there), on sparse
    random designs with many components, tied ones among them."""
    import scipy.sparse

    from service.domain.calibration import _rater_components
    from service.domain.calibration_effects import copanel_graph

    rng = np.random.default_rng(seed)
    tied = 0
    for _ in range(60):
        n, units, raters = (int(rng.integers(a, b)) for a, b in ((20, 300), (5, 200), (2, 60)))
        _, unit = np.unique(rng.integers(0, units, n), return_inverse=True)
        _, rater = np.unique(rng.integers(0, raters, n), return_inverse=True)
        shape = (int(unit.max()) + 1, int(rater.max()) + 1)
        n_matrix = scipy.sparse.csr_matrix((np.ones(n), (unit, rater)), shape=shape)
        expected, count = _bipartite_components(n_matrix)
        component, n_components = _rater_components(n_matrix, copanel_graph(n_matrix))
        assert n_components == count
        assert component.tolist() == expected.tolist()
        ratings = np.bincount(expected, weights=np.asarray(n_matrix.sum(axis=0)).ravel())
        tied += len(np.unique(ratings)) < len(ratings)
    assert tied > 5


def test_expected_scores_without_the_slope_are_the_same_expected_scores():
    """`expected_score(..., slope=False)` (the leniency's score without the shift, whose
    slope nobody reads) skips the slope and leaves the expected scores bit for bit."""
    from service.domain.ordinal_effects import expected_score

    rng = np.random.default_rng(5)
    eta, thresholds, levels = rng.normal(0, 2, 5000), np.array([-2.0, 0.3, 3.0]), np.arange(1.0, 5)
    expected, slope = expected_score(thresholds, eta, levels)
    alone, none = expected_score(thresholds, eta, levels, slope=False)
    assert alone.tolist() == expected.tolist()
    assert slope.min() > 0 and not none.any()


@pytest.mark.parametrize("unit_level", ["cell", "candidate"])
def test_rater_lift_and_slope_are_the_means_of_each_raters_ratings(unit_level):
    """Per rater, the lift is the mean over its ratings of the expected score with its
    shift less without it (taken per unit where units have one group), and the slope the
    mean derivative, to rounding, with or without units of one group."""
    from service.domain.ordinal_effects import expected_score

    design, (tau, beta, u, v) = _design_and_point(unit_level)
    assert (design.unit_group is None) == (unit_level == "candidate")
    levels = np.arange(1.0, design.n_levels + 1)
    lift, slope = design._rater_means(tau, beta, u, v, levels)
    eta = beta[design.group] + u[design.unit]
    without, _ = expected_score(tau, eta, levels, slope=False)
    expected, derivative = expected_score(tau, eta + v[design.rater], levels)
    for rater in range(design.n_raters):
        mine = design.rater == rater
        assert lift[rater] == pytest.approx((expected - without)[mine].mean(), rel=1e-12)
        assert slope[rater] == pytest.approx(derivative[mine].mean(), rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_copanel_estimates_are_the_leave_one_out_means_rating_by_rating(seed):
    """Ratings without others on their unit (weight 0) must add nothing."""
    rng = np.random.default_rng(seed)
    n, n_raters, lam = 300, 12, 0.7
    unit = _codes(rng.integers(0, 120, n))  # some units hold one rating
    rater = rng.integers(0, n_raters, n)
    competency = rng.integers(0, 3, n)
    score = rng.normal(3.0, 1.0, n)
    beta = rng.normal(0.0, 0.5, 3)
    estimate, weight_sum = copanel_estimates(unit, rater, competency, score, beta, lam)
    resid = score - beta[0] - np.concatenate([[0.0], beta[1:]])[competency]
    weights, totals = np.zeros(n_raters), np.zeros(n_raters)
    for i in range(n):
        others = (unit == unit[i]) & (rater != rater[i])
        if others.any():
            w = others.sum() / (unit == unit[i]).sum()
            weights[rater[i]] += w
            totals[rater[i]] += w * (resid[i] - resid[others].mean())
    assert weight_sum == pytest.approx(weights, rel=1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(weights > 0, totals / (weights + lam), np.nan)
    assert np.array_equal(np.isnan(estimate), np.isnan(expected))
    assert estimate[~np.isnan(estimate)] == pytest.approx(expected[~np.isnan(expected)], rel=1e-10)
