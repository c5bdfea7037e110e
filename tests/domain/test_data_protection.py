"""Retention's rule and erasure's scrub, without a database."""

from datetime import UTC, datetime, timedelta

import pytest

from service.domain.anonymize import identifying_terms
from service.domain.data_protection import (
    ERASED,
    ApplicationEnd,
    refuse_erased,
    retention_due,
    scrub,
)
from service.domain.errors import ConflictError

NOW = datetime(2026, 12, 1, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=400)


def ended(days_ago, status="rejected", retention_days=365):
    return ApplicationEnd(status, NOW - timedelta(days=days_ago), retention_days)


def due(applications, keep_until=None, created_at=LONG_AGO, default_days=365):
    return retention_due(
        applications,
        created_at=created_at,
        keep_until=keep_until,
        now=NOW,
        default_days=default_days,
    )


def test_due_once_every_application_ended_longer_ago_than_the_retention():
    assert due([ended(366)]) == "last application ended 2025-11-30, over 365 days ago"
    assert due([ended(364)]) is None
    assert due([ended(400), ended(10, "withdrawn")]) is None  # the latest end counts


@pytest.mark.parametrize("status", ["active", "hired"])
def test_never_while_an_application_is_active_or_hired(status):
    assert due([ended(900), ApplicationEnd(status, None, 365)]) is None


def test_a_template_with_a_longer_retention_keeps_the_data_longer():
    assert due([ended(400, retention_days=730)]) is None
    assert due([ended(400, retention_days=180), ended(200, retention_days=730)]) is None
    assert due([ended(200, retention_days=180)]) is not None


def test_consent_to_be_kept_waits_until_its_date():
    assert due([ended(900)], keep_until=NOW + timedelta(days=1)) is None
    assert due([ended(900)], keep_until=NOW - timedelta(days=1)) is not None


def test_a_candidate_without_applications_is_due_after_the_global_retention():
    assert due([], created_at=NOW - timedelta(days=366)) == "no application in 365 days"
    assert due([], created_at=NOW - timedelta(days=30)) is None


def test_scrub_redacts_the_person_everywhere_and_erases_their_own_columns():
    terms = identifying_terms("Zelda Quorra", "zq@example.org", "+1 415 555 0199", [])
    snapshot = {
        "name": "Zelda Quorra",
        "email": "zq@example.org",
        "source": "referral",
        "notes": ["Call Zelda on 415-555-0199"],
        "phone": "",
    }
    assert scrub(snapshot, terms, frozenset({"name", "email", "phone"})) == {
        "name": ERASED,
        "email": ERASED,
        "source": "referral",
        "notes": ["Call [candidate] on [phone]"],
        "phone": "",
    }
    assert scrub(None, terms) is None and scrub(3, terms) == 3


def test_an_erased_record_refuses_changes():
    refuse_erased(1, None)
    with pytest.raises(ConflictError, match="erased on 2026-12-01"):
        refuse_erased(1, NOW)
