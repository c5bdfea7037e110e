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
(raters + thresholds + groups)² Schur complement factored once per step. Per
step: O(n) for the derivatives plus one sparse pass over co-rating pairs, one
dense Cholesky and, while the variances move, one inverse from it (only its
traces are needed); no Python loop over ratings, units or raters. Each Newton
step aims at the updated variances (same factor), so the update is evaluated at
its own variances' mode and secant steps (`_Secant`) find its fixed point. Once
the variances have converged they are held and Newton alone finishes the modes,
each Newton step's factor also taking chord steps (the gradient at each new
point, one pass over the ratings each) before the next system is built
(`_chord`): a warm refresh builds and factors two systems, not three.

Every pass over the ratings reduces them to sums (by kind of rating, unit, rater,
entry), so a large design splits its ratings into one part per core and runs each
pass's parts at once on threads (numpy releases the GIL), adding their sums.

This knows nothing of people: `calibration` turns it into interviewer effects.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse
from scipy.linalg import lapack

from service.domain.lapack import cholesky_lower, cores, inverse_lower

_Floats = npt.NDArray[np.float64]
_Reals = npt.NDArray[np.floating[Any]]  # float64, or float32 where only a start is needed
_Terms = tuple[float, dict[str, _Reals]]  # log likelihood, per-rating derivatives
_Sums = tuple[float, dict[str, _Floats]]  # log likelihood, sums of per-rating terms
_ALL = slice(None)

# The per-rating terms `_system` sums by kind of rating (level × group); the others'
# sums follow from these (s = −ga − gb, w = −qa − qb, i_aa = −qa − i_ab, i_bb = −qb − i_ab).
_KIND_SUMS = ("ga", "gb", "i_ab", "qa", "qb")
_T = TypeVar("_T")
# Laplace-EM stops when no variance changes by more than this share.
TOLERANCE = 1e-5
# Newton steps for the units alone when starting from an earlier fit's τ, β, v (from 0,
# capped at 2 logits: the third leaves them within float32 rounding at 1M ratings).
UNIT_START_STEPS = 3
# Newton steps are factored in single precision while the last step was larger,
SINGLE_PRECISION_STEP = 1e-2
# or while the last update changed a variance by more than this share.
SINGLE_PRECISION_CHANGE = 1e-4
# Once the variances have converged, and the Newton step is below this, they are held.
SETTLED_STEP = 1e-3
# With the variances held, Newton stops after a step below this (logits): the point
# it lands on is then ~step² from the mode, and the variances, from the system one
# step back, are within ~step (relative) of their value at the mode. Shifts' standard
# errors are ≥ ~0.01 logits, so 1e-7 is a hundred-thousandth of the smallest of them.
STEP_TOLERANCE = 1e-7
MAX_ITERATIONS = 200
# With the variances held, after a Newton step its factor takes chord steps (the gradient
# at each new point, the old information matrix) while they contract by at least this
# factor a step, until they predict the mode within CHORD_TARGET; at most CHORD_STEPS.
CHORD_RATE = 0.25
CHORD_TARGET = STEP_TOLERANCE / 10
CHORD_STEPS = 8
# A chord step after a step smaller than this is taken in full, without a line search:
# its contraction, watched step by step, is the check (see `_chord`).
CHORD_GUARD = 1e-3
# Once the Newton step is below this (logits), the variances' update takes secant steps.
SECANT_STEP = 1.0
# A secant step moves the (log) variances at most this many times the plain update's move.
SECANT_REACH = 10.0
# Scale (logits) of the weak half-normal prior on σ_u and σ_v; see `_update`.
PRIOR_SD = 2.0
# A variance the data cannot determine is held here (effectively no effect).
NEGLIGIBLE_VARIANCE = 1e-8
# From this many ratings, the passes over them run in parts, one per core up to MAX_PARTS
# (1M ratings on 2 cores: each pass ~1.8× faster; below this a thread's start-up and the
# parts' extra sums cost about what they save).
PARALLEL_RATINGS = 100_000
MAX_PARTS = 4


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
    # With the fit's `score_levels`, per rater: the mean of what the shift adds to the
    # expected score (with it less without it) and of the expected score's slope in η.
    rater_lift: _Floats | None = None
    rater_slope: _Floats | None = None


@dataclass(eq=False)
class _System:
    """One Newton step's pieces: objective, u-eliminated information matrix and its factor."""

    objective: float
    loglik: float
    m: _Floats  # (raters + fixed)² information after eliminating the units, lower triangle
    rhs: _Floats
    g_u: _Floats
    d_u: _Floats  # the diagonal unit block
    j_uf: _Floats  # units × fixed block
    n_sparse: scipy.sparse.csr_matrix
    scaled_w: _Floats  # N per entry over its unit's d_u: a pair's N_a·N_b/d_u² is a product
    u: _Floats  # the point's unit and rater modes and variances, for `_directions`
    v: _Floats
    s2u: float
    s2v: float
    chol: npt.NDArray[np.floating[Any]] | None = None  # lower factor of `m` (Fortran order)


@dataclass(frozen=True, eq=False)
class RatingEntries:
    """Each rating's entry (its unit × rater cell) and the co-rating pairs of entries.

    `keys` are the entries' unit × raters + rater, sorted; `codes` each rating's entry
    (`key_codes`). Each entry pairs with itself and every entry of its unit before it
    (a lower rater code): pair i is entry np.repeat(entries, pair_repeats)[i] with
    entry pair_b[i], and `rater_pair` is their raters' a × raters + b. Made once for a
    fit, for the co-panel graph and the ordinal design both."""

    keys: npt.NDArray[np.int64]
    codes: npt.NDArray[np.intp]
    entry_unit: npt.NDArray[np.int64]  # each entry's unit and rater (of its key)
    entry_rater: npt.NDArray[np.int64]
    pair_repeats: npt.NDArray[np.intp]
    pair_offsets: npt.NDArray[np.intp]  # where each entry's pairs start, and the total
    pair_b: npt.NDArray[np.intp]
    rater_pair: npt.NDArray[np.intp]

    @classmethod
    def of(cls, unit: np.ndarray, rater: np.ndarray, n_raters: int) -> RatingEntries:
        keys, codes = key_codes(unit.astype(np.int64) * n_raters + rater)
        entry_unit, entry_rater = keys // n_raters, keys % n_raters
        counts = np.bincount(entry_unit)
        unit_start = (np.cumsum(counts) - counts)[entry_unit]
        # Entry a pairs with the offset + 1 entries of its unit up to itself; pair number
        # i of the list is entry a's j-th, j = i − first[a], with b = unit_start[a] + j.
        # Repeats (sequential) rather than gathers by pair_a (random) where they can.
        repeats = np.arange(len(keys)) - unit_start + 1
        offsets = np.concatenate([[0], np.cumsum(repeats)])
        pair_b = np.repeat(unit_start - offsets[:-1], repeats)
        pair_b += np.arange(len(pair_b))
        rater_pair = np.repeat(entry_rater * n_raters, repeats) + entry_rater[pair_b]
        return cls(keys, codes, entry_unit, entry_rater, repeats, offsets, pair_b, rater_pair)


