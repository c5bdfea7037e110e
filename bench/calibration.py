"""Benchmark interviewer calibration: full fit and refresh of both models at 10k–1M ratings.

Run from the repository root:  .venv/bin/python bench/calibration.py [--sizes 10000 100000 1000000]

Each size gets a seeded, realistic history: candidates interviewed by panels of
4–6 interviewers drawn mostly from their own team (teams of 50, uneven
workloads, one panelist in ten from another team), each panelist rating about
two thirds of the role's six competencies on a 1–4 scale. Timings are reported
against two baselines measured on the same data in the same run: a plain numpy
group-by mean per interviewer, and the O(n) co-panel deviation estimate; the
ordinal model's are also given as ratios against the linear model's in the same run.
Prints a table and writes bench/results/calibration.json.

Targets (2-core machine, issue 18, for the default ordinal model): 1M/2k full
fit ≤ 5 s, refresh at 1M ≤ 1 s (the service's refresh, started from the last
fit: measured on the data less its newest 0.5% of candidates, from the full
fit), cost no worse than linear in ratings. Each figure is the best of three runs,
but the fits and the plain refresh above 100k ratings, which run once (each takes
seconds); the refresh from the last fit, a second or so, gets its three at 1M too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# Single-threaded BLAS unless told otherwise, set before numpy loads OpenBLAS:
# on a shared 2-core machine its threads contend and each R × R Cholesky gets
# 5–50× slower. Run with OPENBLAS_NUM_THREADS=2 to compare.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.domain.calibration import WarmStart, copanel_estimates, fit_arrays
from service.domain.crossed_effects import CrossedDesign

INTERVIEWERS = {10_000: 200, 100_000: 1_000, 1_000_000: 2_000}
TEAM_SIZE = 50
COMPETENCIES = 6
COVERAGE = 2 / 3  # share of competencies each panelist rates
RESULTS = Path(__file__).parent / "results" / "calibration.json"


def generate(n_ratings: int, n_interviewers: int, seed: int = 0):
    """Seeded synthetic history of about `n_ratings` ratings; returns coded columns and truth."""
    rng = np.random.default_rng(seed)
    per_candidate = 5 * COMPETENCIES * COVERAGE
    n_candidates = round(n_ratings / per_candidate)
    level = rng.normal(2.5, 0.6, n_candidates)
    leniency = rng.normal(0.0, 0.5, n_interviewers)
    workload = rng.gamma(1.5, size=n_interviewers)
    n_teams = max(1, n_interviewers // TEAM_SIZE)
    team_of = np.arange(n_interviewers) % n_teams
    candidate_team = rng.integers(0, n_teams, n_candidates)

    # Panels: Gumbel top-6 among the team's members (weighted by workload),
    # then each seat is swapped for a random interviewer with probability 0.1.
    members = np.stack([np.flatnonzero(team_of == t)[:TEAM_SIZE] for t in range(n_teams)])
    pool = members[candidate_team]  # candidates × team size
    keys = np.log(workload[pool]) + rng.gumbel(size=pool.shape)
    seats = np.take_along_axis(pool, np.argsort(-keys, axis=1)[:, :6], axis=1)
    outsider = rng.random(seats.shape) < 0.1
    seats = np.where(outsider, rng.integers(0, n_interviewers, seats.shape), seats)
    size = rng.integers(4, 7, n_candidates)
    cand, slot = np.nonzero(np.arange(6) < size[:, None])
    rater = seats[cand, slot]
    # Each (candidate, panelist) pair rates a random subset of competencies.
    covered = rng.random((len(cand), COMPETENCIES)) < COVERAGE
    pair, comp = np.nonzero(covered)
    cand, rater = cand[pair], rater[pair]
    # Duplicate seats from the outsider swap would double-rate a cell; keep one.
    key = (cand * n_interviewers + rater) * COMPETENCIES + comp
    _, first = np.unique(key, return_index=True)
    cand, rater, comp = cand[first], rater[first], comp[first]
    comp_shift = rng.normal(0.0, 0.2, COMPETENCIES)
    score = level[cand] + comp_shift[comp] + leniency[rater] + rng.normal(0.0, 0.6, len(cand))
    score = np.clip(np.round(score), 1, 4)
    return cand, rater, comp, score, leniency


def timed(function, repeat: int = 1):
    """Best wall time of `repeat` runs, and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def groupby_mean(rater, score, n_interviewers):
    counts = np.bincount(rater, minlength=n_interviewers)
    return np.bincount(rater, weights=score, minlength=n_interviewers) / np.maximum(counts, 1)


