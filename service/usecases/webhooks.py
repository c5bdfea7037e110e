"""Webhooks: admins register endpoints; each event becomes one delivery per subscribed
endpoint, posted signed by a job, retried with back-off, logged, and an endpoint that
keeps failing is disabled (and the admins told, by a `webhook.disabled` event)."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rq import Retry
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service import jobs
from service.domain.access import Viewer, require
from service.domain.errors import NotFoundError, RuleViolationError
from service.domain.webhooks import (
    SUBSCRIBABLE,
    check_endpoint_url,
    signature_header,
    standard_signature,
)
from service.outbound import PostResult
from service.persistence.audit import record_event
from service.persistence.base import snapshot, utcnow
from service.persistence.outbox import OutboxEvent, new_public_id
from service.persistence.paging import Page, paginate
from service.persistence.webhooks import (
    WebhookDelivery,
    WebhookEndpoint,
    deliveries_due,
    receiving_endpoints,
)
from service.usecases.outbox import EVENTS_QUEUE, emit_event

DELIVER_JOB = "workers.jobs.deliver_webhook"
# A sender holds a delivery this much longer than its time limit before another may.
LOCK_MARGIN_SECONDS = 30
NOT_AUDITED = frozenset({"secret"})


@dataclass(frozen=True)
class WebhookPolicy:
    """The settings a delivery follows (from `Settings`)."""

    allow_private: bool
    retry_seconds: tuple[int, ...]
    disable_after: int
    timeout_seconds: int

    @property
    def max_attempts(self) -> int:
        return len(self.retry_seconds) + 1


def create_endpoint(
    session: Session,
    actor: Viewer,
    policy: WebhookPolicy,
    *,
    url: str,
    events: list[str],
    secret: str | None = None,
    description: str = "",
) -> WebhookEndpoint:
    """Register an endpoint; its `secret` (generated when not given) is shown this once.
    Raises PermissionDeniedError, RuleViolationError (URL, event types)."""
    require(actor.role, "webhooks:manage")
    check_endpoint_url(url, policy.allow_private)
    secret = secret or "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    endpoint = WebhookEndpoint(
        url=url,
        events=_checked_events(events),
        secret=secret,
        description=description,
        created_by_id=actor.id,
    )
    session.add(endpoint)
    session.flush()
    record_event(
        session, actor.id, "webhook.created", "webhook", endpoint.id, after=_audited(endpoint)
    )
    session.commit()
    return endpoint


def list_endpoints(
    session: Session, actor: Viewer, *, cursor: str | None = None, limit: int = 50
) -> Page:
    require(actor.role, "webhooks:manage")
    return paginate(session, select(WebhookEndpoint), WebhookEndpoint.id, cursor, limit)


def get_endpoint(session: Session, actor: Viewer, endpoint_id: int) -> WebhookEndpoint:
    require(actor.role, "webhooks:manage")
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFoundError(f"Webhook endpoint {endpoint_id} does not exist.")
    return endpoint


def update_endpoint(
    session: Session,
    actor: Viewer,
    policy: WebhookPolicy,
    endpoint_id: int,
    changes: dict[str, Any],
) -> WebhookEndpoint:
    """Change the URL, events, description or secret; `active: true` re-enables a
    disabled endpoint (its failure count starts again)."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    before = _audited(endpoint)
    if "url" in changes:
        check_endpoint_url(changes["url"], policy.allow_private)
        endpoint.url = changes["url"]
    if "events" in changes:
        endpoint.events = _checked_events(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "secret" in changes:
        endpoint.secret = changes["secret"]
    if "active" in changes:
        endpoint.active = changes["active"]
        if endpoint.active:
            endpoint.consecutive_failures, endpoint.disabled_reason = 0, ""
    session.flush()
    record_event(
        session,
        actor.id,
        "webhook.updated",
        "webhook",
        endpoint.id,
        before=before,
        after=_audited(endpoint),
    )
    session.commit()
    return endpoint


def delete_endpoint(session: Session, actor: Viewer, endpoint_id: int) -> None:
    """Remove the endpoint and its delivery log."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    before = _audited(endpoint)
    for delivery in session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    ):
        session.delete(delivery)
    session.delete(endpoint)
    record_event(session, actor.id, "webhook.deleted", "webhook", endpoint_id, before=before)
    session.commit()


def ping(
    session: Session, actor: Viewer, policy: WebhookPolicy, endpoint_id: int
) -> WebhookDelivery:
    """Send a `webhook.ping` to this endpoint only (even a disabled one), through the
    same delivery path as every event."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    event = OutboxEvent(
        public_id=new_public_id("evt"),
        type="webhook.ping",
        data={"webhook_id": endpoint.id},
        dispatched_at=utcnow(),  # it goes to this endpoint only, not through the dispatcher
    )
    session.add(event)
    session.flush()
    delivery = _new_delivery(session, event, endpoint)
    record_event(session, actor.id, "webhook.pinged", "webhook", endpoint.id)
    enqueue_delivery(session, delivery, policy)
    session.commit()
    return delivery


