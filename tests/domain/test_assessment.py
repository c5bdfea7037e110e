"""The assessment of one application, on a shipped template, without app or database."""

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.assessment import NO_CALIBRATION, assess, to_dict
from service.domain.assessment_flags import flags_change_at
from service.domain.assessment_inputs import (
    DeviationIn,
    InterviewIn,
    LeniencyIn,
    RatingIn,
    ScorecardIn,
)
from service.domain.calibration_scale import RatingScale
from service.domain.template_loading import TEMPLATE_DIR, load_template_file

TEMPLATE = load_template_file(TEMPLATE_DIR / "backend_engineer.yaml")
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
THRESHOLD = TEMPLATE.scoring.dissent_threshold
LATE_HOURS = TEMPLATE.scoring.late_feedback_hours
NAMES = {1: "Ana", 2: "Ben", 3: "Chi", 4: "Dee", 5: "Eli"}


def card(
    scorecard_id,
    interviewer_id,
    scores,
    *,
    interview_key="pair_programming",
    recommendation="yes",
    **changes,
):
    """A submitted scorecard; `scores` maps competency -> score (None: not assessed)."""
    base = ScorecardIn(
        scorecard_id=scorecard_id,
        interview_id=100 + scorecard_id,
        interview_key=interview_key,
        interviewer_id=interviewer_id,
        interviewer_name=NAMES[interviewer_id],
        recommendation=recommendation,
        summary="summary",
        ratings=tuple(RatingIn(c, s, f"evidence {scorecard_id} on {c}") for c, s in scores.items()),
        submitted_at=NOW - timedelta(days=1),
        late=False,
        revision=1,
        after_seeing_others=False,
        warnings=(),
    )
    return replace(base, **changes)


def leniency(interviewer_id, value, se=0.2):
    return LeniencyIn(interviewer_id, value, se, 40, True, f"{NAMES[interviewer_id]} note")


def interview(interview_id, status="completed", state="missing", starts_at=NOW - timedelta(days=2)):
    return InterviewIn(interview_id, "system_design", 3, "Chi", status, starts_at, state)


DEVIATION = DeviationIn(
    "skipped",
    "project_deep_dive",
    None,
    "Rita",
    "candidate withdrew from onsite",
    NOW - timedelta(hours=3),
)


def run(cards=(), leniencies=None, interviews=(), deviations=()):
    return assess(TEMPLATE, cards, interviews, deviations, leniencies or {}, now=NOW)


def competency(result, key):
    return next(c for c in result.competencies if c.key == key)


def flags(result, code):
    return [f for f in result.flags if f.code == code]


# ---- Calibrated scores and per-competency statistics --------------------------


def test_calibrated_score_is_raw_minus_leniency():
    result = run([card(1, 1, {"coding": 3})], {1: leniency(1, 0.4)})
    line = competency(result, "coding").scores[0]
    assert (line.raw, line.calibrated, line.leniency, line.calibration_note) == (
        3,
        2.6,
        0.4,
        "Ana note",
    )


def test_interviewer_without_calibration_keeps_raw_score_and_says_so():
    line = competency(run([card(1, 1, {"coding": 3})]), "coding").scores[0]
    assert (line.calibrated, line.leniency, line.leniency_se) == (3.0, 0.0, None)
    assert line.calibration_note == NO_CALIBRATION


def test_an_interviewer_not_comparable_with_the_main_pool_keeps_the_raw_score():
    outside = replace(leniency(1, 0.6), connected=False, state="not_comparable")
    line = competency(run([card(1, 1, {"coding": 3})], {1: outside}), "coding").scores[0]
    assert (line.raw, line.calibrated, line.leniency, line.leniency_se) == (3, 3.0, 0.0, None)
    assert line.calibration_state == "not_comparable"
    assert line.calibration_note.startswith("Not comparable with the main pool")


