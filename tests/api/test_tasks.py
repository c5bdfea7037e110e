"""GET /api/v1/me/tasks: what each role owes now, overdue first, one query per kind."""

from datetime import timedelta

from service.persistence.base import utcnow
from service.persistence.packets import Decision
from service.persistence.scorecards import Scorecard
from tests.api.conftest import auth
from tests.api.test_scorecards import card, submit
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory


def tasks(client, user, **query):
    response = client.get("/api/v1/me/tasks", query_string=query, headers=auth(user))
    assert response.status_code == 200, response.json
    return response.json


def held(interviewer, hours_ago, **kwargs):
    return InterviewFactory(
        interviewer=interviewer, starts_at=utcnow() - timedelta(hours=hours_ago), **kwargs
    )


def submitted_card(interview):
    """A submitted scorecard row, for loops the tests need complete (no HTTP round trip)."""
    return Scorecard(
        interview_id=interview.id,
        application_id=interview.application_id,
        author_id=interview.interviewer_id,
        state="submitted",
        submitted_at=utcnow(),
    )


def test_interviewer_owes_the_scorecards_of_started_interviews_overdue_first(client, session):
    me = UserFactory(role="interviewer")
    recent = held(me, 2)
    late = held(me, 40)  # ended 39 hours ago; the template allows 24
    drafted = held(me, 5)
    client.put(f"/api/v1/interviews/{drafted.id}/scorecard", json=card(), headers=auth(me))
    done = held(me, 8)
    submit(client, done)
    held(me, -24)  # tomorrow
    held(me, 10, status="cancelled")
    held(me, 12, status="no_show")
    body = tasks(client, me)
    assert [(t["interview_id"], t["overdue"]) for t in body["items"]] == [
        (late.id, True),
        (drafted.id, False),  # then by when each is due: the earlier interview first
        (recent.id, False),
    ]
    assert body["totals"] == {"scorecard": 3, "decision": 0, "overdue_application": 0}
    first = body["items"][0]
    assert first["kind"] == "scorecard"
    assert first["candidate_name"] == late.application.candidate.name
    assert first["scorecard_state"] == "missing"
    assert first["link"] == f"/api/v1/interviews/{late.id}/scorecard"
    assert body["items"][1]["scorecard_state"] == "draft"


def test_an_interviewers_tasks_show_nothing_of_the_other_panelists(client, session):
    application = ApplicationFactory()
    mine = held(UserFactory(role="interviewer"), 3, application=application)
    other = held(UserFactory(role="interviewer"), 6, application=application)
    secret = "Remarkably fluent about consensus protocols; hire."
    assert submit(client, other, card(summary=secret)).status_code == 200
    response = client.get("/api/v1/me/tasks", headers=auth(mine.interviewer))
    assert [t["interview_id"] for t in response.json["items"]] == [mine.id]
    text = response.get_data(as_text=True)
    assert secret not in text and other.interviewer.name not in text


def manager_application(manager, **kwargs):
    return ApplicationFactory(requisition=RequisitionFactory(hiring_manager=manager), **kwargs)


def test_hiring_manager_decides_applications_in_the_final_stage_without_a_decision(client, session):
    manager = UserFactory(role="hiring_manager")
    waiting = manager_application(manager, stage="offer")
    decided = manager_application(manager, stage="offer")
    session.add(
        Decision(application_id=decided.id, version=1, decided_by_id=manager.id, outcome="hire")
    )
    manager_application(manager, stage="offer", status="rejected")
    manager_application(manager, stage="onsite")  # loop not complete
    ApplicationFactory(stage="offer")  # another manager's
    session.flush()
    body = tasks(client, manager)
    assert [(t["kind"], t["application_id"]) for t in body["items"]] == [("decision", waiting.id)]
    assert body["items"][0]["link"] == f"/api/v1/applications/{waiting.id}/decision"
    assert body["totals"]["decision"] == 1


