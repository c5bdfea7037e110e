"""`python -m workers` options, on real Redis and real worker processes."""

from __future__ import annotations

import time

from redis import Redis
from rq import Worker

from tests.integration.conftest import start_worker
from workers.periodic import CLAIM_PREFIX


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def claims(connection: Redis) -> list[bytes]:
    """The periodic runs a scheduler has claimed (each due run is claimed before it is
    enqueued)."""
    return connection.keys(f"{CLAIM_PREFIX}*")


def stop(worker) -> str:
    worker.terminate()
    output, _ = worker.communicate(timeout=60)
    return output


def test_a_worker_runs_the_periodic_jobs_unless_told_not_to(live_app, redis_url):
    connection = Redis.from_url(redis_url)
    with_scheduler = start_worker(live_app)
    try:
        assert wait_for(lambda: claims(connection)), "the default worker's scheduler claims runs"
    finally:
        stop(with_scheduler)
    connection.flushdb()

    without = start_worker(live_app, "--no-periodic")
    try:
        assert wait_for(lambda: len(Worker.all(connection=connection)) == 1), "it listens"
        time.sleep(3)  # the default worker's scheduler claims before its worker listens
        assert claims(connection) == []
    finally:
        output = stop(without)
    assert "Traceback" not in output, output


def test_a_worker_refuses_an_option_it_does_not_know(live_app):
    worker = start_worker(live_app, "--burst", "--no-periodc")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode != 0
    assert "unknown option --no-periodc: the options are --burst, --no-periodic" in output
