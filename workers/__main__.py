"""The RQ worker: `python -m workers [--burst] [--no-periodic] [QUEUE ...]`.

It serves the named queues (by default every one, packets first); a deployment can
give packets workers of their own (`python -m workers packets`), so a hiring
manager's packet never waits behind a long periodic job or a calibration refit.

Loads the app, the jobs, the calibration fit and WeasyPrint once in the parent
and renders one warm-up page, then forks one child per job; the database engine
is disposed before the loop so no connection crosses a fork. On start it also
retries packets that an earlier, killed worker left "rendering", and (unless
`--burst` or `--no-periodic`) starts the periodic jobs of `workers.periodic` in a
child process. Every scheduler claims each run first, so running them on every
worker is safe; `--no-periodic` is for workers that should only ever serve their
queues (a packets-only pool, or the bench, which measures packets and webhooks
rather than the reminders' first pass over a large history).

Each job's log lines carry the id of the request that enqueued it, and its
duration and outcome are recorded as metrics, both from the parent process
(`ObservedWorker`): the horse inherits the bound id when it forks, and the
metric outlives the horse. With `PROMETHEUS_MULTIPROC_DIR` set (the API's
directory, on the same host) the API's `/metrics` shows them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from types import FrameType

# One BLAS thread per worker: several threads per process fight over two cores
# and made the calibration fit three times slower under load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import StopRequested
from rq.job import Job, JobStatus
from rq.queue import Queue
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import configure_mappers

from service import create_app
from service.extensions import db
from service.jobs import QUEUE_NAMES
from service.observability import bound_request_id, observe_job
from service.pdf.document import warm_up
from service.usecases.packets import reap_abandoned
from workers.periodic import start_scheduler

# Loaded once here, not in every job's child: the job functions, and the calibration
# fit (scipy), which the API no longer imports at start-up.
import service.domain.calibration  # noqa: F401  isort: skip
import workers.jobs  # noqa: F401  isort: skip

log = logging.getLogger("workers")


class ObservedWorker(Worker):
    """RQ's forking worker, with the job's request id in its logs and job metrics, and a
    stop request that is not lost.

    An idle worker stops when RQ's signal handler raises `StopRequested`. When the signal
    arrives while a `__del__` runs (a garbage-collected connection pool), Python prints
    that exception as "ignored" and the worker went on waiting on its queues until a
    second signal: a SIGTERM was lost that way. So the request is also kept as RQ's flag,
    which is read before every wait on the queues, and a wait lasts `dequeue_seconds`."""

    dequeue_seconds = 20  # RQ's default: 405

    @property
    def dequeue_timeout(self) -> int:
        return self.dequeue_seconds

    def _shutdown(self) -> None:
        self._stop_requested = True
        super()._shutdown()

    def stop_scheduler(self) -> None:
        """RQ's, with its SIGTERM sent again each second until RQ's scheduler has stopped:
        one that reaches the scheduler's process before Python runs there (a stop just
        after the fork) is cleared with the signals pending at the fork, and RQ's join
        then waited for ever."""
        process = self.scheduler._process if self.scheduler else None
        while process is not None and process.pid and process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            process.join(timeout=1)

    def keep_stop_request(self, signum: int, frame: FrameType | None) -> None:
        """The SIGTERM and SIGINT handler from before the worker forks its first child until
        `work` installs RQ's: the request is kept, and the loop stops before its first wait,
        stopping the children with it. (With the default handler, a stop in that time
        killed the worker alone and left RQ's scheduler running, orphaned.) A child forked
        in that time, until it sets its own handler, takes the signal's default action."""
        if os.getpid() != self.pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self._stop_requested = True

    @property
    def should_run_maintenance_tasks(self) -> bool:
        """RQ reads this before every wait on the queues (and nowhere else): there a stop
        requested while idle stops the worker, even when the handler's exception was lost."""
        if self._stop_requested:
            raise StopRequested()
        return bool(super().should_run_maintenance_tasks)

    def execute_job(self, job: Job, queue: Queue) -> None:
        started = time.perf_counter()
        try:
            with bound_request_id(job.meta.get("request_id")):
                super().execute_job(job, queue)
        finally:
            try:
                succeeded = job.get_status(refresh=True) == JobStatus.FINISHED
            except RedisError:
                succeeded = False  # the outcome is unknown; it was not a success we saw
            observe_job(job.func_name, succeeded, time.perf_counter() - started)


def run_worker(
    queue_names: tuple[str, ...] = QUEUE_NAMES, burst: bool = False, periodic_jobs: bool = True
) -> None:
    app = create_app()
    settings = app.config["SETTINGS"]
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is not set: jobs run in-process, no worker is needed.")
    with app.app_context():
        configure_mappers()
        warm_up()  # WeasyPrint, Pango and the fonts load once here, not in every job
        try:
            with db.new_session() as session:
                reap_abandoned(session, settings.packet_render_lease_seconds)
        except OperationalError as error:  # a database hiccup must not stop the worker starting
            log.warning("could not check for abandoned packets at start: %s", error)
        db.engine().dispose()  # no connection may cross the fork into a job
        worker = ObservedWorker(list(queue_names), connection=Redis.from_url(settings.redis_url))
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, worker.keep_stop_request)
        periodic = start_scheduler(settings) if periodic_jobs and not burst else None
        try:
            # RQ's scheduler moves retries with back-off (and delayed jobs) back onto the queues.
            worker.work(burst=burst, with_scheduler=True)
        finally:
            if periodic is not None:
                periodic.terminate()
                periodic.join(timeout=5)


FLAGS = ("--burst", "--no-periodic")


def queues_from(arguments: list[str]) -> tuple[str, ...]:
    """The queues named on the command line, in that order; every queue when none is."""
    unknown_flags = [a for a in arguments if a.startswith("--") and a not in FLAGS]
    if unknown_flags:
        raise SystemExit(
            f"unknown option {', '.join(unknown_flags)}: the options are {', '.join(FLAGS)}"
        )
    names = tuple(argument for argument in arguments if not argument.startswith("--"))
    unknown = [name for name in names if name not in QUEUE_NAMES]
    if unknown:
        raise SystemExit(
            f"unknown queue {', '.join(unknown)}: the queues are {', '.join(QUEUE_NAMES)}"
        )
    return names or QUEUE_NAMES


if __name__ == "__main__":
    arguments = sys.argv[1:]
    run_worker(
        queues_from(arguments),
        burst="--burst" in arguments,
        periodic_jobs="--no-periodic" not in arguments,
    )
