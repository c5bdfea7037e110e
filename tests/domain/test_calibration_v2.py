"""Calibration v2 with known truth: connected groups, what the data cannot determine,
calibrated scores on the rubric's scale, the ordinal model's recovery.

Seeded and small (a few seconds in all); bench/calibration_simulation.py runs the
same simulation at the size whose figures docs/scoring.md quotes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.calibration_simulation import evaluate, simulate
from service.domain.calibration import WarmStart, fit_arrays
from service.domain.calibration_scale import CalibrationState, RatingScale, typical_score
from service.domain.ordinal_effects import TOLERANCE, OrdinalDesign, _update
from tests.domain.test_calibration import simulate as simulate_points

MODELS = ("linear", "ordinal")
FAST = settings(max_examples=40, deadline=None)


def with_isolated_group(seed, *, interviewers=3, candidates=12, strength=1.0):
    """A main pool plus `interviewers` truly neutral interviewers who rate only
    `candidates` strong candidates of their own, all of them on every competency."""
    sim = simulate(seed, n_candidates=200, pool=40)
    rng = np.random.default_rng(seed + 1)
    first = int(sim.candidate.max()) + 1
    cand = np.repeat(first + np.arange(candidates), interviewers * 4)
    rater = np.tile(np.repeat(40 + np.arange(interviewers), 4), candidates)
    comp = np.tile(np.arange(4), candidates * interviewers)
    level = 2.5 + strength + rng.normal(0, 0.3, candidates)
    latent = level[cand - first] + rng.logistic(0, 0.33, len(cand))
    score = 1.0 + (latent[:, None] > np.array([1.5, 2.5, 3.5])).sum(axis=1)
    columns = [
        np.concatenate([a, b])
        for a, b in zip(
            (sim.candidate, sim.rater, sim.competency, sim.score),
            (cand, rater, comp, score),
            strict=True,
        )
    ]
    names = [f"i{r:03d}" for r in range(40 + interviewers)]
    return columns, names, [names[40 + i] for i in range(interviewers)]


# --- connected groups -----------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_an_isolated_neutral_group_gets_no_adjustment(model):
    columns, names, isolated = with_isolated_group(4)
    result = fit_arrays(*columns, interviewer_names=names, model=model)
    assert result.n_components == 2
    for name in isolated:
        effect = result.effects[name]
        assert effect.state == CalibrationState.NOT_COMPARABLE
        assert not effect.connected
        # Estimated within its own group: the group's strong candidates are not
        # turned into leniency (v1 gave each about +0.6).
        assert abs(effect.leniency) < 0.15
        assert "Not comparable with the main pool" in effect.explanation
    assert all(
        e.state == CalibrationState.APPLIED for n, e in result.effects.items() if n not in isolated
    )


@pytest.mark.parametrize("model", MODELS)
def test_leniencies_are_centred_within_each_group(model):
    columns, names, isolated = with_isolated_group(5)
    result = fit_arrays(*columns, interviewer_names=names, model=model)
    main = [e.shift for n, e in result.effects.items() if n not in isolated]
    group = [result.effects[n].shift for n in isolated]
    assert sum(main) == pytest.approx(0.0, abs=1e-6)
    assert sum(group) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("model", MODELS)
def test_a_group_too_small_to_compare_has_insufficient_data_and_no_estimate(model):
    columns, names, isolated = with_isolated_group(6, interviewers=2, candidates=2)
    result = fit_arrays(*columns, interviewer_names=names, model=model)
    for name in isolated:
        effect = result.effects[name]
        assert effect.state == CalibrationState.INSUFFICIENT_DATA
        assert (effect.leniency, effect.se, effect.shift) == (None, None, None)
        assert effect.explanation.startswith("Insufficient data")


@pytest.mark.parametrize("model", MODELS)
def test_one_interviewer_variance_cannot_be_estimated(model):
    cand = np.repeat(np.arange(10), 2)
    comp = np.tile([0, 1], 10)
    score = np.array([1, 2, 2, 3, 3, 4, 2, 2, 3, 3, 4, 4, 1, 1, 2, 3, 3, 2, 4, 3], float)
    result = fit_arrays(cand, np.zeros(20, int), comp, score, model=model)
    c = result.components
    assert c.sigma2_interviewer is None
    assert "cannot be estimated from this data" in c.interviewer_reason
    assert c.sigma2_unit is not None and c.unit_reason is None
    assert result.effects["0"].state == CalibrationState.INSUFFICIENT_DATA
    assert result.effects["0"].leniency is None


@pytest.mark.parametrize("model", MODELS)
def test_one_candidate_unit_variance_cannot_be_estimated(model):
    rater = np.repeat(np.arange(5), 4)
    comp = np.tile(np.arange(4), 5)
    score = np.array([3, 3, 2, 4, 2, 2, 1, 3, 4, 4, 3, 4, 3, 2, 2, 3, 3, 3, 2, 4], float)
    result = fit_arrays(np.zeros(20, int), rater, comp, score, model=model)
    c = result.components
    assert c.sigma2_unit is None
    assert "cannot be estimated from this data" in c.unit_reason
    assert c.sigma2_interviewer is not None
    # Interviewers rated the same cells, so their habits still compare.
    assert {e.state for e in result.effects.values()} == {CalibrationState.APPLIED}


# --- the absolute interval --------------------------------------------------------------


def test_absolute_interval_covers_true_leniency_95_percent_where_the_linear_model_holds():
    """Real-valued scores (the linear model is right): ±1.96 se_absolute covers the true
    leniency about 95 % of the time; the relative se alone covers far less."""
    relative, absolute = [], []
    for seed in range(12):
        cand, rater, comp, score, _, truth = simulate_points(
            300 + seed, n_candidates=150, pool=30, rounded=False
        )
        result = fit_arrays(cand, rater, comp, score)
        effects = [result.effects[str(r)] for r in range(30) if str(r) in result.effects]
        true = np.array([truth[int(e.interviewer)] for e in effects])
        estimate = np.array([e.leniency for e in effects])
        relative.append(np.abs(estimate - true) <= 1.96 * np.array([e.se for e in effects]))
        absolute.append(
            np.abs(estimate - true) <= 1.96 * np.array([e.se_absolute for e in effects])
        )
    assert 0.92 <= np.mean(np.concatenate(absolute)) <= 0.98
    assert np.mean(np.concatenate(relative)) < 0.88


# --- calibrated scores on the scale ------------------------------------------------------

SCALE = RatingScale(
    levels=(1.0, 2.0, 3.0, 4.0),
    thresholds=(-2.0, 0.0, 2.0),
    latent_sd=2.0,
    competency_means={"coding": 0.3},
)


@FAST
@given(raw=st.integers(1, 4), shift=st.floats(-8, 8))
def test_calibrated_scores_stay_within_the_scale(raw, shift):
    assert 1.0 <= typical_score(raw, shift, "coding", SCALE) <= 4.0


@FAST
@given(raw=st.integers(1, 4))
def test_a_typical_interviewer_keeps_the_raw_score(raw):
    assert typical_score(raw, 0.0, "coding", SCALE) == pytest.approx(raw)


@FAST
@given(raw=st.integers(1, 3), shift=st.floats(-4, 4), more=st.floats(0.01, 2))
def test_calibrated_scores_never_fall_with_the_raw_score_nor_rise_with_the_shift(raw, shift, more):
    # Ties are right: a very lenient interviewer's 1 and 2 can both mean a typical 1.
    assert typical_score(raw + 1, shift, "coding", SCALE) >= typical_score(
        raw, shift, "coding", SCALE
    )
    assert typical_score(raw, shift + more, "coding", SCALE) <= typical_score(
        raw, shift, "coding", SCALE
    )


@pytest.mark.parametrize("model", MODELS)
def test_every_calibrated_score_of_a_fit_is_on_the_scale(model):
    """v1 gave 0.53 to 4.87 on a 1–4 rubric; a strongly lenient pool must not."""
    sim = simulate(8, n_candidates=150, pool=30, leniency_sd=1.0)
    names = [f"i{r:03d}" for r in range(30)]
    result = fit_arrays(
        sim.candidate, sim.rater, sim.competency, sim.score, interviewer_names=names, model=model
    )
    values = [
        typical_score(raw, result.effects[names[r]].shift, str(c), result.scale)
        for raw, r, c in set(zip(sim.score, sim.rater, sim.competency, strict=True))
    ]
    assert min(values) >= 1.0 and max(values) <= 4.0


# --- the ordinal model --------------------------------------------------------------------


def test_ordinal_posterior_mode_matches_a_generic_optimiser():
    """With the variances held, Newton's mode is the penalised likelihood's maximum."""
    sim = simulate(9, n_candidates=25, pool=6, competencies=2)
    _, unit = np.unique(sim.candidate * 2 + sim.competency, return_inverse=True)
    design = OrdinalDesign(unit, sim.rater, sim.competency, (sim.score - 1).astype(int))
    k1 = design.n_levels - 1
    solution = design.fit(0.8, 0.5)

    def negative(x):
        tau, beta = x[:k1], np.concatenate([[0.0], x[k1 : k1 + 1]])
        u, v = x[k1 + 1 : k1 + 1 + design.n_units], x[k1 + 1 + design.n_units :]
        if np.any(np.diff(tau) <= 0):
            return 1e10
        loglik, _ = design._terms(tau, beta[design.group] + u[design.unit] + v[design.rater])
        return -(loglik - 0.5 * (u @ u / 0.8 + v @ v / 0.5))

    start = np.concatenate(
        [solution.thresholds, solution.beta[1:], solution.unit_effects, solution.rater_effects]
    )
    oracle = scipy.optimize.minimize(
        negative, start + 0.05, method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-14}
    )
    assert oracle.x[-6:] == pytest.approx(solution.rater_effects, abs=1e-3)
    assert oracle.x[:k1] == pytest.approx(solution.thresholds, abs=1e-3)


def test_ordinal_rater_effects_sum_to_zero_and_converge():
    sim = simulate(10, n_candidates=120, pool=25)
    result = fit_arrays(sim.candidate, sim.rater, sim.competency, sim.score, model="ordinal")
    assert sum(e.shift for e in result.effects.values()) == pytest.approx(0.0, abs=1e-8)
    assert result.components.sigma2_residual == pytest.approx(math.pi**2 / 3)


def test_ordinal_model_recovers_leniency_as_documented():
    """docs/scoring.md, "Which model": the small-run floor of the published figures."""
    runs = [evaluate(simulate(s, n_candidates=250, pool=50), "ordinal") for s in range(3)]
    mean = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
    assert mean["corr"] >= 0.95
    assert 0.85 <= mean["slope"] <= 1.0
    assert mean["coverage"] >= 0.85
    assert mean["rank_corr"] > mean["raw"] + 0.02


def test_ordinal_model_compresses_leniency_less_than_the_linear_model():
    for seed in range(2):
        sim = simulate(20 + seed, n_candidates=250, pool=50)
        linear, ordinal = evaluate(sim, "linear"), evaluate(sim, "ordinal")
        assert ordinal["slope"] > linear["slope"] + 0.05
        assert ordinal["coverage"] > linear["coverage"]
        assert ordinal["rank_corr"] >= linear["rank_corr"] - 0.005


def test_ordinal_posterior_variances_match_the_inverse_of_a_numerical_hessian():
    """The traces the variance update uses and the final rater variances (absolute and
    with the fixed effects held) are those of the penalised log likelihood's Hessian."""
    sim = simulate(9, n_candidates=25, pool=6, competencies=2)
    _, unit = np.unique(sim.candidate * 2 + sim.competency, return_inverse=True)
    design = OrdinalDesign(unit, sim.rater, sim.competency, (sim.score - 1).astype(int))
    k1, nu = design.n_levels - 1, design.n_units
    s2u, s2v = 0.8, 0.5
    solution = design.fit(s2u, s2v)

    def objective(x):
        tau, beta = x[:k1], np.concatenate([[0.0], x[k1 : k1 + 1]])
        u, v = x[k1 + 1 : k1 + 1 + nu], x[k1 + 1 + nu :]
        loglik, _ = design._terms(tau, beta[design.group] + u[design.unit] + v[design.rater])
        return loglik - 0.5 * (u @ u / s2u + v @ v / s2v)

    x0 = np.concatenate(
        [solution.thresholds, solution.beta[1:], solution.unit_effects, solution.rater_effects]
    )
    h, step = np.zeros((len(x0), len(x0))), 1e-3
    for i in range(len(x0)):
        for j in range(i + 1):
            e_i, e_j = np.eye(len(x0))[i] * step, np.eye(len(x0))[j] * step
            h[i, j] = h[j, i] = (
                objective(x0 + e_i + e_j)
                - objective(x0 + e_i - e_j)
                - objective(x0 - e_i + e_j)
                + objective(x0 - e_i - e_j)
            ) / (4 * step * step)
    covariance = np.linalg.inv(-h)
    fixed, units, raters = slice(0, k1 + 1), slice(k1 + 1, k1 + 1 + nu), slice(k1 + 1 + nu, None)
    assert solution.rater_variance == pytest.approx(np.diag(covariance)[raters], rel=1e-4)
    held = np.linalg.inv(-h[k1 + 1 :, k1 + 1 :])  # τ and β held at their estimates
    assert solution.rater_variance_relative == pytest.approx(np.diag(held)[nu:], rel=1e-4)
    assert fixed.stop == k1 + 1

    tau, beta, u, v = (
        solution.thresholds,
        solution.beta,
        solution.unit_effects,
        solution.rater_effects,
    )
    system = design._system(tau, beta, u, v, s2u, s2v)
    system.chol, _ = scipy.linalg.lapack.dpotrf(system.m, lower=1, clean=0)
    sum_u, sum_v = design._posterior_variance_sums(system)
    assert sum_u == pytest.approx(np.trace(covariance[units, units]), rel=1e-4)
    assert sum_v == pytest.approx(np.trace(covariance[raters, raters]), rel=1e-4)


