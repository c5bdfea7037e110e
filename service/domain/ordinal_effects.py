"""A cumulative-logit model with two crossed random intercepts (ordinal `calibration`).

    P(y ≤ k) = logistic(τ_k − η),   η = β_group + u_unit + v_rater,
    u ~ N(0, σ_u²),  v ~ N(0, σ_v²)

the model of R's `ordinal::clmm(y ~ group + (1|unit) + (1|rater))`: a latent
level per unit (candidate × competency), a shift per rater (positive: the rater's
ratings sit higher on the latent scale than a typical rater's), thresholds τ
between consecutive levels. Like many-facet Rasch (Linacre's FACETS) it puts
levels, raters and thresholds on one logit scale; unlike FACETS' joint maximum
likelihood the rater and unit effects are shrunk by their normal priors.

Fit: the posterior mode of (τ, β, u, v) by Newton's method on the penalised log
likelihood, and σ_u², σ_v² by Laplace-EM (σ² ← (Σ mode² + Σ posterior variance)
/ count, the variances from the inverse of the penalised information matrix).
The information matrix has the same shape as the linear model's
(`crossed_effects`): a diagonal unit block, eliminated, and a dense
(thresholds + groups + raters)² Schur complement factored once per step. Per
step: O(n) for the derivatives plus one sparse pass over co-rating pairs and one
dense Cholesky; no Python loop over ratings, units or raters.

This knows nothing of people: `calibration` turns it into interviewer effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse
from scipy.special import expit

_Floats = npt.NDArray[np.float64]

# Laplace-EM stops when no variance changes by more than this share.
TOLERANCE = 1e-5
MAX_ITERATIONS = 200
# Scale (logits) of the weak half-normal prior on σ_u and σ_v; see `_update`.
PRIOR_SD = 2.0
# A variance the data cannot determine is held here (effectively no effect).
NEGLIGIBLE_VARIANCE = 1e-8


@dataclass(frozen=True, eq=False)
class OrdinalSolution:
    thresholds: _Floats  # τ_1 < … < τ_{K−1}, logits
    beta: _Floats  # group effects, group 0 first (always 0)
    unit_effects: _Floats
    rater_effects: _Floats  # v, logits
    rater_variance: _Floats  # posterior variance of v, fixed effects' uncertainty included
    rater_variance_relative: _Floats  # the same with τ and β held at their estimates
    sigma2_unit: float
    sigma2_rater: float
    laplace_criterion: float  # −2 × Laplace-approximate marginal log likelihood
    n_iterations: int
    converged: bool


@dataclass(eq=False)
class _System:
    """One Newton step's pieces: objective, u-eliminated information matrix and its factor."""

    objective: float
    loglik: float
    m: _Floats  # (fixed + raters)² information after eliminating the units
    rhs: _Floats
    g_u: _Floats
    d_u: _Floats  # the diagonal unit block
    j_uf: _Floats  # units × fixed block
    n_sparse: scipy.sparse.csr_matrix
    n_w: _Floats  # the weighted (unit, rater) entries
    chol: tuple[_Floats, bool] | None = None


