"""The periodic jobs are enqueued once per period for the whole deployment, however
many workers (each with its scheduler) run, on real Redis."""

from __future__ import annotations

from dataclasses import replace

from redis import Redis
from rq import Queue

from service.config import Settings
from workers.periodic import make_scheduler, periodic_jobs


def enqueued(redis_url) -> dict[str, int]:
    connection = Redis.from_url(redis_url)
    counts: dict[str, int] = {}
    for name in ("default", "events"):
        for job in Queue(name, connection=connection).get_jobs():
            counts[job.func_name] = counts.get(job.func_name, 0) + 1
    return counts


def test_three_schedulers_enqueue_each_due_job_once(redis_url, tmp_path):
    # The digest's cron time is in the past for none of them: it is not due yet.
    periodic = periodic_jobs(Settings.from_env(tmp_path, env={}))
    schedulers = [make_scheduler(Redis.from_url(redis_url), periodic) for _ in range(3)]
    for scheduler in schedulers:  # three workers' schedulers, all due at once
        scheduler.enqueue_jobs()
    assert enqueued(redis_url) == {
        "workers.jobs.reap_abandoned_packets": 1,
        "workers.jobs.run_retention": 1,
        "workers.jobs.sweep_outbox": 1,
        "workers.jobs.run_reminders": 1,
    }
    for scheduler in schedulers:  # the same period again: still claimed
        for job in scheduler.get_jobs():
            if not job.cron:
                job.next_enqueue_time = job.latest_enqueue_time
        scheduler.enqueue_jobs()
    assert sum(enqueued(redis_url).values()) == 4


def test_a_cron_run_is_enqueued_once_by_the_schedulers_due_for_it(redis_url, tmp_path):
    settings = replace(Settings.from_env(tmp_path, env={}), digest_cron="0 7 * * *")
    digest = [p for p in periodic_jobs(settings) if p.cron]
    schedulers = [make_scheduler(Redis.from_url(redis_url), tuple(digest)) for _ in range(3)]
    due_times = {s.get_jobs()[0].next_enqueue_time for s in schedulers}
    assert len(due_times) == 1  # every scheduler names the run by the same due time
    for scheduler in schedulers:
        job = scheduler.get_jobs()[0]
        job.next_enqueue_time = job.next_enqueue_time.replace(year=2000)  # due now, same name
        scheduler.enqueue_jobs()
    assert enqueued(redis_url) == {"workers.jobs.send_digests": 1}
