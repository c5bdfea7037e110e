"""Adverse-impact statistics for one step of the hiring process.

Input is, per group (a race, sex or ethnic category), how many people reached a
step and how many were selected there (advanced past it, or hired). Output is,
per group, the selection rate, the impact ratio against the highest-rate group
and a verdict, with the significance tests and practical measures that the
Uniform Guidelines on Employee Selection Procedures ask to be read with it.

Sources:
- 29 CFR 1607.4(D): a selection rate *less than* four-fifths of the rate of the
  group with the highest rate is generally evidence of adverse impact; smaller
  differences may be adverse impact where they are statistically and
  practically significant; greater differences may not be, where they rest on
  small numbers and are not statistically significant.
- The Guidelines' Questions and Answers (44 FR 11996, 1979, Q&A 20-21): when the
  selection of one different person would reverse the result, the numbers are
  too small to call it adverse impact.
- 29 CFR 1607.4(C): analyse each step, not only the whole process; callers run
  `analyse_step` once per step.

Decisions (read before changing):
- Exact arithmetic: rates and ratios are compared exactly (cross-multiplied
  integers, `Fraction`s); 4/5 exactly passes. Reported floats are correctly
  rounded from the exact values.
- Reference group: the highest selection rate among *unsuppressed* groups; ties
  are broken by more people reached, then by label, so the result does not
  depend on input order.
- Pairwise statistics (Z_D, Fisher, shortfall) use the 2x2 table of the focal
  group against the reference group; "pooled rate" means pooled over that pair.
- One different person: we add one selection to the focal group (its reached
  count unchanged) and keep the reference group as it is. This is the wording of
  docs/scoring.md; it moves only the group under test, and it keeps the reference
  fixed (removing a reference selection can hand the reference role to a
  different group, which makes the check depend on a third group).
  A fragile verdict becomes "insufficient_data" only when Fisher's two-sided p
  is >= 0.05, because 1607.4(D) discounts small-number differences only when
  they "are not statistically significant" (399/1000 vs 500/1000 is fragile by
  one person yet p < 0.001; it stays adverse impact).
- Suppression and totals: see `suppressed_groups` (one table) and
  `service.domain.suppression` (a whole report); totals cover the fully shown
  groups only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypedDict

import numpy as np
from scipy.special import gammaln

FOUR_FIFTHS = Fraction(4, 5)
SIGNIFICANCE = 0.05

REFERENCE = "reference"
NO_ADVERSE_IMPACT = "no_adverse_impact"
ADVERSE_IMPACT = "adverse_impact"
INSUFFICIENT_DATA = "insufficient_data"
REVIEW = "review"
SUPPRESSED = "suppressed"
VERDICTS = (NO_ADVERSE_IMPACT, ADVERSE_IMPACT, INSUFFICIENT_DATA, REVIEW, SUPPRESSED)

LABELS = {
    REFERENCE: "reference group (highest selection rate)",
    NO_ADVERSE_IMPACT: "no adverse impact",
    ADVERSE_IMPACT: "adverse impact",
    INSUFFICIENT_DATA: "insufficient data",
    REVIEW: "review: passes four-fifths but the difference is statistically significant",
    SUPPRESSED: "insufficient data",
}

# Step-level flags.
FEWER_THAN_TWO_GROUPS = "fewer_than_two_groups"
NO_VARIATION = "no_variation"  # nobody, or everybody, shown was selected
REVIEW_NEEDED = "review_needed"


Table = tuple[tuple[int, int], tuple[int, int]]  # [[a, b], [c, d]]


class InvalidGroupCountsError(ValueError):
    """Counts that cannot describe a step: negative, selected > reached, duplicate group."""


@dataclass(frozen=True)
class GroupCounts:
    group: str
    reached: int
    selected: int


@dataclass(frozen=True)
class GroupResult:
    """One group's result; a suppressed group has no numbers, or only its reached."""

    group: str
    suppressed: bool
    verdict: str
    reached: int | None = None
    selected: int | None = None
    selection_rate: float | None = None
    impact_ratio: float | None = None
    impact_ratio_exact: Fraction | None = None
    below_four_fifths: bool | None = None
    z_d: float | None = None
    fisher_p_two_sided: float | None = None
    fisher_mid_p: float | None = None
    shortfall: float | None = None
    one_person_reverses: bool | None = None


