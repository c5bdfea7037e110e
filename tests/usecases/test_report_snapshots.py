"""Report snapshots through the use cases, no HTTP: the permission is checked before a
stored report is returned, a snapshot is the live report (stored and read back
unchanged), and a report computed while an invalidation commits is not stored."""

from __future__ import annotations

import pytest

from service.domain.errors import PermissionDeniedError
from service.persistence.report_snapshots import invalidate_snapshots, read_snapshot
from service.persistence.reports import ApplicationFilters
from service.usecases import interviewer_reports, report_snapshots, reports
from tests.api.reports_helpers import cohort
from tests.factories import RequisitionFactory, UserFactory

LIMITS = {"min_applicants": 10, "min_selections": 5}


@pytest.fixture
def admin(session):
    return UserFactory(role="admin")


@pytest.fixture
def groups(session):
    recruiter, requisition = UserFactory(role="recruiter"), RequisitionFactory()
    for race, reached in (("white", 30), ("black_or_african_american", 20), ("asian", 6)):
        cohort(session, recruiter, requisition, reached, reached // 2, race_ethnicity=race)


@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_a_stored_snapshot_is_refused_to_anyone_who_may_not_read_reports(
    session, admin, groups, role
):
    reports.organisation_adverse_impact(session, admin, **LIMITS, max_age=300)
    interviewer_reports.interviewers_snapshot(session, admin, max_age=300)
    other = UserFactory(role=role)
    with pytest.raises(PermissionDeniedError):
        reports.organisation_adverse_impact(session, other, **LIMITS, max_age=300)
    with pytest.raises(PermissionDeniedError):
        reports.organisation_adverse_impact(session, other, **LIMITS, max_age=300, refresh=True)
    with pytest.raises(PermissionDeniedError):
        interviewer_reports.interviewers_snapshot(session, other, max_age=300)


def test_a_snapshot_is_the_live_report_stored_and_read_back(session, admin, groups):
    stored = reports.organisation_adverse_impact(session, admin, **LIMITS, max_age=300)
    served = reports.organisation_adverse_impact(session, admin, **LIMITS, max_age=300)
    live = reports.adverse_impact_report(session, admin, ApplicationFilters(), **LIMITS)
    assert stored.report == served.report == live
    assert served.computed_at == stored.computed_at and not served.stale
    interviewers = interviewer_reports.interviewers_snapshot(session, admin, max_age=300)
    again = interviewer_reports.interviewers_snapshot(session, admin, max_age=300)
    assert interviewers.report == again.report
    assert again.report == interviewer_reports.interviewers_report(session, admin)


def test_other_minimum_cell_sizes_are_another_snapshot(session, admin, groups):
    reports.organisation_adverse_impact(session, admin, **LIMITS, max_age=300)
    larger = reports.organisation_adverse_impact(
        session, admin, min_applicants=25, min_selections=5, max_age=300
    )
    assert larger.report["min_applicants"] == 25
    assert read_snapshot(session, "adverse_impact-10-5") is not None
    assert read_snapshot(session, "adverse_impact-25-5") is not None


def test_a_report_computed_while_an_invalidation_commits_is_not_stored(session):
    def compute(during) -> dict:
        invalidate_snapshots(during)  # an erasure committing mid-computation
        during.commit()
        return {"figures": "read before the erasure"}

    snapshot = report_snapshots.refresh(session, "test", compute)
    assert snapshot.report == {"figures": "read before the erasure"}  # this view shows it
    assert read_snapshot(session, "test").report is None  # no later view does
