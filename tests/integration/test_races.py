"""Races: requests sent truly in parallel, on a committed database, on SQLite and PostgreSQL.

Each race runs several trials on fresh rows, so one lucky interleaving cannot pass it.
Every thread has its own test client, so each request has its own app context and
database session; a barrier releases them together.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.scorecards import Scorecard, ScorecardRevision
from tests.api.conftest import auth
from tests.api.test_scorecards import card
from tests.factories import ApplicationFactory, InterviewFactory, UserFactory

pytestmark = pytest.mark.integration

TRIALS = 5
PARALLEL = 8
# technical_screen's time-box in the backend_engineer template is at most this long.
HOURS_APART = 3


def in_parallel(app: Flask, send: Callable[[FlaskClient, int], TestResponse]) -> list:
    """`send(client, i)` for i in 0..PARALLEL-1, all released at once; the responses."""
    barrier = threading.Barrier(PARALLEL)

    def run(i: int) -> TestResponse:
        client = app.test_client()
        barrier.wait(timeout=30)
        return send(client, i)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(run, range(PARALLEL)))


def statuses(responses) -> Counter:
    return Counter(r.status_code for r in responses)


def assert_one_winner(responses, winner: int) -> None:
    assert statuses(responses) == {winner: 1, 409: PARALLEL - 1}, [
        (r.status_code, r.get_json()) for r in responses
    ]


def assert_booking_conflicts(responses) -> None:
    for response in responses:
        if response.status_code == 409:
            assert response.mimetype == "application/problem+json"
            assert "starts_at" in {e["field"] for e in response.json["errors"]}, response.json
            assert response.json["conflicting_interview_id"], response.json


def slot(trial: int):
    """A slot of its own per trial, days ahead, so trials never clash with each other."""
    return utcnow().replace(microsecond=0) + timedelta(days=2 + trial)


def scheduled_of(session, interviewer_id: int) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count(Interview.id)).where(
            Interview.interviewer_id == interviewer_id, Interview.status == "scheduled"
        )
    )


@pytest.mark.parametrize("trial", range(TRIALS))
def test_parallel_bookings_of_one_interviewer_for_one_slot_give_one_201(
    race_app, race_session, trial
):
    recruiter = UserFactory(role="recruiter")
    interviewer = UserFactory(role="interviewer")
    applications = [ApplicationFactory() for _ in range(PARALLEL)]
    race_session.commit()

    def book(client, i):
        return client.post(
            f"/api/v1/applications/{applications[i].id}/interviews",
            json={
                "interview_key": "technical_screen",
                "interviewer_id": interviewer.id,
                "starts_at": slot(trial).isoformat(),
            },
            headers=auth(recruiter),
        )

    responses = in_parallel(race_app, book)
    assert_one_winner(responses, 201)
    assert_booking_conflicts(responses)
    assert scheduled_of(race_session, interviewer.id) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_parallel_reschedules_onto_one_slot_give_one_200(race_app, race_session, trial):
    recruiter = UserFactory(role="recruiter")
    interviewer = UserFactory(role="interviewer")
    target = slot(trial)
    interviews = [
        InterviewFactory(
            interviewer=interviewer, starts_at=target + timedelta(hours=HOURS_APART * (i + 1))
        )
        for i in range(PARALLEL)
    ]
    race_session.commit()

    def reschedule(client, i):
        return client.patch(
            f"/api/v1/interviews/{interviews[i].id}",
            json={"starts_at": target.isoformat()},
            headers=auth(recruiter),
        )

    responses = in_parallel(race_app, reschedule)
    assert_one_winner(responses, 200)
    assert_booking_conflicts(responses)
    race_session.expire_all()
    at_target = race_session.scalar(
        select(func.count(Interview.id)).where(
            Interview.interviewer_id == interviewer.id, Interview.starts_at == target
        )
    )
    assert at_target == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_parallel_reassignments_onto_one_interviewer_give_one_200(race_app, race_session, trial):
    recruiter = UserFactory(role="recruiter")
    busy = UserFactory(role="interviewer")
    interviews = [InterviewFactory(starts_at=slot(trial)) for _ in range(PARALLEL)]
    race_session.commit()

    def reassign(client, i):
        return client.patch(
            f"/api/v1/interviews/{interviews[i].id}",
            json={"interviewer_id": busy.id},
            headers=auth(recruiter),
        )

    responses = in_parallel(race_app, reassign)
    assert_one_winner(responses, 200)
    assert_booking_conflicts(responses)
    assert scheduled_of(race_session, busy.id) == 1


def held_interview():
    return InterviewFactory(starts_at=utcnow() - timedelta(hours=2))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_parallel_submissions_of_one_scorecard_give_one_200(race_app, race_session, trial):
    interview = held_interview()
    race_session.commit()

    def submit(client, i):
        return client.post(
            f"/api/v1/interviews/{interview.id}/scorecard/submit",
            json=card(),
            headers=auth(interview.interviewer),
        )

    responses = in_parallel(race_app, submit)
    assert_one_winner(responses, 200)
    race_session.expire_all()
    scorecard = race_session.scalars(
        select(Scorecard).where(Scorecard.interview_id == interview.id)
    ).one()
    assert scorecard.state == "submitted"
    revisions = race_session.scalar(
        select(func.count(ScorecardRevision.id)).where(
            ScorecardRevision.scorecard_id == scorecard.id
        )
    )
    assert revisions == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_parallel_first_drafts_make_one_scorecard(race_app, race_session, trial):
    interview = held_interview()
    race_session.commit()

    def save(client, i):
        return client.put(
            f"/api/v1/interviews/{interview.id}/scorecard",
            json=card(summary=f"Draft {i}."),
            headers=auth(interview.interviewer),
        )

    responses = in_parallel(race_app, save)
    outcome = statuses(responses)
    assert set(outcome) <= {200, 409}, [(r.status_code, r.get_json()) for r in responses]
    assert outcome[200] >= 1
    race_session.expire_all()
    scorecards = race_session.scalars(
        select(Scorecard).where(Scorecard.interview_id == interview.id)
    ).all()
    assert len(scorecards) == 1
    assert scorecards[0].state == "draft"
    assert scorecards[0].draft["summary"] in {f"Draft {i}." for i in range(PARALLEL)}