def run(n_ratings: int) -> dict:
    n_interviewers = INTERVIEWERS.get(n_ratings, max(50, n_ratings // 500))
    cand, rater, comp, score, truth = generate(n_ratings, n_interviewers)
    names = [f"i{i:05d}" for i in range(n_interviewers)]
    repeat = 3 if len(score) <= 100_000 else 1

    t_fit, fitted = timed(
        lambda: fit_arrays(cand, rater, comp, score, interviewer_names=names), repeat
    )
    t_refresh, refreshed = timed(
        lambda: fit_arrays(
            cand, rater, comp, score, interviewer_names=names, components=fitted.components
        ),
        repeat,
    )
    t_mean, _ = timed(lambda: groupby_mean(rater, score, n_interviewers), 5)
    t_ordinal, ordinal = timed(
        lambda: fit_arrays(cand, rater, comp, score, interviewer_names=names, model="ordinal"),
        repeat,
    )
    # The service's refresh: a little changed data, started from the last fit.
    older = cand < np.quantile(cand, 0.995)
    warm_runs = [
        timed(
            lambda: fit_arrays(
                cand[older],
                rater[older],
                comp[older],
                score[older],
                interviewer_names=names,
                model="ordinal",
                components=ordinal.components,
                start=WarmStart.from_fit(ordinal),
            )
        )[0]
        for _ in range(3)
    ]
    t_ordinal_warm = min(warm_runs)
    t_ordinal_refresh, _ = timed(
        lambda: fit_arrays(
            cand,
            rater,
            comp,
            score,
            interviewer_names=names,
            model="ordinal",
            components=ordinal.components,
        ),
        repeat,
    )

    # The co-panel baseline on the same unit coding and fixed effects as the fit.
    _, unit = np.unique(cand * COMPETENCIES + comp, return_inverse=True)

    beta = np.array([fitted.intercept, *list(fitted.fixed_effects.values())[1:]])
    c = fitted.components
    t_copanel, _ = timed(
        lambda: copanel_estimates(
            unit, rater, comp, score, beta, c.sigma2_residual / c.sigma2_interviewer
        ),
        3,
    )

    # The O(n) part of the fit alone (the rest is ~80 R × R Choleskys).
    _, rater_code = np.unique(rater, return_inverse=True)
    t_design, _ = timed(lambda: CrossedDesign(unit, rater_code, comp, score), repeat)

    estimated = np.array([fitted.effects[n].leniency for n in names if n in fitted.effects])
    ordinal_shift = np.array([ordinal.effects[n].shift for n in names if n in ordinal.effects])
    present = np.array([n in fitted.effects for n in names])
    blup_gap = max(
        abs(fitted.effects[n].leniency - refreshed.effects[n].leniency) for n in fitted.effects
    )
    return {
        "n_ratings": len(score),
        "n_interviewers": int(present.sum()),
        "n_units": fitted.n_units,
        "n_components": fitted.n_components,
        "fit_s": t_fit,
        "refresh_s": t_refresh,
        "design_s": t_design,
        "design_us_per_rating": 1e6 * t_design / len(score),
        "groupby_mean_s": t_mean,
        "copanel_s": t_copanel,
        "fit_over_groupby": t_fit / t_mean,
        "fit_over_copanel": t_fit / t_copanel,
        "refresh_over_copanel": t_refresh / t_copanel,
        "fit_us_per_rating": 1e6 * t_fit / len(score),
        "corr_with_truth": float(np.corrcoef(estimated, truth[present])[0, 1]),
        "ordinal_fit_s": t_ordinal,
        "ordinal_refresh_s": t_ordinal_refresh,
        "ordinal_warm_refresh_s": t_ordinal_warm,
        "ordinal_warm_refresh_runs_s": warm_runs,
        "ordinal_over_linear_fit": t_ordinal / t_fit,
        "ordinal_over_linear_refresh": t_ordinal_refresh / t_refresh,
        "ordinal_corr_with_truth": float(np.corrcoef(ordinal_shift, truth[present])[0, 1]),
        "refresh_max_blup_gap": blup_gap,
        "sd": {
            "unit": fitted.components.sigma2_unit**0.5,
            "interviewer": fitted.components.sigma2_interviewer**0.5,
            "residual": fitted.components.sigma2_residual**0.5,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file [{RESULTS}]")
    args = parser.parse_args()
    rows = []
    header = (
        f"{'ratings':>9} {'raters':>6} {'fit s':>7} {'refresh s':>9} {'mean s':>7} "
        f"{'copanel s':>9} {'fit/mean':>9} {'fit/copanel':>11} {'refr/copanel':>12} "
        f"{'us/rating':>9} {'design us/r':>11} {'corr':>5} "
        f"{'ord fit s':>9} {'ord refr s':>10} {'ord warm s':>10} {'ord/lin fit':>11} "
        f"{'ord/lin refr':>12} "
        f"{'ord corr':>8}"
    )
    print(
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(header)
    for size in args.sizes:
        row = run(size)
        rows.append(row)
        print(
            f"{row['n_ratings']:>9} {row['n_interviewers']:>6} {row['fit_s']:>7.2f} "
            f"{row['refresh_s']:>9.2f} {row['groupby_mean_s']:>7.4f} {row['copanel_s']:>9.3f} "
            f"{row['fit_over_groupby']:>9.0f} {row['fit_over_copanel']:>11.1f} "
            f"{row['refresh_over_copanel']:>12.1f} {row['fit_us_per_rating']:>9.1f} "
            f"{row['design_us_per_rating']:>11.2f} {row['corr_with_truth']:>5.3f} "
            f"{row['ordinal_fit_s']:>9.2f} {row['ordinal_refresh_s']:>10.2f} "
            f"{row['ordinal_warm_refresh_s']:>10.2f} "
            f"{row['ordinal_over_linear_fit']:>11.1f} {row['ordinal_over_linear_refresh']:>12.1f} "
            f"{row['ordinal_corr_with_truth']:>8.3f}",
            flush=True,
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "numpy": np.__version__,
                    "openblas_num_threads": os.environ["OPENBLAS_NUM_THREADS"],
                    "load_average_at_end": os.getloadavg(),
                },
                "runs": rows,
            },
            indent=2,
        )
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
