"""The pipeline state machine on a shipped template, without app or database."""

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.errors import ConflictError, RuleViolationError
from service.domain.pipeline import check_move, check_status_action, time_in_stage
from service.domain.template_loading import TEMPLATE_DIR, load_template_file

TEMPLATE = load_template_file(TEMPLATE_DIR / "backend_engineer.yaml")
FIRST = TEMPLATE.first_stage.key
SECOND = TEMPLATE.first_stage.next[0]


def test_allowed_move_passes():
    check_move(TEMPLATE, "active", FIRST, FIRST, SECOND)


def test_stale_from_stage_is_a_conflict_naming_the_current_stage():
    with pytest.raises(ConflictError) as caught:
        check_move(TEMPLATE, "active", SECOND, FIRST, SECOND)
    assert caught.value.extra["current_stage"] == SECOND
    assert f"'{SECOND}'" in caught.value.detail


def test_move_the_template_does_not_allow_lists_the_allowed_stages():
    with pytest.raises(RuleViolationError) as caught:
        check_move(TEMPLATE, "active", FIRST, FIRST, TEMPLATE.final_stage.key)
    assert caught.value.extra["allowed_stages"] == list(TEMPLATE.first_stage.next)


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "hired"])
def test_only_active_applications_move(status):
    with pytest.raises(ConflictError, match=f"this one is {status}"):
        check_move(TEMPLATE, status, FIRST, FIRST, SECOND)


@pytest.mark.parametrize(
    ("action", "status", "result"),
    [
        ("reject", "active", "rejected"),
        ("withdraw", "active", "withdrawn"),
        ("reopen", "rejected", "active"),
    ],
)
def test_status_actions_lead_to_their_status(action, status, result):
    assert check_status_action(TEMPLATE, action, status, FIRST) == result


def test_hire_only_from_the_final_stage():
    assert check_status_action(TEMPLATE, "hire", "active", TEMPLATE.final_stage.key) == "hired"
    with pytest.raises(ConflictError, match="final stage"):
        check_status_action(TEMPLATE, "hire", "active", FIRST)


@pytest.mark.parametrize("status", ["active", "withdrawn", "hired"])
def test_reopen_only_from_rejected(status):
    with pytest.raises(ConflictError, match="only rejected applications can be reopened"):
        check_status_action(TEMPLATE, "reopen", status, FIRST)


def test_withdraw_message_reads_naturally():
    with pytest.raises(ConflictError, match="only active applications can be withdrawn"):
        check_status_action(TEMPLATE, "withdraw", "hired", FIRST)


def test_time_in_stage_against_target():
    entered = datetime(2026, 1, 1, tzinfo=UTC)
    assert time_in_stage(entered, entered + timedelta(days=2), 3).over_target is False
    late = time_in_stage(entered, entered + timedelta(days=4, hours=12), 3)
    assert (late.days, late.target_days, late.over_target) == (4.5, 3, True)