class OrdinalDesign:
    """The data and the fixed sparsity pattern every Newton step reuses.

    `unit`, `rater`, `group` are dense 0-based codes; `level` dense codes 0..K−1
    of the ordered categories (every code used).
    """

    def __init__(self, unit: np.ndarray, rater: np.ndarray, group: np.ndarray, level: np.ndarray):
        self.unit, self.rater, self.group, self.level = unit, rater, group, level
        self.n = len(level)
        self.n_units = int(unit.max()) + 1
        self.n_raters = r = int(rater.max()) + 1
        self.n_groups = int(group.max()) + 1
        self.n_levels = k = int(level.max()) + 1
        if k < 2:
            raise ValueError("an ordinal model needs ratings in at least two levels")
        self.n_fixed = (k - 1) + (self.n_groups - 1)
        # Entries of N = (unit × rater) counts, and each rating's entry.
        keys, self.entry = np.unique(unit.astype(np.int64) * r + rater, return_inverse=True)
        self.entry_unit = keys // r
        self.entry_rater = keys % r
        # Co-rating pairs of entries within a unit (lower triangle, diagonal included).
        counts = np.bincount(self.entry_unit, minlength=self.n_units)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        offset = np.arange(len(keys)) - starts[self.entry_unit]
        self.pair_a = np.repeat(np.arange(len(keys)), offset + 1)
        first = starts[self.entry_unit][self.pair_a]
        within = np.arange(len(self.pair_a)) - np.repeat(
            np.cumsum(offset + 1) - (offset + 1), offset + 1
        )
        self.pair_b = first + within
        self.pair_unit = self.entry_unit[self.pair_a]
        self.pair_flat = self.entry_rater[self.pair_a] * r + self.entry_rater[self.pair_b]
        self.pair_twice = np.where(self.pair_a == self.pair_b, 1.0, 2.0)
        # Which fixed column each rating's two threshold terms load on (−1: none).
        self.upper = np.where(level < k - 1, level, -1)
        self.lower = np.where(level > 0, level - 1, -1)
        self.group_column = np.where(group > 0, (k - 1) + group - 1, -1)
        self.n_matrix_shape = (self.n_units, r)
        # The fixed pattern of every Newton step, so that a step only moves weights.
        f, k1 = self.n_fixed, k - 1
        self.has_upper, self.has_lower = self.upper >= 0, self.lower >= 0
        self.upper_at, self.lower_at = self.upper[self.has_upper], self.lower[self.has_lower]
        both = self.has_upper & self.has_lower
        self.both = both
        self.cross_at = self.lower[both] * k1 + self.upper[both]
        self.has_group = self.group_column >= 0
        self.tau_group_at = [(source >= 0) & self.has_group for source in (self.upper, self.lower)]
        self.tau_group_flat = [
            source[keep] * f + self.group_column[keep]
            for source, keep in zip((self.upper, self.lower), self.tau_group_at, strict=True)
        ]
        index = np.arange(self.n)
        masks = (self.has_upper, self.has_lower, self.has_group)
        columns = (self.upper, self.lower, self.group_column)
        rows = np.concatenate([index[m] for m in masks])
        cols = np.concatenate([c[m] for c, m in zip(columns, masks, strict=True)])
        self.loading_masks = masks
        self.unit_fixed_flat = unit[rows] * f + cols
        self.rater_fixed_flat = rater[rows] * f + cols
        self.entry_csr = scipy.sparse.csr_matrix(
            (np.ones(len(keys)), (self.entry_unit, self.entry_rater)), shape=(self.n_units, r)
        )
        # entry_csr.data is in entry order: keys are sorted by (unit, rater), as CSR is.
        self.entry_csr.sort_indices()

    # ---- derivatives -----------------------------------------------------------

    def _terms(self, tau: _Floats, eta: _Floats) -> tuple[float, dict[str, _Floats]]:
        """Log likelihood and per-rating derivatives at (τ, η)."""
        inf = np.array([np.inf])
        cut = np.concatenate([-inf, tau, inf])
        a = cut[self.level + 1] - eta
        b = cut[self.level] - eta
        fa, fb = expit(a), expit(b)
        # F(a) − F(b) without cancellation in the upper tail.
        p = np.where(b > 0, expit(-b) - expit(-a), fa - fb)
        p = np.maximum(p, 1e-300)
        da, db = fa * (1 - fa), fb * (1 - fb)
        ga, gb = da / p, -db / p
        i_aa = ga * ga - da * (1 - 2 * fa) / p
        i_bb = gb * gb + db * (1 - 2 * fb) / p
        i_ab = ga * gb
        return float(np.log(p).sum()), {
            "ga": ga,
            "gb": gb,
            "s": -(ga + gb),  # d log p / dη
            "w": i_aa + 2 * i_ab + i_bb,  # information about η
            "qa": -(i_aa + i_ab),  # information between τ_upper and η
            "qb": -(i_ab + i_bb),  # between τ_lower and η
            "i_aa": i_aa,
            "i_bb": i_bb,
            "i_ab": i_ab,
        }

    def _system(
        self, tau: _Floats, beta: _Floats, u: _Floats, v: _Floats, s2u: float, s2v: float
    ) -> _System:
        """Penalised objective, gradient and the u-eliminated information matrix."""
        f, r, nu = self.n_fixed, self.n_raters, self.n_units
        k1 = self.n_levels - 1
        eta = beta[self.group] + u[self.unit] + v[self.rater]
        loglik, t = self._terms(tau, eta)
        objective = loglik - 0.5 * (u @ u / s2u + v @ v / s2v)
        s, w = t["s"], t["w"]

        # Gradient.
        g_f = np.zeros(f)
        g_f[:k1] = _sums(self.upper_at, t["ga"][self.has_upper], k1)
        g_f[:k1] += _sums(self.lower_at, t["gb"][self.has_lower], k1)
        g_f[k1:] = _sums(self.group, s, self.n_groups)[1:]
        g_u = _sums(self.unit, s, nu) - u / s2u
        g_v = _sums(self.rater, s, r) - v / s2v

        # Information blocks.
        d_u = _sums(self.unit, w, nu) + 1.0 / s2u
        d_v = _sums(self.rater, w, r) + 1.0 / s2v
        n_w = _sums(self.entry, w, len(self.entry_unit))
        weights = np.concatenate(
            [x[m] for x, m in zip((t["qa"], t["qb"], w), self.loading_masks, strict=True)]
        )
        j_uf = _sums(self.unit_fixed_flat, weights, nu * f).reshape(nu, f)
        j_vf = _sums(self.rater_fixed_flat, weights, r * f).reshape(r, f)
        j_ff = np.zeros((f, f))
        j_ff[:k1, :k1] += np.diag(_sums(self.upper_at, t["i_aa"][self.has_upper], k1))
        j_ff[:k1, :k1] += np.diag(_sums(self.lower_at, t["i_bb"][self.has_lower], k1))
        cross = _sums(self.cross_at, t["i_ab"][self.both], k1 * k1).reshape(k1, k1)
        j_ff[:k1, :k1] += cross + cross.T
        for key, keep, flat in zip(
            ("qa", "qb"), self.tau_group_at, self.tau_group_flat, strict=True
        ):
            block = _sums(flat, t[key][keep], k1 * f).reshape(k1, f)
            j_ff[:k1, :] += block
            j_ff[:, :k1] += block.T
        j_ff[k1:, k1:] += np.diag(_sums(self.group, w, self.n_groups)[1:])

        # Eliminate the diagonal unit block: M = J_oo − J_ou D⁻¹ J_uo, o = (fixed, raters).
        n_sparse = self.entry_csr.copy()
        n_sparse.data = n_w
        scaled_uf = j_uf / d_u[:, None]
        m = np.empty((f + r, f + r))
        m[:f, :f] = j_ff - j_uf.T @ scaled_uf
        m_vf = j_vf - n_sparse.T @ scaled_uf
        m[f:, :f] = m_vf
        m[:f, f:] = m_vf.T
        pair_w = -n_w[self.pair_a] * n_w[self.pair_b] / d_u[self.pair_unit]
        vv = _sums(self.pair_flat, pair_w, r * r).reshape(r, r)
        vv += vv.T
        vv[np.diag_indices(r)] = vv.diagonal() / 2 + d_v
        m[f:, f:] = vv
        g_o = np.concatenate([g_f, g_v])
        rhs = g_o - np.concatenate([scaled_uf.T @ g_u, n_sparse.T @ (g_u / d_u)])
        return _System(float(objective), loglik, m, rhs, g_u, d_u, j_uf, n_sparse, n_w)

    def _loglik(self, tau: _Floats, eta: _Floats) -> float:
        """The log likelihood alone, for the line search."""
        cut = np.concatenate([[-np.inf], tau, [np.inf]])
        a = cut[self.level + 1] - eta
        b = cut[self.level] - eta
        p = np.where(b > 0, expit(-b) - expit(-a), expit(a) - expit(b))
        return float(np.log(np.maximum(p, 1e-300)).sum())

    # ---- fitting ---------------------------------------------------------------

    def start(self) -> tuple[_Floats, _Floats, _Floats, _Floats]:
        """Thresholds at the logits of the cumulative shares, everything else 0."""
        share = np.cumsum(np.bincount(self.level, minlength=self.n_levels))[:-1] / self.n
        tau = np.log(share / (1 - share))
        return tau, np.zeros(self.n_groups), np.zeros(self.n_units), np.zeros(self.n_raters)

    def fit(
        self,
        sigma2_unit: float | None = None,
        sigma2_rater: float | None = None,
        *,
        estimate_unit: bool = True,
        estimate_rater: bool = True,
    ) -> OrdinalSolution:
        """Posterior modes, and the variances by Laplace-EM unless they are given.

        A variance given, or not to be estimated (`estimate_*=False`, held at
        NEGLIGIBLE_VARIANCE), stays fixed.
        """
        s2u = (
            sigma2_unit
            if sigma2_unit is not None
            else (1.0 if estimate_unit else NEGLIGIBLE_VARIANCE)
        )
        s2v = (
            sigma2_rater
            if sigma2_rater is not None
            else (0.25 if estimate_rater else NEGLIGIBLE_VARIANCE)
        )
        update_u = sigma2_unit is None and estimate_unit
        update_v = sigma2_rater is None and estimate_rater
        tau, beta, u, v = self.start()
        converged = False
        iterations = 0
        history: list[tuple[float, float]] = []
        while iterations < MAX_ITERATIONS:
            iterations += 1
            tau, beta, u, v, system, step = self._newton(tau, beta, u, v, s2u, s2v)
            if not (update_u or update_v):
                if step < 1e-8:
                    converged = True
                    break
                continue
            pev_u, pev_v = self._posterior_variances(system)
            new_u = _update(u, pev_u, s2u) if update_u else s2u
            new_v = _update(v, pev_v, s2v) if update_v else s2v
            new_u, new_v = max(new_u, NEGLIGIBLE_VARIANCE), max(new_v, NEGLIGIBLE_VARIANCE)
            change = max(abs(new_u / s2u - 1), abs(new_v / s2v - 1))
            s2u, s2v = new_u, new_v
            if change < TOLERANCE and step < 1e-6:
                converged = True
                break
            history.append((s2u, s2v))
            if len(history) >= 3:
                s2u, s2v = (_extrapolated([h[i] for h in history[-3:]]) for i in (0, 1))
                if (s2u, s2v) != history[-1]:
                    history.clear()
        tau, beta, u, v, system, _ = self._newton(tau, beta, u, v, s2u, s2v)
        return self._solution(tau, beta, u, v, s2u, s2v, system, iterations, converged)

    def _newton(
        self, tau: _Floats, beta: _Floats, u: _Floats, v: _Floats, s2u: float, s2v: float
    ) -> tuple[_Floats, _Floats, _Floats, _Floats, _System, float]:
        """One Newton step with step halving (objective up, thresholds ordered)."""
        f, k1 = self.n_fixed, self.n_levels - 1
        system = self._system(tau, beta, u, v, s2u, s2v)
        factor = scipy.linalg.cholesky(system.m, lower=True, check_finite=False)
        system.chol = (factor, True)
        delta_o = scipy.linalg.cho_solve(system.chol, system.rhs, check_finite=False)
        delta_u = (
            system.g_u - system.j_uf @ delta_o[:f] - system.n_sparse @ delta_o[f:]
        ) / system.d_u
        d_tau, d_beta, d_v = delta_o[:k1], delta_o[k1:f], delta_o[f:]
        d_beta_full = np.concatenate([[0.0], d_beta])
        objective = system.objective
        scale = 1.0
        for _ in range(30):
            t_new = tau + scale * d_tau
            if np.all(np.diff(t_new) > 0):
                b_new, u_new, v_new = (
                    beta + scale * d_beta_full,
                    u + scale * delta_u,
                    v + scale * d_v,
                )
                eta = b_new[self.group] + u_new[self.unit] + v_new[self.rater]
                new = self._loglik(t_new, eta) - 0.5 * (u_new @ u_new / s2u + v_new @ v_new / s2v)
                if new >= objective - 1e-10 * abs(objective):
                    size = scale * float(np.max(np.abs(np.concatenate([delta_o, delta_u]))))
                    return t_new, b_new, u_new, v_new, system, size
            scale /= 2
        return tau, beta, u, v, system, 0.0

    def _posterior_variances(self, system: _System) -> tuple[_Floats, _Floats]:
        """diag of the inverse information for u and v (fixed effects' uncertainty included)."""
        f = self.n_fixed
        assert system.chol is not None  # set by the Newton step that made the system
        # The inverse from the Cholesky factor (LAPACK potri): a third of a solve against I.
        lower, info = scipy.linalg.lapack.dpotri(system.chol[0], lower=1)
        if info != 0:
            raise np.linalg.LinAlgError("information matrix is singular")
        m_inv = np.tril(lower) + np.tril(lower, -1).T
        d_u, j_uf, n_w = system.d_u, system.j_uf, system.n_w
        c_f = j_uf / d_u[:, None]
        quad = np.einsum("ij,jk,ik->i", c_f, m_inv[:f, :f], c_f) if f else np.zeros(len(d_u))
        # Cross terms: 2 Σ_e (N_e / d_u) (c_f · M⁻¹[f, r_e]).
        if f:
            # Σ_e N_e · (c_f[unit] · M⁻¹[f, rater_e]) per unit, as one sparse × dense product.
            through_raters = system.n_sparse @ m_inv[f:, :f]
            quad += 2 * (c_f * through_raters).sum(axis=1) / d_u
        vv = m_inv[f:, f:].ravel()[self.pair_flat]
        quad += _sums(
            self.pair_unit,
            self.pair_twice * n_w[self.pair_a] * n_w[self.pair_b] * vv,
            len(d_u),
        ) / (d_u * d_u)
        pev_u = 1.0 / d_u + quad
        return pev_u, np.diag(m_inv)[f:].copy()

    def _solution(
        self,
        tau: _Floats,
        beta: _Floats,
        u: _Floats,
        v: _Floats,
        s2u: float,
        s2v: float,
        system: _System,
        iterations: int,
        converged: bool,
    ) -> OrdinalSolution:
        f = self.n_fixed
        _, pev_v = self._posterior_variances(system)
        m_vv = system.m[f:, f:]
        chol_vv = scipy.linalg.cholesky(m_vv, lower=True, check_finite=False)
        inv_l, _ = scipy.linalg.lapack.dtrtri(chol_vv, lower=1)
        relative = np.einsum("ij,ij->j", inv_l, inv_l)
        log_det = float(np.log(system.d_u).sum() + 2 * np.log(np.diag(chol_vv)).sum())
        laplace = (
            system.loglik
            - 0.5 * (u @ u / s2u + v @ v / s2v)
            - 0.5 * self.n_units * math.log(s2u)
            - 0.5 * self.n_raters * math.log(s2v)
            - 0.5 * log_det
        )
        return OrdinalSolution(
            thresholds=tau,
            beta=beta,
            unit_effects=u,
            rater_effects=v,
            rater_variance=pev_v,
            rater_variance_relative=relative,
            sigma2_unit=float(s2u),
            sigma2_rater=float(s2v),
            laplace_criterion=float(-2.0 * laplace),
            n_iterations=iterations,
            converged=converged,
        )


