"""Interviewer calibration: published output, an oracle, known truth, properties."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.calibration import (
    CalibrationDataError,
    Rating,
    RatingTable,
    fit,
    fit_arrays,
    refresh,
)
from service.domain.calibration_io import fit_report, read_ratings_csv

DATA = Path(__file__).parent / "data"
FAST = settings(max_examples=20, deadline=None)


def penicillin_ratings() -> list[Rating]:
    """lme4's Penicillin: plate -> unit, sample -> interviewer, one 'competency'."""
    rows = np.genfromtxt(
        DATA / "penicillin.csv", delimiter=",", names=True, dtype=None, encoding="utf-8"
    )
    return [
        Rating(unit=str(p), interviewer=str(s), competency="diameter", score=float(y))
        for y, p, s in rows
    ]


def simulate(
    seed,
    *,
    n_candidates=300,
    pool=60,
    competencies=4,
    leniency_sd=0.5,
    noise_sd=0.6,
    rounded=True,
    busy_first=False,
):
    """Candidates with true levels, a pool of interviewers with true leniencies,
    sparse panels of 4–6 drawn with uneven workloads; every panelist rates every
    competency. `busy_first` puts interviewer 0 on most panels. Returns the
    columns plus the truth."""
    rng = np.random.default_rng(seed)
    level = rng.normal(2.5, 0.6, n_candidates)
    competency_shift = rng.normal(0.0, 0.2, competencies)
    leniency = rng.normal(0.0, leniency_sd, pool)
    workload = rng.gamma(1.5, size=pool)
    if busy_first:
        workload[0] = 10 * workload.max()
    # Weighted sampling without replacement by the Gumbel top-k trick.
    keys = np.log(workload) + rng.gumbel(size=(n_candidates, pool))
    panels = np.argsort(-keys, axis=1)[:, :6]
    sizes = rng.integers(4, 7, n_candidates)
    cand, slot = np.nonzero(np.arange(6) < sizes[:, None])
    rater = panels[cand, slot]
    cand = np.repeat(cand, competencies)
    rater = np.repeat(rater, competencies)
    comp = np.tile(np.arange(competencies), len(cand) // competencies)
    score = (
        level[cand]
        + competency_shift[comp]
        + leniency[rater]
        + rng.normal(0.0, noise_sd, len(cand))
    )
    if rounded:
        score = np.clip(np.round(score), 1, 4)
    return cand, rater, comp, score, level, leniency


def fit_sim(cand, rater, comp, score, **kwargs):
    """Fit coded columns; `names[code]` is the interviewer's name (some codes may
    have no ratings, so use `present` to iterate over interviewers)."""
    names = [f"i{r:03d}" for r in range(int(rater.max()) + 1)]
    return fit_arrays(cand, rater, comp, score, interviewer_names=names, **kwargs), names


def present(result, names):
    return [name for name in names if name in result.effects]


# --- published output -------------------------------------------------------


def test_penicillin_reproduces_lme4_reml_fit():
    result = fit(penicillin_ratings())
    c = result.components
    assert result.reml_criterion == pytest.approx(330.8606, abs=1e-4)
    assert math.sqrt(c.sigma2_unit) == pytest.approx(0.8467, abs=1e-4)
    assert math.sqrt(c.sigma2_interviewer) == pytest.approx(1.9316, abs=1e-4)
    assert math.sqrt(c.sigma2_residual) == pytest.approx(0.5499, abs=1e-4)
    assert result.intercept == pytest.approx(22.97222, abs=1e-5)
    assert result.n_components == 1
    assert result.fitted_with == "reml"


def test_penicillin_leniencies_sum_to_zero_and_order_samples():
    effects = fit(penicillin_ratings()).effects
    assert sum(e.leniency for e in effects.values()) == pytest.approx(0.0, abs=1e-8)
    ranked = sorted(effects, key=lambda name: effects[name].leniency)
    assert ranked == ["F", "B", "D", "E", "C", "A"]


def test_candidate_unit_level_equals_cell_level_with_one_competency():
    ratings = penicillin_ratings()
    by_cell, by_candidate = fit(ratings), fit(ratings, unit_level="candidate")
    assert by_candidate.reml_criterion == pytest.approx(by_cell.reml_criterion, abs=1e-9)
    assert by_candidate.effects["A"].leniency == pytest.approx(by_cell.effects["A"].leniency)


# --- oracle -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_matches_statsmodels_mixedlm_on_small_crossed_data():
    pd = pytest.importorskip("pandas")
    sm = pytest.importorskip("statsmodels.formula.api")
    cand, rater, comp, score, _, _ = simulate(
        3, n_candidates=50, pool=12, competencies=2, rounded=False
    )
    ours, names = fit_sim(cand, rater, comp, score, unit_level="candidate")
    frame = pd.DataFrame(
        {"y": score, "comp": comp, "unit": cand, "rater": [names[r] for r in rater], "one": 1}
    )
    model = sm.mixedlm(
        "y ~ C(comp)",
        frame,
        groups="one",
        re_formula="0",
        vc_formula={"unit": "0 + C(unit)", "rater": "0 + C(rater)"},
    )
    oracle = model.fit(reml=True, method=["lbfgs"])
    vcomp = dict(zip(model.exog_vc.names, oracle.vcomp, strict=False))
    assert ours.components.sigma2_unit == pytest.approx(vcomp["unit"], rel=1e-3)
    assert ours.components.sigma2_interviewer == pytest.approx(vcomp["rater"], rel=1e-3)
    assert ours.components.sigma2_residual == pytest.approx(oracle.scale, rel=1e-3)
    assert ours.intercept == pytest.approx(oracle.fe_params["Intercept"], abs=1e-3)
    blups = oracle.random_effects[1]
    for name in present(ours, names):
        assert ours.effects[name].leniency == pytest.approx(
            blups[f"rater[C(rater)[{name}]]"], abs=1e-3
        )
    assert ours.reml_criterion == pytest.approx(-2 * oracle.llf, abs=1e-2)


# --- known truth --------------------------------------------------------------


def test_recovers_true_leniency_for_interviewers_with_30_ratings():
    cand, rater, comp, score, _, leniency = simulate(11)
    result, names = fit_sim(cand, rater, comp, score)
    busy = [i for i, name in enumerate(names) if result.effects[name].n_ratings >= 30]
    assert len(busy) >= 20
    estimated = [result.effects[names[i]].leniency for i in busy]
    assert np.corrcoef(estimated, leniency[busy])[0, 1] >= 0.9


def test_calibrated_means_track_true_levels_better_than_raw_means():
    gains = []
    for seed in range(5):
        cand, rater, comp, score, level, _ = simulate(100 + seed)
        result, names = fit_sim(cand, rater, comp, score)
        by_name = {n: e.leniency for n, e in result.effects.items()}
        lenient = np.array([by_name.get(n, np.nan) for n in names])[rater]
        counts = np.bincount(cand)
        raw = np.bincount(cand, weights=score) / counts
        calibrated = np.bincount(cand, weights=score - lenient) / counts
        gains.append(np.corrcoef(calibrated, level)[0, 1] - np.corrcoef(raw, level)[0, 1])
    assert np.mean(gains) > 0


# --- properties -----------------------------------------------------------------


def shift_scenario(seed):
    """Real-valued scores; interviewer 0 busy (>= 100 ratings); one extra
    interviewer with exactly two ratings on existing cells."""
    cand, rater, comp, score, _, _ = simulate(
        seed,
        n_candidates=120,
        pool=25,
        competencies=2,
        noise_sd=0.7,
        rounded=False,
        busy_first=True,
    )
    busy = 0
    small = int(rater.max()) + 1
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(cand), 2, replace=False)
    cand = np.concatenate([cand, cand[picks]])
    comp = np.concatenate([comp, comp[picks]])
    rater = np.concatenate([rater, [small, small]])
    score = np.concatenate([score, score[picks] + rng.normal(0, 0.7, 2)])
    return cand, rater, comp, score, busy, small