def test_an_interviewer_with_insufficient_data_keeps_the_raw_score():
    small = replace(leniency(1, 0.6), state="insufficient_data", explanation="Insufficient data: x")
    line = competency(run([card(1, 1, {"coding": 2})], {1: small}), "coding").scores[0]
    assert (line.calibrated, line.leniency, line.calibration_state) == (
        2.0,
        0.0,
        "insufficient_data",
    )
    assert line.calibration_note == "Insufficient data: x"


def test_interviewer_without_calibration_is_not_fitted():
    line = competency(run([card(1, 1, {"coding": 3})]), "coding").scores[0]
    assert line.calibration_state == "not_fitted"


SCALE = RatingScale(
    levels=(1.0, 2.0, 3.0, 4.0),
    thresholds=(1.5, 2.5, 3.5),
    latent_sd=0.8,
    competency_means={"coding": 2.6},
)


def test_calibrated_score_is_what_a_typical_interviewer_gives_with_its_anchor():
    generous = replace(leniency(1, 1.2), shift=1.2, scale=SCALE)
    line = competency(run([card(1, 1, {"coding": 4})], {1: generous}), "coding").scores[0]
    # A 4 from someone 1.2 points generous: a typical interviewer's 3 or 4, mostly 3.
    assert 3.0 <= line.calibrated < 3.5
    assert (line.calibrated_level, line.calibrated_label) == (3, "Good")
    assert line.leniency == 1.2


def test_calibrated_scores_never_leave_the_rubric_scale():
    """v1 showed 0.53 and 4.87 on a 1–4 rubric."""
    harsh = replace(leniency(1, -3.0), shift=-3.0, scale=SCALE)
    generous = replace(leniency(2, 3.0), shift=3.0, scale=SCALE)
    cards = [card(1, 1, {"coding": 4}), card(2, 2, {"coding": 1})]
    result = competency(run(cards, {1: harsh, 2: generous}), "coding")
    assert [line.calibrated for line in result.scores] == [4.0, 1.0]
    assert 1.0 <= result.calibrated_mean <= 4.0
    assert result.calibrated_label in {"Poor", "Mixed", "Good", "Excellent"}


def test_competency_mean_spread_and_standard_error():
    cards = [card(1, 1, {"coding": 4}), card(2, 2, {"coding": 2}), card(3, 3, {"coding": 3})]
    result = competency(run(cards, {1: leniency(1, 0.5)}), "coding")
    # calibrated 3.5, 2, 3: mean 2.83, sample SD 0.76, SE 0.76/√3
    assert (result.raw_mean, result.calibrated_mean) == (3.0, 2.83)
    assert (result.spread_sd, result.standard_error) == (0.76, 0.44)
    assert (result.n_ratings, result.n_raters, result.one_rating_only) == (3, 3, False)


def test_competencies_follow_template_order_including_unrated_ones():
    result = run([card(1, 1, {"coding": 3})])
    assert [c.key for c in result.competencies] == [c.key for c in TEMPLATE.competencies]
    unrated = competency(result, "ownership")
    assert (unrated.n_ratings, unrated.calibrated_mean, unrated.clears_bar) == (0, None, None)


def test_not_assessed_scores_are_counted_but_not_averaged():
    result = competency(run([card(1, 1, {"coding": None}), card(2, 2, {"coding": 3})]), "coding")
    assert (result.not_assessed, result.n_ratings, result.calibrated_mean) == (1, 1, 3.0)


def test_mean_exactly_at_the_bar_clears_it():
    cards = [card(1, 1, {"coding": 4}), card(2, 2, {"coding": 2})]
    assert competency(run(cards), "coding").clears_bar is True


def test_mean_just_below_the_bar_does_not_clear_it():
    cards = [card(1, 1, {"coding": 4}), card(2, 2, {"coding": 2})]
    result = competency(run(cards, {1: leniency(1, 0.02)}), "coding")
    assert (result.calibrated_mean, result.clears_bar) == (2.99, False)


