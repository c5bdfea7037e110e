"""REML for a linear mixed model with two crossed random intercepts.

    y = Xβ + Z_u u + Z_v v + e,   u ~ N(0, σ²θ_u² I), v ~ N(0, σ²θ_v² I), e ~ N(0, σ² I)

X is an intercept plus dummies for a grouping (competencies), u are the units
(candidate × competency cells, or candidates) and v the raters (interviewers).
This is the numerical engine behind `calibration`; it knows nothing of people.

The algorithm (docs/scoring.md, "How the fit is computed"): with Z = [Z_u Z_v]
and Λ = diag(θ_u I, θ_v I), the matrix C = Z'Z + Λ⁻² has a *diagonal* unit
block a = d_u + θ_u⁻², so we eliminate it and factor only the raters × raters
Schur complement S = D_v + θ_v⁻² I − N' diag(1/a) N, with N = Z_u'Z_v. Then
H⁻¹ = I − Z C⁻¹ Z' gives everything the profiled REML criterion needs:

    d(θ) = (n−p)(1 + log 2πσ̂²) + log|H| + log|X'H⁻¹X|,
    log|H| = Σ log(1 + θ_u² d_u) + log|S| + 2R log θ_v.

Why it is fast: a unit enters C only through its size d_u, and sizes take a
handful of values (panels of 4–6). Grouping units by size, every θ-dependent
quantity is a weighted sum of per-size summaries precomputed once, so one
evaluation of d(θ) costs one R × R Cholesky and no pass over the ratings.
Memory is O(R²) for S plus O(n × panel size) for the co-rating pairs; past
~10k raters one would switch to a sparse Cholesky (not needed today).

On a small shared machine run with OPENBLAS_NUM_THREADS=1: under load,
OpenBLAS threads contend and a 1000 × 1000 Cholesky measured 0.08–0.5 s
instead of 0.011 s single-threaded (see bench/calibration.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.optimize
import scipy.sparse

_Floats = npt.NDArray[np.float64]

# log θ is searched in [e⁻⁹, e⁵]: θ² from 1.5e-8 (no effect) to 2.2e4 (huge).
LOG_THETA_BOUNDS = (-9.0, 5.0)


@dataclass(frozen=True, eq=False)
class MixedModelSolution:
    """Estimates at one θ: variance ratios, fixed effects, BLUPs and their PEV."""

    theta_unit: float
    theta_rater: float
    sigma2: float  # residual variance σ²
    beta: np.ndarray  # intercept, then group contrasts against group 0
    unit_effects: np.ndarray  # BLUPs of u, in score points
    rater_effects: np.ndarray  # BLUPs of v, in score points
    rater_variance: np.ndarray  # σ²·diag(C⁻¹) for the raters (conditional on β̂, as lme4)
    # The same plus the fixed effects' uncertainty: the rater block of the inverse of the
    # whole mixed-model-equations matrix, for absolute figures (leniency against a typical rater).
    rater_variance_absolute: np.ndarray
    reml_criterion: float
    n_evaluations: int


class CrossedDesign:
    """The θ-independent summaries of the data that every REML evaluation needs.

    `unit`, `rater` and `group` are dense 0-based integer codes (every code
    used); `y` the scores. Built once in O(n); evaluations are then O(R³).
    """

    def __init__(self, unit: np.ndarray, rater: np.ndarray, group: np.ndarray, y: np.ndarray):
        self.n = n = len(y)
        self.n_units = n_units = int(unit.max()) + 1
        self.n_raters = n_raters = int(rater.max()) + 1
        self.p = p = int(group.max()) + 1
        if n <= p:
            raise ValueError(f"{n} ratings cannot estimate {p} fixed effects")

        # Z'W for W = [X y]: column 0 is the intercept, 1..p-1 the group dummies.
        def cross_w(codes: np.ndarray, size: int) -> np.ndarray:
            out = np.empty((size, p + 1))
            counts = scipy.sparse.coo_matrix(
                (np.ones(n), (codes, group)), shape=(size, p)
            ).toarray()
            out[:, 0] = counts.sum(axis=1)
            out[:, 1:p] = counts[:, 1:]
            out[:, p] = np.bincount(codes, weights=y, minlength=size)
            return out

        self.zu_w = cross_w(unit, n_units)
        self.zv_w = cross_w(rater, n_raters)
        self.d_unit = self.zu_w[:, 0].copy()
        self.d_rater = self.zv_w[:, 0].copy()

        group_n = np.bincount(group, minlength=p).astype(float)
        group_y = np.bincount(group, weights=y, minlength=p)
        w_w = np.zeros((p + 1, p + 1))
        w_w[0, 0] = n
        w_w[0, 1:p] = w_w[1:p, 0] = group_n[1:]
        w_w[np.arange(1, p), np.arange(1, p)] = group_n[1:]
        w_w[0, p] = w_w[p, 0] = y.sum()
        w_w[1:p, p] = w_w[p, 1:p] = group_y[1:]
        w_w[p, p] = y @ y
        self.w_w = w_w

        # N = Z_u'Z_v, counts of ratings per (unit, rater).
        self.n_matrix = scipy.sparse.csr_matrix(
            (np.ones(n), (unit, rater)), shape=(n_units, n_raters)
        )
        self.sizes, self.unit_level = np.unique(self.d_unit, return_inverse=True)
        self.units_per_size = np.bincount(self.unit_level).astype(float)

        # Per unit size k: the lower triangle of N_k'N_k as (flat index, count)
        # pairs, T_k = N_k' (Z_u'W)_k and Q_k = (Z_u'W)_k' (Z_u'W)_k.
        flats, levels, counts, t_parts, q_parts = [], [], [], [], []
        for k in range(len(self.sizes)):
            rows = np.flatnonzero(self.unit_level == k)
            n_k = self.n_matrix[rows]
            co = (n_k.T @ n_k).tocoo()
            lower = co.row >= co.col
            flats.append(co.row[lower].astype(np.int64) * n_raters + co.col[lower])
            counts.append(co.data[lower])
            levels.append(np.full(int(lower.sum()), k))
            zu_w_k = self.zu_w[rows]
            t_parts.append(n_k.T @ zu_w_k)
            q_parts.append(zu_w_k.T @ zu_w_k)
        self.pair_flat = np.concatenate(flats)
        self.pair_level = np.concatenate(levels)
        self.pair_count = np.concatenate(counts)
        self.t_by_size = np.stack(t_parts)  # K × R × (p+1)
        self.q_by_size = np.stack(q_parts)  # K × (p+1) × (p+1)

    def _factor(self, theta_u: float, theta_v: float) -> tuple[_Floats, _Floats, _Floats, _Floats]:
        """Cholesky factor of S and the reduced right-hand sides at θ."""
        r = self.n_raters
        inv_a = 1.0 / (self.sizes + theta_u**-2)
        # numpy's stubs say bincount returns intp even with float weights; it is float64.
        s: _Floats = np.bincount(  # type: ignore[assignment]
            self.pair_flat, weights=-self.pair_count * inv_a[self.pair_level], minlength=r * r
        ).reshape(r, r)
        s[np.diag_indices(r)] += self.d_rater + theta_v**-2
        chol = scipy.linalg.cholesky(s, lower=True, overwrite_a=True, check_finite=False)
        t = self.zv_w - np.tensordot(inv_a, self.t_by_size, axes=1)
        x = scipy.linalg.cho_solve((chol, True), t, check_finite=False)
        # M = W'H⁻¹W = W'W − (Z'W)'C⁻¹(Z'W), by the Schur-complement identity.
        m = self.w_w - np.tensordot(inv_a, self.q_by_size, axes=1) - t.T @ x
        return chol, inv_a, x, m

    def _profile(
        self, theta_u: float, theta_v: float
    ) -> tuple[float, _Floats, float, _Floats, _Floats, _Floats, _Floats]:
        """β̂, σ̂² and the REML criterion at θ, plus the pieces for BLUPs."""
        n, p = self.n, self.p
        chol, inv_a, x, m = self._factor(theta_u, theta_v)
        xhx = scipy.linalg.cholesky(m[:p, :p], lower=True, check_finite=False)
        beta = scipy.linalg.cho_solve((xhx, True), m[:p, p], check_finite=False)
        rss = m[p, p] - m[:p, p] @ beta
        sigma2 = rss / (n - p)
        log_det_h = (
            self.units_per_size @ np.log1p(theta_u**2 * self.sizes)
            + 2.0 * np.log(np.diag(chol)).sum()
            + 2.0 * self.n_raters * math.log(theta_v)
        )
        log_det_xhx = 2.0 * np.log(np.diag(xhx)).sum()
        criterion = (n - p) * (1.0 + math.log(2.0 * math.pi * sigma2)) + log_det_h + log_det_xhx
        return criterion, beta, sigma2, chol, inv_a, x, xhx

    def criterion(self, log_theta: np.ndarray) -> float:
        """Profiled REML criterion (−2 log restricted likelihood) at log θ."""
        try:
            return self._profile(math.exp(log_theta[0]), math.exp(log_theta[1]))[0]
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
            return math.inf

    def solve(
        self, theta_u: float, theta_v: float, sigma2: float | None = None, n_evaluations: int = 1
    ) -> MixedModelSolution:
        """Fixed effects, BLUPs and rater prediction variances at θ.

        `sigma2` holds σ² fixed (a refresh); by default it is profiled out.
        """
        p = self.p
        criterion, beta, sigma2_hat, chol, inv_a, x, xhx = self._profile(theta_u, theta_v)
        sigma2 = sigma2_hat if sigma2 is None else sigma2
        rater_effects = x[:, p] - x[:, :p] @ beta
        xu = (self.zu_w - self.n_matrix @ x) * inv_a[self.unit_level][:, None]
        unit_effects = xu[:, p] - xu[:, :p] @ beta
        # diag(S⁻¹) = column sums of squares of L⁻¹; S⁻¹ is the rater block of C⁻¹.
        chol_inv, info = scipy.linalg.lapack.dtrtri(chol, lower=1)
        if info != 0:
            raise np.linalg.LinAlgError("Schur complement is singular")
        rater_variance = sigma2 * np.einsum("ij,ij->j", chol_inv, chol_inv)
        # Block inverse: [C⁻¹ + C⁻¹Z'X (X'H⁻¹X)⁻¹ X'ZC⁻¹]_rr, and x[:, :p] = (C⁻¹Z'X)_raters.
        spread = scipy.linalg.solve_triangular(xhx, x[:, :p].T, lower=True, check_finite=False)
        rater_variance_absolute = rater_variance + sigma2 * np.einsum("ij,ij->j", spread, spread)
        return MixedModelSolution(
            theta_unit=theta_u,
            theta_rater=theta_v,
            sigma2=float(sigma2),
            beta=beta,
            unit_effects=unit_effects,
            rater_effects=rater_effects,
            rater_variance=rater_variance,
            rater_variance_absolute=rater_variance_absolute,
            reml_criterion=float(criterion),
            n_evaluations=n_evaluations,
        )


def fit_reml(
    design: CrossedDesign, *, estimate_unit: bool = True, estimate_rater: bool = True
) -> MixedModelSolution:
    """Minimise the profiled REML criterion over (log θ_u, log θ_v).

    A variance the data cannot determine (`estimate_*=False`: one rater, one
    candidate) is held at the lower bound, i.e. left out of the model, and the
    search runs over the other one only.

    Nelder–Mead rather than a gradient method: finite-difference gradients of a
    criterion of size ~n are noise at 1M ratings, and with two parameters a
    simplex converges in ~80 evaluations (log θ to ~1e-5). Start at θ = 1 as
    lme4 does. An analytic gradient (the EM-REML trace terms) would cut the
    evaluations to ~15 at twice the cost each; not needed for today's sizes.
    """
    if not (estimate_unit and estimate_rater):
        return _fit_reml_partial(design, estimate_unit, estimate_rater)
    start = np.zeros(2)
    result = scipy.optimize.minimize(
        design.criterion,
        start,
        method="Nelder-Mead",
        bounds=[LOG_THETA_BOUNDS, LOG_THETA_BOUNDS],
        options={
            "initial_simplex": np.array([[0.0, 0.0], [0.7, 0.0], [0.0, 0.7]]),
            "xatol": 1e-5,
            "fatol": 1e-6,
            "maxfev": 400,
        },
    )
    theta_u, theta_v = np.exp(result.x)
    return design.solve(float(theta_u), float(theta_v), n_evaluations=int(result.nfev))


def _fit_reml_partial(
    design: CrossedDesign, estimate_unit: bool, estimate_rater: bool
) -> MixedModelSolution:
    """REML over one ratio with the other left out, or no search when both are."""
    low = LOG_THETA_BOUNDS[0]
    if not (estimate_unit or estimate_rater):
        return design.solve(math.exp(low), math.exp(low))

    def criterion(log_theta: float) -> float:
        pair = np.array([log_theta, low] if estimate_unit else [low, log_theta])
        return design.criterion(pair)

    result = scipy.optimize.minimize_scalar(
        criterion, bounds=LOG_THETA_BOUNDS, method="bounded", options={"xatol": 1e-6}
    )
    theta = math.exp(float(result.x))
    thetas = (theta, math.exp(low)) if estimate_unit else (math.exp(low), theta)
    return design.solve(*thetas, n_evaluations=int(result.nfev))