@FAST
@given(seed=st.integers(0, 10_000), delta=st.floats(0.2, 1.0), sign=st.sampled_from([-1, 1]))
def test_shifting_a_busy_interviewer_shifts_their_leniency(seed, delta, sign):
    cand, rater, comp, score, busy, _ = shift_scenario(seed)
    assert np.sum(rater == busy) >= 100
    delta *= sign
    before, names = fit_sim(cand, rater, comp, score)
    after, _ = fit_sim(cand, rater, comp, score + delta * (rater == busy))
    moved = after.effects[names[busy]].leniency - before.effects[names[busy]].leniency
    assert moved == pytest.approx(delta, rel=0.10)


@FAST
@given(seed=st.integers(0, 10_000), delta=st.floats(0.2, 1.0))
def test_an_interviewer_with_two_ratings_is_shrunk(seed, delta):
    """With the variance components held fixed (a refit would also re-estimate
    σ_v² from the now more extreme interviewer), the leniency moves by at most
    the textbook share n·σ_v² / (n·σ_v² + σ²) of the shift, n = 2."""
    cand, rater, comp, score, _, small = shift_scenario(seed)
    before, names = fit_sim(cand, rater, comp, score)
    after, _ = fit_sim(
        cand, rater, comp, score + delta * (rater == small), components=before.components
    )
    moved = after.effects[names[small]].leniency - before.effects[names[small]].leniency
    c = before.components
    share = 2 * c.sigma2_interviewer / (2 * c.sigma2_interviewer + c.sigma2_residual)
    assert share < 0.75
    assert 0 < moved <= share * delta + 1e-9


