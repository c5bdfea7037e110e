"""The one place that enqueues background jobs.

Jobs are named by dotted path, so the service never imports `workers`. With a
Redis URL they go to RQ workers; without one they run in-process through RQ's
synchronous mode (on an in-memory Redis), with the same contract.
Enqueueing waits for the current transaction to commit, so a fast worker never
looks for a row that is not there yet.
A job carries the id of the request that enqueued it (`job.meta["request_id"]`),
so its log lines in the worker can be found from the request.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.observability import bound_request_id, current_request_id

log = logging.getLogger(__name__)

# A worker serves them in this order: packets first (a hiring manager may be waiting for
# one), then the default queue (calibration refits, retention, the packet reaper). Events
# (outbox dispatch, webhooks, email) have a queue of their own, so a burst of them never
# delays a packet or a calibration refit.
QUEUE_NAMES = ("packets", "default", "events")


def init_app(app: Flask, redis_url: str | None) -> None:
    """Give `app` its queues (`app.extensions["jobs"]`); no connection is opened until a
    job is enqueued."""
    app.extensions["jobs"] = make_queues(redis_url)


def configure(redis_url: str | None) -> None:
    """Point the current app's queues at `redis_url` (tests simulate Redis going away).

    Outside an app context there is nothing to point: each app holds its own queues.
    """
    if has_app_context():
        current_app.extensions["jobs"] = make_queues(redis_url)


def make_queues(redis_url: str | None) -> dict[str, Queue]:
    """RQ queues on Redis at `redis_url`, or synchronous ones on an in-memory Redis."""
    if redis_url:
        connection: Redis = Redis.from_url(redis_url)
        log.info("background jobs go to RQ workers on Redis")
        return {name: Queue(name, connection=connection) for name in QUEUE_NAMES}
    import fakeredis  # only without Redis: a deployment with workers never loads it

    connection = fakeredis.FakeStrictRedis()
    log.info("no REDIS_URL: background jobs run in-process (RQ synchronous mode)")
    return {name: Queue(name, is_async=False, connection=connection) for name in QUEUE_NAMES}


def queue(name: str = "default") -> Queue:
    """The current app's queue called `name`."""
    queues: dict[str, Queue] = current_app.extensions["jobs"]
    return queues[name]


def enqueue(
    function: str,
    *args: Any,
    queue_name: str = "default",
    job_id: str | None = None,
    **options: Any,
) -> Job | None:
    """Enqueue now. A job id that is already waiting is not enqueued twice."""
    target = queue(queue_name)
    if job_id and target.is_async and _waiting(target, job_id):
        return None
    request_id = current_request_id()
    if request_id is not None:
        options["meta"] = {**(options.get("meta") or {}), "request_id": request_id}
    job = target.enqueue(function, *args, job_id=job_id, **options)
    if not target.is_async and job.get_status() == JobStatus.FAILED:
        # RQ's synchronous mode records the failure but does not raise it.
        result = job.latest_result()
        exc_string = result.exc_string if result is not None else None
        log.error("in-process job %s failed:\n%s", function, exc_string)
    return job


def transient_retry() -> Retry:
    """Retries with back-off, for a database or Redis hiccup; jobs stop them for real errors."""
    return Retry(max=3, interval=[2, 10, 30])


def enqueue_after_commit(session: Session, function: str, *args: Any, **options: Any) -> None:
    """Enqueue once `session` commits; nothing is enqueued if it rolls back.

    The commit has happened by then, so an unreachable Redis must not turn the
    request into an error: the failure is logged, and the row that asked for the
    job stays as it is for a reaper (or a retry by the user) to enqueue again.
    A commit outside any app (a script or test calling use cases on a bare session)
    has no queues: nothing is enqueued, and the row waits in the same way.
    """

    request_id = current_request_id()  # the request that asked, wherever the commit happens

    def after_commit(_: Session) -> None:
        if not has_app_context():
            log.info("no app to enqueue %s in; it is left for the periodic sweep", function)
            return
        try:
            with bound_request_id(request_id):
                enqueue(function, *args, **options)
        except RedisError:
            log.exception("could not enqueue %s; it will be enqueued again later", function)

    event.listen(session, "after_commit", after_commit, once=True)


PREPARE_PACKETS_JOB = "workers.jobs.prepare_packets"


def prepare_packets_after_commit(session: Session, application_id: int) -> None:
    """Once this change commits, have the application's packet made and rendered ahead of
    any request (`usecases.packets.prepare_packets` decides whether its loop is complete).
    The scorecard, decision and calibration use cases call it; one such job per
    application waits at a time, on the default queue behind the calibration refresh the
    same change enqueued (the render itself goes to the packets queue)."""
    enqueue_after_commit(
        session,
        PREPARE_PACKETS_JOB,
        application_id,
        job_id=f"prepare-packets-{application_id}",
        retry=transient_retry(),
    )


def queue_depths() -> dict[str, int]:
    """Jobs waiting per RQ queue; empty when jobs run in-process. Raises RedisError."""
    queues: dict[str, Queue] = current_app.extensions["jobs"]
    return {name: target.count for name, target in queues.items() if target.is_async}


def failed_job_counts() -> dict[str, int]:
    """Jobs in each RQ queue's failed registry; empty in-process. Raises RedisError."""
    queues: dict[str, Queue] = current_app.extensions["jobs"]
    return {
        name: target.failed_job_registry.count for name, target in queues.items() if target.is_async
    }


def _waiting(target: Queue, job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=target.connection).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
