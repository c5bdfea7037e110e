"""The interview list: candidate name and scorecard state on each, "what I owe" in one call."""

from datetime import timedelta

from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.api.test_scorecards import card, held_interview, submit
from tests.factories import ApplicationFactory, InterviewFactory, UserFactory


def listed(client, user, **query):
    response = client.get("/api/v1/interviews", query_string=query, headers=auth(user))
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_each_interview_carries_the_candidate_name_and_scorecard_state(client, session, recruiter):
    missing = held_interview()
    drafted = held_interview()
    done = held_interview()
    client.put(
        f"/api/v1/interviews/{drafted.id}/scorecard",
        json=card(),
        headers=auth(drafted.interviewer),
    )
    assert submit(client, done).status_code == 200
    items = {i["id"]: i for i in listed(client, recruiter)}
    assert items[missing.id]["scorecard_state"] == "missing"
    assert items[drafted.id]["scorecard_state"] == "draft"
    assert items[done.id]["scorecard_state"] == "submitted"
    assert items[missing.id]["candidate_name"] == missing.application.candidate.name


def test_one_interview_carries_them_too(client, session, recruiter):
    interview = held_interview()
    response = client.get(f"/api/v1/interviews/{interview.id}", headers=auth(recruiter))
    assert response.json["scorecard_state"] == "missing"
    assert response.json["candidate_name"] == interview.application.candidate.name


def test_filter_by_scorecard_state(client, session, recruiter):
    missing, done = held_interview(), held_interview()
    submit(client, done)
    assert [i["id"] for i in listed(client, recruiter, scorecard_state="missing")] == [missing.id]
    assert [i["id"] for i in listed(client, recruiter, scorecard_state="submitted")] == [done.id]


def test_pending_is_what_the_interviewer_owes_now(client, session):
    me = UserFactory(role="interviewer")

    def mine(hours_ago, **kwargs):
        # apart, so the interviewer is never double-booked
        return InterviewFactory(
            interviewer=me, starts_at=utcnow() - timedelta(hours=hours_ago), **kwargs
        )

    owed, drafted, submitted = mine(2), mine(4), mine(6)
    client.put(f"/api/v1/interviews/{drafted.id}/scorecard", json=card(), headers=auth(me))
    submit(client, submitted)
    mine(-24)  # tomorrow: nothing owed yet
    mine(8, status="cancelled")
    mine(10, status="no_show")
    held_interview()  # someone else's
    assert sorted(i["id"] for i in listed(client, me, pending="true")) == [owed.id, drafted.id]
    assert owed.id not in [i["id"] for i in listed(client, me, pending="false")]


def test_filter_by_interviewer(client, session, recruiter):
    mine = held_interview()
    held_interview()
    items = listed(client, recruiter, interviewer_id=mine.interviewer_id)
    assert [i["id"] for i in items] == [mine.id]


def test_an_interviewer_never_lists_other_panelists_interviews(client, session):
    application = ApplicationFactory()
    mine = held_interview(application=application)
    other = held_interview(application=application)
    submit(client, other)
    items = listed(client, mine.interviewer, interviewer_id=other.interviewer_id)
    assert items == []
    assert [i["id"] for i in listed(client, mine.interviewer)] == [mine.id]


def test_unknown_scorecard_state_is_422(client, recruiter):
    response = client.get(
        "/api/v1/interviews", query_string={"scorecard_state": "late"}, headers=auth(recruiter)
    )
    assert response.status_code == 422


def test_listing_takes_the_same_statements_for_one_row_or_many(
    client, session, recruiter, statements
):
    held_interview()
    with statements() as one:
        assert len(listed(client, recruiter)) == 1
    for _ in range(5):
        held_interview()
    with statements() as six:
        assert len(listed(client, recruiter)) == 6
    assert six.count == one.count
