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

from service.extensions import db, packet_storage
from service.pdf.document import render_packet_document
from service.usecases import calibration, data_protection, packets

TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    TimeoutError,
)


def refresh_calibration(full: bool = False) -> int | None:
    """Refit interviewer calibration from every submitted rating; returns the run id."""
    with db.new_session() as session:
        run = calibration.refit_calibration(
            session, full=full, model=current_app.config["SETTINGS"].calibration_model
        )
        return run.id if run else None


def render_packet(packet_id: int) -> str | None:
    """Render one packet to PDF and store it; returns its sha256."""
    with db.new_session() as session:
        try:
            packet = packets.render_packet(
                session, packet_storage(), packet_id, render_packet_document
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


def _do_not_retry() -> None:
    job = get_current_job()
    if job is not None:
        job.retries_left = None
