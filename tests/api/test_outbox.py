"""Events are stored with the change that causes them and fanned out after the commit
(in-process here: no REDIS_URL); a refused change stores none."""

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select

from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.notifications import EmailMessage, Notification
from service.persistence.outbox import OutboxEvent
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, UserFactory

STARTS = (utcnow() + timedelta(days=2)).replace(microsecond=0)


def schedule(client, recruiter, application, interviewer, starts_at=STARTS):
    return client.post(
        f"/api/v1/applications/{application.id}/interviews",
        json={
            "interview_key": "technical_screen",
            "interviewer_id": interviewer.id,
            "starts_at": starts_at.isoformat(),
        },
        headers=auth(recruiter),
    )


def events(session, type_=None):
    stmt = select(OutboxEvent).order_by(OutboxEvent.id)
    if type_:
        stmt = stmt.where(OutboxEvent.type == type_)
    return list(session.scalars(stmt))


def test_scheduling_stores_one_event_with_ids_and_no_candidate_data(client, session, recruiter):
    application, interviewer = ApplicationFactory(), UserFactory(role="interviewer")
    response = schedule(client, recruiter, application, interviewer)
    assert response.status_code == 201, response.json
    (event,) = events(session, "interview.scheduled")
    assert event.data["interview_id"] == response.json["id"]
    assert event.data["interviewer_id"] == interviewer.id
    assert application.candidate.name not in str(event.data)
    assert event.public_id.startswith("evt_")


def test_a_refused_change_stores_no_event(client, session, recruiter):
    interviewer = UserFactory(role="interviewer")
    InterviewFactory(interviewer=interviewer, starts_at=STARTS)
    before = len(events(session))
    response = schedule(client, recruiter, ApplicationFactory(), interviewer)
    assert response.status_code == 409
    assert len(events(session)) == before


def test_after_the_commit_the_event_is_dispatched_to_the_interviewer(client, session, recruiter):
    interviewer = UserFactory(role="interviewer")
    interview_id = schedule(client, recruiter, ApplicationFactory(), interviewer).json["id"]
    (event,) = events(session, "interview.scheduled")
    session.refresh(event)
    assert event.dispatched_at is not None
    (note,) = session.scalars(select(Notification).where(Notification.user_id == interviewer.id))
    assert note.path == f"/interviews/{interview_id}"
    (email,) = session.scalars(select(EmailMessage).where(EmailMessage.user_id == interviewer.id))
    assert email.status == "sent" and "METHOD:REQUEST" in email.calendar


def test_without_smtp_the_email_is_written_to_the_instance_outbox(client, session, app, recruiter):
    interviewer = UserFactory(role="interviewer")
    interview_id = schedule(client, recruiter, ApplicationFactory(), interviewer).json["id"]
    (email,) = session.scalars(select(EmailMessage).where(EmailMessage.user_id == interviewer.id))
    written = Path(app.instance_path) / "outbox" / f"{email.id:08d}.eml"
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"] == interviewer.email
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= kinds
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    assert f"http://127.0.0.1:8000/interviews/{interview_id}" in text.get_content()


def test_rescheduling_raises_the_calendar_sequence_and_says_rescheduled(client, session, recruiter):
    interviewer = UserFactory(role="interviewer")
    interview_id = schedule(client, recruiter, ApplicationFactory(), interviewer).json["id"]
    moved = client.patch(
        f"/api/v1/interviews/{interview_id}",
        json={"starts_at": (STARTS + timedelta(hours=3)).isoformat()},
        headers=auth(recruiter),
    )
    assert moved.status_code == 200, moved.json
    assert session.get(Interview, interview_id).calendar_sequence == 1
    (event,) = events(session, "interview.rescheduled")
    assert event.data["previous_starts_at"] == STARTS.isoformat()


def test_reassigning_invites_the_new_interviewer_and_cancels_for_the_old(
    client, session, recruiter
):
    old, new = UserFactory(role="interviewer"), UserFactory(role="interviewer")
    interview_id = schedule(client, recruiter, ApplicationFactory(), old).json["id"]
    response = client.patch(
        f"/api/v1/interviews/{interview_id}",
        json={"interviewer_id": new.id},
        headers=auth(recruiter),
    )
    assert response.status_code == 200, response.json
    calendars = {
        m.user_id: m.calendar
        for m in session.scalars(select(EmailMessage).order_by(EmailMessage.id))
    }
    assert "METHOD:REQUEST" in calendars[new.id] and "SEQUENCE:1" in calendars[new.id]
    assert "METHOD:CANCEL" in calendars[old.id]


def test_calendar_ics_has_one_uid_and_cancel_after_cancellation(client, recruiter):
    interviewer = UserFactory(role="interviewer")
    interview_id = schedule(client, recruiter, ApplicationFactory(), interviewer).json["id"]
    first = client.get(f"/api/v1/interviews/{interview_id}/calendar.ics", headers=auth(recruiter))
    assert first.status_code == 200 and first.mimetype == "text/calendar"
    assert "METHOD:REQUEST" in first.text and "SEQUENCE:0" in first.text
    cancelled = client.post(
        f"/api/v1/interviews/{interview_id}/cancel",
        json={"reason": "candidate asked to move it"},
        headers=auth(recruiter),
    )
    assert cancelled.status_code == 200, cancelled.json
    second = client.get(f"/api/v1/interviews/{interview_id}/calendar.ics", headers=auth(recruiter))
    uid = next(line for line in first.text.splitlines() if line.startswith("UID:"))
    assert uid in second.text
    assert "METHOD:CANCEL" in second.text and "SEQUENCE:1" in second.text


def test_calendar_of_an_interview_you_cannot_see_is_404(client, recruiter):
    interview = InterviewFactory()
    stranger = UserFactory(role="interviewer")
    response = client.get(f"/api/v1/interviews/{interview.id}/calendar.ics", headers=auth(stranger))
    assert response.status_code == 404


def test_application_moves_and_decisions_are_events(client, session, recruiter):
    application = ApplicationFactory()
    template = application.requisition.template_version.template()
    to_stage = template.allowed_moves(application.stage)[0]
    response = client.post(
        f"/api/v1/applications/{application.id}/moves",
        json={"from_stage": application.stage, "to_stage": to_stage, "reason": "strong CV"},
        headers=auth(recruiter),
    )
    assert response.status_code == 200, response.json
    (event,) = events(session, "application.moved")
    assert event.data == {
        "application_id": application.id,
        "requisition_id": application.requisition_id,
        "candidate_id": application.candidate_id,
        "from_stage": template.first_stage.key,
        "stage": to_stage,
        "status": "active",
    }