@FAST
@given(seed=st.integers(0, 10_000), permutation_seed=st.integers(0, 10_000))
def test_results_do_not_depend_on_row_order(seed, permutation_seed):
    cand, rater, comp, score, _, _ = simulate(seed, n_candidates=60, pool=15, competencies=2)
    order = np.random.default_rng(permutation_seed).permutation(len(score))
    first, _ = fit_sim(cand, rater, comp, score)
    second, _ = fit_sim(cand[order], rater[order], comp[order], score[order])
    assert second.data_digest == first.data_digest
    assert second.reml_criterion == first.reml_criterion
    assert second.effects == first.effects


@FAST
@given(seed=st.integers(0, 10_000), n_alone=st.integers(1, 6))
def test_an_interviewer_sharing_no_candidate_is_disconnected(seed, n_alone):
    cand, rater, comp, score, _, _ = simulate(seed, n_candidates=60, pool=15, competencies=2)
    loner, new_cands = int(rater.max()) + 1, int(cand.max()) + 1 + np.arange(n_alone)
    cand = np.concatenate([cand, np.repeat(new_cands, 2)])
    comp = np.concatenate([comp, np.tile([0, 1], n_alone)])
    rater = np.concatenate([rater, np.full(2 * n_alone, loner)])
    score = np.concatenate([score, np.full(2 * n_alone, 3.0)])
    result, names = fit_sim(cand, rater, comp, score)
    effect = result.effects[names[loner]]
    assert not effect.connected and effect.component > 0
    assert effect.insufficient_data
    assert effect.explanation.startswith("Insufficient data")
    assert result.n_components == 2
    assert all(result.effects[n].connected for n in present(result, names) if n != names[loner])


# --- refresh, cross-check, wording, report ----------------------------------------


def test_refresh_with_own_components_reproduces_blups():
    cand, rater, comp, score, _, _ = simulate(5)
    full, names = fit_sim(cand, rater, comp, score)
    again, _ = fit_sim(cand, rater, comp, score, components=full.components)
    assert again.fitted_with == "refresh"
    for name in present(full, names):
        assert again.effects[name].leniency == pytest.approx(full.effects[name].leniency, abs=1e-6)
        assert again.effects[name].se == pytest.approx(full.effects[name].se, rel=1e-6)


