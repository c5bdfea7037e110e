"""RQ job functions: take ids, run a use case in a session of their own, raise on failure.

A database or Redis hiccup is raised as it is, so RQ retries with back-off; any
other error is a data or template problem that will not fix itself, so the job
tells RQ not to retry, after the use case has recorded the message.
"""

from __future__ import annotations

from flask import current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import get_current_job
from sqlalchemy.exc import InterfaceError, OperationalError

from service import jobs
from service.extensions import db, packet_storage
from service.mail.transport import transport_for
from service.outbound import PostResult, post_json
from service.pdf.document import render_packet_document
from service.storage import StorageUnavailableError
from service.usecases import (
    calibration,
    data_protection,
    interviewer_reports,
    notifications,
    packets,
    reminders,
    reports,
    webhooks,
)
from service.usecases.outbox import DISPATCH_JOB

TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    TimeoutError,
    StorageUnavailableError,
)


def refresh_calibration(full: bool = False) -> int | None:
    """Refit interviewer calibration from every submitted rating; returns the run id."""
    with db.new_session() as session:
        run = calibration.refit_calibration(
            session, full=full, model=current_app.config["SETTINGS"].calibration_model
        )
        return run.id if run else None


def refresh_adverse_impact_snapshot(min_applicants: int, min_selections: int) -> str:
    """Recompute the every-requisition adverse-impact snapshot a stale page view found;
    returns when its computation began."""
    with db.new_session() as session:
        snapshot = reports.refresh_adverse_impact_snapshot(
            session, min_applicants=min_applicants, min_selections=min_selections
        )
        return snapshot.computed_at.isoformat()


def refresh_interviewers_snapshot() -> str:
    """Recompute the interviewers snapshot a stale calibration page view found; returns
    when its computation began."""
    with db.new_session() as session:
        return interviewer_reports.refresh_interviewers_snapshot(session).computed_at.isoformat()


def render_packet(packet_id: int) -> str | None:
    """Render one packet to PDF and store it; returns its sha256."""
    with db.new_session() as session:
        try:
            packet = packets.render_packet(
                session,
                packet_storage(),
                packet_id,
                render_packet_document,
                lease_seconds=_settings().packet_render_lease_seconds,
            )
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            _do_not_retry()
            raise
        return packet.sha256


def prepare_packets(application_id: int) -> list[int]:
    """Make the application's packet ahead of a request once its loop is complete (the
    render itself is a `render_packet` job); returns the ids of the packets made."""
    with db.new_session() as session:
        try:
            made = packets.prepare_packets(session, application_id)
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            _do_not_retry()
            raise
        return [p.id for p in made]


def reap_abandoned_packets() -> int:
    """Retry or fail packets whose render outlived its lease; returns how many it handled."""
    with db.new_session() as session:
        return packets.reap_abandoned(
            session, current_app.config["SETTINGS"].packet_render_lease_seconds
        )


def run_retention() -> int:
    """Erase the candidates the retention policy makes due; returns how many."""
    days = current_app.config["SETTINGS"].retention_days
    if days <= 0:
        return 0
    with db.new_session() as session:
        return len(data_protection.run_retention(session, packet_storage(), days))


def dispatch_events() -> int:
    """Fan out pending outbox events (webhook deliveries, notifications, emails)."""
    jobs.coalesced_job_started(DISPATCH_JOB)  # a commit from now on asks for the next run
    with db.new_session() as session:
        return notifications.dispatch_events(session, _settings())


def sweep_outbox() -> dict[str, int]:
    """What a lost Redis dropped: undispatched events, deliveries and emails never sent."""
    with db.new_session() as session:
        return notifications.sweep(session, _settings())


class WebhookDeliveryFailedError(Exception):
    """Raised so RQ retries the delivery after its back-off."""


def deliver_webhook(delivery_id: int) -> str:
    """Post one signed webhook delivery; raises while it should be tried again."""
    settings = _settings()
    policy = webhooks.policy_of(settings)

    def post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
        return post_json(
            url,
            body,
            headers,
            timeout=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private,
        )

    with db.new_session() as session:
        outcome = webhooks.deliver(session, delivery_id, policy, post)
    if outcome == "failed":
        _do_not_retry()
    if outcome in ("retry", "failed"):
        raise WebhookDeliveryFailedError(f"webhook delivery {delivery_id}: {outcome}")
    return outcome


def send_email(message_id: int) -> bool:
    """Send one stored email over SMTP (or write it to the log and instance/outbox/)."""
    settings = _settings()
    transport = transport_for(settings.smtp_url, current_app.instance_path)
    with db.new_session() as session:
        return notifications.send_email(session, message_id, transport, settings.email_from)


def run_reminders() -> dict[str, int]:
    """Announce owed scorecards' due steps and applications past their target, once each."""
    with db.new_session() as session:
        return reminders.run_reminders(session)


def send_digests() -> int:
    """The daily digest emails."""
    with db.new_session() as session:
        return notifications.send_digests(session, _settings())


def _settings():
    return current_app.config["SETTINGS"]


def _do_not_retry() -> None:
    job = get_current_job()
    if job is not None:
        job.retries_left = None