def test_ordinal_fit_reaches_the_variances_fixed_point():
    """Holding the variances once they have converged leaves them at the fixed point of
    the Laplace-EM update: refitting the modes there and updating once moves them by
    less than the tolerance."""
    sim = simulate(11, n_candidates=120, pool=25)
    _, unit = np.unique(sim.candidate * 4 + sim.competency, return_inverse=True)
    design = OrdinalDesign(unit, sim.rater, sim.competency, (sim.score - 1).astype(int))
    solution = design.fit()
    assert solution.converged
    held = design.fit(solution.sigma2_unit, solution.sigma2_rater)
    tau, beta, u, v = held.thresholds, held.beta, held.unit_effects, held.rater_effects
    system = design._system(tau, beta, u, v, solution.sigma2_unit, solution.sigma2_rater)
    system.chol, _ = scipy.linalg.lapack.dpotrf(system.m, lower=1, clean=0)
    sum_u, sum_v = design._posterior_variance_sums(system)
    again_u = _update(u, sum_u, solution.sigma2_unit)
    again_v = _update(v, sum_v, solution.sigma2_rater)
    assert again_u == pytest.approx(solution.sigma2_unit, rel=TOLERANCE)
    assert again_v == pytest.approx(solution.sigma2_rater, rel=TOLERANCE)


def test_ordinal_refresh_from_a_warm_start_equals_a_cold_refresh():
    """Started from an earlier fit on less data, or from a start that fits nothing
    (another scale's levels), a refresh ends where a cold one does."""
    sim = simulate(12, n_candidates=200, pool=40)
    columns = (sim.candidate, sim.rater, sim.competency, sim.score)
    earlier = sim.candidate < 180
    first = fit_arrays(*(c[earlier] for c in columns), model="ordinal")
    cold = fit_arrays(*columns, model="ordinal", components=first.components)
    warm = WarmStart.from_fit(first)
    mismatched = WarmStart(RatingScale((0.0, 1.0), (0.5,), 1.0, {}), warm.shifts)
    for start in (warm, mismatched):
        again = fit_arrays(*columns, model="ordinal", components=first.components, start=start)
        for name, effect in cold.effects.items():
            assert again.effects[name].shift == pytest.approx(effect.shift, abs=1e-7)
            assert again.effects[name].se == pytest.approx(effect.se, rel=1e-6)
        assert again.reml_criterion == pytest.approx(cold.reml_criterion, abs=1e-6)