def list_deliveries(
    session: Session,
    actor: Viewer,
    endpoint_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The endpoint's delivery log, oldest first."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    return paginate(session, stmt, WebhookDelivery.id, cursor, limit)


def redeliver(
    session: Session, actor: Viewer, policy: WebhookPolicy, endpoint_id: int, delivery_id: int
) -> WebhookDelivery:
    """Send a delivery again (same delivery id, so a receiver that has it can drop it)."""
    endpoint = get_endpoint(session, actor, endpoint_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFoundError(f"Endpoint {endpoint.id} has no delivery {delivery_id}.")
    delivery.status, delivery.attempts, delivery.error = "pending", 0, ""
    delivery.locked_until, delivery.next_attempt_at = None, utcnow()
    record_event(
        session,
        actor.id,
        "webhook.redelivered",
        "webhook",
        endpoint.id,
        after={"delivery_id": delivery.id},
    )
    enqueue_delivery(session, delivery, policy)
    session.commit()
    return delivery


# -- the dispatcher's and the job's side ----------------------------------------------


def add_deliveries(session: Session, event: OutboxEvent) -> list[WebhookDelivery]:
    """One pending delivery per active endpoint subscribed to the event's type."""
    return [_new_delivery(session, event, e) for e in receiving_endpoints(session, event.type)]


def enqueue_delivery(session: Session, delivery: WebhookDelivery, policy: WebhookPolicy) -> None:
    """After the commit; one job id per delivery, so a waiting or scheduled retry is not
    enqueued a second time."""
    jobs.enqueue_after_commit(
        session,
        DELIVER_JOB,
        delivery.id,
        queue_name=EVENTS_QUEUE,
        job_id=f"webhook-delivery-{delivery.id}",
        retry=Retry(max=len(policy.retry_seconds), interval=list(policy.retry_seconds)),
        job_timeout=policy.timeout_seconds + LOCK_MARGIN_SECONDS,
    )


def deliver(
    session: Session,
    delivery_id: int,
    policy: WebhookPolicy,
    post: Callable[[str, bytes, dict[str, str]], PostResult],
) -> str:
    """Post one delivery (the job's work). Returns "delivered", "retry" (the job raises
    so RQ retries it after its back-off), "failed" (no more attempts) or "skipped"
    (delivered already, or another sender holds it)."""
    now = utcnow()
    claimed = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
        )
        .values(locked_until=now + timedelta(seconds=policy.timeout_seconds + LOCK_MARGIN_SECONDS))
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return "skipped"
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    assert delivery is not None
    body, headers = signed_request(delivery)
    result = post(delivery.endpoint.url, body, headers)
    return _record_attempt(session, delivery, result, policy)


def signed_request(delivery: WebhookDelivery) -> tuple[bytes, dict[str, str]]:
    """The JSON body and headers of a delivery, signed at this moment."""
    event = delivery.event
    body = json.dumps(
        {
            "id": event.public_id,
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    timestamp = int(utcnow().timestamp())
    secret = delivery.endpoint.secret
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "hiring-pipeline-webhooks/1",
        "Hiring-Event": event.type,
        "Hiring-Delivery": delivery.public_id,
        "Hiring-Signature": signature_header(secret, timestamp, body),
        "webhook-id": delivery.public_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, delivery.public_id, timestamp, body),
    }


def sweep_deliveries(session: Session, policy: WebhookPolicy, grace_seconds: int) -> int:
    """Enqueue pending deliveries whose job was lost (Redis away when they were made, or a
    retry that never came back) once their next attempt is `grace_seconds` overdue."""
    due = deliveries_due(session, utcnow() - timedelta(seconds=grace_seconds), limit=500)
    for delivery in due:
        enqueue_delivery(session, delivery, policy)
    session.commit()
    return len(due)


def _record_attempt(
    session: Session, delivery: WebhookDelivery, result: PostResult, policy: WebhookPolicy
) -> str:
    now = utcnow()
    delivery.attempts += 1
    delivery.response_code, delivery.error = result.status, result.error[:2000]
    delivery.duration_ms, delivery.last_attempt_at, delivery.locked_until = (
        result.duration_ms,
        now,
        None,
    )
    endpoint = delivery.endpoint
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        endpoint.consecutive_failures = 0
        outcome = "delivered"
    elif delivery.attempts < policy.max_attempts:
        delivery.next_attempt_at = now + timedelta(
            seconds=policy.retry_seconds[delivery.attempts - 1]
        )
        outcome = "retry"
    else:
        delivery.status, delivery.next_attempt_at = "failed", None
        endpoint.consecutive_failures += 1
        if endpoint.active and endpoint.consecutive_failures >= policy.disable_after:
            _disable(session, endpoint, delivery)
        outcome = "failed"
    session.commit()
    return outcome


def _disable(session: Session, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    endpoint.active = False
    endpoint.disabled_reason = (
        f"{endpoint.consecutive_failures} deliveries in a row failed after every retry; "
        f"the last: {delivery.error or delivery.response_code}"
    )
    record_event(
        session, None, "webhook.disabled", "webhook", endpoint.id, reason=endpoint.disabled_reason
    )
    emit_event(
        session,
        "webhook.disabled",
        {"webhook_id": endpoint.id, "url": endpoint.url, "reason": endpoint.disabled_reason},
    )


def _new_delivery(
    session: Session, event: OutboxEvent, endpoint: WebhookEndpoint
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        public_id=new_public_id("dlv"),
        event_id=event.id,
        endpoint_id=endpoint.id,
        next_attempt_at=utcnow(),
    )
    session.add(delivery)
    session.flush()
    return delivery


def _checked_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e != "*" and e not in SUBSCRIBABLE]
    if unknown or not events:
        raise RuleViolationError(
            f"Unknown event types: {', '.join(unknown)}."
            if unknown
            else "List at least one event type.",
            errors={"events": 'use "*" or any of: ' + ", ".join(SUBSCRIBABLE)},
        )
    return sorted(set(events))


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return snapshot(endpoint, exclude=NOT_AUDITED)


def policy_of(settings: Any) -> WebhookPolicy:
    """The delivery policy from the service's `Settings`."""
    return WebhookPolicy(
        allow_private=settings.webhook_allow_private,
        retry_seconds=settings.webhook_retry_seconds,
        disable_after=settings.webhook_disable_after,
        timeout_seconds=settings.webhook_timeout_seconds,
    )
