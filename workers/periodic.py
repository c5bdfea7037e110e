"""The periodic jobs, declared in one place, and the RQ cron scheduler that enqueues them.

`python -m workers` runs RQ's cron scheduler in a child process beside the worker;
the worker's own scheduler then moves nothing but retries. With several workers
each runs one, so every periodic job must be safe to run twice at once (the packet
reaper skips rows another reaper holds).
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
from rq.cron import CronScheduler

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


def _run_scheduler(redis_url: str, periodic: tuple[Periodic, ...], worker_pid: int) -> None:
    """RQ's cron scheduler, stopping when its worker is gone (even a killed one)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the worker, which stops us
    scheduler = CronScheduler(connection=Redis.from_url(redis_url))
    for job in periodic:
        scheduler.register(job.function, job.queue_name, interval=job.every_seconds, cron=job.cron)
    scheduler.register_birth()
    try:
        while os.getppid() == worker_pid:
            if scheduler.enqueue_jobs():
                scheduler.save()
            scheduler.heartbeat()
            time.sleep(min(1.0, scheduler.calculate_sleep_interval()))
    finally:
        scheduler.register_death()
