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
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

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

    Every job a transaction asks for is enqueued together after its commit, in two
    Redis round trips whatever their number (`enqueue_all`). The commit has happened
    by then, so an unreachable Redis must not turn the request into an error: the
    failure is logged, and the row that asked for the job stays as it is for a reaper
    (or a retry by the user) to enqueue again. A commit outside any app (a script or
    test calling use cases on a bare session) has no queues: nothing is enqueued, and
    the row waits in the same way.
    """
    # The request that asked, wherever the commit happens.
    wanted = _Wanted(function, args, options, current_request_id())
    session.info.setdefault(_PENDING, []).append(wanted)


# The jobs a session's transaction asked for (`_Wanted`s), in `Session.info`.
_PENDING = "jobs_after_commit"


def enqueue_coalesced_after_commit(session: Session, function: str, *, queue_name: str) -> None:
    """`enqueue_after_commit` for a job without arguments that reads whatever is
    committed when it starts (the outbox's dispatch): once per transaction however many
    rows ask for it, and while one waits to start, later commits ask for no other: it
    will read what they wrote. The job calls
    `coalesced_job_started` before it reads, and from then on the next commit enqueues
    the next run.

    Without this a burst of commits queued a run each: an RQ worker runs some 23 of them
    a second (a fork each), so at 250 submissions a second the queue grew by hundreds a
    second, every run after the first found nothing to do, and the webhook deliveries and
    emails on the same queue waited behind them (BENCHMARKS.md, "Issue 18: one dispatch
    waits at a time"). The mark that one waits is a Redis key set with the enqueue
    (`SET NX`) and expiring after `COALESCE_SECONDS`, so a run lost before it started
    (an enqueue that failed after the mark was set) holds back the next one that long
    at most; the periodic sweep covers its events meanwhile."""
    pending: list[_Wanted] = session.info.get(_PENDING) or []
    if any(w.function == function for w in pending):
        return
    wanted = _Wanted(function, (), {"queue_name": queue_name}, current_request_id(), True)
    session.info.setdefault(_PENDING, []).append(wanted)


# How long the mark that a coalesced job waits lasts (`enqueue_coalesced_after_commit`).
COALESCE_SECONDS = 60


def coalesced_job_started(function: str) -> None:
    """Called by a coalesced job as it starts, before it reads: the next commit that asks
    for `function` enqueues another run. Redis unreachable here leaves the mark to expire."""
    try:
        queue().connection.delete(_coalesce_key(function))
    except RedisError:
        log.exception("could not clear the mark of %s; it expires by itself", function)


def _coalesce_key(function: str) -> str:
    return f"hiring:jobs:waiting:{function}"


@event.listens_for(Session, "after_commit")
def _enqueue_on_commit(session: Session) -> None:
    """Enqueue what the committed transaction asked for (`enqueue_after_commit`). One
    listener for every session: registering one per transaction was 2 % of a scorecard
    submission's CPU."""
    pending: list[_Wanted] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    if not has_app_context():
        names = ", ".join(w.function for w in pending)
        log.info("no app to enqueue %s in; it is left for the periodic sweep", names)
        return
    try:
        enqueue_all(pending)
    except RedisError:
        names = ", ".join(w.function for w in pending)
        log.exception("could not enqueue %s; it will be enqueued again later", names)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """A transaction that rolls back asked for nothing: its jobs are dropped, so the
    session's next commit does not enqueue them (a savepoint's rollback keeps them: the
    rest of its transaction may still commit what asked for them)."""
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class _Wanted:
    """A job asked for by a transaction, enqueued after its commit."""

    function: str
    args: tuple[Any, ...]
    options: dict[str, Any]
    request_id: str | None
    coalesced: bool = False  # `enqueue_coalesced_after_commit`


def enqueue_all(wanted: list[_Wanted]) -> None:
    """Enqueue `wanted` as `enqueue` would one by one, in two Redis round trips: the
    status of every named job (a job id already waiting is not enqueued twice) with the
    mark of every coalesced one (`enqueue_coalesced_after_commit`), then every job still
    to enqueue in one pipeline (none: no second round trip). In-process (synchronous
    queues) each job runs in turn."""
    if not all(queue(w.options.get("queue_name", "default")).is_async for w in wanted):
        for w in wanted:
            with bound_request_id(w.request_id):
                enqueue(w.function, *w.args, **w.options)
        return
    connection = queue().connection
    named = [w.options["job_id"] for w in wanted if w.options.get("job_id")]
    coalesced = [w.function for w in wanted if w.coalesced]
    checks = [("HGET", Job.key_for(job_id), "status") for job_id in named] + [
        ("SET", _coalesce_key(function), 1, "NX", "EX", COALESCE_SECONDS) for function in coalesced
    ]
    replies = _round_trip(connection, checks)
    statuses, marks = replies[: len(named)], replies[len(named) :]
    waiting = {
        job_id
        for job_id, status in zip(named, statuses, strict=True)
        if status is not None and status.decode() in _WAITING
    }
    marked_before = {f for f, marked in zip(coalesced, marks, strict=True) if not marked}
    to_enqueue = []
    for w in wanted:
        job_id = w.options.get("job_id")
        if job_id in waiting or (w.coalesced and w.function in marked_before):
            continue
        if job_id:
            waiting.add(job_id)  # asked for twice in one transaction: once
        to_enqueue.append(w)
    if not to_enqueue:
        return
    with connection.pipeline() as pipe:
        for w in to_enqueue:
            options = dict(w.options)
            target = queue(options.pop("queue_name", "default"))
            if w.request_id is not None:
                options["meta"] = {**(options.get("meta") or {}), "request_id": w.request_id}
            target.enqueue(w.function, *w.args, pipeline=pipe, **options)
        pipe.execute()


def _round_trip(connection: Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    """The replies to `commands`, sent in one round trip: a single one without a
    pipeline, whose bookkeeping cost as much as the command (the coalesced dispatch's
    mark alone, on most submissions)."""
    if not commands:
        return []
    if len(commands) == 1:
        return [connection.execute_command(*commands[0])]
    with connection.pipeline(transaction=False) as pipe:
        for command in commands:
            pipe.execute_command(*command)
        return list(pipe.execute())


PREPARE_PACKETS_JOB = "workers.jobs.prepare_packets"
REFRESH_CALIBRATION_JOB = "workers.jobs.refresh_calibration"
REFRESH_CALIBRATION_JOB_ID = "calibration-refresh"


def refresh_calibration_after_commit(session: Session) -> None:
    """Once this change (new ratings) commits, refresh the leniencies from the last fit:
    one such job waits at a time (`usecases.calibration.schedule_refresh`, and the outbox
    dispatcher for a submitted scorecard)."""
    enqueue_after_commit(session, REFRESH_CALIBRATION_JOB, False, job_id=REFRESH_CALIBRATION_JOB_ID)


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


_WAITING = frozenset({JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED})


def _waiting(target: Queue, job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=target.connection).get_status()
    except NoSuchJobError:
        return False
    return status in _WAITING
