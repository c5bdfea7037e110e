"""The database's own guard against double booking (PostgreSQL's exclusion constraint)."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from service.persistence.base import utcnow
from service.persistence.interviews import is_double_booking
from tests.factories import InterviewFactory, UserFactory

AT = utcnow().replace(microsecond=0) + timedelta(days=3)

# PostgreSQL only: SQLite has no exclusion constraints; it serialises writers instead
# (tests/integration/test_races.py shows the use case's check holds there).
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def interviewer(session):
    assert session.bind.dialect.name == "postgresql"
    return UserFactory(role="interviewer")


def test_overlapping_scheduled_interviews_of_one_interviewer_are_refused(session, interviewer):
    InterviewFactory(interviewer=interviewer, starts_at=AT, duration_minutes=60)
    with pytest.raises(IntegrityError) as refused, session.begin_nested():
        InterviewFactory(interviewer=interviewer, starts_at=AT + timedelta(minutes=59))
    assert is_double_booking(refused.value)


def test_back_to_back_interviews_are_allowed(session, interviewer):
    InterviewFactory(interviewer=interviewer, starts_at=AT, duration_minutes=60)
    InterviewFactory(interviewer=interviewer, starts_at=AT + timedelta(minutes=60))


def test_a_cancelled_interview_does_not_hold_its_slot(session, interviewer):
    InterviewFactory(interviewer=interviewer, starts_at=AT, status="cancelled")
    InterviewFactory(interviewer=interviewer, starts_at=AT)


def test_other_interviewers_may_share_the_slot(session, interviewer):
    InterviewFactory(interviewer=interviewer, starts_at=AT)
    InterviewFactory(starts_at=AT)


def test_the_slot_does_not_depend_on_the_session_time_zone(session, interviewer):
    session.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))
    InterviewFactory(interviewer=interviewer, starts_at=AT, duration_minutes=60)
    with pytest.raises(IntegrityError), session.begin_nested():
        InterviewFactory(interviewer=interviewer, starts_at=AT + timedelta(minutes=30))