def _update(mode: _Floats, pev: _Floats, sigma2: float) -> float:
    """Next variance: the mode of σ² under a weak prior on σ (half-normal, scale
    PRIOR_SD, times Gamma(2)).

    Without the prior this is MacKay's fixed point σ² = Σ mode² / (count − Σ pev / σ²),
    which converges in a fraction of the EM update's steps ((Σ mode² + Σ pev) /
    count, used while the effective count is not positive). The prior, like
    blme's for lme4, changes nothing visible with dozens of interviewers; with a
    handful whose ratings sit at the ends of the scale it keeps σ² finite, where
    the likelihood alone would send it (and the shifts) to infinity.
    """
    effective = len(mode) - pev.sum() / sigma2
    if effective > 0.5:
        count, total = effective, float(mode @ mode)
    else:
        count, total = float(len(mode)), float(mode @ mode + pev.sum())
    # Maximise −((count − 1)/2)·log σ² − total/(2σ²) − σ²/(2·PRIOR_SD²) over σ²: the
    # likelihood, the half-normal, and a Gamma(2) on σ (blme's kind of default) that
    # keeps σ² off zero, where the iteration would otherwise crawl.
    prior, c = PRIOR_SD**2, count - 1.0
    return float((math.sqrt(c * c + 4 * total / prior) - c) * prior / 2)


def _extrapolated(values: list[float]) -> float:
    """Aitken's jump to the limit of a geometrically converging sequence x0, x1, x2.

    The variance iteration converges linearly (each step closes a steady share
    of the gap), so once three steps shrink at the same rate the limit is
    x2 + (x2 − x1)·ρ/(1 − ρ), ρ = (x2 − x1)/(x1 − x0); the next plain steps
    correct it. Only steady, shrinking steps are extrapolated, by at most a factor 3.
    """
    x0, x1, x2 = values
    if x1 == x0:
        return x2
    rho = (x2 - x1) / (x1 - x0)
    if not 0.05 < rho < 0.95:
        return x2
    jump = x2 + (x2 - x1) * rho / (1 - rho)
    return min(max(jump, x2 / 3), 3 * x2)


def _sums(codes: np.ndarray, weights: np.ndarray, size: int) -> _Floats:
    """Weighted counts per code (`np.bincount`, typed as the floats it returns)."""
    return np.bincount(codes, weights, size).astype(np.float64, copy=False)
