"""Suppression across a whole adverse-impact report: attacked with the rest of the report."""

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import suppression
from service.domain.adverse_impact import GroupCounts, analyse_step, to_dict
from service.domain.reports import analyse_steps, group_counts
from service.domain.self_identification import DIMENSIONS, QUESTIONS, groups
from service.domain.suppression import Chain, shown_counts
from tests.suppression_attack import (
    count_of,
    recovered,
    served_numbers,
    tied_to_shown,
    truth_of,
)

STAGES = (("t", "applied"), ("t", "screen"), ("t", "onsite"))
WHOLE = ("t", "whole_process")


def person(sex, race, veteran="not_a_protected_veteran", disability="no_disability"):
    return {
        "sex": sex,
        "race_ethnicity": race,
        "veteran_status": veteran,
        "disability_status": disability,
    }


def rows_of(people, stages, whole):
    """The (answers, reached, selected) rows the use case sums, from the same people."""
    truth = truth_of(people, stages, whole)
    steps = {}
    for step in (*stages, *([whole] if whole else [])):
        reached, selected = truth.get((step, "reached"), {}), truth.get((step, "selected"), {})
        if reached or selected:
            steps[step] = [(key, n, selected.get(key, 0)) for key, n in reached.items()]
    return steps, truth


def served_report(people, stages=STAGES, whole=WHOLE, **minimums):
    steps, truth = rows_of(people, stages, whole)
    chain = Chain(tuple(s for s in stages if s in steps), whole if whole in steps else None)
    analysed = analyse_steps(
        steps, [chain], **({"min_applicants": 10, "min_selections": 5} | minimums)
    )
    report = {
        "dimensions": [
            {
                "dimension": d,
                "steps": [
                    {"template_key": step[0], "stage": step[1], **analysed[(d, step)]}
                    for step in steps
                ],
            }
            for d in sorted({d for d, _ in analysed})
        ]
    }
    return report, truth, [(chain.stages, chain.whole_process)]


def hired(n, sex, race):
    return [(person(sex, race), 0, "hired")] * n


def rejected(n, sex, race):
    return [(person(sex, race), 0, "rejected")] * n


def cells(report, dimension, stage="applied"):
    [section] = [d for d in report["dimensions"] if d["dimension"] == dimension]
    [step] = [s for s in section["steps"] if s["stage"] == stage]
    return {g["group"]: g for g in step["groups"]}


# female 80 = 40 white + 26 black + 14 asian; female/asian has 3 selected, male/asian 9 reached.
MARGIN_LEAK = (
    hired(20, "female", "white")
    + rejected(20, "female", "white")
    + hired(13, "female", "black_or_african_american")
    + rejected(13, "female", "black_or_african_american")
    + hired(3, "female", "asian")
    + rejected(11, "female", "asian")
    + hired(25, "male", "white")
    + rejected(25, "male", "white")
    + hired(15, "male", "black_or_african_american")
    + rejected(15, "male", "black_or_african_american")
    + hired(5, "male", "asian")
    + rejected(4, "male", "asian")
)


def test_a_cross_cell_hidden_alone_in_its_margin_cannot_be_subtracted_out():
    report, truth, chains = served_report(MARGIN_LEAK, stages=(STAGES[0],), whole=None)
    assert recovered(served_numbers(report), truth, chains) == []
    assert cells(report, "sex")["female"]["reached"] == 80
    assert cells(report, "sex_race_ethnicity")["female/asian"]["suppressed"] is True
    shown = [
        g["reached"]
        for name, g in cells(report, "sex_race_ethnicity").items()
        if name.startswith("female/") and "reached" in g
    ]
    assert sum(shown) < 66  # another female cell is hidden with it


def test_a_stage_never_shows_as_selected_what_the_next_stage_hides():
    people = (
        [(person("female", "white"), 2, "rejected")] * 30
        + [(person("female", "white"), 0, "rejected")] * 30
        + [(person("male", "white"), 1, "rejected")] * 8  # 8 reach the screen: hidden there
        + [(person("male", "white"), 0, "rejected")] * 22
    )
    report, truth, chains = served_report(people, whole=None)
    assert recovered(served_numbers(report), truth, chains) == []
    applied, screen = cells(report, "sex", "applied"), cells(report, "sex", "screen")
    assert "reached" not in screen["male"]
    assert applied["male"]["reached"] == 30
    assert "selected" not in applied["male"]  # it would be the screen's hidden 8
    assert applied["male"]["verdict"] == "suppressed"


