"""Scorecard rules and the loop plan, on a shipped template, without app or database."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.errors import RuleViolationError
from service.domain.loops import InterviewFact, loop_complete, plan_loop, skipped_on_leaving
from service.domain.scorecards import RatingInput, check_draft, check_submission, is_late
from service.domain.template_loading import TEMPLATE_DIR, load_template_file

TEMPLATE = load_template_file(TEMPLATE_DIR / "backend_engineer.yaml")
SCREEN = TEMPLATE.interview("technical_screen")
MIN = TEMPLATE.scoring.min_evidence_chars
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def ratings(score=3, evidence="e" * MIN):
    return [RatingInput(c, score, evidence) for c in SCREEN.competencies]


def test_complete_submission_passes():
    check_submission(SCREEN, TEMPLATE.scoring, ratings(), "yes")


def test_evidence_at_exactly_the_minimum_passes_and_one_less_fails():
    check_submission(SCREEN, TEMPLATE.scoring, ratings(evidence="e" * MIN), "yes")
    with pytest.raises(RuleViolationError) as caught:
        check_submission(SCREEN, TEMPLATE.scoring, ratings(evidence="e" * (MIN - 1)), "yes")
    assert set(caught.value.errors) == {
        f"ratings[{i}].evidence" for i in range(len(SCREEN.competencies))
    }


def test_whitespace_is_not_evidence():
    with pytest.raises(RuleViolationError):
        check_submission(SCREEN, TEMPLATE.scoring, ratings(evidence=" " * 200), "yes")


def test_all_not_assessed_is_refused():
    with pytest.raises(RuleViolationError, match="score at least one competency"):
        check_submission(SCREEN, TEMPLATE.scoring, ratings(score=None, evidence=""), "yes")


def test_draft_refuses_duplicates_and_unknown_competencies_only():
    check_draft(SCREEN, [RatingInput(SCREEN.competencies[0], None, "")])
    with pytest.raises(RuleViolationError) as caught:
        check_draft(
            SCREEN,
            [
                RatingInput(SCREEN.competencies[0], 2, ""),
                RatingInput(SCREEN.competencies[0], 3, ""),
                RatingInput("culture", 3, ""),
            ],
        )
    assert caught.value.errors.keys() == {"ratings[1].competency", "ratings[2].competency"}


def test_late_is_strictly_after_the_allowed_hours():
    ended = NOW
    assert not is_late(ended, ended + timedelta(hours=24), 24)
    assert is_late(ended, ended + timedelta(hours=24, seconds=1), 24)


def fact(key, status="completed", id=1):
    return InterviewFact(id, key, 7, "Sam", NOW, 60, 60, status, "submitted")


def test_plan_positions_interviews_against_the_current_stage():
    screen_stage = SCREEN.stage
    planned = plan_loop(TEMPLATE, screen_stage, [fact("technical_screen")])
    by_key = {p.key: p for p in planned}
    assert by_key["technical_screen"].stage_position == "current"
    assert by_key["technical_screen"].state == "completed"
    onsite = [p for p in planned if p.stage != screen_stage]
    assert {p.stage_position for p in onsite} == {"upcoming"}
    assert {p.state for p in onsite} == {"not_scheduled"}


def test_state_prefers_what_happened_over_cancellations():
    planned = plan_loop(
        TEMPLATE,
        SCREEN.stage,
        [fact("technical_screen", "cancelled", 1), fact("technical_screen", "scheduled", 2)],
    )
    assert next(p for p in planned if p.key == "technical_screen").state == "scheduled"


def test_leaving_a_stage_skips_its_interviews_not_completed():
    onsite = TEMPLATE.interview("system_design").stage
    onsite_keys = [i.key for i in TEMPLATE.interviews if i.stage == onsite]
    done = [fact(onsite_keys[0]), fact(onsite_keys[1], "cancelled")]
    assert skipped_on_leaving(TEMPLATE, onsite, done) == onsite_keys[1:]


def every_planned(scorecard="submitted"):
    return [
        InterviewFact(n, i.key, 7, "Sam", NOW, 60, 60, "completed", scorecard)
        for n, i in enumerate(TEMPLATE.interviews)
    ]


def test_a_loop_is_complete_once_every_planned_interview_has_its_scorecard():
    assert loop_complete(TEMPLATE, every_planned(), skipped=())
    last_owed = [*every_planned()[:-1], replace(every_planned()[-1], scorecard="draft")]
    assert not loop_complete(TEMPLATE, last_owed, skipped=())


def test_an_added_interview_still_owed_keeps_the_loop_open():
    added = InterviewFact(99, "system_design", 8, "Kim", NOW, 60, None, "scheduled", "missing")
    assert not loop_complete(TEMPLATE, [*every_planned(), added], skipped=())
    cancelled = replace(added, status="cancelled")
    assert loop_complete(TEMPLATE, [*every_planned(), cancelled], skipped=())


def test_a_skipped_interview_does_not_hold_the_loop_open():
    held = [f for f in every_planned() if f.interview_key != "project_deep_dive"]
    assert not loop_complete(TEMPLATE, held, skipped=())
    assert loop_complete(TEMPLATE, held, skipped=["project_deep_dive"])