@dataclass(frozen=True)
class StepAnalysis:
    """All groups of one step, in input order; totals cover unsuppressed groups only."""

    groups: tuple[GroupResult, ...]
    reference_group: str | None
    total_reached: int
    total_selected: int
    any_adverse_impact: bool
    flags: tuple[str, ...]
    min_applicants: int
    min_selections: int

    def group(self, name: str) -> GroupResult:
        return next(g for g in self.groups if g.group == name)


def analyse_step(
    groups: Sequence[GroupCounts],
    *,
    min_applicants: int = 10,
    min_selections: int = 5,
    hidden: Collection[str] | None = None,
    reached_only: Collection[str] = (),
    fisher: Callable[[Table], tuple[float, float]] | None = None,
) -> StepAnalysis:
    """Four-fifths verdicts, Z_D, Fisher's exact test and shortfall for one step.

    `hidden` (groups shown by label only) defaults to `suppressed_groups`, which
    protects this one table; a report serving several tables and steps passes the
    pattern of `service.domain.suppression` instead, with `reached_only` groups
    whose reached may be shown but not their selected (nor anything computed from
    it). `fisher` gives `fisher_exact_tests` of a table (a caller with many steps
    computes them together, `fisher_tables` and `fisher_exact_tests_many`). Raises
    InvalidGroupCountsError.
    """
    _validate(groups)
    if hidden is None:
        hidden = suppressed_groups(
            groups, min_applicants=min_applicants, min_selections=min_selections
        )
    hidden = frozenset(hidden) | frozenset(reached_only)
    shown, flags, reference = _reference(groups, hidden)
    total_reached = sum(g.reached for g in shown)
    total_selected = sum(g.selected for g in shown)

    results = []
    for g in groups:
        if g.group in hidden:
            reached = g.reached if g.group in reached_only else None
            results.append(
                GroupResult(group=g.group, suppressed=True, verdict=SUPPRESSED, reached=reached)
            )
        elif reference is None:
            results.append(_counts_only(g))
        else:
            results.append(_compare(g, reference, fisher))
    if any(r.verdict == REVIEW for r in results):
        flags.append(REVIEW_NEEDED)
    return StepAnalysis(
        groups=tuple(results),
        reference_group=reference.group if reference else None,
        total_reached=total_reached,
        total_selected=total_selected,
        any_adverse_impact=any(r.verdict == ADVERSE_IMPACT for r in results),
        flags=tuple(flags),
        min_applicants=min_applicants,
        min_selections=min_selections,
    )


def fisher_tables(
    groups: Sequence[GroupCounts], *, hidden: Collection[str], reached_only: Collection[str] = ()
) -> list[Table]:
    """The 2x2 tables that `analyse_step` with these arguments tests, focal group first.
    Raises InvalidGroupCountsError."""
    _validate(groups)
    shown, _, reference = _reference(groups, frozenset(hidden) | frozenset(reached_only))
    if reference is None:
        return []
    return [_table(g, reference) for g in shown if g.group != reference.group]


def _reference(
    groups: Sequence[GroupCounts], hidden: frozenset[str]
) -> tuple[list[GroupCounts], list[str], GroupCounts | None]:
    """(shown groups, step flags so far, the reference group if there is one to compare with)."""
    shown = [g for g in groups if g.group not in hidden]
    total_reached = sum(g.reached for g in shown)
    total_selected = sum(g.selected for g in shown)
    flags: list[str] = []
    if len(shown) < 2:
        flags.append(FEWER_THAN_TWO_GROUPS)
    elif total_selected in (0, total_reached):
        flags.append(NO_VARIATION)
    reference = None if flags else min(shown, key=_reference_order)
    return shown, flags, reference


def _table(focal: GroupCounts, reference: GroupCounts) -> Table:
    s_f, n_f, s_r, n_r = focal.selected, focal.reached, reference.selected, reference.reached
    return ((s_f, n_f - s_f), (s_r, n_r - s_r))