def test_a_group_fully_shown_everywhere_keeps_its_statistics():
    people = [
        (person(sex, race), last, status)
        for sex in ("female", "male")
        for race in ("white", "asian")
        for last, status, n in ((0, "rejected", 20), (1, "rejected", 15))
        for _ in range(n)
    ]
    report, truth, chains = served_report(people, stages=STAGES[:2], whole=None)
    applied = cells(report, "sex_race_ethnicity")
    alone = to_dict(
        analyse_step(
            [
                GroupCounts(f"{s}/{r}", 35, 15)
                for s in ("female", "male")
                for r in ("white", "asian")
            ]
        )
    )
    for group in alone["groups"]:
        assert applied[group["group"]] == group
    assert recovered(served_numbers(report), truth, chains) == []


def test_the_whole_process_hires_are_the_last_stage_selections():
    people = (
        [(person("female", "white"), 1, "hired")] * 12
        + [(person("female", "white"), 1, "rejected")] * 10
        + [(person("male", "white"), 1, "hired")] * 4
        + [(person("male", "white"), 1, "rejected")] * 20
    )
    report, truth, chains = served_report(people, stages=STAGES[:2])
    assert recovered(served_numbers(report), truth, chains) == []
    assert "selected" not in cells(report, "sex", "whole_process")["male"]
    assert "selected" not in cells(report, "sex", "screen")["male"]


def test_counts_are_hidden_in_every_member_of_a_slot():
    report, truth, chains = served_report(MARGIN_LEAK * 2)
    steps, _ = rows_of(MARGIN_LEAK * 2, STAGES, WHOLE)
    assert recovered(served_numbers(report), truth, chains) == []
    [whole] = [s for s in steps if s[1] == "whole_process"]
    for d in ("sex", "race_ethnicity", "sex_race_ethnicity"):
        first, overall = cells(report, d, "applied"), cells(report, d, "whole_process")
        assert {g for g, v in first.items() if "reached" in v} == {
            g for g, v in overall.items() if "reached" in v
        }
    assert whole == WHOLE


SEXES = st.sampled_from(["female", "male", "male", "non_binary"])
RACES = st.sampled_from(
    ["white", "white", "asian", "black_or_african_american", "hispanic_or_latino"]
)
FATES = st.sampled_from(
    [
        (0, "rejected"),
        (0, "active"),
        (1, "rejected"),
        (1, "withdrawn"),
        (2, "rejected"),
        (2, "hired"),
    ]
)
PEOPLE = st.lists(
    st.tuples(
        SEXES,
        RACES,
        st.sampled_from(["protected_veteran", "not_a_protected_veteran"]),
        st.sampled_from(["has_disability", "no_disability", "no_disability"]),
        FATES,
        st.integers(1, 6),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(PEOPLE, st.sampled_from([(10, 5), (5, 3), (3, 1)]))
def test_no_hidden_count_can_be_solved_for_from_the_rest_of_the_report(groups, minimums):
    people = [
        (person(sex, race, veteran, disability), last, status)
        for sex, race, veteran, disability, (last, status), n in groups
        for _ in range(n)
    ]
    report, truth, chains = served_report(
        people, min_applicants=minimums[0], min_selections=minimums[1]
    )
    served = served_numbers(report)
    assert recovered(served, truth, chains) == []
    assert_tied_counts_are_only_too_small(served, truth, chains, *minimums)


def assert_tied_counts_are_only_too_small(served, truth, chains, min_applicants, min_selections):
    """A hidden count its slot shows elsewhere must be hidden only as too small for a rate."""
    for d, step, group, quantity in tied_to_shown(served, chains):
        reached = count_of(truth, (step, "reached"), d, group)
        if quantity == "reached":
            assert reached < min_applicants, (d, step, group)
        else:
            selected = count_of(truth, (step, "selected"), d, group)
            assert reached < min_applicants or selected < min_selections, (d, step, group)


def test_the_pattern_does_not_depend_on_the_order_of_the_groups():
    steps, _ = rows_of(MARGIN_LEAK, (STAGES[0],), None)
    chain = [Chain((STAGES[0],))]
    counts = {(d, s): group_counts(d, rows) for s, rows in steps.items() for d in QUESTIONS}
    backwards = {k: list(reversed(v)) for k, v in reversed(list(counts.items()))}
    options = {"min_applicants": 10, "min_selections": 5}
    assert shown_counts(counts, chain, **options) == shown_counts(backwards, chain, **options)


ITEMS = sorted((d, g) for d in DIMENSIONS for g in groups(d))


@settings(max_examples=300, deadline=None)
@given(st.sets(st.sampled_from(ITEMS)))
def test_the_bridges_are_the_edges_no_other_path_closes(edges):
    """`bridges_of` (one depth-first pass) against the definition: an edge is a bridge
    when no path through the other edges joins its ends."""
    expected = {e for e in edges if suppression._cheapest_path(e, edges - {e}, set(), {}) is None}
    assert suppression.bridges_of(set(edges)) == expected
