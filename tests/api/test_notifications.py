"""What people are told: their notifications, email preferences, the daily digest, and
"decision waiting" once a loop is complete (in-process jobs: no REDIS_URL)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from service.persistence.base import utcnow
from service.persistence.notifications import EmailMessage, Notification
from service.usecases import notifications
from service.usecases.outbox import emit_event
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory

EVIDENCE = "Walked through the failure modes of the payment retry and chose idempotency keys."


def digests(app):
    """The daily digest job's work, in an app context of its own (the client's requests
    must not share it: a request's session lives as long as its app context)."""
    with app.app_context():
        notifications.send_digests(app.extensions["db"](), app.config["SETTINGS"])


def schedule(client, recruiter, interviewer, days=4):
    application = ApplicationFactory()
    response = client.post(
        f"/api/v1/applications/{application.id}/interviews",
        json={
            "interview_key": "technical_screen",
            "interviewer_id": interviewer.id,
            "starts_at": (utcnow() + timedelta(days=days)).isoformat(),
        },
        headers=auth(recruiter),
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def set_preference(client, user, value):
    response = client.put(
        "/api/v1/me/notification-preferences", json={"email": value}, headers=auth(user)
    )
    assert response.status_code == 200, response.json


def emails_to(session, user):
    return list(session.scalars(select(EmailMessage).where(EmailMessage.user_id == user.id)))


def test_you_see_your_notifications_with_a_link_and_nobody_else_does(client, recruiter):
    interviewer = UserFactory(role="interviewer")
    interview_id = schedule(client, recruiter, interviewer)
    mine = client.get("/api/v1/me/notifications", headers=auth(interviewer))
    assert mine.status_code == 200
    (item,) = mine.json["items"]
    assert item["type"] == "interview.scheduled" and item["read_at"] is None
    assert item["link"] == f"http://127.0.0.1:8000/interviews/{interview_id}"
    other = client.get("/api/v1/me/notifications", headers=auth(UserFactory(role="interviewer")))
    assert other.json["items"] == []


def test_marking_read_changes_only_your_own(client, recruiter):
    interviewer, stranger = UserFactory(role="interviewer"), UserFactory(role="interviewer")
    schedule(client, recruiter, interviewer)
    (item,) = client.get("/api/v1/me/notifications", headers=auth(interviewer)).json["items"]
    theirs = client.post(
        "/api/v1/me/notifications/read",
        json={"notification_ids": [item["id"]]},
        headers=auth(stranger),
    )
    assert theirs.json == {"marked": 0}
    mine = client.post(
        "/api/v1/me/notifications/read",
        json={"notification_ids": [item["id"]]},
        headers=auth(interviewer),
    )
    assert mine.json == {"marked": 1}
    unread = client.get("/api/v1/me/notifications?unread=true", headers=auth(interviewer))
    assert unread.json["items"] == []


def test_an_unknown_preference_is_422_naming_the_field(client, interviewer):
    response = client.put(
        "/api/v1/me/notification-preferences", json={"email": "hourly"}, headers=auth(interviewer)
    )
    assert response.status_code == 422
    assert "email" in response.json["errors"][0]["field"]


def test_with_email_off_you_get_the_notification_and_no_email(client, session, recruiter):
    interviewer = UserFactory(role="interviewer")
    set_preference(client, interviewer, "off")
    schedule(client, recruiter, interviewer)
    assert emails_to(session, interviewer) == []
    assert client.get("/api/v1/me/notifications", headers=auth(interviewer)).json["items"]


def test_owed_scorecard_reminders_cannot_be_turned_off_only_batched(
    client, session, app, interviewer
):
    set_preference(client, interviewer, "off")
    interview = InterviewFactory(interviewer=interviewer, starts_at=utcnow() - timedelta(hours=2))
    with app.app_context():
        emit_event(session, "scorecard.due", {"interview_id": interview.id, "step": "due"})
        session.commit()
    (note,) = session.scalars(select(Notification).where(Notification.user_id == interviewer.id))
    assert note.digest_pending and emails_to(session, interviewer) == []
    digests(app)
    (digest,) = emails_to(session, interviewer)
    assert "Your scorecard is due" in digest.text_body


def test_a_daily_digest_is_one_email_a_day_with_what_waited(client, session, app, recruiter):
    interviewer = UserFactory(role="interviewer")
    set_preference(client, interviewer, "daily_digest")
    first = schedule(client, recruiter, interviewer)
    second = schedule(client, recruiter, interviewer, days=5)
    assert emails_to(session, interviewer) == []
    digests(app)
    digests(app)  # a second worker's cron, the same day
    (digest,) = emails_to(session, interviewer)
    assert digest.status == "sent" and digest.calendar is None
    assert (
        f"/interviews/{first}" in digest.text_body and f"/interviews/{second}" in digest.html_body
    )


def test_recruiters_digest_lists_their_applications_past_their_target(
    client, session, app, recruiter
):
    stuck = ApplicationFactory()  # a requisition nobody runs yet: every recruiter's
    theirs = ApplicationFactory(
        requisition=RequisitionFactory(recruiter=UserFactory(role="recruiter"))
    )
    for application in (stuck, theirs):
        application.stage_entered_at = utcnow() - timedelta(days=90)
    session.commit()
    digests(app)
    (digest,) = emails_to(session, recruiter)
    assert f"/applications/{stuck.id}" in digest.text_body
    assert f"/applications/{theirs.id}" not in digest.text_body


def submit(client, interview):
    template = interview.application.requisition.template_version.template()
    ratings = [
        {"competency": c, "score": 3, "evidence": EVIDENCE}
        for c in template.interview(interview.interview_key).competencies
    ]
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        json={"ratings": ratings, "recommendation": "yes"},
        headers=auth(interview.interviewer),
    )
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("panel", [2])
def test_the_last_scorecard_in_tells_the_hiring_manager_a_decision_waits(client, session, panel):
    manager = UserFactory(role="hiring_manager")
    application = ApplicationFactory(requisition=RequisitionFactory(hiring_manager=manager))
    start = utcnow() - timedelta(hours=3)
    interviews = [
        InterviewFactory(application=application, starts_at=start + timedelta(hours=n))
        for n in range(panel)
    ]
    waiting = select(Notification).where(
        Notification.user_id == manager.id, Notification.type == "loop.completed"
    )
    submit(client, interviews[0])
    assert list(session.scalars(waiting)) == []
    submit(client, interviews[1])
    (note,) = session.scalars(waiting)
    assert (
        note.title.startswith("Decision waiting") and note.path == f"/applications/{application.id}"
    )
