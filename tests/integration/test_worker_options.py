"""`python -m workers` options, on real Redis and real worker processes."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time

from redis import Redis
from rq import Worker
from rq.exceptions import StopRequested

from tests.integration.conftest import start_worker, stop_worker
from workers.__main__ import ObservedWorker
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


def test_a_worker_runs_the_periodic_jobs_unless_told_not_to(live_app, redis_url):
    connection = Redis.from_url(redis_url)
    with_scheduler = start_worker(live_app)
    try:
        assert wait_for(lambda: claims(connection)), "the default worker's scheduler claims runs"
    finally:
        stop_worker(with_scheduler)
    connection.flushdb()

    without = start_worker(live_app, "--no-periodic")
    try:
        assert wait_for(lambda: len(Worker.all(connection=connection)) == 1), "it listens"
        time.sleep(3)  # the default worker's scheduler claims before its worker listens
        assert claims(connection) == []
    finally:
        output = stop_worker(without)
    assert "Traceback" not in output, output


STOPPED_WHILE_STARTING = """
import os, signal
import workers.__main__ as main

start_scheduler = main.ObservedWorker._start_scheduler

def start_then_stop(worker, *args, **kwargs):
    start_scheduler(worker, *args, **kwargs)  # RQ's scheduler is forked, RQ's handlers not set
    os.kill(os.getpid(), signal.SIGTERM)

main.ObservedWorker._start_scheduler = start_then_stop
main.run_worker()
"""


def test_a_worker_stopped_while_it_starts_stops_its_children_too(live_app, redis_url):
    """A SIGTERM after the worker has forked its periodic jobs' scheduler and RQ's, and
    before RQ has installed its handlers, used to kill the worker alone: RQ's scheduler
    lived on, holding the output open (CI saw the options test time out that way). And
    the stop the worker then passes on reaches RQ's scheduler before Python runs there,
    under load: that one used to be lost, and the worker waited on it for ever."""
    worker = start_worker(live_app, code=STOPPED_WHILE_STARTING)
    try:
        output, _ = worker.communicate(timeout=60)
        survivors = group_alive(worker.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)  # whatever outlived it, should this fail
            worker.communicate()
    assert worker.returncode == 0, output
    assert not survivors, "every child stopped with the worker"
    assert "Traceback" not in output, output
    assert Worker.all(connection=Redis.from_url(redis_url)) == []


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_worker_refuses_an_option_it_does_not_know(live_app):
    worker = start_worker(live_app, "--burst", "--no-periodc")
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode != 0
    assert "unknown option --no-periodc: the options are --burst, --no-periodic" in output


def test_an_idle_worker_stops_even_when_the_stop_exception_was_lost(redis_url, caplog):
    """A SIGTERM that lands while a `__del__` runs: RQ's handler raises `StopRequested`
    there, Python prints it as ignored, and the worker must stop all the same (it used
    to wait on its queues until a second signal). Here the handler's work runs in a
    thread, whose exception is lost the same way, while the worker waits."""
    worker = ObservedWorker(["events"], connection=Redis.from_url(redis_url))
    worker.dequeue_seconds = 1

    def stop_whose_exception_is_lost() -> None:
        time.sleep(0.5)
        with contextlib.suppress(StopRequested):
            worker._shutdown()  # what RQ's SIGTERM handler does once it has logged

    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    stopper = threading.Thread(target=stop_whose_exception_is_lost)
    stopper.start()
    try:
        with caplog.at_level(logging.INFO):
            worker.work(max_idle_time=15, with_scheduler=False)
    finally:
        stopper.join()
        for number, handler in handlers.items():
            signal.signal(number, handler)  # RQ installed its own
    assert "quitting" not in caplog.text, "it stopped on the request, not after idling"
    assert Worker.all(connection=Redis.from_url(redis_url)) == []
