"""`/healthz`, `/readyz` and `/metrics`: outside /api/v1, so no API token is asked.

They are not in the OpenAPI document (a plain Flask blueprint): they are for
the platform, not for API clients.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from service import jobs
from service.domain.errors import AuthenticationError
from service.extensions import db
from service.http.errors import problem
from service.http.ops import readiness
from service.observability import metrics_page
from service.persistence.outbox import undispatched_count
from service.persistence.packets import packet_counts_by_status

log = logging.getLogger(__name__)

blp = Blueprint("ops", __name__)


@blp.after_request
def _never_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/healthz")
def healthz():
    """Liveness: the process answers. Touches neither the database nor Redis."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz():
    """Readiness: the database and Redis answer and migrations are at head; 503 otherwise."""
    checks = readiness.run_checks(current_app.config["SETTINGS"].redis_url)
    failing = readiness.failing(checks)
    if failing:
        detail = "Not ready: " + "; ".join(
            f"{name}: {check['detail']}" for name, check in failing.items()
        )
        return problem(503, "Not ready", detail, extra={"checks": checks})
    return {"status": "ready", "checks": checks}


@blp.get("/metrics")
def metrics():
    """Prometheus metrics of every process, with queue depth and packets read now."""
    _require_metrics_token()
    page = metrics_page(_queue_depths(), _packet_counts(), _failed_jobs(), _outbox_backlog())
    return Response(page, content_type=CONTENT_TYPE_LATEST)


def _require_metrics_token() -> None:
    expected = current_app.config["SETTINGS"].metrics_token
    if expected is None:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise AuthenticationError("Send the metrics token as 'Authorization: Bearer <token>'.")


def _queue_depths() -> dict[str, int]:
    try:
        return jobs.queue_depths()
    except RedisError as error:  # the other metrics are still worth a scrape
        log.warning("metrics: no queue depth, Redis is unreachable: %s", error)
        return {}


def _failed_jobs() -> dict[str, int]:
    try:
        return jobs.failed_job_counts()
    except RedisError as error:
        log.warning("metrics: no failed-job counts, Redis is unreachable: %s", error)
        return {}


def _outbox_backlog() -> int | None:
    try:
        return undispatched_count(db.session)
    except SQLAlchemyError as error:
        log.warning("metrics: no outbox backlog, the database is unreachable: %s", error)
        return None


def _packet_counts() -> dict[str, int]:
    try:
        return packet_counts_by_status(db.session)
    except SQLAlchemyError as error:
        log.warning("metrics: no packet counts, the database is unreachable: %s", error)
        return {}
