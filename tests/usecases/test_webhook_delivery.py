"""Webhook delivery through the use cases with a stand-in for the network: the claim,
retries counted against the policy, and an endpoint disabled (admins told) after
repeated failures."""

import pytest
from sqlalchemy import select

from service.domain.errors import PermissionDeniedError, RuleViolationError
from service.outbound import PostResult
from service.persistence.notifications import EmailMessage, Notification
from service.persistence.outbox import OutboxEvent
from service.persistence.webhooks import WebhookDelivery
from service.usecases import notifications, webhooks
from service.usecases.outbox import emit_event
from tests.factories import UserFactory

POLICY = webhooks.WebhookPolicy(
    allow_private=False, retry_seconds=(1, 2), disable_after=2, timeout_seconds=5
)


pytestmark = pytest.mark.usefixtures("in_app")


def answering(*statuses):
    calls = []

    def post(url, body, headers):
        calls.append(headers["Hiring-Delivery"])
        status = statuses[min(len(calls), len(statuses)) - 1]
        return PostResult(status, "" if status == 200 else f"answered {status}", 3)

    post.calls = calls
    return post


def a_delivery(session):
    admin = UserFactory(role="admin")
    endpoint = webhooks.create_endpoint(
        session, admin, POLICY, url="https://hooks.example.com/h", events=["*"]
    )
    event = emit_event(session, "decision.recorded", {"application_id": 1})
    session.flush()
    (delivery,) = webhooks.add_deliveries(session, event)
    event.dispatched_at = event.created_at
    session.commit()
    return endpoint, delivery


def test_a_delivered_delivery_is_not_posted_again(session):
    _, delivery = a_delivery(session)
    post = answering(200)
    assert webhooks.deliver(session, delivery.id, POLICY, post) == "delivered"
    assert webhooks.deliver(session, delivery.id, POLICY, post) == "skipped"
    assert len(post.calls) == 1


def test_a_delivery_another_sender_holds_is_skipped(session):
    _, delivery = a_delivery(session)
    held = answering(200)

    def post_while_held(url, body, headers):
        # A second sender (the sweep, a duplicate job) arrives during the first's post.
        assert webhooks.deliver(session, delivery.id, POLICY, held) == "skipped"
        return PostResult(200, "", 1)

    assert webhooks.deliver(session, delivery.id, POLICY, post_while_held) == "delivered"
    assert held.calls == []


def test_failures_are_retried_until_the_policy_runs_out(session):
    _, delivery = a_delivery(session)
    post = answering(503)
    outcomes = [webhooks.deliver(session, delivery.id, POLICY, post) for _ in range(3)]
    session.expire_all()
    for _ in range(3):
        session.get(WebhookDelivery, delivery.id).locked_until = None
    assert outcomes == ["retry", "retry", "failed"]
    assert session.get(WebhookDelivery, delivery.id).status == "failed"


def test_repeated_failures_disable_the_endpoint_and_tell_the_admins(session):
    endpoint, first = a_delivery(session)
    for delivery in (first, a_second_delivery(session, endpoint)):
        for _ in range(POLICY.max_attempts):
            webhooks.deliver(session, delivery.id, POLICY, answering(500))
    session.refresh(endpoint)
    assert not endpoint.active and "2 deliveries in a row failed" in endpoint.disabled_reason
    told = session.scalars(select(Notification).where(Notification.type == "webhook.disabled"))
    assert [n.user_id for n in told] == [endpoint.created_by_id]


def a_second_delivery(session, endpoint):
    event = emit_event(session, "decision.changed", {"application_id": 1})
    session.flush()
    (delivery,) = webhooks.add_deliveries(session, event)
    event.dispatched_at = event.created_at
    session.commit()
    return delivery


def test_a_disabled_endpoint_receives_no_new_deliveries(session):
    endpoint, _ = a_delivery(session)
    endpoint.active = False
    session.commit()
    event = emit_event(session, "decision.changed", {"application_id": 1})
    session.flush()
    assert webhooks.add_deliveries(session, event) == []


def test_only_admins_register_and_urls_are_checked(session):
    with pytest.raises(PermissionDeniedError):
        webhooks.create_endpoint(
            session,
            UserFactory(role="recruiter"),
            POLICY,
            url="https://h.example.com/",
            events=["*"],
        )
    with pytest.raises(RuleViolationError):
        webhooks.create_endpoint(
            session, UserFactory(role="admin"), POLICY, url="https://127.0.0.1/", events=["*"]
        )


def test_every_event_is_dispatched_once_even_when_dispatched_twice(session, app):
    emit_event(session, "decision.recorded", {"application_id": 1})
    session.commit()  # in-process: dispatched at once
    settings = app.config["SETTINGS"]
    assert notifications.dispatch_events(session, settings) == 0
    pending = session.scalars(select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)))
    assert list(pending) == []


def test_each_commit_of_one_session_that_emits_gets_its_dispatch(session):
    for number in range(3):
        emit_event(session, "decision.recorded", {"application_id": number})
        session.commit()
        pending = session.scalars(select(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None)))
        assert list(pending) == [], f"commit {number} was not dispatched"


class BrokenTransport:
    def send(self, message, message_id):
        raise ConnectionRefusedError("no SMTP server")


def test_an_email_that_keeps_failing_is_given_up_after_its_attempts(session):
    message = EmailMessage(
        to_address="x@example.com", subject="s", text_body="t", html_body="<p>t</p>"
    )
    session.add(message)
    session.commit()
    for _ in range(notifications.MAX_EMAIL_ATTEMPTS):
        with pytest.raises(ConnectionRefusedError):
            notifications.send_email(session, message.id, BrokenTransport(), "h@example.com")
    assert (message.status, message.attempts) == ("failed", notifications.MAX_EMAIL_ATTEMPTS)
    assert "no SMTP server" in message.error
    assert (
        notifications.send_email(session, message.id, BrokenTransport(), "h@example.com") is False
    )
