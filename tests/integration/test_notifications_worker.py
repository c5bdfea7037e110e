"""Webhooks and email through real Redis, a real `python -m workers` process, a real HTTP
receiver and a real SMTP server on loopback: signed, retried after a 500 and after a
refused connection, never sent twice once delivered, and nothing lost while Redis is
down. Reminders under a controlled clock fire once per step and stop after submission."""

import time
from dataclasses import replace
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from service import jobs
from service.domain.webhooks import verify_signature
from service.extensions import db
from service.persistence.base import utcnow
from service.persistence.outbox import OutboxEvent
from service.persistence.users import User
from service.persistence.webhooks import WebhookDelivery
from service.usecases import (
    applications,
    candidates,
    interviews,
    notifications,
    requisitions,
    scorecards,
    webhooks,
)
from service.usecases.reminders import run_reminders
from service.usecases.users import create_user
from tests.integration.conftest import EVIDENCE, start_worker, stop_worker
from tests.integration.test_packet_worker import wait_for
from tests.receivers import free_port, smtp_server, webhook_receiver

WORKER_ENV = {
    "WEBHOOK_ALLOW_PRIVATE": "1",
    "WEBHOOK_RETRY_SECONDS": "1,2,4",
    "OUTBOX_SWEEP_INTERVAL_SECONDS": "1",
    "EMAIL_FROM": "hiring@example.com",
}


@pytest.fixture
def app(live_app):
    live_app.config["SETTINGS"] = replace(
        live_app.config["SETTINGS"],
        webhook_allow_private=True,
        webhook_retry_seconds=(1, 2, 4),
        outbox_sweep_interval_seconds=1,
        email_from="hiring@example.com",
    )
    return live_app


@pytest.fixture
def people(app):
    session = db.session
    admin, _ = create_user(session, "admin@example.com", "Avery", "admin")
    recruiter, _ = create_user(session, "r@example.com", "Riley", "recruiter")
    manager, _ = create_user(session, "m@example.com", "Morgan", "hiring_manager")
    interviewer, _ = create_user(session, "i@example.com", "Indra", "interviewer")
    requisition = requisitions.create_requisition(
        session,
        recruiter,
        {"title": "Backend", "hiring_manager_id": manager.id, "template_key": "backend_engineer"},
    )
    candidate = candidates.create_candidate(session, recruiter, {"name": "Ada", "email": "a@x.org"})
    application = applications.create_application(session, recruiter, candidate.id, requisition.id)
    return {
        "admin": admin,
        "recruiter": recruiter,
        "interviewer": interviewer,
        "application_id": application.id,
    }


def register(app, people, url, secret="integration-secret-0123456789"):
    policy = webhooks.policy_of(app.config["SETTINGS"])
    with db.new_session() as session:
        admin = session.get(User, people["admin"].id)
        endpoint = webhooks.create_endpoint(
            session, admin, policy, url=url, events=["*"], secret=secret
        )
        return endpoint.id, secret


def schedule(people, starts_at=None):
    with db.new_session() as session:
        return interviews.schedule_interview(
            session,
            session.get(User, people["recruiter"].id),
            people["application_id"],
            interview_key="technical_screen",
            interviewer_id=people["interviewer"].id,
            starts_at=starts_at or utcnow() + timedelta(days=1),
        ).id


def deliveries(endpoint_id):
    with db.new_session() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(WebhookDelivery.id)
            )
        )


def test_a_webhook_arrives_signed_is_retried_after_a_500_and_is_not_sent_twice(app, people):
    with webhook_receiver(statuses=[500]) as receiver:
        endpoint_id, secret = register(app, people, receiver.url)
        schedule(people)
        worker = start_worker(app, env=WORKER_ENV)
        try:
            assert receiver.wait_for(2), "no retry after the 500"
            assert wait_for(lambda: deliveries(endpoint_id)[0].status == "delivered")
            # Sweeps run every second; none may send the delivered event again.
            with app.app_context():
                notifications.sweep(db.new_session(), app.config["SETTINGS"])
            time.sleep(3)
        finally:
            output = stop_worker(worker, whole_group=True, timeout=30)
    first, second = receiver.requests
    assert first.headers["Hiring-Delivery"] == second.headers["Hiring-Delivery"]
    assert verify_signature(
        secret, second.headers["Hiring-Signature"], second.body, int(time.time())
    )
    assert len(receiver.requests) == 2, output
    (delivery,) = deliveries(endpoint_id)
    assert (delivery.attempts, delivery.response_code) == (2, 200)


