"""Both calibration models side by side on ratings simulated from a latent model with
known truth.

Run from the repository root:
    .venv/bin/python -m bench.calibration_simulation [--seeds 20] [--candidates 400]

Each seed draws candidates with a true level per competency (on the score
scale), a pool of interviewers with true leniencies (in points) and uneven
workloads, and panels of 4–6; every panelist rates every competency. A rating
is the latent value level + leniency + noise cut at 1.5, 2.5 and 3.5 (so 1–4),
with logistic noise (the ordinal model's own form) or normal noise (its
misspecified cousin). For each model it reports:

- `corr`, `slope`: correlation and slope of estimated against true leniency, in
  points (the ordinal model's logits divided by its mean threshold spacing,
  since the true thresholds are one point apart);
- `coverage`: share of interviewers whose true leniency lies within the 95 %
  interval ±1.96 `se_absolute`;
- `rank_corr`: Spearman correlation between candidates' calibrated mean scores
  (what the assessment shows: each score mapped to what a typical interviewer
  would have given) and their true levels; `raw` is the same for raw means;
- `seconds`: the fit's wall time.

The docs/scoring.md table is this script's output. `tests/domain/test_calibration_models.py`
pins smaller seeded runs of the same functions.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.domain.calibration import CalibrationFit, fit_arrays
from service.domain.calibration_scale import CalibrationState, typical_score

THRESHOLDS = np.array([1.5, 2.5, 3.5])


@dataclass(frozen=True, eq=False)
class Simulated:
    candidate: np.ndarray
    rater: np.ndarray
    competency: np.ndarray
    score: np.ndarray
    level: np.ndarray  # true level, candidates × competencies
    leniency: np.ndarray  # true leniency per interviewer, points


def simulate(
    seed: int,
    *,
    n_candidates: int = 400,
    pool: int = 80,
    competencies: int = 4,
    leniency_sd: float = 0.5,
    noise_sd: float = 0.6,
    noise: str = "logistic",
) -> Simulated:
    """Ordinal 1–4 ratings from a latent model with known levels and leniencies."""
    rng = np.random.default_rng(seed)
    level = (
        rng.normal(2.5, 0.6, n_candidates)[:, None]
        + rng.normal(0.0, 0.2, competencies)[None, :]
        + rng.normal(0.0, 0.3, (n_candidates, competencies))
    )
    leniency = rng.normal(0.0, leniency_sd, pool)
    workload = rng.gamma(1.5, size=pool)
    keys = np.log(workload) + rng.gumbel(size=(n_candidates, pool))
    panels = np.argsort(-keys, axis=1)[:, :6]
    sizes = rng.integers(4, 7, n_candidates)
    cand, slot = np.nonzero(np.arange(6) < sizes[:, None])
    rater = panels[cand, slot]
    cand = np.repeat(cand, competencies)
    rater = np.repeat(rater, competencies)
    comp = np.tile(np.arange(competencies), len(cand) // competencies)
    if noise == "logistic":
        error = rng.logistic(0.0, noise_sd * math.sqrt(3) / math.pi, len(cand))
    else:
        error = rng.normal(0.0, noise_sd, len(cand))
    latent = level[cand, comp] + leniency[rater] + error
    score = 1.0 + (latent[:, None] > THRESHOLDS).sum(axis=1)
    return Simulated(cand, rater, comp, score, level, leniency)


def evaluate(sim: Simulated, model: str) -> dict[str, float]:
    """Fit one model and score it against the truth."""
    names = [f"i{r:03d}" for r in range(len(sim.leniency))]
    started = time.perf_counter()
    result = fit_arrays(
        sim.candidate,
        sim.rater,
        sim.competency,
        sim.score,
        interviewer_names=names,
        competency_names=[f"c{c}" for c in range(sim.level.shape[1])],
        model=model,  # type: ignore[arg-type]
    )
    seconds = time.perf_counter() - started
    spacing = 1.0 if model == "linear" else float(np.mean(np.diff(result.scale.thresholds)))
    rows = [
        (i, e)
        for i, name in enumerate(names)
        if (e := result.effects.get(name)) is not None and e.state == CalibrationState.APPLIED
    ]
    truth = np.array([sim.leniency[i] for i, _ in rows])
    estimate = np.array([e.shift for _, e in rows]) / spacing
    se = np.array([e.shift_se for _, e in rows]) / spacing
    slope = float(np.polyfit(truth, estimate, 1)[0])
    calibrated = calibrated_scores(sim, result, names)
    counts = np.bincount(sim.candidate)
    true_level = sim.level.mean(axis=1)
    return {
        "corr": float(np.corrcoef(estimate, truth)[0, 1]),
        "slope": slope,
        "coverage": float(np.mean(np.abs(estimate - truth) <= 1.96 * se)),
        "rank_corr": float(
            spearmanr(np.bincount(sim.candidate, calibrated) / counts, true_level)[0]
        ),
        "raw": float(spearmanr(np.bincount(sim.candidate, sim.score) / counts, true_level)[0]),
        "seconds": seconds,
    }


def calibrated_scores(sim: Simulated, result: CalibrationFit, names: list[str]) -> np.ndarray:
    """Each rating as the assessment shows it: a typical interviewer's score where the
    interviewer's calibration is applied, the raw score otherwise."""
    out = sim.score.astype(float).copy()
    cache: dict[tuple[int, int, float], float] = {}
    for row, (r, c, raw) in enumerate(zip(sim.rater, sim.competency, sim.score, strict=True)):
        effect = result.effects[names[r]]
        if effect.state != CalibrationState.APPLIED or effect.shift is None:
            continue
        key = (int(r), int(c), float(raw))
        if key not in cache:
            cache[key] = typical_score(float(raw), effect.shift, f"c{c}", result.scale)
        out[row] = cache[key]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--candidates", type=int, default=400)
    parser.add_argument("--pool", type=int, default=80)
    args = parser.parse_args()
    print(
        f"{args.seeds} seeds × {args.candidates} candidates, pool {args.pool}, "
        "4 competencies, panels of 4–6, leniency sd 0.5, noise sd 0.6 points"
    )
    header = "| noise | model | corr | slope | 95 % coverage | rank corr (raw) | fit s |"
    print(header)
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for noise in ("logistic", "normal"):
        for model in ("linear", "ordinal"):
            rows = [
                evaluate(
                    simulate(seed, n_candidates=args.candidates, pool=args.pool, noise=noise),
                    model,
                )
                for seed in range(args.seeds)
            ]
            mean = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
            print(
                f"| {noise} | {model} | {mean['corr']:.3f} | {mean['slope']:.2f} | "
                f"{mean['coverage']:.1%} | {mean['rank_corr']:.3f} ({mean['raw']:.3f}) | "
                f"{mean['seconds']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