def test_hiring_manager_decides_when_the_whole_loop_is_in(client, session):
    manager = UserFactory(role="hiring_manager")
    complete = manager_application(manager, stage="onsite")
    partial = manager_application(manager, stage="onsite")
    template = complete.requisition.template_version.template()
    for hours, planned in enumerate(template.interviews, start=3):
        for application in (complete, partial):
            interview = held(
                UserFactory(role="interviewer"),
                hours,
                application=application,
                interview_key=planned.key,
                status="completed",
            )
            if application is complete or planned is not template.interviews[-1]:
                session.add(submitted_card(interview))
    session.flush()
    items = tasks(client, manager)["items"]
    assert [(t["kind"], t["application_id"]) for t in items] == [("decision", complete.id)]
    assert "complete loop" in items[0]["summary"]


def test_a_manager_who_owes_a_scorecard_gets_that_task_not_the_decision(client, session):
    manager = UserFactory(role="hiring_manager")
    application = manager_application(manager, stage="offer")
    own = held(manager, 3, application=application, status="completed")
    items = tasks(client, manager)["items"]
    assert [(t["kind"], t["interview_id"]) for t in items] == [("scorecard", own.id)]


def test_recruiters_see_applications_past_their_stage_target(client, session, recruiter):
    stuck = ApplicationFactory(stage="applied")  # target: 3 days
    stuck.stage_entered_at = utcnow() - timedelta(days=5)
    fresh = ApplicationFactory(stage="applied")
    session.flush()
    body = tasks(client, recruiter)
    overdue = [t for t in body["items"] if t["kind"] == "overdue_application"]
    assert [t["application_id"] for t in overdue] == [stuck.id]
    assert overdue[0]["candidate_name"] == stuck.candidate.name
    assert overdue[0]["overdue"] is True
    assert overdue[0]["link"] == f"/api/v1/applications/{stuck.id}"
    assert fresh.id not in [t["application_id"] for t in body["items"]]


def test_a_recruiters_overdue_applications_are_their_requisitions_and_unassigned_ones(
    client, session, recruiter
):
    other = UserFactory(role="recruiter")
    by_owner = {}
    for owner in (recruiter, other, None):
        application = ApplicationFactory(
            stage="applied", requisition=RequisitionFactory(recruiter=owner)
        )
        application.stage_entered_at = utcnow() - timedelta(days=5)
        by_owner[owner] = application
    session.flush()
    unassigned = by_owner[None].id
    for owner in (recruiter, other):
        overdue = {t["application_id"] for t in tasks(client, owner)["items"]}
        assert overdue == {by_owner[owner].id, unassigned}


def test_interviewers_and_managers_do_not_get_overdue_applications(client, session):
    stuck = ApplicationFactory(stage="applied")
    stuck.stage_entered_at = utcnow() - timedelta(days=5)
    session.flush()
    for role in ("interviewer", "hiring_manager"):
        body = tasks(client, UserFactory(role=role))
        assert body["items"] == [] and body["totals"]["overdue_application"] == 0


def test_limit_caps_each_kind_but_totals_count_them_all(client, session):
    me = UserFactory(role="interviewer")
    for hours in (2, 4, 6):
        held(me, hours)
    body = tasks(client, me, limit=2)
    assert len(body["items"]) == 2 and body["totals"]["scorecard"] == 3


def test_tasks_take_the_same_statements_for_one_row_or_many(client, session, statements):
    manager = UserFactory(role="admin")
    held(manager, 3)
    manager_application(manager, stage="offer")
    with statements() as one:
        tasks(client, manager)
    for hours in (5, 7, 9):
        held(manager, hours)
        manager_application(manager, stage="offer")
        stuck = ApplicationFactory(stage="applied")
        stuck.stage_entered_at = utcnow() - timedelta(days=5)
    session.flush()
    with statements() as many:
        body = tasks(client, manager)
    assert body["totals"]["scorecard"] == 4 and body["totals"]["decision"] == 4
    assert many.count == one.count
