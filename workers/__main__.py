"""The RQ worker: `python -m workers` (or `hiring worker`).

Loads the app and WeasyPrint once in the parent and renders one warm-up page,
then forks one child per job; the database engine is disposed before the loop
so no connection crosses a fork. On start it also retries packets that an
earlier, killed worker left "rendering".
"""

from __future__ import annotations

import logging
import os
import sys

# One BLAS thread per worker: several threads per process fight over two cores
# and made the calibration fit three times slower under load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from redis import Redis
from rq import Worker
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import configure_mappers

from service import create_app
from service.extensions import db
from service.jobs import QUEUE_NAMES
from service.pdf.document import warm_up
from service.usecases.packets import reap_all_abandoned

log = logging.getLogger("workers")


def run_worker(queue_names: tuple[str, ...] = QUEUE_NAMES, burst: bool = False) -> None:
    app = create_app()
    redis_url = app.config["SETTINGS"].redis_url
    if not redis_url:
        raise SystemExit("REDIS_URL is not set: jobs run in-process, no worker is needed.")
    with app.app_context():
        configure_mappers()
        warm_up()  # WeasyPrint, Pango and the fonts load once here, not in every job
        try:
            with db.new_session() as session:
                reap_all_abandoned(session, app.config["SETTINGS"].packet_render_lease_seconds)
        except OperationalError as error:  # a database hiccup must not stop the worker starting
            log.warning("could not check for abandoned packets at start: %s", error)
        db.engine().dispose()  # no connection may cross the fork into a job
        worker = Worker(list(queue_names), connection=Redis.from_url(redis_url))
        # The scheduler moves retries with back-off (and delayed jobs) back onto the queues.
        worker.work(burst=burst, with_scheduler=True)


if __name__ == "__main__":
    run_worker(burst="--burst" in sys.argv[1:])
