"""Pipeline and stuck reports over HTTP: counts per stage, time in stage, next-step owners."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.persistence.applications import StageChange
from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.usecases import applications
from tests.api.conftest import auth
from tests.api.reports_helpers import apply, move, reject
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory

PIPELINE = "/api/v1/reports/pipeline"
STUCK = "/api/v1/reports/stuck"


def days_apart(session, application, *days):
    """Place the application's timeline events `days` after a start a month ago."""
    start = utcnow() - timedelta(days=30)
    changes = session.scalars(
        select(StageChange)
        .where(StageChange.application_id == application.id)
        .order_by(StageChange.id)
    ).all()
    assert len(changes) == len(days)
    for change, day in zip(changes, days, strict=False):
        change.at = start + timedelta(days=day)
    session.flush()


@pytest.fixture
def requisition(session, recruiter):
    """Five applications: on to the technical screen, rejected at the recruiter screen,
    withdrawn, rejected on applying, and still waiting."""
    requisition = RequisitionFactory()
    on = move(
        session,
        recruiter,
        apply(session, recruiter, requisition),
        "recruiter_screen",
        "technical_screen",
    )
    days_apart(session, on, 0, 2, 5)
    screened_out = move(
        session, recruiter, apply(session, recruiter, requisition), "recruiter_screen"
    )
    reject(session, recruiter, screened_out, "skills_gap")
    days_apart(session, screened_out, 0, 4, 6)
    withdrawn = apply(session, recruiter, requisition)
    applications.change_status(session, recruiter, withdrawn.id, "withdraw", reason="took a job")
    days_apart(session, withdrawn, 0, 6)
    rejected = reject(
        session, recruiter, apply(session, recruiter, requisition), "experience_level"
    )
    days_apart(session, rejected, 0, 1)
    apply(session, recruiter, requisition)
    return requisition


def pipeline(client, user, requisition, **headers):
    return client.get(
        PIPELINE, query_string={"requisition_id": requisition.id}, headers=auth(user) | headers
    )


def test_counts_per_stage(client, session, admin, requisition):
    stages = {s["stage"]: s for s in pipeline(client, admin, requisition).json["stages"]}
    applied, screen, technical = (
        stages[k] for k in ("applied", "recruiter_screen", "technical_screen")
    )
    assert (
        applied["entered"],
        applied["advanced"],
        applied["rejected"],
        applied["withdrawn"],
        applied["still_there"],
    ) == (5, 2, 1, 1, 1)
    assert applied["rejected_by_reason"] == {"experience_level": 1}
    assert applied["conversion"] == 0.4
    assert (screen["entered"], screen["advanced"], screen["rejected"]) == (2, 1, 1)
    assert screen["rejected_by_reason"] == {"skills_gap": 1}
    assert screen["share_of_applicants"] == 0.4
    assert (technical["entered"], technical["still_there"], technical["conversion"]) == (1, 1, 0.0)
    assert stages["offer"]["entered"] == 0 and stages["offer"]["conversion"] is None


def test_time_in_stage_against_target(client, session, admin, requisition):
    applied = pipeline(client, admin, requisition).json["stages"][0]
    # Finished stays in "applied": 2, 4, 6 and 1 days (the waiting one is not finished).
    assert applied["stays"] == 4
    assert applied["median_days"] == pytest.approx(3.0, abs=0.01)
    assert applied["p90_days"] == pytest.approx(5.4, abs=0.01)
    assert applied["target_days"] == 3
    assert applied["share_over_target"] == 0.5


def test_pipeline_as_csv(client, session, admin, requisition):
    response = pipeline(client, admin, requisition, Accept="text/csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["stage"] for r in rows][:2] == ["applied", "recruiter_screen"]
    assert rows[0]["entered"] == "5" and rows[0]["rejected_by_reason"] == "experience_level=1"


def test_recruiters_and_the_requisitions_hiring_manager_may_read_it(
    client, session, recruiter, requisition
):
    assert pipeline(client, recruiter, requisition).status_code == 200
    assert pipeline(client, requisition.hiring_manager, requisition).status_code == 200
    other_manager = UserFactory(role="hiring_manager")
    assert pipeline(client, other_manager, requisition).status_code == 404
    assert pipeline(client, UserFactory(role="interviewer"), requisition).status_code == 403


def test_requisition_id_is_required(client, session, admin):
    response = client.get(PIPELINE, headers=auth(admin))
    assert response.status_code == 422
    assert "query.requisition_id" in {e["field"] for e in response.json["errors"]}


# --- stuck -------------------------------------------------------------------


def waiting(stage, days, **kwargs):
    return ApplicationFactory(
        stage=stage, stage_entered_at=utcnow() - timedelta(days=days), **kwargs
    )


@pytest.fixture
def stuck(session):
    """Four over target (applied 3 d, technical screen 7 d, offer 7 d) and two that are not."""
    awaiting_scorecard = waiting("technical_screen", 20)
    InterviewFactory(application=awaiting_scorecard, starts_at=utcnow() - timedelta(days=15))
    unscheduled = waiting("technical_screen", 9)
    waiting_move = waiting("applied", 10)
    offer = waiting("offer", 8)
    waiting("applied", 1)
    waiting("applied", 30, status="rejected")
    return awaiting_scorecard, waiting_move, unscheduled, offer


def test_stuck_lists_overdue_active_applications_oldest_first(client, session, admin, stuck):
    body = client.get(STUCK, headers=auth(admin)).json
    assert body["total"] == 4
    assert [i["application_id"] for i in body["items"]] == [a.id for a in stuck]
    first = body["items"][0]
    assert (first["target_days"], round(first["days_over_target"])) == (7, 13)


def test_stuck_names_who_owns_the_next_step(client, session, admin, stuck):
    items = client.get(STUCK, headers=auth(admin)).json["items"]
    awaiting_scorecard, waiting_move, unscheduled, offer = items
    owes = session.scalar(select(Interview).where(Interview.application_id == stuck[0].id))
    assert awaiting_scorecard["owner_role"] == "interviewer"
    assert awaiting_scorecard["owners"] == [
        {"id": owes.interviewer_id, "name": owes.interviewer.name}
    ]
    assert (unscheduled["owner_role"], unscheduled["next_step"]) == (
        "recruiter",
        "schedule: technical_screen",
    )
    assert waiting_move["owner_role"] == "recruiter"
    assert offer["owner_role"] == "hiring_manager"
    assert offer["owners"] == [
        {
            "id": stuck[3].requisition.hiring_manager.id,
            "name": stuck[3].requisition.hiring_manager.name,
        }
    ]


def test_stuck_names_the_requisitions_recruiter_when_it_has_one(client, session, admin):
    recruiter = UserFactory(role="recruiter")
    waiting("applied", 10, requisition=RequisitionFactory(recruiter=recruiter))
    session.flush()
    (item,) = client.get(STUCK, headers=auth(admin)).json["items"]
    assert (item["owner_role"], item["owners"]) == (
        "recruiter",
        [{"id": recruiter.id, "name": recruiter.name}],
    )


def test_stuck_limit_and_csv(client, session, admin, stuck):
    body = client.get(STUCK, query_string={"limit": 2}, headers=auth(admin)).json
    assert (body["total"], len(body["items"])) == (4, 2)
    response = client.get(STUCK, headers=auth(admin) | {"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["application_id"]) for r in rows] == [a.id for a in stuck]


@pytest.mark.parametrize("role", ["recruiter", "hiring_manager", "interviewer"])
def test_stuck_is_admin_only(client, session, role):
    assert client.get(STUCK, headers=auth(UserFactory(role=role))).status_code == 403
