"""The whole report's batched computations give exactly what the one-at-a-time ones give:
the Fisher tests of many tables at once, and every dimension's group counts in one pass."""

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import adverse_impact
from service.domain.adverse_impact import fisher_exact_tests, fisher_exact_tests_many
from service.domain.reports import analyse_steps, dimension_counts, group_counts
from service.domain.self_identification import DIMENSIONS, QUESTIONS
from service.domain.suppression import Chain, shown_counts
from tests.domain.test_report_suppression import PEOPLE, STAGES, WHOLE, person, rows_of

SIZES = st.sampled_from([5, 40, 2_000, 60_000])


@st.composite
def tables(draw, most=SIZES):
    """2x2 tables [[a, n1 - a], [c, n2 - c]], small to large, balanced to one-sided."""
    n1, n2 = draw(st.integers(1, draw(most))), draw(st.integers(1, draw(most)))
    a = draw(st.sampled_from([0, n1, n1 // 2]) | st.integers(0, n1))
    c = draw(st.sampled_from([0, n2, n2 // 2]) | st.integers(0, n2))
    return ((a, n1 - a), (c, n2 - c))


@settings(max_examples=200, deadline=None)
@given(st.lists(tables(), max_size=150))
def test_many_fisher_tests_are_each_tests_floats_to_the_last_bit(batch):
    assert fisher_exact_tests_many(batch) == [fisher_exact_tests(t) for t in batch]


def test_a_walk_too_short_for_a_skewed_table_is_walked_again(monkeypatch):
    """Tables whose first walk misses the tail go through the scalar test (which widens
    it), and agree too."""
    skewed = [((50, 50), (99_999, 1)), ((1, 99_999), (50, 50)), ((3, 7), (7, 3))]
    expected = [fisher_exact_tests(t) for t in skewed]
    walked_again = []

    def scalar(table):
        walked_again.append(table)
        return fisher_exact_tests(table)

    monkeypatch.setattr(adverse_impact, "fisher_exact_tests", scalar)
    assert fisher_exact_tests_many(skewed) == expected
    assert walked_again == skewed[:2]


ANSWER = {q: st.sampled_from([*options, None]) for q, options in QUESTIONS.items()}
ROWS = st.lists(
    st.tuples(st.tuples(*ANSWER.values()), st.integers(0, 50), st.integers(0, 50)).map(
        lambda row: (row[0], max(row[1], row[2]), row[2])
    ),
    max_size=30,
)


@given(ROWS)
def test_the_one_pass_counts_are_each_dimensions_counts(rows):
    assert dimension_counts(rows) == {d: group_counts(d, rows) for d in DIMENSIONS}


def one_step_at_a_time(steps, chains, *, min_applicants, min_selections):
    """`analyse_steps` as it was: each step analysed alone, each Fisher test on its own."""
    counts = {(d, step): group_counts(d, rows) for step, rows in steps.items() for d in DIMENSIONS}
    shown = shown_counts(
        counts, chains, min_applicants=min_applicants, min_selections=min_selections
    )
    analysed = {}
    for key, listed in counts.items():
        hidden = {
            c.group
            for c in listed
            if not shown[key][c.group].reached or c.reached == 0 or c.reached < min_applicants
        }
        reached_only = {
            c.group
            for c in listed
            if c.group not in hidden
            and (not shown[key][c.group].selected or c.selected < min_selections)
        }
        analysed[key] = adverse_impact.to_dict(
            adverse_impact.analyse_step(
                listed,
                min_applicants=min_applicants,
                min_selections=min_selections,
                hidden=hidden,
                reached_only=reached_only,
            )
        )
    return analysed


@settings(max_examples=100, deadline=None)
@given(PEOPLE, st.sampled_from([1, 7, 300]), st.sampled_from([(10, 5), (3, 1)]))
def test_the_report_is_what_one_step_at_a_time_gives(groups, scale, minimums):
    people = [
        (person(sex, race, veteran, disability), last, status)
        for sex, race, veteran, disability, (last, status), n in groups
        for _ in range(n)
    ]
    steps, _ = rows_of(people, STAGES, WHOLE)
    steps = {step: [(a, r * scale, s * scale) for a, r, s in rows] for step, rows in steps.items()}
    chains = [Chain(tuple(s for s in STAGES if s in steps), WHOLE if WHOLE in steps else None)]
    options = {"min_applicants": minimums[0], "min_selections": minimums[1]}
    expected = one_step_at_a_time(steps, chains, **options)
    assert analyse_steps(steps, chains, **options) == expected