def test_refresh_accepts_rating_sequences():
    ratings = penicillin_ratings()
    full = fit(ratings)
    again = refresh(ratings, full.components)
    assert again.effects["F"].leniency == pytest.approx(full.effects["F"].leniency)


def test_copanel_cross_check_agrees_with_blups_on_sparse_panels():
    cand, rater, comp, score, _, _ = simulate(8)
    result, _ = fit_sim(cand, rater, comp, score)
    effects = list(result.effects.values())
    blup = [e.leniency for e in effects]
    simple = [e.copanel_deviation for e in effects]
    assert np.corrcoef(blup, simple)[0, 1] > 0.97
    assert sum(e.disagrees for e in effects) <= len(effects) // 10


def test_explanation_describes_scores_not_people():
    result = fit(penicillin_ratings())
    text = result.effects["A"].explanation
    assert text.startswith("A scores 2.2 points above co-panelists on average (24 ratings, ±0.2).")
    for effect in result.effects.values():
        lowered = effect.explanation.lower()
        assert not any(
            word in lowered for word in ("lenient", "harsh", "biased", "unfair", "strict")
        )


def test_reliability_is_reported_with_the_fit():
    cand, rater, comp, score, _, _ = simulate(2)
    result, _ = fit_sim(cand, rater, comp, score)
    assert 0 < result.icc1 < result.icck < 1
    assert 4 <= result.icc_k <= 6
    assert 0 < result.krippendorff_alpha < 1


def test_fit_report_is_strict_json():
    report = fit_report(fit(penicillin_ratings()))
    text = json.dumps(report, allow_nan=False)
    assert json.loads(text)["connected_components"] == [
        {"component": 0, "interviewers": 6, "ratings": 144}
    ]
    # Per competency (Penicillin has one), as the interviewers report.
    assert [r["competency"] for r in report["reliability"]] == ["diameter"]
    assert {"icc1", "icck", "k", "krippendorff_alpha"} <= set(report["reliability"][0])
    assert len(report["interviewers"]) == 6


def test_rating_table_and_rating_sequence_give_the_same_fit():
    ratings = penicillin_ratings()
    assert fit(RatingTable.from_ratings(ratings)).data_digest == fit(ratings).data_digest


# --- input errors -----------------------------------------------------------------


def test_empty_input_is_refused():
    with pytest.raises(CalibrationDataError, match="no ratings"):
        fit([])


def test_non_finite_score_is_refused():
    with pytest.raises(CalibrationDataError, match="row 1"):
        fit_arrays([0, 1], [0, 1], [0, 0], [3.0, math.nan])


def test_read_ratings_csv_accepts_candidate_column_and_real_scores(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("candidate,interviewer,competency,score\nc1,sam,design,3.5\nc1,ana,design,2\n")
    table = read_ratings_csv(path)
    assert table.unit.tolist() == ["c1", "c1"]
    assert table.score.tolist() == [3.5, 2.0]


def test_read_ratings_csv_names_line_and_column_of_a_bad_score(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("unit,interviewer,competency,score\nc1,sam,design,3\nc1,ana,design,high\n")
    with pytest.raises(CalibrationDataError, match=r"line 3, column 'score'"):
        read_ratings_csv(path)


def test_read_ratings_csv_names_missing_columns(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("unit,rater,score\nc1,sam,3\n")
    with pytest.raises(CalibrationDataError, match="interviewer, competency"):
        read_ratings_csv(path)


def test_read_ratings_csv_names_an_empty_cell(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("unit,interviewer,competency,score\nc1,,design,3\n")
    with pytest.raises(CalibrationDataError, match=r"line 2, column 'interviewer'"):
        read_ratings_csv(path)
