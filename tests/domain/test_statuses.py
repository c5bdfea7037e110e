"""Each status is a StrEnum defined once in the domain; the tuples are its plain values."""

from service.domain.pipeline import (
    APPLICATION_STATUSES,
    INTERVIEW_STATUSES,
    REQUISITION_STATUSES,
    ApplicationStatus,
)
from service.domain.scorecards import SCORECARD_STATES


def test_the_status_tuples_keep_their_values_and_order():
    assert REQUISITION_STATUSES == ("open", "on_hold", "closed")
    assert APPLICATION_STATUSES == ("active", "rejected", "withdrawn", "hired")
    assert INTERVIEW_STATUSES == ("scheduled", "completed", "cancelled", "no_show")
    assert SCORECARD_STATES == ("draft", "submitted")


def test_a_status_compares_and_formats_as_its_value():
    assert ApplicationStatus.ACTIVE == "active"
    assert f"{ApplicationStatus.HIRED}" == "hired"
    assert all(type(value) is str for value in APPLICATION_STATUSES)
