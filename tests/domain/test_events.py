"""When an owed scorecard's steps fall due, and webhook signatures (no app, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.errors import RuleViolationError
from service.domain.events import scorecard_steps, steps_due
from service.domain.templates import Reminders
from service.domain.webhooks import (
    check_endpoint_url,
    signature_header,
    standard_signature,
    verify_signature,
)

ENDS = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


SETTINGS = Reminders(4, 24, 3)


def keys_at(hours, reminders=SETTINGS):
    steps = scorecard_steps(ENDS, 24, reminders)
    return [s.key for s in steps_due(steps, ENDS + timedelta(hours=hours))]


def test_steps_are_due_at_the_end_overdue_after_the_late_hours_then_reminders():
    steps = scorecard_steps(ENDS, 24, Reminders(4, 24, 3))
    assert [(s.key, (s.at - ENDS) / timedelta(hours=1)) for s in steps] == [
        ("due", 0),
        ("reminder-1", 4),
        ("overdue", 24),
        ("reminder-2", 28),
        ("reminder-3", 52),
    ]


def test_nothing_is_due_before_the_interview_ends():
    assert keys_at(-0.1) == []


def test_a_late_pass_sends_only_the_latest_missed_reminder():
    assert keys_at(30) == ["due", "overdue", "reminder-2"]


def test_no_reminder_after_the_last_one():
    assert keys_at(500)[-1] == "reminder-3"
    assert keys_at(500, Reminders(4, 24, 0)) == ["due", "overdue"]


def test_a_signature_verifies_and_a_changed_body_or_stale_time_does_not():
    header = signature_header("secret", 1_700_000_000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature("secret", header, b'{"a":1}', now=1_700_000_100)
    assert not verify_signature("secret", header, b'{"a":2}', now=1_700_000_100)
    assert not verify_signature("secret", header, b'{"a":1}', now=1_700_001_000)
    assert not verify_signature("secret", "v1=abc", b'{"a":1}', now=1_700_000_100)


def test_the_standard_webhooks_signature_matches_the_specs_example():
    # The example of the Standard Webhooks reference libraries.
    signature = standard_signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    "url",
    ["http://example.com/", "https://10.1.2.3/", "https://[fe80::1]/", "https://0.0.0.0/"],
)
def test_private_or_plain_http_urls_are_refused_by_default(url):
    with pytest.raises(RuleViolationError):
        check_endpoint_url(url, allow_private=False)


def test_private_addresses_and_http_are_allowed_when_set():
    check_endpoint_url("http://127.0.0.1:8080/hooks", allow_private=True)
    check_endpoint_url("https://hooks.example.com/x", allow_private=False)
