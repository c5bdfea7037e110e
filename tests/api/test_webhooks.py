"""Webhook endpoints over HTTP (admin), safe URLs, and signed deliveries to a real
receiver on loopback (in-process jobs: no REDIS_URL)."""

import json
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.domain.webhooks import verify_signature
from service.outbound import post_json
from service.persistence.base import utcnow
from service.persistence.webhooks import WebhookDelivery
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, UserFactory
from tests.receivers import webhook_receiver


@pytest.fixture
def private_allowed(app):
    """WEBHOOK_ALLOW_PRIVATE=1 for this test: receivers on loopback over http."""
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = replace(settings, webhook_allow_private=True)
    yield
    app.config["SETTINGS"] = settings


@pytest.fixture
def receiver():
    with webhook_receiver() as receiver:
        yield receiver


def register(client, admin, url, events=("*",), **extra):
    return client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": list(events), **extra},
        headers=auth(admin),
    )


def schedule(client, recruiter):
    application, interviewer = ApplicationFactory(), UserFactory(role="interviewer")
    response = client.post(
        f"/api/v1/applications/{application.id}/interviews",
        json={
            "interview_key": "technical_screen",
            "interviewer_id": interviewer.id,
            "starts_at": (utcnow() + timedelta(days=3)).isoformat(),
        },
        headers=auth(recruiter),
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_registering_shows_the_secret_once(client, admin):
    created = register(client, admin, "https://hooks.example.com/hiring")
    assert created.status_code == 201, created.json
    assert created.json["secret"].startswith("whsec_")
    read = client.get(created.headers["Location"], headers=auth(admin))
    assert read.status_code == 200 and "secret" not in read.json
    listed = client.get("/api/v1/webhooks", headers=auth(admin))
    assert "secret" not in listed.json["items"][0]


@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_only_admins_manage_webhooks(client, role):
    user = UserFactory(role=role)
    response = register(client, user, "https://hooks.example.com/hiring")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/hiring",
        "https://127.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/hooks",
        "https://[::1]/hooks",
        "https://user:pw@hooks.example.com/",
        "ftp://hooks.example.com/",
    ],
)
def test_unsafe_urls_are_refused_naming_the_field(client, admin, url):
    response = register(client, admin, url)
    assert response.status_code == 422, response.json
    assert "url" in json.dumps(response.json["errors"])


def test_an_unknown_event_type_is_refused(client, admin):
    response = register(client, admin, "https://hooks.example.com/", events=["interview.eaten"])
    assert response.status_code == 422
    assert "events" in json.dumps(response.json["errors"])


def test_a_name_resolving_to_loopback_is_refused_when_sending():
    result = post_json("http://localhost:9/", b"{}", {}, timeout=2, allow_private=False)
    assert result.status is None and "non-public" in result.error


def test_an_event_arrives_signed_and_verifiable(
    client, session, admin, recruiter, private_allowed, receiver
):
    secret = "a-test-secret-of-some-length"
    created = register(client, admin, receiver.url, events=["interview.scheduled"], secret=secret)
    assert created.status_code == 201, created.json
    interview_id = schedule(client, recruiter)
    assert receiver.wait_for(1)
    (request,) = receiver.requests
    assert request.headers["Hiring-Event"] == "interview.scheduled"
    assert verify_signature(
        secret, request.headers["Hiring-Signature"], request.body, int(time.time())
    )
    assert not verify_signature(
        "wrong", request.headers["Hiring-Signature"], request.body, int(time.time())
    )
    body = json.loads(request.body)
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "interview.scheduled" and body["data"]["interview_id"] == interview_id
    log = client.get(f"/api/v1/webhooks/{created.json['id']}/deliveries", headers=auth(admin))
    (entry,) = log.json["items"]
    assert entry["status"] == "delivered" and entry["response_code"] == 200
    assert entry["delivery_id"] == request.headers["Hiring-Delivery"]
    assert entry["attempts"] == 1


def test_unsubscribed_events_are_not_sent(client, admin, recruiter, private_allowed, receiver):
    register(client, admin, receiver.url, events=["decision.recorded"])
    schedule(client, recruiter)
    assert receiver.requests == []


def test_a_500_is_logged_and_left_for_a_retry(client, session, admin, recruiter, private_allowed):
    with webhook_receiver(statuses=[500]) as receiver:
        created = register(client, admin, receiver.url)
        schedule(client, recruiter)
        assert receiver.wait_for(1)
    (delivery,) = session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == created.json["id"])
    )
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at > utcnow()


def test_ping_and_redeliver_go_to_the_endpoint(client, admin, private_allowed, receiver):
    created = register(client, admin, receiver.url, events=["decision.recorded"])
    ping = client.post(f"/api/v1/webhooks/{created.json['id']}/ping", headers=auth(admin))
    assert ping.status_code == 202, ping.json
    assert receiver.wait_for(1)
    assert receiver.requests[0].headers["Hiring-Event"] == "webhook.ping"
    again = client.post(
        f"/api/v1/webhooks/{created.json['id']}/deliveries/{ping.json['id']}/redeliver",
        headers=auth(admin),
    )
    assert again.status_code == 202, again.json
    assert receiver.wait_for(2)
    ids = {r.headers["Hiring-Delivery"] for r in receiver.requests}
    assert len(ids) == 1  # the same delivery id: a receiver drops the repeat


def test_deleting_an_endpoint_stops_deliveries(client, admin, recruiter, private_allowed, receiver):
    created = register(client, admin, receiver.url)
    assert client.delete(created.headers["Location"], headers=auth(admin)).status_code == 204
    schedule(client, recruiter)
    assert receiver.requests == []
