"""The periodic jobs, declared in one place, and the RQ cron scheduler that enqueues them.

`python -m workers` runs RQ's cron scheduler in a child process beside the worker;
the worker's own scheduler then moves nothing but retries. With several workers, on
one machine or many, each runs a scheduler, and each due run is claimed in Redis
first (`SET NX` with an expiry, `claim_run`): the first scheduler to claim it enqueues
the job and the others skip it, so each periodic job is enqueued once per period for
the whole deployment, and a scheduler that dies leaves the next claim to the others
without a hand-over. The jobs stay safe to run twice at once all the same (the packet
reaper skips rows another reaper holds; digests are stored once per person and day).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from redis import Redis
from rq.cron import CronJob, CronScheduler
from rq.utils import now

from service.config import Settings
from workers import jobs


@dataclass(frozen=True)
class Periodic:
    function: Callable[[], object]
    queue_name: str
    every_seconds: int | None = None
    cron: str | None = None  # instead of every_seconds: RQ cron syntax, UTC


def periodic_jobs(settings: Settings) -> tuple[Periodic, ...]:
    return (
        # No packet stays "rendering" past its lease plus one period, even when nobody reads it.
        Periodic(jobs.reap_abandoned_packets, "default", settings.packet_reap_interval_seconds),
        # Candidates' data is not kept for ever: erase who the retention policy makes due.
        Periodic(jobs.run_retention, "default", 24 * 3600),
        # Events, deliveries and emails whose job a lost Redis dropped (each handled once:
        # the dispatcher locks events, a sender claims its delivery).
        Periodic(jobs.sweep_outbox, "events", settings.outbox_sweep_interval_seconds),
        # Owed scorecards' due/overdue/reminder steps, applications past their target
        # (each step stored once, by its key).
        Periodic(jobs.run_reminders, "events", settings.reminder_interval_seconds),
        Periodic(jobs.send_digests, "events", cron=settings.digest_cron),
    )


def start_scheduler(settings: Settings) -> BaseProcess:
    """The scheduler in a child process that lives as long as the calling worker."""
    assert settings.redis_url is not None
    child = multiprocessing.get_context("fork").Process(
        target=_run_scheduler,
        args=(settings.redis_url, periodic_jobs(settings), os.getpid()),
        name="periodic-jobs",
    )
    child.start()
    return child


CLAIM_PREFIX = "hiring:periodic:"
# A cron run's claim outlives any clock skew between the machines by far.
CRON_CLAIM_SECONDS = 24 * 3600


def claim_run(connection: Redis, job: CronJob) -> bool:
    """Whether this scheduler is the one to enqueue `job`'s due run (the first to ask).

    A cron run is named by its due time, the same on every scheduler, so it is claimed
    once. An interval run is claimed for a little less than the interval: a scheduler
    whose run falls inside another's claim skips it, and the next free period goes to
    whichever scheduler is due first."""
    if job.cron:
        assert job.next_enqueue_time is not None  # RQ sets it for cron jobs at registration
        key = f"{CLAIM_PREFIX}{job.name}:{job.next_enqueue_time.isoformat()}"
        seconds = CRON_CLAIM_SECONDS
    else:
        assert job.interval is not None
        key, seconds = f"{CLAIM_PREFIX}{job.name}", max(1, job.interval - 1)
    return bool(connection.set(key, os.getpid(), nx=True, ex=seconds))


class ClaimingCronScheduler(CronScheduler):
    """RQ's cron scheduler, enqueueing only the runs it claims (`claim_run`)."""

    def enqueue_jobs(self) -> list[CronJob]:
        enqueue_time = now()
        enqueued: list[CronJob] = []
        for job in self.get_jobs():
            if job.should_run():
                if claim_run(self.connection, job):
                    job.enqueue(self.connection)
                    enqueued.append(job)
                job.set_enqueue_time(enqueue_time)  # claimed here or elsewhere: done
        return enqueued


def make_scheduler(connection: Redis, periodic: tuple[Periodic, ...]) -> ClaimingCronScheduler:
    scheduler = ClaimingCronScheduler(connection=connection)
    for job in periodic:
        scheduler.register(job.function, job.queue_name, interval=job.every_seconds, cron=job.cron)
    return scheduler


def _run_scheduler(redis_url: str, periodic: tuple[Periodic, ...], worker_pid: int) -> None:
    """RQ's cron scheduler, stopping when its worker is gone (even a killed one)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the worker, which stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the worker's, inherited at the fork
    scheduler = make_scheduler(Redis.from_url(redis_url), periodic)
    scheduler.register_birth()
    try:
        while os.getppid() == worker_pid:
            if scheduler.enqueue_jobs():
                scheduler.save()
            scheduler.heartbeat()
            time.sleep(min(1.0, scheduler.calculate_sleep_interval()))
    finally:
        scheduler.register_death()