def suppressed_groups(
    groups: Sequence[GroupCounts], *, min_applicants: int = 10, min_selections: int = 5
) -> frozenset[str]:
    """The groups whose counts must not be shown, after complementary suppression.

    Primary suppression: fewer than `min_applicants` reached or fewer than
    `min_selections` selected (a group with nobody reached is always suppressed:
    it has no rate). Complementary suppression: if exactly one group is
    suppressed, its reached and selected counts would be the step's total
    (shown elsewhere, e.g. on the pipeline board) minus the shown groups, so the
    smallest remaining group (fewest reached, then fewest selected, then label)
    is suppressed too. With two or more suppressed, only their sum can be
    recovered. The rule protects one breakdown at a time: it does not protect
    cross-tabulations (e.g. race x sex) published from the same data. Beware:
    "fewer than 5 selected" also hides the lowest rates, i.e. possibly the worst
    impact; suppression is a display rule, not a finding of no impact.
    """
    primary = {
        g.group
        for g in groups
        if g.reached == 0 or g.reached < min_applicants or g.selected < min_selections
    }
    rest = [g for g in groups if g.group not in primary]
    if len(primary) == 1 and rest:
        primary.add(min(rest, key=lambda g: (g.reached, g.selected, g.group)).group)
    return frozenset(primary)


def fisher_exact_tests(table: Table) -> tuple[float, float]:
    """Two-sided Fisher's exact p and its mid-p for a 2x2 table [[a, b], [c, d]].

    Conditional on the margins, the top-left cell is hypergeometric. The
    two-sided p sums the probabilities of all tables no more likely than the
    observed one, with a relative tolerance of 1e-7 so that rounding never
    splits two equally likely tables (scipy's `fisher_exact` applies the same
    criterion with a tolerance of 1e-14; the two differ only on tables within
    1e-7 of each other that are not exact ties). The mid-p (Lancaster 1961)
    counts tables exactly as likely as the observed one by half: sum P(less
    likely) + 1/2 sum P(equally likely). It is less conservative than Fisher's
    p, so it is reported, not used for verdicts.
    """
    (a, b), (c, d) = table
    first, pmf = _hypergeometric_around(a, a + b + c + d, a + c, a + b)
    return _fisher_from(pmf, a - first)


def _fisher_from(pmf: np.ndarray, at: int) -> tuple[float, float]:
    """`fisher_exact_tests` from the (relative) pmf around the observed table, at `at`."""
    observed = pmf[at]
    tolerance = 1e-7
    less = pmf[pmf < observed * (1 - tolerance)].sum()
    equal = pmf[np.abs(pmf - observed) <= observed * tolerance].sum()
    total = pmf.sum()
    # No table more likely than the observed one: exactly 1, as scipy says, not 1 - rounding.
    more_likely = (pmf > observed * (1 + tolerance)).any()
    p_two_sided = min(1.0, float((less + equal) / total)) if more_likely else 1.0
    return p_two_sided, min(1.0, float((less + equal / 2) / total))


# Tables less likely than 1e-20 times the observed one are left out: together they
# weigh less than the last bit of any p-value (which is at least the observed one).
_NEGLIGIBLE = 1e-20


def _hypergeometric_around(
    observed: int,
    total: int,
    successes: int,
    draws: int,
) -> tuple[int, np.ndarray]:
    """(first, pmf / pmf(mode)) over the part of the support that matters to `observed`.

    Building the whole distribution (up to tens of thousands of points, each a
    log-gamma sum) made the report pay seconds at 100k applications. Instead we
    walk out from the mode with the exact ratio of successive probabilities,
    pmf(x+1) / pmf(x) = (K - x)(n - x) / ((x + 1)(N - K - n + x + 1)), as
    cumulative products (relative error about steps x 1e-16), and stop on each
    side where the probability has fallen below `_NEGLIGIBLE` times the
    observed one. Log-concavity makes everything beyond that smaller still.
    Every value is relative to the mode, so callers divide sums by `pmf.sum()`.
    """
    lo, hi, mode, spread = _support(total, successes, draws)
    failures = total - successes
    # How far below the mode the observed table lies, on the log scale (from
    # log-gamma: only an estimate of where to stop, the values come from ratios).
    at_mode, at_observed = _log_hypergeometric((mode, observed), successes, failures, draws)
    width = _width(spread, at_mode, at_observed)
    while True:
        first = max(lo, min(mode - width, observed))
        last = min(hi, max(mode + width, observed))
        up = np.arange(mode, last, dtype=np.float64)
        down = np.arange(mode - 1, first - 1, -1, dtype=np.float64)
        right = np.cumprod(
            (successes - up) * (draws - up) / ((up + 1) * (failures - draws + up + 1))
        )
        left = np.cumprod(
            (down + 1) * (failures - draws + down + 1) / ((successes - down) * (draws - down))
        )
        pmf = np.concatenate((left[::-1], [1.0], right))
        threshold = pmf[observed - first] * _NEGLIGIBLE
        if (first == lo or left[-1] <= threshold) and (last == hi or right[-1] <= threshold):
            return first, pmf
        width *= 2  # a skewed distribution with a longer tail than the estimate