def test_one_rating_only_has_no_spread_or_standard_error():
    result = competency(run([card(1, 1, {"coding": 3})]), "coding")
    assert result.one_rating_only is True
    assert (result.spread_sd, result.standard_error) == (None, None)


# ---- Dissent --------------------------------------------------------------------

THREE_CODERS = [card(1, 1, {"coding": 4}), card(2, 2, {"coding": 2}), card(3, 3, {"coding": 2})]


def test_dissent_flagged_at_exactly_the_threshold():
    # Ana calibrated 3.5 against the others' 2: exactly 1.5. Ben: 2 against 2.75.
    result = run(THREE_CODERS, {1: leniency(1, 0.5)})
    assert [(d.score.scorecard_id, d.difference) for d in result.dissents] == [(1, THRESHOLD)]
    assert [line.dissent for line in competency(result, "coding").scores] == [True, False, False]


def test_no_dissent_just_below_the_threshold():
    assert run(THREE_CODERS, {1: leniency(1, 0.51)}).dissents == ()


def test_dissent_uses_calibrated_scores_and_reports_raw_difference():
    assert run(THREE_CODERS, {1: leniency(1, 1.0)}).dissents == ()  # raw gap 2, calibrated 1
    result = run([card(1, 1, {"coding": 3}), card(2, 2, {"coding": 2})], {1: leniency(1, -0.5)})
    dissent = next(d for d in result.dissents if d.score.scorecard_id == 1)
    assert (dissent.difference, dissent.raw_difference) == (1.5, 1.0)


def test_dissent_quotes_both_sides_evidence():
    dissent = run(THREE_CODERS, {1: leniency(1, 0.5)}).dissents[0]
    assert dissent.score.evidence == "evidence 1 on coding"
    assert [o.evidence for o in dissent.others] == ["evidence 2 on coding", "evidence 3 on coding"]
    assert "1.50 points above" in dissent.message


def test_an_interviewer_does_not_dissent_from_themself():
    cards = [card(1, 1, {"coding": 4}), card(2, 1, {"coding": 1}, interview_key="technical_screen")]
    result = run(cards)
    assert result.dissents == ()
    assert competency(result, "coding").n_raters == 1


# ---- Flags ------------------------------------------------------------------------

SAME_THREE = {"coding": 3, "problem_solving": 3, "collaboration": 3}


def test_halo_flags_the_same_score_on_three_competencies():
    [flag] = flags(run([card(1, 1, SAME_THREE)]), "halo")
    assert flag.records.scorecard_ids == (1,)
    assert flag.records.competencies == ("coding", "collaboration", "problem_solving")


def test_no_halo_with_two_competencies_rated():
    assert flags(run([card(1, 1, {**SAME_THREE, "collaboration": None})]), "halo") == []


def test_no_halo_when_scores_differ():
    assert flags(run([card(1, 1, {**SAME_THREE, "collaboration": 4})]), "halo") == []


def test_coverage_gap_for_each_competency_nobody_scored():
    result = run([card(1, 1, {"coding": 3, "problem_solving": None})])
    gaps = [f.records.competencies[0] for f in flags(result, "coverage_gap")]
    assert gaps == [c.key for c in TEMPLATE.competencies if c.key != "coding"]


def test_no_coverage_gap_when_rated():
    result = run([card(1, 1, {"coding": 3})])
    assert "coding" not in [f.records.competencies[0] for f in flags(result, "coverage_gap")]


def test_single_rater_flagged_and_not_with_two_raters():
    result = run([card(1, 1, {"coding": 3, "problem_solving": 3}), card(2, 2, {"coding": 3})])
    assert [f.records.competencies for f in flags(result, "single_rater")] == [("problem_solving",)]


def test_late_feedback_flagged():
    [flag] = flags(run([card(1, 1, {"coding": 3}, late=True)]), "late_feedback")
    assert flag.records.scorecard_ids == (1,) and flag.records.interview_ids == (101,)
    assert f"{LATE_HOURS} hours" in flag.message