def test_a_webhook_is_retried_after_a_refused_connection(app, people):
    port = free_port()  # nothing listens there yet
    endpoint_id, _ = register(app, people, f"http://127.0.0.1:{port}/hooks")
    schedule(people)
    worker = start_worker(app, env=WORKER_ENV)
    try:
        assert wait_for(lambda: any(d.attempts for d in deliveries(endpoint_id)))
        (refused,) = deliveries(endpoint_id)
        assert refused.response_code is None and "Connection" in refused.error
        with webhook_receiver(port=port) as receiver:
            assert receiver.wait_for(1), "no retry after the refused connection"
            assert wait_for(lambda: deliveries(endpoint_id)[0].status == "delivered")
    finally:
        stop_worker(worker, whole_group=True, timeout=30)
    assert deliveries(endpoint_id)[0].attempts >= 2


def test_an_event_made_while_redis_is_down_is_delivered_once_it_is_back(
    app, people, redis_url, caplog
):
    with webhook_receiver() as receiver:
        endpoint_id, _ = register(app, people, receiver.url)
        jobs.configure("redis://127.0.0.1:1/0")  # nothing listens there
        interview_id = schedule(people)
        assert "could not enqueue workers.jobs.dispatch_events" in caplog.text
        jobs.configure(redis_url)  # back; nobody does anything more
        worker = start_worker(app, env=WORKER_ENV)
        try:
            assert receiver.wait_for(1), "the sweep never delivered the event"
        finally:
            stop_worker(worker, whole_group=True, timeout=30)
    body = receiver.requests[0].body.decode()
    assert f'"interview_id":{interview_id}' in body
    assert deliveries(endpoint_id)[0].status == "delivered"


def test_an_invitation_arrives_by_smtp_and_its_reschedule_updates_the_same_event(app, people):
    with smtp_server(credentials=("mailer", "s3cret")) as inbox:
        env = {**WORKER_ENV, "SMTP_URL": f"smtp://mailer:s3cret@127.0.0.1:{inbox.port}"}
        interview_id = schedule(people)
        worker = start_worker(app, env=env)
        try:
            assert inbox.wait_for(1), "no invitation"
            with db.new_session() as session:
                interviews.update_interview(
                    session,
                    session.get(User, people["recruiter"].id),
                    interview_id,
                    {"starts_at": utcnow() + timedelta(days=2)},
                )
            assert inbox.wait_for(2), "no update"
        finally:
            stop_worker(worker, whole_group=True, timeout=30)
    first, second = inbox.messages
    assert first["To"] == "i@example.com" and first["From"] == "hiring@example.com"
    calendars = [
        next(p for p in m.walk() if p.get_content_type() == "text/calendar").get_content()
        for m in (first, second)
    ]
    uids = [next(line for line in c.splitlines() if line.startswith("UID:")) for c in calendars]
    assert uids[0] == uids[1]
    assert "SEQUENCE:0" in calendars[0] and "SEQUENCE:1" in calendars[1]
    html = next(p for p in first.walk() if p.get_content_type() == "text/html").get_content()
    assert f"/interviews/{interview_id}" in html


def count(type_):
    with db.new_session() as session:
        return session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == type_)
        )


def test_a_reminder_fires_once_per_step_and_stops_after_submission(app, people):
    started = utcnow() - timedelta(hours=2)
    interview_id = schedule(people, starts_at=started)
    ends = started + timedelta(minutes=60)
    with smtp_server() as inbox:
        with time_machine.travel(ends + timedelta(minutes=5), tick=False):
            run_reminders(db.new_session())
            run_reminders(db.new_session())  # a second pass (or a second worker) adds nothing
        assert (count("scorecard.due"), count("scorecard.overdue")) == (1, 0)
        with time_machine.travel(ends + timedelta(hours=25), tick=False):
            run_reminders(db.new_session())
            run_reminders(db.new_session())
        assert (count("scorecard.overdue"), count("scorecard.reminder")) == (1, 1)
        worker = start_worker(
            app, "--burst", env={**WORKER_ENV, "SMTP_URL": f"smtp://127.0.0.1:{inbox.port}"}
        )
        worker.communicate(timeout=120)
        subjects = [m["Subject"] for m in inbox.messages]
    for headline in ("Your scorecard is due:", "Your scorecard is overdue:", "Reminder:"):
        assert sum(s.startswith(headline) for s in subjects) == 1, subjects

    with db.new_session() as session:
        scorecards.submit_scorecard(
            session,
            session.get(User, people["interviewer"].id),
            interview_id,
            {
                "ratings": [
                    {"competency": c, "score": 3, "evidence": EVIDENCE}
                    for c in ("coding", "problem_solving")
                ],
                "recommendation": "yes",
            },
        )
    with time_machine.travel(ends + timedelta(hours=49), tick=False):
        run_reminders(db.new_session())
    assert count("scorecard.reminder") == 1, "a reminder after the scorecard was submitted"