def _support(total: int, successes: int, draws: int) -> tuple[int, int, int, float]:
    """(lowest, highest, mode, standard deviation) of the hypergeometric top-left cell."""
    lo, hi = max(0, draws - (total - successes)), min(successes, draws)
    mode = min(max((draws + 1) * (successes + 1) // (total + 2), lo), hi)
    failures = total - successes
    spread = (
        math.sqrt(draws * successes * failures * (total - draws) / (total**2 * (total - 1)))
        if total > 1
        else 0.0
    )
    return lo, hi, mode, spread


def _width(spread: float, at_mode: float, at_observed: float) -> int:
    """How far from the mode the first walk goes (see `_hypergeometric_around`)."""
    drop = max(0.0, at_mode - at_observed)
    return int(spread * math.sqrt(2 * (drop + 50))) + 20


# Tables per numpy pass of `fisher_exact_tests_many`, nearest in size together: the
# pass pads each to the longest, so a few huge ones do not pad all the others.
_BATCH = 64


def fisher_exact_tests_many(tables: Sequence[Table]) -> list[tuple[float, float]]:
    """`fisher_exact_tests` of every table, the same floats to the last bit, with a few
    numpy calls per batch of tables rather than ~30 per table (the per-call overhead
    was most of the ~33 ms that the whole organisation's ~270 tests cost at 100k).

    The same arithmetic on the same values: the ratios elementwise and their
    cumulative products along each row (a running product, as for one table), and
    each table's sums over its own one-dimensional pmf, as `fisher_exact_tests` sums
    them. A table whose first walk is too short (skewed, see `_hypergeometric_around`)
    goes through `fisher_exact_tests` itself.
    """
    results: list[tuple[float, float]] = [(1.0, 1.0)] * len(tables)
    plans = []
    for (a, b), (c, d) in tables:
        total, successes, draws = a + b + c + d, a + c, a + b
        lo, hi, mode, spread = _support(total, successes, draws)
        plans.append((a, total, successes, draws, lo, hi, mode, spread))
    # Both log-pmf terms of every table in one `gammaln` (elementwise: the same values).
    logs = _log_hypergeometric_many(
        [(x, s, t - s, n) for a, t, s, n, _, _, mode, _ in plans for x in (mode, a)]
    )
    walks = []
    for index, (a, _, _, _, lo, hi, mode, spread) in enumerate(plans):
        width = _width(spread, logs[2 * index], logs[2 * index + 1])
        first, last = max(lo, min(mode - width, a)), min(hi, max(mode + width, a))
        walks.append((index, first, last))
    walks.sort(key=lambda walk: walk[2] - walk[1])
    for start in range(0, len(walks), _BATCH):
        batch = walks[start : start + _BATCH]
        for (index, first, last), (left, right) in zip(
            batch, _walks([(plans[i], f, la) for i, f, la in batch]), strict=True
        ):
            a, _, _, _, lo, hi, *_ = plans[index]
            pmf = np.concatenate((left[::-1], [1.0], right))
            threshold = pmf[a - first] * _NEGLIGIBLE
            if (first == lo or left[-1] <= threshold) and (last == hi or right[-1] <= threshold):
                results[index] = _fisher_from(pmf, a - first)
            else:
                results[index] = fisher_exact_tests(tables[index])
    return results


def _walks(
    batch: Sequence[tuple[tuple[int, int, int, int, int, int, int, float], int, int]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per (plan, first, last): `_hypergeometric_around`'s `left` and `right` for that
    walk, computed as rows of two padded arrays (the padding repeats a row's last
    point, or its mode, so every value stays finite; it is cut off again)."""
    mode = np.array([p[6] for p, _, _ in batch], dtype=np.int64)[:, None]
    successes = np.array([p[2] for p, _, _ in batch], dtype=np.float64)[:, None]
    draws = np.array([p[3] for p, _, _ in batch], dtype=np.float64)[:, None]
    # failures - draws as one integer per table, as the scalar expression computes it.
    spare = np.array([p[1] - p[2] - p[3] for p, _, _ in batch], dtype=np.float64)[:, None]
    ups = [last - p[6] for p, _, last in batch]
    downs = [p[6] - first for p, first, _ in batch]
    up_steps = np.minimum(np.arange(max(ups)), np.array([max(n - 1, 0) for n in ups])[:, None])
    up = (mode + up_steps).astype(np.float64)
    right = np.cumprod((successes - up) * (draws - up) / ((up + 1) * (spare + up + 1)), axis=1)
    down_steps = np.minimum(
        np.arange(max(downs)), np.array([max(n - 1, 0) for n in downs])[:, None]
    )
    down = (mode - 1 - down_steps).astype(np.float64)
    left = np.cumprod(
        (down + 1) * (spare + down + 1) / ((successes - down) * (draws - down)), axis=1
    )
    return [
        (left[row, :n_down], right[row, :n_up])
        for row, (n_up, n_down) in enumerate(zip(ups, downs, strict=True))
    ]


def _log_hypergeometric_many(terms: Sequence[tuple[int, int, int, int]]) -> list[float]:
    """`_log_hypergeometric` of each (x, successes, failures, draws), in one `gammaln`."""
    values = gammaln(
        np.array(
            [(x + 1, s - x + 1, n - x + 1, f - n + x + 1) for x, s, f, n in terms],
            dtype=np.float64,
        )
    ).tolist()
    return [-(a + b + c + d) for a, b, c, d in values]


def _log_hypergeometric(
    xs: Sequence[int],
    successes: int,
    failures: int,
    draws: int,
) -> list[float]:
    """log pmf(x) of each x, up to a constant that does not depend on x.

    One `gammaln` over all the terms (a scalar call per term cost more than the
    arithmetic); the terms are summed in the same order as before, so the values
    are the same to the last bit.
    """
    terms = gammaln(
        np.array(
            [(x + 1, successes - x + 1, draws - x + 1, failures - draws + x + 1) for x in xs],
            dtype=np.float64,
        )
    ).tolist()
    return [-(a + b + c + d) for a, b, c, d in terms]


def z_d(focal: GroupCounts, reference: GroupCounts) -> float | None:
    """Two-proportion Z_D = (SR_f - SR_r) / sqrt(SR_T (1 - SR_T) (1/n_f + 1/n_r)).

    SR_T is the rate pooled over the two groups. None when it is 0 or 1 (no
    variance: both groups all selected or all rejected) or a group is empty.
    """
    n_f, n_r = focal.reached, reference.reached
    if n_f == 0 or n_r == 0:
        return None
    # In integers: the variance is S (N - S) / (N n_f n_r) with S selected of N reached
    # over both groups. An int / int is correctly rounded, as float() of the exact
    # fraction is, and costs a fraction of a Fraction's time.
    selected, reached = focal.selected + reference.selected, n_f + n_r
    if selected in (0, reached):
        return None
    difference = (focal.selected * n_r - reference.selected * n_f) / (n_f * n_r)
    return difference / math.sqrt(selected * (reached - selected) / (reached * n_f * n_r))


def one_person_reverses(focal: GroupCounts, reference: GroupCounts) -> bool:
    """Whether selecting one more of the focal group flips its four-fifths result.

    The Guidelines' Q&A (20-21): if the selection of one different person would
    reverse the comparison, the numbers are too small to show adverse impact.
    Variant: focal selected + 1 (same reached), reference unchanged; see the
    module docstring for why.
    """
    before = _below_four_fifths(focal.selected, focal, reference)
    if focal.selected >= focal.reached:
        return False  # nobody left to select
    return before != _below_four_fifths(focal.selected + 1, focal, reference)


def _below_four_fifths(selected: int, focal: GroupCounts, reference: GroupCounts) -> bool:
    """(selected / focal reached) / (reference rate) < 4/5, cross-multiplied in integers."""
    return (
        FOUR_FIFTHS.denominator * selected * reference.reached
        < FOUR_FIFTHS.numerator * focal.reached * reference.selected
    )


def to_dict(analysis: StepAnalysis) -> dict[str, Any]:
    """JSON-ready data; a suppressed group has only its label and verdict, and maybe its reached."""
    return {
        "reference_group": analysis.reference_group,
        "total_reached": analysis.total_reached,
        "total_selected": analysis.total_selected,
        "any_adverse_impact": analysis.any_adverse_impact,
        "flags": list(analysis.flags),
        "min_applicants": analysis.min_applicants,
        "min_selections": analysis.min_selections,
        "groups": [_group_dict(g) for g in analysis.groups],
    }


def _group_dict(result: GroupResult) -> dict[str, Any]:
    head: dict[str, Any] = {
        "group": result.group,
        "suppressed": result.suppressed,
        "verdict": result.verdict,
        "label": LABELS[result.verdict],
    }
    if result.suppressed:
        return head if result.reached is None else head | {"reached": result.reached}
    exact = result.impact_ratio_exact
    return head | {
        "reached": result.reached,
        "selected": result.selected,
        "selection_rate": result.selection_rate,
        "impact_ratio": result.impact_ratio,
        "impact_ratio_exact": None if exact is None else f"{exact.numerator}/{exact.denominator}",
        "below_four_fifths": result.below_four_fifths,
        "z_d": result.z_d,
        "fisher_p_two_sided": result.fisher_p_two_sided,
        "fisher_mid_p": result.fisher_mid_p,
        "shortfall": result.shortfall,
        "one_person_reverses": result.one_person_reverses,
    }


def _validate(groups: Sequence[GroupCounts]) -> None:
    names = [g.group for g in groups]
    if len(set(names)) != len(names):
        raise InvalidGroupCountsError(f"duplicate group labels in {names}")
    for g in groups:
        if not 0 <= g.selected <= g.reached:
            raise InvalidGroupCountsError(
                f"group {g.group!r}: need 0 <= selected <= reached, got {g.selected}/{g.reached}"
            )


def _rate(g: GroupCounts) -> Fraction:
    return Fraction(g.selected, g.reached)


def _reference_order(g: GroupCounts) -> tuple[Fraction, int, str]:
    # Highest rate first; among equal rates the larger group, then the label, so
    # the choice never depends on input order.
    return (-_rate(g), -g.reached, g.group)


def _counts_only(g: GroupCounts) -> GroupResult:
    """A shown group in a step with nothing to compare against."""
    return GroupResult(
        group=g.group,
        suppressed=False,
        verdict=INSUFFICIENT_DATA,
        reached=g.reached,
        selected=g.selected,
        selection_rate=g.selected / g.reached,
    )


class _Common(TypedDict):
    """The GroupResult fields `_compare` fills the same way for every verdict."""

    group: str
    suppressed: bool
    reached: int
    selected: int
    selection_rate: float
    impact_ratio: float
    impact_ratio_exact: Fraction


def _compare(
    focal: GroupCounts,
    reference: GroupCounts,
    fisher: Callable[[Table], tuple[float, float]] | None = None,
) -> GroupResult:
    """The focal group against the highest-rate group, per 29 CFR 1607.4(D).

    Rates and ratios are compared exactly in integers; each float is one correctly
    rounded int / int, the same value as float() of the exact Fraction.
    """
    s_f, n_f, s_r, n_r = focal.selected, focal.reached, reference.selected, reference.reached
    common = _Common(
        group=focal.group,
        suppressed=False,
        reached=n_f,
        selected=s_f,
        selection_rate=s_f / n_f,
        impact_ratio=(s_f * n_r) / (n_f * s_r),
        impact_ratio_exact=Fraction(s_f * n_r, n_f * s_r),
    )
    if focal.group == reference.group:
        return GroupResult(verdict=REFERENCE, below_four_fifths=False, **common)

    p_two_sided, mid_p = (fisher or fisher_exact_tests)(_table(focal, reference))
    below = _below_four_fifths(s_f, focal, reference)
    reverses = one_person_reverses(focal, reference) if below else None
    significant = p_two_sided < SIGNIFICANCE

    if below:
        verdict = INSUFFICIENT_DATA if reverses and not significant else ADVERSE_IMPACT
    else:
        verdict = REVIEW if significant else NO_ADVERSE_IMPACT
    return GroupResult(
        verdict=verdict,
        below_four_fifths=below,
        z_d=z_d(focal, reference),
        fisher_p_two_sided=p_two_sided,
        fisher_mid_p=mid_p,
        # n_f x pooled rate - s_f, over one denominator.
        shortfall=(n_f * (s_f + s_r) - s_f * (n_f + n_r)) / (n_f + n_r),
        one_person_reverses=reverses,
        **common,
    )
