"""Adverse-impact statistics: four-fifths rule, Z_D, Fisher, suppression (no app, no database)."""

import json
import math
import random
import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import gammaln
from scipy.stats import chi2_contingency, fisher_exact, hypergeom

from service.domain.adverse_impact import (
    ADVERSE_IMPACT,
    FEWER_THAN_TWO_GROUPS,
    INSUFFICIENT_DATA,
    NO_ADVERSE_IMPACT,
    NO_VARIATION,
    REFERENCE,
    REVIEW,
    REVIEW_NEEDED,
    SUPPRESSED,
    GroupCounts,
    InvalidGroupCountsError,
    analyse_step,
    fisher_exact_tests,
    suppressed_groups,
    to_dict,
)


def step(*counts, **options):
    """analyse_step from (group, reached, selected) triples."""
    return analyse_step([GroupCounts(*c) for c in counts], **options)


def numbers_in(payload):
    """Every number anywhere in a JSON payload, after a JSON round trip."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(value)
        elif isinstance(value, str) and "/" in value:
            found.extend(Fraction(value).as_integer_ratio())

    walk(json.loads(json.dumps(payload)))
    return found


# --- Uniform Guidelines worked examples ---------------------------------------------


def test_only_the_45_percent_group_is_flagged_against_60_percent():
    analysis = step(("A", 100, 60), ("B", 100, 45), ("C", 100, 48), ("D", 100, 51))
    verdicts = {g.group: g.verdict for g in analysis.groups}
    assert verdicts == {
        "A": REFERENCE,
        "B": ADVERSE_IMPACT,
        "C": NO_ADVERSE_IMPACT,
        "D": NO_ADVERSE_IMPACT,
    }
    assert analysis.reference_group == "A"
    assert analysis.any_adverse_impact
    assert analysis.group("B").impact_ratio_exact == Fraction(3, 4)


def test_48_of_80_vs_12_of_40_is_a_ratio_of_exactly_one_half():
    analysis = step(("men", 80, 48), ("women", 40, 12))
    women = analysis.group("women")
    assert women.impact_ratio_exact == Fraction(1, 2)
    assert women.impact_ratio == 0.5
    assert women.verdict == ADVERSE_IMPACT


def test_a_ratio_of_exactly_four_fifths_is_not_adverse_impact():
    result = step(("r", 100, 60), ("f", 100, 48)).group("f")
    assert result.impact_ratio_exact == Fraction(4, 5)
    assert result.below_four_fifths is False
    assert result.verdict == NO_ADVERSE_IMPACT


def test_four_fifths_uses_exact_arithmetic_where_floats_round_below():
    # In floats (16/25)/(8/10) == 0.7999999999999999; exactly it is 4/5.
    assert (16 / 25) / (8 / 10) < 0.8
    result = step(("r", 10, 8), ("f", 25, 16)).group("f")
    assert result.impact_ratio_exact == Fraction(4, 5)
    assert result.verdict == NO_ADVERSE_IMPACT


def test_a_ratio_of_0_7999_is_adverse_impact():
    result = step(("r", 10_000, 10_000), ("f", 100_000, 79_990)).group("f")
    assert result.impact_ratio_exact == Fraction(7999, 10_000)
    assert result.below_four_fifths is True
    assert result.one_person_reverses is False
    assert result.verdict == ADVERSE_IMPACT


# --- significance tests and practical measures ---------------------------------------


@pytest.mark.parametrize(
    "focal, reference",
    [((100, 45), (100, 60)), ((40, 12), (80, 48)), ((1000, 450), (1000, 500)), ((20, 7), (20, 9))],
)
def test_z_d_matches_the_uncorrected_chi_square_of_the_same_table(focal, reference):
    (n_f, s_f), (n_r, s_r) = focal, reference
    result = step(("f", n_f, s_f), ("r", n_r, s_r)).group("f")
    pooled = (s_f + s_r) / (n_f + n_r)
    by_hand = (s_f / n_f - s_r / n_r) / math.sqrt(pooled * (1 - pooled) * (1 / n_f + 1 / n_r))
    chi2 = chi2_contingency([[s_f, n_f - s_f], [s_r, n_r - s_r]], correction=False).statistic
    assert result.z_d == pytest.approx(by_hand, rel=1e-12)
    assert result.z_d**2 == pytest.approx(chi2, rel=1e-9)
    assert result.z_d < 0


@pytest.mark.parametrize(
    "table",
    [((45, 55), (60, 40)), ((12, 28), (48, 32)), ((450, 550), (500, 500)), ((7, 13), (9, 11))],
)
def test_fisher_two_sided_matches_scipy(table):
    p_two_sided, _ = fisher_exact_tests(table)
    assert p_two_sided == pytest.approx(fisher_exact(table).pvalue, rel=1e-9)


def test_fisher_mid_p_counts_the_observed_table_by_half():
    table = ((12, 28), (48, 42))
    p_two_sided, mid_p = fisher_exact_tests(table)
    pmf = hypergeom.pmf(range(41), 130, 60, 40)
    observed = pmf[12]
    assert sum(math.isclose(p, observed, rel_tol=1e-7) for p in pmf) == 1  # no ties
    assert mid_p == pytest.approx(fisher_exact(table).pvalue - observed / 2, rel=1e-9)
    assert mid_p < p_two_sided


def test_fisher_mid_p_halves_every_table_as_likely_as_the_observed_one():
    # Equal margins: the mirror table (7 vs 3) is exactly as likely as the observed one.
    p_two_sided, mid_p = fisher_exact_tests(((3, 7), (7, 3)))
    pmf = hypergeom.pmf(range(11), 20, 10, 10)
    by_hand = pmf[[0, 1, 2, 8, 9, 10]].sum() + (pmf[3] + pmf[7]) / 2
    assert mid_p == pytest.approx(by_hand, rel=1e-9)
    assert p_two_sided == pytest.approx(fisher_exact([[3, 7], [7, 3]]).pvalue, rel=1e-9)


def test_large_samples_passing_four_fifths_but_significant_are_flagged_for_review():
    analysis = step(("r", 1000, 500), ("f", 1000, 450))
    focal = analysis.group("f")
    assert focal.impact_ratio_exact == Fraction(9, 10)
    assert focal.fisher_p_two_sided == pytest.approx(0.028, abs=5e-4)
    assert focal.verdict == REVIEW
    assert REVIEW_NEEDED in analysis.flags
    assert not analysis.any_adverse_impact


def test_shortfall_is_expected_selections_at_the_pooled_pair_rate_minus_actual():
    focal = step(("r", 100, 60), ("f", 100, 45)).group("f")
    assert focal.shortfall == pytest.approx(100 * 105 / 200 - 45)


# --- one different person ------------------------------------------------------------


def test_a_verdict_one_person_would_reverse_is_insufficient_data():
    # 7/20 vs 9/20 is 0.78; with one more focal selection, 8/20 vs 9/20 is 0.89.
    focal = step(("r", 20, 9), ("f", 20, 7)).group("f")
    assert focal.below_four_fifths is True
    assert focal.one_person_reverses is True
    assert focal.verdict == INSUFFICIENT_DATA


def test_a_verdict_one_person_would_not_reverse_stays_adverse_impact():
    focal = step(("r", 200, 90), ("f", 200, 60)).group("f")
    assert focal.one_person_reverses is False
    assert focal.verdict == ADVERSE_IMPACT


def test_a_fragile_but_significant_verdict_stays_adverse_impact():
    # 1607.4(D) discounts small-number differences only when not significant.
    focal = step(("r", 1000, 500), ("f", 1000, 399)).group("f")
    assert focal.one_person_reverses is True
    assert focal.fisher_p_two_sided < 0.001
    assert focal.verdict == ADVERSE_IMPACT


# --- suppression ---------------------------------------------------------------------


def test_groups_below_the_minimums_are_suppressed():
    hidden = suppressed_groups(
        [
            GroupCounts("few_applicants", 9, 6),
            GroupCounts("few_selections", 50, 4),
            GroupCounts("big", 100, 50),
            GroupCounts("bigger", 200, 90),
        ]
    )
    assert hidden == {"few_applicants", "few_selections"}


def test_a_lone_suppressed_group_takes_the_next_smallest_with_it():
    hidden = suppressed_groups(
        [
            GroupCounts("a", 300, 100),
            GroupCounts("b", 7, 3),
            GroupCounts("c", 40, 20),
            GroupCounts("d", 90, 30),
        ]
    )
    assert hidden == {"b", "c"}


def test_suppressed_counts_do_not_appear_in_the_payload():
    analysis = step(("a", 300, 100), ("b", 7, 3), ("c", 41, 21), ("d", 90, 30))
    payload = to_dict(analysis)
    hidden = [g for g in payload["groups"] if g["suppressed"]]
    assert {g["group"] for g in hidden} == {"b", "c"}
    assert all(set(g) == {"group", "suppressed", "verdict", "label"} for g in hidden)
    assert all(g["verdict"] == SUPPRESSED and g["label"] == "insufficient data" for g in hidden)
    numbers = numbers_in(payload)
    for secret in (7, 3, 41, 21, 3 / 7, 21 / 41, 7 + 41, 3 + 21, 438, 154):
        assert not any(math.isclose(n, secret) for n in numbers), secret


def test_totals_cover_only_the_shown_groups():
    analysis = step(("a", 300, 100), ("b", 7, 3), ("c", 41, 21), ("d", 90, 30))
    assert (analysis.total_reached, analysis.total_selected) == (390, 130)


def test_the_reference_is_the_highest_rate_among_unsuppressed_groups():
    analysis = step(("tiny", 8, 8), ("small", 9, 9), ("a", 100, 50), ("b", 100, 30))
    assert analysis.reference_group == "a"
    assert analysis.group("b").impact_ratio_exact == Fraction(3, 5)


def test_suppressing_all_but_one_group_leaves_nothing_to_compare():
    analysis = step(("a", 100, 50), ("b", 5, 1), ("c", 40, 20))
    assert analysis.reference_group is None
    assert FEWER_THAN_TWO_GROUPS in analysis.flags
    assert analysis.group("a").verdict == INSUFFICIENT_DATA
    assert analysis.group("a").impact_ratio is None


# --- degenerate steps: no division by zero -------------------------------------------


def test_nobody_selected_is_insufficient_data():
    analysis = step(("a", 50, 0), ("b", 60, 0), min_selections=0)
    assert NO_VARIATION in analysis.flags
    assert {g.verdict for g in analysis.groups} == {INSUFFICIENT_DATA}
    assert analysis.reference_group is None


def test_everybody_selected_is_insufficient_data():
    analysis = step(("a", 50, 50), ("b", 60, 60))
    assert NO_VARIATION in analysis.flags
    assert {g.verdict for g in analysis.groups} == {INSUFFICIENT_DATA}


def test_a_focal_group_with_no_selections_has_a_ratio_of_zero():
    analysis = step(("a", 50, 25), ("b", 60, 0), min_selections=0)
    assert analysis.group("b").impact_ratio_exact == 0
    assert analysis.group("b").verdict == ADVERSE_IMPACT


def test_a_group_nobody_reached_is_suppressed_whatever_the_minimums():
    analysis = step(("a", 50, 25), ("b", 0, 0), ("c", 40, 10), min_applicants=0, min_selections=0)
    assert analysis.group("b").verdict == SUPPRESSED


def test_pairs_with_no_variance_have_no_z_d():
    analysis = step(("a", 60, 60), ("b", 50, 50), ("c", 40, 20))
    assert analysis.reference_group == "a"  # equal rates: the larger group
    assert analysis.group("b").z_d is None
    assert analysis.group("b").verdict == NO_ADVERSE_IMPACT


@pytest.mark.parametrize("counts", [[], [("a", 50, 20)], [("a", 3, 1), ("b", 4, 2)]])
def test_too_few_groups_is_insufficient_data(counts):
    analysis = step(*counts)
    assert analysis.reference_group is None
    assert not analysis.any_adverse_impact
    json.dumps(to_dict(analysis))


@pytest.mark.parametrize(
    "counts", [[("a", 10, 11)], [("a", -1, 0)], [("a", 10, -1)], [("a", 10, 5), ("a", 20, 5)]]
)
def test_impossible_counts_are_rejected(counts):
    with pytest.raises(InvalidGroupCountsError):
        step(*counts)


# --- properties ----------------------------------------------------------------------


@st.composite
def group_lists(draw):
    sizes = draw(st.lists(st.integers(0, 400), min_size=0, max_size=6))
    labels = draw(
        st.lists(
            st.text("abcdefgh", min_size=1, max_size=3),
            min_size=len(sizes),
            max_size=len(sizes),
            unique=True,
        )
    )
    return [
        GroupCounts(label, n, draw(st.integers(0, n)))
        for label, n in zip(labels, sizes, strict=False)
    ]


@settings(max_examples=200, deadline=None)
@given(group_lists())
def test_the_reference_has_ratio_one_and_all_ratios_lie_in_0_1(groups):
    analysis = analyse_step(groups)
    for result in analysis.groups:
        if result.group == analysis.reference_group:
            assert result.impact_ratio_exact == 1
        if result.impact_ratio_exact is not None:
            assert 0 <= result.impact_ratio_exact <= 1


@settings(max_examples=200, deadline=None)
@given(group_lists(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_group_order(groups, rnd: random.Random):
    shuffled = list(groups)
    rnd.shuffle(shuffled)
    original, reordered = analyse_step(groups), analyse_step(shuffled)
    assert original.reference_group == reordered.reference_group
    assert {g.group: g for g in original.groups} == {g.group: g for g in reordered.groups}


@settings(max_examples=200, deadline=None)
@given(group_lists())
def test_suppression_never_leaves_a_single_group_hidden_nor_counts_it(groups):
    analysis = analyse_step(groups)
    hidden = [g for g in analysis.groups if g.suppressed]
    shown = [g for g in analysis.groups if not g.suppressed]
    assert len(hidden) != 1 or not shown
    assert analysis.total_reached == sum(g.reached for g in shown)
    assert all(g.reached is None and g.selected is None and g.z_d is None for g in hidden)


@settings(max_examples=200, deadline=None)
@given(st.integers(10, 200), st.data(), st.integers(1, 4))
def test_a_rate_of_exactly_four_fifths_of_the_reference_passes_and_one_less_fails(n_r, data, scale):
    s_r = data.draw(st.integers(5, n_r))
    n_f, s_f = 5 * n_r * scale, 4 * s_r * scale  # rate exactly 4/5 of s_r / n_r
    at_line = step(("r", n_r, s_r), ("f", n_f, s_f)).group("f")
    below_line = step(("r", n_r, s_r), ("f", n_f, s_f - 1)).group("f")
    assert at_line.below_four_fifths is False
    assert at_line.verdict in (NO_ADVERSE_IMPACT, REVIEW)
    assert below_line.below_four_fifths is True
    assert below_line.one_person_reverses is True


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_fisher_two_sided_matches_scipy_everywhere(a, b, c, d):
    if a + b + c + d == 0:
        return
    p_two_sided, mid_p = fisher_exact_tests(((a, b), (c, d)))
    assert p_two_sided == pytest.approx(fisher_exact([[a, b], [c, d]]).pvalue, rel=1e-9, abs=1e-15)
    assert 0 <= mid_p <= p_two_sided <= 1


@st.composite
def large_tables(draw):
    """2x2 tables [[a, b], [c, d]] with up to 50k people, rates often close to each other."""
    n_f, n_r = draw(st.integers(1, 25_000)), draw(st.integers(1, 25_000))
    a = draw(st.integers(0, n_f))
    expected = round(n_r * a / n_f)
    spread = max(1, int(3 * math.sqrt(max(expected, 1))))
    c = draw(
        st.one_of(
            st.integers(0, n_r), st.integers(max(0, expected - spread), min(n_r, expected + spread))
        )
    )
    return (a, n_f - a), (c, n_r - c)


def equally_likely_probabilities(table):
    """scipy's pmf of every table whose probability is within 1e-7 (relative) of the
    observed one, observed included; None when one lies between 1e-12 and 1e-6,
    where our 1e-7 tie tolerance and scipy's 1e-14 may legitimately disagree."""
    (a, b), (c, d) = table
    total, successes, draws = a + b + c + d, a + c, a + b
    support = np.arange(max(0, draws - (total - successes)), min(successes, draws) + 1)
    log_pmf = -(
        gammaln(support + 1)
        + gammaln(successes - support + 1)
        + gammaln(draws - support + 1)
        + gammaln(total - successes - draws + support + 1)
    )
    observed = log_pmf[a - support[0]]
    candidates = support[np.abs(log_pmf - observed) < 1e-5]  # a loose sieve on the log scale
    pmf = hypergeom.pmf(candidates, total, successes, draws)
    observed = hypergeom.pmf(a, total, successes, draws)
    if observed == 0:
        return None
    relative = np.abs(pmf - observed) / observed
    if np.any((relative > 1e-12) & (relative < 1e-6)):
        return None
    return pmf[relative <= 1e-7]