def test_no_late_feedback_when_on_time():
    assert flags(run([card(1, 1, {"coding": 3})]), "late_feedback") == []


def test_biased_language_flag_names_phrase_and_category():
    warning = {
        "phrase": "culture fit",
        "category": "affinity",
        "suggestion": "name the behaviour",
        "field": "summary",
    }
    [flag] = flags(run([card(1, 1, {"coding": 3}, warnings=(warning,))]), "biased_language")
    assert "culture fit" in flag.message and "affinity" in flag.message
    assert flag.details == (warning,)


def test_no_biased_language_without_warnings():
    assert flags(run([card(1, 1, {"coding": 3})]), "biased_language") == []


def test_process_deviation_for_each_recorded_deviation():
    overran = DeviationIn("overran", "system_design", 7, None, "", NOW - timedelta(hours=1))
    found = flags(run(deviations=[overran, DEVIATION]), "process_deviation")
    assert [f.records.interview_ids for f in found] == [(), (7,)]
    assert "skipped" in found[0].message and "candidate withdrew" in found[0].message
    assert "60-minute time-box" in found[1].message and "no reason was given" in found[1].message


def test_missing_scorecard_for_completed_interview():
    [flag] = flags(run(interviews=[interview(9, state="draft")]), "missing_scorecard")
    assert flag.records.interview_ids == (9,) and "a draft is saved" in flag.message


def test_missing_scorecard_for_scheduled_interview_past_the_feedback_window():
    past = interview(9, status="scheduled", starts_at=NOW - timedelta(hours=LATE_HOURS, minutes=1))
    assert len(flags(run(interviews=[past]), "missing_scorecard")) == 1


def test_no_missing_scorecard_for_cancelled_no_show_future_or_submitted_interviews():
    quiet = [
        interview(1, status="cancelled"),
        interview(2, status="no_show"),
        interview(3, status="scheduled", starts_at=NOW + timedelta(hours=2)),
        interview(4, status="scheduled", starts_at=NOW - timedelta(hours=LATE_HOURS)),
        interview(5, state="submitted"),
    ]
    assert flags(run(interviews=quiet), "missing_scorecard") == []


def test_flags_hold_until_the_next_scheduled_interview_becomes_overdue():
    """`flags_change_at` is the last instant the flags stay as at NOW: the earliest
    scheduled interview still inside its feedback window; the ones that cannot turn
    (cancelled, submitted, completed, already overdue) do not count."""
    soon = NOW - timedelta(hours=LATE_HOURS - 1)
    interviews = [
        interview(1, status="cancelled", starts_at=NOW),
        interview(2, state="submitted", starts_at=NOW),
        interview(3),  # completed: missing already, whatever the time
        interview(4, status="scheduled", starts_at=NOW - timedelta(hours=LATE_HOURS + 1)),
        interview(5, status="scheduled", starts_at=NOW + timedelta(hours=5)),
        interview(6, status="scheduled", starts_at=soon),
    ]
    change = flags_change_at(TEMPLATE, interviews, NOW)
    assert change == soon + timedelta(hours=LATE_HOURS)

    def at(now):
        return assess(TEMPLATE, [], interviews, [], {}, now=now).flags

    assert at(change) == at(NOW)
    assert at(change + timedelta(microseconds=1)) != at(NOW)


def test_flags_never_change_on_the_clock_alone_without_a_scheduled_interview():
    assert flags_change_at(TEMPLATE, [interview(3), interview(5, state="submitted")], NOW) is None


def test_not_independent_when_written_after_seeing_others():
    [flag] = flags(run([card(1, 1, {"coding": 3}, after_seeing_others=True)]), "not_independent")
    assert flag.records.scorecard_ids == (1,)


def test_independent_when_not_seen():
    assert flags(run([card(1, 1, {"coding": 3})]), "not_independent") == []


# ---- Recommendations -------------------------------------------------------------