class OrdinalDesign:
    """The data and the fixed sparsity pattern every Newton step reuses.

    `unit`, `rater`, `group` are dense 0-based codes; `level` dense codes 0..K−1
    of the ordered categories (every code used).

    The u-eliminated information matrix is laid out raters first, then the
    fixed effects, and only the nonzero entries of its lower triangle are
    written: rater pairs that share a unit, the fixed × raters block, the fixed
    block. The leading block of its Cholesky factor is then the factor of the
    raters' block alone, which the relative variances and the log determinant need.
    """

    def __init__(
        self,
        unit: np.ndarray,
        rater: np.ndarray,
        group: np.ndarray,
        level: np.ndarray,
        *,
        entries: RatingEntries | None = None,
    ):
        """`entries`: `RatingEntries.of(unit, rater, raters)`, if the caller has made it."""
        self.unit, self.rater, self.group, self.level = unit, rater, group, level
        self.n = len(level)
        self.n_units = int(unit.max()) + 1
        self.n_raters = r = int(rater.max()) + 1
        self.n_groups = int(group.max()) + 1
        self.n_levels = k = int(level.max()) + 1
        if k < 2:
            raise ValueError("an ordinal model needs ratings in at least two levels")
        self.n_fixed = f = (k - 1) + (self.n_groups - 1)
        self.size = r + f
        # Entries of N = (unit × rater) counts, and each rating's entry.
        if entries is None:
            entries = RatingEntries.of(unit, rater, r)
        keys, self.entry = entries.keys, entries.codes
        self.entry_unit, self.entry_rater = entries.entry_unit, entries.entry_rater
        # The keys are sorted by (unit, rater), as CSR is: entry_csr.data is in entry
        # order, and its rows are the runs of entry_unit.
        self.unit_entries = np.bincount(self.entry_unit, minlength=self.n_units)
        indptr = np.concatenate([[0], np.cumsum(self.unit_entries)])
        self.entry_csr = scipy.sparse.csr_matrix(
            (np.ones(len(keys)), self.entry_rater, indptr), shape=(self.n_units, r)
        )
        self.entry_csr.has_sorted_indices = True
        self.parts = _parts(self.n)
        self._pool: ThreadPoolExecutor | None = None
        self._pairs(entries)
        self._loadings(level, group)

    def _pairs(self, entries: RatingEntries) -> None:
        """Where the co-rating pairs of entries (b's rater ≤ a's) land."""
        r, f, size = self.n_raters, self.n_fixed, self.size
        repeats = self.pair_repeats = entries.pair_repeats
        self.pair_b, rater_pair = entries.pair_b, entries.rater_pair
        # The pairs in parts (for `_pair_sums`), each the pairs of a run of entries.
        entry_bounds = np.linspace(0, len(repeats), len(self.parts) + 1).astype(int)
        pair_bounds = entries.pair_offsets[entry_bounds]
        self.pair_parts = [
            (slice(int(e0), int(e1)), slice(int(p0), int(p1)))
            for e0, e1, p0, p1 in zip(
                entry_bounds[:-1], entry_bounds[1:], pair_bounds[:-1], pair_bounds[1:], strict=True
            )
        ]
        # Each rater pair that shares a unit is one slot of the raters' block.
        present = np.zeros(r * r, dtype=bool)
        present[rater_pair] = True
        diagonal = np.arange(r) * (r + 1)
        present[diagonal] = True  # a rater code without ratings still has its prior
        slot_of = np.cumsum(present)
        slot_of -= 1
        self.pair_slot = slot_of[rater_pair]
        slot_flat = np.flatnonzero(present)
        self.n_slots = len(slot_flat)
        self.diagonal_slot = slot_of[diagonal]
        slot_row, slot_col = slot_flat // r, slot_flat % r
        fixed_row, fixed_col = np.tril_indices(f)
        self.fixed_tril = (fixed_row, fixed_col)
        # Flat (Fortran-order) positions of the written entries, and 1 or 2 for the
        # diagonal or an off-diagonal entry (which stands for itself and its mirror).
        self.fill_at = np.concatenate(
            [
                slot_row + slot_col * size,
                ((r + np.arange(f))[None, :] + (np.arange(r) * size)[:, None]).ravel(),
                (r + fixed_row) + (r + fixed_col) * size,
            ]
        )
        self.fill_twice = np.concatenate(
            [
                np.where(slot_row == slot_col, 1.0, 2.0),
                np.full(r * f, 2.0),
                np.where(fixed_row == fixed_col, 1.0, 2.0),
            ]
        )

    def _loadings(self, level: np.ndarray, group: np.ndarray) -> None:
        """Which fixed columns each rating loads on: the thresholds above and below its
        level and its group's contrast. Where a threshold does not exist (the level's
        bound is infinite) its weights are exactly 0, so it may point at any column;
        group 0, which has no column, points at a spare column f that is dropped.

        The columns depend only on the rating's `kind` (its level and group, K·G of
        them), so sums over ratings are taken per kind (or rater × kind) and spread onto
        the columns by each kind's one-hot rows (`kind_loadings`: upper threshold, lower
        threshold, group), instead of a key array per column and block (88 MB at 1M
        ratings, each MB of which a fresh process maps and zeroes)."""
        f, k1, n_groups = self.n_fixed, self.n_levels - 1, self.n_groups
        wide = f + 1
        self.n_kinds = self.n_levels * n_groups
        kinds = np.arange(self.n_kinds)
        kind_level, kind_group = kinds // n_groups, kinds % n_groups
        kind_columns = (
            np.minimum(kind_level, k1 - 1),
            np.maximum(kind_level - 1, 0),
            np.where(kind_group > 0, k1 + kind_group - 1, f),
        )
        one_hot = np.eye(wide)
        self.kind_loadings = tuple(one_hot[c] for c in kind_columns)  # kinds × (f + 1)
        self.kind = level * n_groups + group
        self.rater_kind = self.rater * self.n_kinds + self.kind
        # With one group per unit (units are candidate × competency cells) the unit ×
        # group block is each unit's Σw in one column, which d_u already holds: only
        # the thresholds' columns need a pass over the ratings, into units × (K − 1).
        unit_group = np.zeros(self.n_units, dtype=np.intp)
        unit_group[self.unit] = group
        self.unit_keys: list[np.ndarray] | None = None
        self.unit_group: np.ndarray | None = None  # each unit's group, where it has one
        columns = [c[self.kind] for c in kind_columns]
        if np.array_equal(unit_group[self.unit], group):
            self.unit_group = unit_group
            self.unit_threshold_keys = (self.unit * k1 + columns[0], self.unit * k1 + columns[1])
            self.grouped_units = np.flatnonzero(unit_group > 0)
            self.grouped_column = k1 - 1 + unit_group[self.grouped_units]
        else:
            self.unit_keys = [self.unit * wide + c for c in columns]

    # ---- passes over the ratings --------------------------------------------------

    @contextlib.contextmanager
    def parallel(self) -> Iterator[None]:
        """Threads for the parts of each pass over the ratings, for the duration (a fit);
        without it the parts run one after another."""
        if len(self.parts) == 1:
            yield
            return
        with ThreadPoolExecutor(len(self.parts), thread_name_prefix="ordinal") as pool:
            self._pool = pool
            try:
                yield
            finally:
                self._pool = None

    def over_parts(self, work: Callable[[Any], _Sums], parts: list[Any] | None = None) -> _Sums:
        """`work`'s (value, sums) for each part of the ratings (or of `parts`), added in
        part order (so the same parts give the same rounding), at once under `parallel`."""
        parts = self.parts if parts is None else parts
        if self._pool is None:
            results = [work(part) for part in parts]
        else:
            results = list(self._pool.map(work, parts))
        total, sums = results[0]
        for value, more in results[1:]:
            total += value
            for name, array in more.items():
                sums[name] += array
        return total, sums

    def linear_predictor(
        self, beta: _Floats, u: _Floats, v: _Floats, rows: slice = _ALL
    ) -> _Floats:
        """η = β_group + u_unit + v_rater of the ratings `rows`."""
        eta: _Floats = beta[self.group[rows]] + u[self.unit[rows]] + v[self.rater[rows]]
        return eta

    def _system_sums(self, tau: _Floats, beta: _Floats, u: _Floats, v: _Floats) -> _Sums:
        """The log likelihood at a point and the sums of its per-rating terms that
        `_system` needs: by kind, unit, rater, rater × kind and entry."""
        nu, r, k1 = self.n_units, self.n_raters, self.n_levels - 1

        def work(rows: slice) -> _Sums:
            loglik, t = self._terms(tau, self.linear_predictor(beta, u, v, rows), rows)
            sums = self._gradient_part(t, rows)
            kind, rater_kind = self.kind[rows], self.rater_kind[rows]
            for name in ("i_ab", "qa", "qb"):
                sums[f"kind_{name}"] = _sums(kind, t[name], self.n_kinds)
            sums["entry_w"] = _sums(self.entry[rows], t["w"], len(self.entry_unit))
            sums["rater_qa"] = _sums(rater_kind, t["qa"], r * self.n_kinds)
            sums["rater_qb"] = _sums(rater_kind, t["qb"], r * self.n_kinds)
            if self.unit_keys is None:
                upper, lower = self.unit_threshold_keys
                thresholds = _sums(upper[rows], t["qa"], nu * k1)
                thresholds += _sums(lower[rows], t["qb"], nu * k1)
                sums["unit_thresholds"] = thresholds
            else:
                keys = [key[rows] for key in self.unit_keys]
                loads = (t["qa"], t["qb"], t["w"])
                sums["unit_fixed"] = _loaded(keys, loads, nu, self.n_fixed + 1)
            return loglik, sums

        return self.over_parts(work)

    def _gradient_sums(
        self, tau: _Floats, beta: _Floats, u: _Floats, v: _Floats, *, loglik: bool = True
    ) -> _Sums:
        """What a gradient needs (`_gradient_terms`' sums), and the log likelihood
        unless `loglik=False` (NaN)."""

        def work(rows: slice) -> _Sums:
            eta = self.linear_predictor(beta, u, v, rows)
            total, t = self._gradient_terms(tau, eta, rows, loglik=loglik)
            return total, self._gradient_part(t, rows)

        return self.over_parts(work)

    def _gradient_part(self, t: dict[str, _Reals], rows: slice) -> dict[str, _Floats]:
        """Sums of the ratings `rows`' ga and gb by kind, and of s by unit and rater."""
        kind = self.kind[rows]
        return {
            "kind_ga": _sums(kind, t["ga"], self.n_kinds),
            "kind_gb": _sums(kind, t["gb"], self.n_kinds),
            "unit_s": _sums(self.unit[rows], t["s"], self.n_units),
            "rater_s": _sums(self.rater[rows], t["s"], self.n_raters),
        }

    def _pair_sums(self, a: _Floats, b: _Floats) -> _Floats:
        """Σ a[entry]·b[other entry] over each slot's co-rating pairs of entries."""

        def work(part: tuple[slice, slice]) -> _Sums:
            entries, pairs = part
            weight = np.repeat(a[entries], self.pair_repeats[entries])
            weight *= b[self.pair_b[pairs]]
            return 0.0, {"slots": _sums(self.pair_slot[pairs], weight, self.n_slots)}

        return self.over_parts(work, self.pair_parts)[1]["slots"]

    def _loglik_at(self, tau: _Floats, beta: _Floats, u: _Floats, v: _Floats) -> float:
        """The log likelihood at a point, for the line search."""
        return self.over_parts(
            lambda rows: (self._loglik(tau, self.linear_predictor(beta, u, v, rows), rows), {})
        )[0]

    # ---- derivatives -----------------------------------------------------------

    def _terms(self, tau: _Floats, eta: _Floats, rows: slice = _ALL) -> _Terms:
        """Log likelihood and per-rating derivatives at (τ, η) of the ratings `rows`.

        With A = F(a), Ā = F(−a) = 1 − A, B, B̄ likewise, and p = A − B = A·B̄·g
        (g = 1 − exp(b − a), one value per level), every derivative is a short
        product: ∂log p/∂a = Ā/(B̄g), ∂log p/∂b = −B/(Ag), and the second
        derivatives follow from those; fewer passes over the ratings than
        dividing F(a)(1 − F(a)) and its kin by p, and no cancellation in either tail.
        """
        fa, ca, fb, cb, gap = self._cumulative(tau, eta, rows)
        p = fa * cb
        p *= gap
        loglik = float(np.log(np.maximum(p, 1e-300, out=p), out=p).sum())
        ga = np.divide(ca, cb, out=p)
        ga /= gap
        gb = fb / fa
        gb /= gap
        gb *= -1.0
        s = -ga
        s -= gb  # d log p / dη
        # Information between τ_upper and η: −(i_aa + i_ab) = ga·(s + Ā − A); likewise τ_lower.
        qa = s + ca
        qa -= fa
        qa *= ga
        qb = np.add(s, cb, out=cb)
        qb -= fb
        qb *= gb
        w = -qa
        w -= qb  # information about η
        # i_aa = −qa − i_ab and i_bb = −qb − i_ab are only needed summed by kind,
        # which `_system` takes from these sums: no per-rating arrays for them.
        return loglik, {"ga": ga, "gb": gb, "s": s, "w": w, "qa": qa, "qb": qb, "i_ab": ga * gb}

    def _gradient_terms(
        self, tau: _Floats, eta: _Floats, rows: slice = _ALL, *, loglik: bool = True
    ) -> _Terms:
        """`_terms`' log likelihood, ga, gb and s alone: what a chord step needs (its
        information matrix is an earlier point's). `loglik=False`: NaN for the log
        likelihood, for a step without a line search."""
        fa, ca, fb, cb, gap = self._cumulative(tau, eta, rows)
        total = math.nan
        if loglik:
            p = fa * cb
            p *= gap
            total = float(np.log(np.maximum(p, 1e-300, out=p), out=p).sum())
        gb = np.divide(fb, fa, out=fb)
        gb /= gap
        gb *= -1.0
        ga = np.divide(ca, cb, out=fa)
        ga /= gap
        s = np.negative(ga, out=ca)
        s -= gb
        return total, {"ga": ga, "gb": gb, "s": s}

    def _cumulative(
        self, tau: _Reals, eta: _Reals, rows: slice = _ALL
    ) -> tuple[_Reals, _Reals, _Reals, _Reals, _Reals]:
        """F(a), F(−a), F(b), F(−b) at a = τ_level − η, b = τ_(level−1) − η, and per
        rating g = 1 − exp(b − a), so that P(y) = F(a)·F(−b)·g without cancellation.

        F(x) = 1/(1 + exp(−x)) from `np.exp` (SIMD, ~10× faster than `expit`), good to
        a few ulps; at x = ±∞ it gives 1 and 0 exactly (the open levels' bounds)."""
        cut = np.concatenate([[-np.inf], tau, [np.inf]]).astype(tau.dtype)
        level = self.level[rows]
        with np.errstate(over="ignore", divide="ignore"):
            gaps = -np.expm1(cut[:-1] - cut[1:])
            fa, ca = _logistic_pair(np.subtract(eta, cut[1:][level]))
            fb, cb = _logistic_pair(np.subtract(eta, cut[:-1][level]))
        return fa, ca, fb, cb, gaps[level]

    def _system(
        self,
        tau: _Floats,
        beta: _Floats,
        u: _Floats,
        v: _Floats,
        s2u: float,
        s2v: float,
        sums: _Sums | None = None,
    ) -> _System:
        """Penalised objective, gradient and the u-eliminated information matrix.

        `sums`: `_system_sums` at this point if already computed (by the line search)."""
        f, r, nu = self.n_fixed, self.n_raters, self.n_units
        wide = self.n_fixed + 1
        if sums is None:
            sums = self._system_sums(tau, beta, u, v)
        loglik, total = sums
        objective = loglik - 0.5 * (u @ u / s2u + v @ v / s2v)
        upper, lower, grouped = self.kind_loadings
        kind = {name: total[f"kind_{name}"] for name in _KIND_SUMS}
        kind["w"] = -kind["qa"] - kind["qb"]
        kind["i_aa"] = -kind["qa"] - kind["i_ab"]
        kind["i_bb"] = -kind["qb"] - kind["i_ab"]
        g_f, g_u, g_v = self._gradient(total, u, v, s2u, s2v)

        # Information blocks. The units' (and their part of the elimination below) on a
        # thread of the pool, while the raters' co-rating pairs are summed here.
        n_w = total["entry_w"]
        d_u = _sums(self.entry_unit, n_w, nu) + 1.0 / s2u
        d_v = _sums(self.entry_rater, n_w, r) + 1.0 / s2v
        units = self._meanwhile(self._unit_blocks, total, n_w, d_u, d_u - 1.0 / s2u, g_f, g_u, g_v)
        scaled_w = n_w / d_u[self.entry_unit]
        vv = -self._pair_sums(scaled_w, n_w)
        vv[self.diagonal_slot] += d_v
        by_rater = [total[name].reshape(r, -1) for name in ("rater_qa", "rater_qb")]
        by_rater.append(-by_rater[0] - by_rater[1])  # w = −qa − qb
        j_vf = np.zeros((r, wide))
        for load_sums, columns in zip(by_rater, self.kind_loadings, strict=True):
            j_vf += load_sums @ columns
        j_vf = j_vf[:, :f]
        square = (
            (upper.T * kind["i_aa"]) @ upper
            + (lower.T * kind["i_bb"]) @ lower
            + (grouped.T * kind["w"]) @ grouped
        )
        cross = (
            (lower.T * kind["i_ab"]) @ upper
            + (upper.T * kind["qa"]) @ grouped
            + (lower.T * kind["qb"]) @ grouped
        )
        j_ff = (square + cross + cross.T)[:f, :f]

        # Eliminate the diagonal unit block: M = J_oo − J_ou D⁻¹ J_uo, o = (raters, fixed).
        m = np.zeros((self.size, self.size), order="F")
        j_uf, n_sparse, uf_ff, uf_vf, rhs = units.result()
        m_ff, m_vf = j_ff - uf_ff, j_vf - uf_vf
        m.ravel(order="F")[self.fill_at] = np.concatenate([vv, m_vf.ravel(), m_ff[self.fixed_tril]])
        return _System(
            float(objective), loglik, m, rhs, g_u, d_u, j_uf, n_sparse, scaled_w, u, v, s2u, s2v
        )

    def _unit_blocks(
        self,
        total: dict[str, _Floats],
        n_w: _Floats,
        d_u: _Floats,
        unit_w: _Floats,
        g_f: _Floats,
        g_u: _Floats,
        g_v: _Floats,
    ) -> tuple[_Floats, scipy.sparse.csr_matrix, _Floats, _Floats, _Floats]:
        """The units × fixed block J_uf, N (w per entry) as a sparse units × raters
        matrix, what eliminating the units takes from the fixed and the raters × fixed
        blocks (J_fu D⁻¹ J_uf, Nᵀ D⁻¹ J_uf) and the eliminated right-hand side."""
        if self.unit_keys is None:
            j_uf = self._unit_fixed(total["unit_thresholds"], unit_w)
        else:
            j_uf = total["unit_fixed"][:, : self.n_fixed]
        n_sparse = scipy.sparse.csr_matrix(
            (n_w, self.entry_csr.indices, self.entry_csr.indptr), shape=self.entry_csr.shape
        )
        scaled_uf = j_uf / d_u[:, None]
        uf_vf = np.asarray(n_sparse.T @ scaled_uf)
        rhs = _eliminated(n_sparse, j_uf, d_u, g_f, g_u, g_v)
        return j_uf, n_sparse, j_uf.T @ scaled_uf, uf_vf, rhs

    def _meanwhile(self, work: Callable[..., _T], *args: Any) -> Future[_T]:
        """`work(*args)` on a thread of the pool, under `parallel` (else done at once)."""
        if self._pool is not None:
            return self._pool.submit(work, *args)
        done: Future[_T] = Future()
        done.set_result(work(*args))
        return done

    def _gradient(
        self, sums: dict[str, _Floats], u: _Floats, v: _Floats, s2u: float, s2v: float
    ) -> tuple[_Floats, _Floats, _Floats]:
        """The penalised log likelihood's gradient in (fixed, u, v), from the sums of
        `_gradient_part` (s = −ga − gb)."""
        upper, lower, grouped = self.kind_loadings
        ga, gb = sums["kind_ga"], sums["kind_gb"]
        g_f = (upper.T @ ga + lower.T @ gb - grouped.T @ (ga + gb))[: self.n_fixed]
        g_u = sums["unit_s"] - u / s2u
        g_v = sums["rater_s"] - v / s2v
        return g_f, g_u, g_v

    def _unit_fixed(self, thresholds: _Floats, unit_w: _Floats) -> _Floats:
        """The units × fixed block where each unit has one group: the thresholds'
        columns from the ratings' sums, the group's column the unit's Σw (`unit_w`)."""
        k1, nu = self.n_levels - 1, self.n_units
        j_uf = np.zeros((nu, self.n_fixed))
        j_uf[:, :k1] = thresholds.reshape(nu, k1)
        j_uf[self.grouped_units, self.grouped_column] = unit_w[self.grouped_units]
        return j_uf

    # ---- fitting ---------------------------------------------------------------

    def start(self) -> tuple[_Floats, _Floats, _Floats, _Floats]:
        """Thresholds at the logits of the cumulative shares, everything else 0."""
        share = np.cumsum(np.bincount(self.level, minlength=self.n_levels))[:-1] / self.n
        tau = np.log(share / (1 - share))
        return tau, np.zeros(self.n_groups), np.zeros(self.n_units), np.zeros(self.n_raters)

    def starting_variances(self) -> tuple[float, float]:
        """Where Laplace-EM starts: moment estimates of σ_u² and σ_v² on the levels'
        scale, turned into logits by the ratio of the logistic's variance to the
        residual's (so a start, attenuated by the rounding to levels; never the
        answer, which is the update's fixed point from any start). A start near it
        saves the slow first steps; (1, 0.25) where the moments are degenerate.

        Between units: the one-way analysis of variance (σ_u² = (MSB − MSW)/k₀).
        Within units, each rater's mean deviation from the units' means has
        variance ≈ σ_v²·(1 − 1/n)² + MSW·(1 − 1/n)/count, n the unit's ratings."""
        fallback = (1.0, 0.25)
        unit, rater, y = self.unit, self.rater, self.level.astype(np.float64)
        n_i = np.bincount(unit, minlength=self.n_units).astype(np.float64)
        mean_i = _sums(unit, y, self.n_units) / n_i
        deviation = y - mean_i[unit]
        shared = n_i[unit] > 1
        within_df = int(shared.sum()) - int((n_i > 1).sum())
        if within_df <= 0 or self.n_units < 2:
            return fallback
        msw = float(deviation[shared] @ deviation[shared]) / within_df
        msb = float(n_i @ (mean_i - y.mean()) ** 2) / (self.n_units - 1)
        k0 = (self.n - float(n_i @ n_i) / self.n) / (self.n_units - 1)
        s2u = (msb - msw) / k0
        kept = (1.0 - 1.0 / n_i[unit])[shared]
        r_shared = rater[shared]
        count = np.bincount(r_shared, minlength=self.n_raters).astype(np.float64)
        rated = count > 0
        mean_kept = (_sums(r_shared, kept, self.n_raters)[rated]) / count[rated]
        d_r = _sums(r_shared, deviation[shared], self.n_raters)[rated] / count[rated]
        noise = float(np.mean(msw * mean_kept / count[rated]))
        s2v = (float(d_r.var()) - noise) / float(np.mean(mean_kept**2))
        s2e = msw - max(s2v, 0.0)
        if not (s2e > 0 and np.isfinite(s2u) and np.isfinite(s2v)):
            return fallback
        logit = (math.pi**2 / 3) / s2e
        low, high = 1e-2, 1e2
        return (
            float(np.clip(s2u * logit, low, high)) if s2u > 0 else fallback[0],
            float(np.clip(s2v * logit, low, high)) if s2v > 0 else fallback[1],
        )

    def fit(
        self,
        sigma2_unit: float | None = None,
        sigma2_rater: float | None = None,
        *,
        estimate_unit: bool = True,
        estimate_rater: bool = True,
        start: tuple[_Floats, _Floats, _Floats] | None = None,
        score_levels: _Floats | None = None,
    ) -> OrdinalSolution:
        """Posterior modes, and the variances by Laplace-EM unless they are given.

        A variance given, or not to be estimated (`estimate_*=False`, held at
        NEGLIGIBLE_VARIANCE), stays fixed. `start` = (τ, β, v) from an earlier fit
        starts Newton there (the units at their modes given those): the penalised
        likelihood is concave, so the mode is the same from any start, and a
        refresh on slightly changed data needs a few steps instead of a dozen.
        `score_levels`: the score each level code stands for, for the solution's
        `rater_lift` and `rater_slope` (taken while the last inverse is computed).
        """
        with self.parallel():
            return self._fit(
                sigma2_unit, sigma2_rater, estimate_unit, estimate_rater, start, score_levels
            )

    def _fit(
        self,
        sigma2_unit: float | None,
        sigma2_rater: float | None,
        estimate_unit: bool,
        estimate_rater: bool,
        start: tuple[_Floats, _Floats, _Floats] | None,
        levels: _Floats | None,
    ) -> OrdinalSolution:
        update_u = sigma2_unit is None and estimate_unit
        update_v = sigma2_rater is None and estimate_rater
        first_u, first_v = self.starting_variances() if update_u or update_v else (1.0, 0.25)
        s2u = (
            sigma2_unit
            if sigma2_unit is not None
            else (first_u if estimate_unit else NEGLIGIBLE_VARIANCE)
        )
        s2v = (
            sigma2_rater
            if sigma2_rater is not None
            else (first_v if estimate_rater else NEGLIGIBLE_VARIANCE)
        )
        if start is None:
            tau, beta, u, v = self.start()
        else:
            tau, beta, v = start
            u = self._unit_modes(tau, beta, v, s2u)
        terms: _Sums | None = None
        step = math.inf
        change = math.inf if update_u or update_v else 0.0  # the last update's, relative
        secant = _Secant()
        system: _System | None = None
        for iterations in range(1, MAX_ITERATIONS + 1):
            # The last system and the terms it is built from go before the next is built:
            # at 1M ratings each is ~80 MB, and every MB a fit holds at once is a MB the
            # kernel maps and zeroes (the service's refresh runs in a fresh process).
            system = None
            system = self._system(tau, beta, u, v, s2u, s2v, terms)
            terms = None
            single = step > SINGLE_PRECISION_STEP or change > SINGLE_PRECISION_CHANGE
            self._factor(system, single=single)
            assert system.chol is not None
            double = system.chol.dtype == np.float64
            if not (update_u or update_v):
                tau, beta, u, v, step, terms = self._step(
                    tau, beta, u, v, system, s2u, s2v, light=True
                )
                if step < STEP_TOLERANCE and double:
                    # The step moved nothing that matters: this system is the final one.
                    return self._solution(
                        tau, beta, u, v, s2u, s2v, system, iterations, True, levels
                    )
                tau, beta, u, v, step = self._chord(tau, beta, u, v, system, s2u, s2v, step, terms)
                terms = None
                continue
            if iterations == 1:
                # The start's modes say nothing about the variances yet.
                tau, beta, u, v, step, terms = self._step(tau, beta, u, v, system, s2u, s2v)
                continue
            # The modes follow the variances (each step aims at the next variances' mode,
            # below), so the update at this point is the update at these variances'
            # mode, and secant steps can find its fixed point. The step's directions are
            # solved first, as the inverse behind the update overwrites the factor.
            directions = self._directions(system)
            new_u, new_v = self._updated(system, u, v, s2u, s2v, update_u, update_v)
            change = max(abs(new_u / s2u - 1), abs(new_v / s2v - 1))
            if change < TOLERANCE / 3 and step < SETTLED_STEP and double:
                # The variances have converged (by a double-precision update): hold them
                # and let Newton finish the modes, quadratically, where moving variances
                # would drag them along.
                update_u = update_v = False
                target = (new_u, new_v)
            elif step < SECANT_STEP:
                target = secant.next((s2u, s2v), (new_u, new_v), (update_u, update_v))
            else:
                target = (new_u, new_v)
            # The step aims at the new variances' mode, so the modes do not lag them.
            tau, beta, u, v, step, terms = self._step(
                tau, beta, u, v, system, *target, directions=directions
            )
            s2u, s2v = target
        system = self._system(tau, beta, u, v, s2u, s2v, terms)
        self._factor(system, single=False)
        return self._solution(tau, beta, u, v, s2u, s2v, system, MAX_ITERATIONS, False, levels)

    def _unit_modes(self, tau: _Floats, beta: _Floats, v: _Floats, s2u: float) -> _Floats:
        """The units' modes given τ, β and v: a few Newton steps, each unit on its own
        (steps capped at 2 logits; the full Newton steps that follow finish the job)."""
        offset = (beta[self.group] + v[self.rater]).astype(np.float32)
        tau32 = tau.astype(np.float32)
        u = np.zeros(self.n_units)
        for _ in range(UNIT_START_STEPS):
            sums = self._unit_derivative_sums(tau32, offset, u.astype(np.float32))
            gradient = sums["score"] - u / s2u
            information = sums["weight"] + 1.0 / s2u
            u += np.clip(np.nan_to_num(gradient / information), -2.0, 2.0)
        return u

    def _unit_derivative_sums(self, tau: _Reals, offset: _Reals, u: _Reals) -> dict[str, _Floats]:
        """`_eta_derivatives` at η = offset + u_unit, summed by unit."""

        def work(rows: slice) -> _Sums:
            unit = self.unit[rows]
            score, weight = self._eta_derivatives(tau, offset[rows] + u[unit], rows)
            return 0.0, {
                "score": _sums(unit, score, self.n_units),
                "weight": _sums(unit, weight, self.n_units),
            }

        return self.over_parts(work)[1]

    def _eta_derivatives(
        self, tau: _Reals, eta: _Reals, rows: slice = _ALL
    ) -> tuple[_Reals, _Reals]:
        """d log p / dη and the information about η alone (`_terms`' s and w, cheaper)."""
        fa, ca, fb, cb, gap = self._cumulative(tau, eta, rows)
        ga = ca / cb
        ga /= gap
        gb = fb / fa
        gb /= gap
        score = gb - ga  # −(∂a + ∂b log p), the ∂b term being −gb
        # w = −(qa + qb) with qa = ∂a·(s + Ā − A), qb = ∂b·(s + B̄ − B), ∂b = −gb.
        ca -= fa
        ca += score
        ca *= ga
        cb -= fb
        cb += score
        cb *= gb
        return score, np.subtract(cb, ca, out=cb)

    def _loglik(self, tau: _Floats, eta: _Floats, rows: slice = _ALL) -> float:
        """The log likelihood of the ratings `rows` alone."""
        fa, _, _, cb, gap = self._cumulative(tau, eta, rows)
        p = fa * cb
        p *= gap
        return float(np.log(np.maximum(p, 1e-300, out=p), out=p).sum())

    def _factor(self, system: _System, *, single: bool = False) -> None:
        """Cholesky-factor the system's matrix into `system.chol`.

        `single`: in single precision, twice as fast; for the steps far from the mode,
        where a direction and variance traces good to ~1e-5 are plenty (the line
        search keeps the objective rising, and the last steps, the convergence tests
        and the final variances are all in double precision). It falls back to
        double precision if the factorisation fails."""
        info = 1
        if single:
            factor, info = cholesky_lower(system.m.astype(np.float32, order="F"), overwrite=True)
        if info != 0:
            factor, info = cholesky_lower(system.m, overwrite=True)
        if info != 0:
            raise np.linalg.LinAlgError("information matrix is not positive definite")
        system.chol = factor

    def _directions(self, system: _System) -> _Floats:
        """M⁻¹ [rhs, r_u, r_v]: the Newton step at the system's variances and how it
        moves with 1/σ_u² and 1/σ_v², which enter the right-hand side linearly
        (through the penalties' gradients −u/σ_u², −v/σ_v²). With these a step
        can aim at variances other than the system's from the same factor."""
        assert system.chol is not None
        r = self.n_raters
        scaled_u = system.u / system.d_u
        r_u = np.concatenate([system.n_sparse.T @ scaled_u, system.j_uf.T @ scaled_u])
        r_v = np.zeros(self.size)
        r_v[:r] = -system.v
        columns = np.column_stack([system.rhs, r_u, r_v])
        solve = lapack.spotrs if system.chol.dtype == np.float32 else lapack.dpotrs
        solved, _ = solve(system.chol, columns.astype(system.chol.dtype), lower=1)
        return np.asarray(solved, dtype=np.float64)

    def _step(
        self,
        tau: _Floats,
        beta: _Floats,
        u: _Floats,
        v: _Floats,
        system: _System,
        s2u: float,
        s2v: float,
        *,
        directions: _Floats | None = None,
        chord: tuple[float, _Floats, _Floats] | None = None,
        light: bool = False,
        search: bool = True,
    ) -> tuple[_Floats, _Floats, _Floats, _Floats, float, _Sums | None]:
        """One Newton step towards the mode at variances (s2u, s2v), with step
        halving (objective up, thresholds ordered).

        With `directions` (`_directions` of the system) the variances may differ
        from the system's: the step then uses the system's information matrix (whose
        penalty terms 1/σ² are slightly off, a chord step) with the gradient at the
        new variances, so the modes follow the variances without lagging a step.
        Without it the system's factor solves for the system's own variances.

        With `chord` = (log likelihood, right-hand side, g_u) at a point other than the
        system's (`_chord`), the step is from there, by the system's factor;
        `search=False` takes it in full, without a line search (or new terms).

        Returns the new point, the step's size and the new point's `_system_sums`
        (None after a halved step), which the next step's system reuses: the line
        search computes them in full at its first trial, which is nearly always
        accepted (`light`: only `_gradient_sums`, for a chord step next)."""
        r, k1 = self.n_raters, self.n_levels - 1
        g_u, loglik = system.g_u, system.loglik
        if directions is None:
            assert system.chol is not None and (s2u, s2v) == (system.s2u, system.s2v)
            rhs = system.rhs
            if chord is not None:
                loglik, rhs, g_u = chord
            solve = lapack.spotrs if system.chol.dtype == np.float32 else lapack.dpotrs
            delta_o, _ = solve(system.chol, rhs.astype(system.chol.dtype), lower=1)
            delta_o = delta_o.astype(np.float64)
            double = system.chol.dtype == np.float64
        else:
            shift_u, shift_v = 1.0 / s2u - 1.0 / system.s2u, 1.0 / s2v - 1.0 / system.s2v
            delta_o = directions[:, 0] + shift_u * directions[:, 1] + shift_v * directions[:, 2]
            if shift_u:
                g_u = g_u - shift_u * u
            double = False  # the factor is gone: never the unchecked last step
        d_v, d_fixed = delta_o[:r], delta_o[r:]
        delta_u = (g_u - system.j_uf @ d_fixed - system.n_sparse @ d_v) / system.d_u
        d_tau, d_beta = d_fixed[:k1], d_fixed[k1:]
        d_beta_full = np.concatenate([[0.0], d_beta])
        full_size = max(float(np.max(np.abs(delta_o))), float(np.max(np.abs(delta_u))))
        if (full_size < STEP_TOLERANCE and double) or not search:
            # A step this small from a double-precision factor is the last one: taken
            # without a line search (the objective, concave, cannot fall by more than
            # rounding over it), its derivatives left for whoever needs them next.
            b_new, u_new, v_new = beta + d_beta_full, u + delta_u, v + d_v
            return tau + d_tau, b_new, u_new, v_new, full_size, None
        objective = loglik - 0.5 * (u @ u / s2u + v @ v / s2v)
        full_sums = self._gradient_sums if light else self._system_sums
        scale = 1.0
        for _ in range(30):
            t_new = tau + scale * d_tau
            if np.all(np.diff(t_new) > 0):
                b_new, u_new, v_new = (
                    beta + scale * d_beta_full,
                    u + scale * delta_u,
                    v + scale * d_v,
                )
                # In full at the first trial (nearly always accepted), else the likelihood alone.
                trial = full_sums(t_new, b_new, u_new, v_new) if scale == 1.0 else None
                if trial is not None:
                    loglik = trial[0]
                else:
                    loglik = self._loglik_at(t_new, b_new, u_new, v_new)
                new = loglik - 0.5 * (u_new @ u_new / s2u + v_new @ v_new / s2v)
                if new >= objective - 1e-10 * abs(objective):
                    return t_new, b_new, u_new, v_new, scale * full_size, trial
            scale /= 2
        return tau, beta, u, v, 0.0, None

    def _chord(
        self,
        tau: _Floats,
        beta: _Floats,
        u: _Floats,
        v: _Floats,
        system: _System,
        s2u: float,
        s2v: float,
        step: float,
        terms: _Sums | None,
    ) -> tuple[_Floats, _Floats, _Floats, _Floats, float]:
        """Chord steps after a Newton step of `system` (variances held): the gradient
        at each new point, solved by the system's factor. A pass over the ratings for
        the gradient costs a fraction of a new system and its factor.

        They converge linearly, each step `rate` times the last (~0.02 at 1M ratings
        after a warm start's first Newton step), so the distance left is about
        step·rate/(1 − rate); they stop once that is below CHORD_TARGET, or when
        they contract too slowly (a new system does better). They are only a way
        to a better point for the next system: the fit still ends only on a Newton
        step below STEP_TOLERANCE from a double-precision factor at its own point,
        and takes the variances from that system.

        A chord step after a step below CHORD_GUARD is taken without a line search
        (no log likelihood, and no pass over the ratings after the last step): if one
        overshot, its size would show it (rate > CHORD_RATE), the chord steps would
        stop, and the Newton steps that follow, line-searched, go on from there.

        `step`, `terms`: the Newton step's size and its landing point's
        `_gradient_sums` (or None). Returns the point and the last step's size."""
        for _ in range(CHORD_STEPS):
            search = step >= CHORD_GUARD
            if terms is None:
                terms = self._gradient_sums(tau, beta, u, v, loglik=search)
            loglik, sums = terms
            g_f, g_u, g_v = self._gradient(sums, u, v, s2u, s2v)
            chord = (
                loglik,
                _eliminated(system.n_sparse, system.j_uf, system.d_u, g_f, g_u, g_v),
                g_u,
            )
            tau, beta, u, v, size, terms = self._step(
                tau, beta, u, v, system, s2u, s2v, chord=chord, light=True, search=search
            )
            rate = size / step if step > 0 else 1.0
            step = size
            if rate > CHORD_RATE or size * rate < CHORD_TARGET * (1 - rate):
                break
        return tau, beta, u, v, step

    def _updated(
        self,
        system: _System,
        u: _Floats,
        v: _Floats,
        s2u: float,
        s2v: float,
        update_u: bool,
        update_v: bool,
    ) -> tuple[float, float]:
        """The variances' Laplace-EM update from the system's posterior variances and
        the modes (u, v); a variance not updated stays. Inverts the system's factor."""
        sum_u, sum_v = self._posterior_variance_sums(system)
        new_u = _update(u, sum_u, s2u) if update_u else s2u
        new_v = _update(v, sum_v, s2v) if update_v else s2v
        return max(new_u, NEGLIGIBLE_VARIANCE), max(new_v, NEGLIGIBLE_VARIANCE)

    def _posterior_variance_sums(self, system: _System) -> tuple[float, float]:
        """Σ posterior variance of u and of v (fixed effects' uncertainty included): the
        traces of the inverse information's unit and rater blocks, all the variance
        update needs. Overwrites the system's factor with the inverse."""
        r = self.n_raters
        assert system.chol is not None  # set by the Newton step that made the system
        # The inverse from the Cholesky factor (LAPACK potri), lower triangle only.
        invert = lapack.spotri if system.chol.dtype == np.float32 else lapack.dpotri
        inverse, info = invert(system.chol, lower=1, overwrite_c=1)
        if info != 0:
            raise np.linalg.LinAlgError("information matrix is singular")
        system.chol = None
        # Σ_u var(u) = Σ 1/d_u + tr(M⁻¹ B), B = J_ou D⁻² J_uo; B has M's sparsity pattern.
        d_u = system.d_u
        scaled = system.j_uf / (d_u * d_u)[:, None]
        b = np.concatenate(
            [
                self._pair_sums(system.scaled_w, system.scaled_w),
                (system.n_sparse.T @ scaled).ravel(),
                (system.j_uf.T @ scaled)[self.fixed_tril],
            ]
        )
        weights = inverse.ravel(order="F")[self.fill_at].astype(np.float64) * self.fill_twice
        sum_u = float((1.0 / d_u).sum() + weights @ b)
        return sum_u, float(inverse.diagonal()[:r].astype(np.float64).sum())

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
        levels: _Floats | None = None,
    ) -> OrdinalSolution:
        r = self.n_raters
        assert system.chol is not None  # the final Newton step's factor
        chol_vv = system.chol[:r, :r]
        # The inverse on a thread of its own, while the expected scores, which need only
        # the mode, are taken on the others.
        inverse = None if self._pool is None else self._pool.submit(self._rater_variances, system)
        lift, slope = (None, None) if levels is None else self._rater_means(tau, beta, u, v, levels)
        relative, absolute = self._rater_variances(system) if inverse is None else inverse.result()
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
            rater_variance=absolute,
            rater_variance_relative=relative,
            sigma2_unit=float(s2u),
            sigma2_rater=float(s2v),
            laplace_criterion=float(-2.0 * laplace),
            n_iterations=iterations,
            converged=converged,
            rater_lift=lift,
            rater_slope=slope,
        )

    def _rater_variances(self, system: _System) -> tuple[_Floats, _Floats]:
        """diag(M⁻¹) of the raters, with τ and β held (relative) and with their
        uncertainty (absolute), from the system's Cholesky factor L.

        L = [[L_vv, 0], [L_fv, L_ff]]: L_vv factors the raters' block alone, and
        L⁻¹ = [[L_vv⁻¹, 0], [−L_ff⁻¹ L_fv L_vv⁻¹, L_ff⁻¹]], whose column norms are diag(M⁻¹)."""
        r = self.n_raters
        assert system.chol is not None
        inv_l, info = inverse_lower(system.chol[:r, :r])
        if info != 0:
            raise np.linalg.LinAlgError("information matrix is singular")
        relative = np.einsum("ij,ij->j", inv_l, inv_l)
        lower_left = scipy.linalg.solve_triangular(
            system.chol[r:, r:], system.chol[r:, :r] @ inv_l, lower=True, check_finite=False
        )
        return relative, relative + np.einsum("ij,ij->j", lower_left, lower_left)

    def _rater_means(
        self, tau: _Floats, beta: _Floats, u: _Floats, v: _Floats, levels: _Floats
    ) -> tuple[_Floats, _Floats]:
        """Per rater, the mean of what the rater's shift adds to the expected score (the
        score with it less the score without it) and of the expected score's slope in η.

        Where each unit has one group the score without the shift is the unit's, taken
        once per unit (a quarter of the ratings at 1M) instead of once per rating."""
        per_unit = None
        if self.unit_group is not None:
            unit_eta = beta[self.unit_group] + u
            per_unit = (unit_eta, expected_score(tau, unit_eta, levels, slope=False)[0])

        def work(rows: slice) -> _Sums:
            rater, unit = self.rater[rows], self.unit[rows]
            if per_unit is None:
                eta = beta[self.group[rows]] + u[unit]
                without, _ = expected_score(tau, eta, levels, slope=False)
            else:
                eta, without = per_unit[0][unit], per_unit[1][unit]
            eta += v[rater]
            expected, slope = expected_score(tau, eta, levels)
            expected -= without
            return 0.0, {
                "lift": _sums(rater, expected, self.n_raters),
                "slope": _sums(rater, slope, self.n_raters),
            }

        sums = self.over_parts(work)[1]
        counts = np.bincount(self.rater, minlength=self.n_raters)
        return sums["lift"] / counts, sums["slope"] / counts