@settings(max_examples=150, deadline=None)
@given(large_tables())
def test_fisher_matches_scipy_and_the_mid_p_oracle_on_large_tables(table):
    ties = equally_likely_probabilities(table)
    assume(ties is not None)
    p_two_sided, mid_p = fisher_exact_tests(table)
    expected = fisher_exact(table).pvalue
    assert p_two_sided == pytest.approx(expected, rel=1e-9, abs=1e-300)
    # Lancaster's mid-p: the two-sided p less half of every equally likely table.
    assert mid_p == pytest.approx(expected - ties.sum() / 2, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    "table",
    [
        ((25_000, 25_000), (25_000, 25_000)),
        ((0, 50_000), (50_000, 0)),
        ((0, 10), (50_000, 0)),
        ((0, 0), (0, 5)),
        ((12_000, 13_000), (12_500, 12_500)),
        ((3, 24_997), (40, 24_960)),
    ],
)
def test_fisher_at_the_edges_of_large_tables_matches_scipy(table):
    p_two_sided, mid_p = fisher_exact_tests(table)
    assert p_two_sided == pytest.approx(fisher_exact(table).pvalue, rel=1e-9, abs=1e-300)
    assert 0 <= mid_p <= p_two_sided <= 1


def test_fisher_is_fast_on_large_tables():
    # The unfiltered report runs hundreds of these; building the whole distribution
    # took milliseconds each (seconds per report) at 100k applications.
    started = time.perf_counter()
    for a in range(11_000, 11_200):
        fisher_exact_tests(((a, 25_000 - a), (12_000, 13_000)))
    assert time.perf_counter() - started < 1.0