def panel():
    return [
        card(1, 1, {"coding": 3}, interview_key="technical_screen", recommendation="yes"),
        card(2, 2, {"coding": 3}, recommendation="strong_yes"),
        card(3, 3, {"system_design": 1}, interview_key="system_design", recommendation="strong_no"),
        card(4, 4, {"system_design": 3}, interview_key="project_deep_dive", recommendation="yes"),
        card(
            5,
            5,
            {"ownership": 3, "system_design": 4},
            interview_key="collaboration_and_ownership",
            recommendation="yes",
        ),
    ]


def test_recommendation_distribution_counts_and_shares():
    summary = run(panel()).recommendations
    assert summary.counts == {"strong_no": 1, "no": 0, "yes": 3, "strong_yes": 1}
    assert summary.shares == {"strong_no": 0.2, "no": 0.0, "yes": 0.6, "strong_yes": 0.2}
    assert (summary.panel_size, summary.recommend_hire) == (5, 4)


def test_summary_line_names_the_strong_minority_view_and_points_to_dissent():
    assert run(panel()).recommendations.summary == (
        "4 of 5 recommend hiring; one strong no on System design \u2014 see dissent."
    )


def test_summary_line_without_scorecards():
    assert run().recommendations.summary == "No scorecards submitted yet."


# ---- Determinism and properties ----------------------------------------------------


def test_same_input_in_any_order_gives_byte_identical_json():
    warnings = (
        {"phrase": "young", "category": "age", "suggestion": "s", "field": "summary"},
        {"phrase": "gut", "category": "affinity", "suggestion": "s", "field": "summary"},
    )
    cards = [*panel(), card(6, 1, SAME_THREE, late=True, warnings=warnings)]
    leniencies = {i: leniency(i, 0.1 * i) for i in (1, 2, 3)}
    interviews = [
        interview(i, status=s) for i, s in enumerate(["completed", "scheduled", "no_show"])
    ]
    deviations = [DEVIATION, replace(DEVIATION, kind="added", interview_key="system_design")]

    def dumped(shuffle):
        inputs = [list(cards), list(interviews), list(deviations), list(leniencies.items())]
        for items in inputs:
            shuffle(items)
        shuffled_cards, shuffled_interviews, shuffled_deviations, shuffled_leniencies = inputs
        assessment = assess(
            TEMPLATE,
            shuffled_cards,
            shuffled_interviews,
            shuffled_deviations,
            dict(shuffled_leniencies),
            now=NOW,
        )
        return json.dumps(
            to_dict(assessment),
            sort_keys=True,
        )

    expected = dumped(lambda items: None)
    for seed in range(5):
        assert dumped(random.Random(seed).shuffle) == expected


scores = st.lists(st.integers(1, 4), min_size=1, max_size=5)
offsets = st.floats(-1, 1, allow_nan=False).map(lambda x: round(x, 2))


@given(scores, offsets, offsets)
def test_without_a_stored_scale_calibrated_is_raw_minus_leniency_kept_in_the_scale(
    values, base, delta
):
    """Runs stored before the rating scale was (no `scale`): raw − leniency, clipped."""
    cards = [card(1, 1, {"coding": values[0]})]
    line = competency(run(cards, {1: leniency(1, base + delta)}), "coding").scores[0]
    assert line.calibrated == pytest.approx(min(max(values[0] - (base + delta), 1), 4), abs=0.006)


@given(scores, st.lists(offsets, min_size=5, max_size=5))
def test_calibrated_mean_lies_within_the_calibrated_scores(values, lens):
    cards = [card(i + 1, i + 1, {"coding": v}) for i, v in enumerate(values)]
    result = competency(
        run(cards, {i + 1: leniency(i + 1, x) for i, x in enumerate(lens)}), "coding"
    )
    calibrated = [line.calibrated for line in result.scores]
    assert min(calibrated) <= result.calibrated_mean <= max(calibrated)