def _parts(n: int) -> list[slice]:
    """The ratings' parts: one per core (at most MAX_PARTS) from PARALLEL_RATINGS on."""
    count = min(MAX_PARTS, cores()) if n >= PARALLEL_RATINGS else 1
    bounds = np.linspace(0, n, count + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def key_codes(keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """`np.unique(keys, return_inverse=True)` for integer keys, by a stable sort, which
    finds the runs that keys from canonically ordered rows come in (~2× faster)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    codes = np.empty(len(keys), dtype=np.intp)
    codes[order] = np.cumsum(first) - 1
    return ordered[first], codes


def level_codes(score: _Floats) -> tuple[_Floats, npt.NDArray[np.intp]]:
    """`np.unique(score, return_inverse=True)`: the distinct levels and each score's
    code; by a lookup table instead of a sort when the scores are whole numbers of a
    modest range, as a rubric's are."""
    low, high = float(score.min()), float(score.max())
    if high - low > 1024 or not np.array_equal(score, np.rint(score)):
        levels, codes = np.unique(score, return_inverse=True)
        return levels, codes
    offset = (score - low).astype(np.intp)
    used = np.bincount(offset) > 0
    return low + np.flatnonzero(used).astype(np.float64), (np.cumsum(used) - 1)[offset]


def _update(mode: _Floats, pev_sum: float, sigma2: float) -> float:
    """Next variance: the mode of σ² under a weak prior on σ (half-normal, scale
    PRIOR_SD, times Gamma(2)).

    Without the prior this is MacKay's fixed point σ² = Σ mode² / (count − Σ pev / σ²),
    which converges in a fraction of the EM update's steps ((Σ mode² + Σ pev) /
    count, used while the effective count is not positive). The prior, like
    blme's for lme4, changes nothing visible with dozens of interviewers; with a
    handful whose ratings sit at the ends of the scale it keeps σ² finite, where
    the likelihood alone would send it (and the shifts) to infinity.
    """
    effective = len(mode) - pev_sum / sigma2
    if effective > 0.5:
        count, total = effective, float(mode @ mode)
    else:
        count, total = float(len(mode)), float(mode @ mode + pev_sum)
    # Maximise −((count − 1)/2)·log σ² − total/(2σ²) − σ²/(2·PRIOR_SD²) over σ²: the
    # likelihood, the half-normal, and a Gamma(2) on σ (blme's kind of default) that
    # keeps σ² off zero, where the iteration would otherwise crawl.
    prior, c = PRIOR_SD**2, count - 1.0
    return float((math.sqrt(c * c + 4 * total / prior) - c) * prior / 2)


class _Secant:
    """Secant steps towards the fixed point of the variances' update, σ² = U(σ²).

    The plain iteration σ² ← U(σ²) converges linearly and slowly: each step closes
    ~40% of the gap, along one direction of the two variances. With x = log σ² and
    g = log U(σ²) − x, the secant through the last two points along their change,
    x + g − γ(Δx + Δg) with γ = Δg·g / Δg·Δg (Anderson's method of depth 1: in one
    dimension exactly the secant's root), jumps to the fixed point along that
    direction. A jump more than SECANT_REACH times the plain update's move is not
    trusted: then the plain update is taken, and the next secant starts from here."""

    def __init__(self) -> None:
        self.last: tuple[_Floats, _Floats] | None = None

    def next(
        self, current: tuple[float, float], updated: tuple[float, float], free: tuple[bool, bool]
    ) -> tuple[float, float]:
        x = np.log(current)
        g = np.where(free, np.log(updated) - x, 0.0)
        last, self.last = self.last, (x, g)
        if last is None:
            return updated
        d_x, d_g = x - last[0], g - last[1]
        norm = float(d_g @ d_g)
        if norm == 0.0:
            return updated
        jump = g - (d_x + d_g) * (float(d_g @ g) / norm)
        if not float(np.max(np.abs(jump))) <= SECANT_REACH * float(np.max(np.abs(g))):
            return updated
        new = np.exp(x + jump)
        return float(new[0]), float(new[1])


def _logistic_pair(minus_x: _Reals) -> tuple[_Reals, _Reals]:
    """F(x) and F(−x) from exp(−x) (overwritten), each with full relative accuracy:
    1/(1 + e) and 1/(1 + 1/e); e = ∞ (x = −∞) gives 0 and 1, e = 0 gives 1 and 0."""
    e = np.exp(minus_x, out=minus_x)
    f = e + 1.0
    np.reciprocal(f, out=f)
    c = np.reciprocal(e, out=e)
    c += 1.0
    np.reciprocal(c, out=c)
    return f, c


def _sums(codes: np.ndarray, weights: np.ndarray, size: int) -> _Floats:
    """Weighted counts per code (`np.bincount`, typed as the floats it returns)."""
    return np.bincount(codes, weights, size).astype(np.float64, copy=False)


def _eliminated(
    n_sparse: scipy.sparse.csr_matrix,
    j_uf: _Floats,
    d_u: _Floats,
    g_f: _Floats,
    g_u: _Floats,
    g_v: _Floats,
) -> _Floats:
    """The right-hand side for (raters, fixed) once the units are eliminated with a
    system's unit blocks: [g_v − Nᵀ D⁻¹ g_u, g_f − J_fu D⁻¹ g_u]."""
    scaled = g_u / d_u
    return np.concatenate([g_v - n_sparse.T @ scaled, g_f - j_uf.T @ scaled])


def _loaded(
    keys: list[np.ndarray], weights: tuple[_Reals, ...], rows: int, columns: int
) -> _Floats:
    """Σ of each weight array at its flat (row × columns + column) keys, as a matrix."""
    total = _sums(keys[0], weights[0], rows * columns)
    for key, weight in zip(keys[1:], weights[1:], strict=True):
        total += _sums(key, weight, rows * columns)
    return total.reshape(rows, columns)


def expected_score(
    thresholds: _Floats, eta: _Floats, levels: _Floats, *, slope: bool = True
) -> tuple[_Floats, _Floats]:
    """E[score | η] under the cumulative logit, and its derivative in η (zeros with
    `slope=False`, which skips that work).

    One threshold at a time (P(score above level k) = F(η − τ_k), from `np.exp`):
    no ratings × thresholds temporaries, and a fraction of `expit`'s cost."""
    expected = np.full(len(eta), float(levels[0]))
    derivative = np.zeros(len(eta))
    above, scratch = np.empty(len(eta)), np.empty(len(eta))  # reused by every threshold
    with np.errstate(over="ignore"):
        for tau, gap in zip(thresholds, np.diff(levels), strict=True):
            np.subtract(tau, eta, out=above)
            np.exp(above, out=above)
            above += 1.0
            np.reciprocal(above, out=above)
            expected += np.multiply(gap, above, out=scratch)
            if slope:
                above *= np.subtract(1.0, above, out=scratch)
                derivative += np.multiply(gap, above, out=scratch)
    return expected, derivative
