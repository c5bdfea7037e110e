"""gunicorn settings read from the project root (`make run`, the production command).

The access log leaves out the query string and the referrer: a candidate search
(`/api/v1/candidates?q=Grace Hopper`) would otherwise write a person's name to
it. The request id ties a line to the app's own log records. With JSON logs
(`LOG_FORMAT`, see service/observability.py) gunicorn's own lines are JSON too.

Metrics: every worker process writes its metrics to `PROMETHEUS_MULTIPROC_DIR`,
and `/metrics`, answered by any one worker, adds up all the files. Without the
variable, a fresh directory is made for this server and removed when it stops.
Set it (the same directory, on the same host) for the RQ worker too, and the
API's `/metrics` also shows the job metrics; such a shared directory is not
emptied here, since the RQ worker may be writing to it.

Preloading: the master imports the app once and forks the workers from it, so
they share its memory (the code, the imported libraries, the OpenAPI document)
instead of each importing its own copy. Garbage collection is off while the app
loads (a collection would free objects in the middle of pages the workers would
then copy) and everything loaded is frozen before each fork (`gc.freeze()`):
a worker's collections never walk, and so never write to, the objects it shares,
and a full collection only walks what the worker itself made. Nothing opened in
the master reaches a worker: the app opens no connection while it loads, and
each worker drops the engine's pool it inherited (`post_fork`) so it can only
ever make its own; Redis clients reconnect by themselves in a new process, and
the metrics files are per process id. What the app builds on first use rather
than at import, and that every worker would build, is built in the master before
the first fork (`when_ready`, `service.warmup`), which closes the connections it
used first.
"""

import gc
import os
import shutil
import tempfile

from gunicorn.glogging import Logger

preload_app = True
gc.disable()  # until the fork (`pre_fork`); the config is read before the app is loaded

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s'

# Before the app (and prometheus_client) is imported in any process.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hiring-metrics-")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def when_ready(server):
    """Before the first fork: what every worker would otherwise build for itself on first
    use, and so not share (`service.warmup`: the language check's patterns, the hot
    statements, the pages' templates). Only for this service's app (the bench's bare
    app is served with these settings)."""
    app = server.app.wsgi()
    if server.cfg.preload_app and "db" in getattr(app, "extensions", {}):
        from service.warmup import warm_up

        warm_up(app)


def pre_fork(server, worker):
    """Freeze what the master has loaded, so that workers' collections leave it alone."""
    gc.freeze()
    gc.enable()


def post_fork(server, worker):
    """Drop the database connections the worker inherited (none, unless something
    connected in the master), without closing them under the master's feet."""
    app = server.app.wsgi()
    if "db" in getattr(app, "extensions", {}):
        from service.extensions import db

        db.engine(app).dispose(close=False)


def child_exit(server, worker):
    """A worker that died keeps its counts in the directory; its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


class ServiceLogger(Logger):
    """gunicorn's logger, writing JSON lines when the app does."""

    def setup(self, cfg):
        super().setup(cfg)
        from service.observability import JsonFormatter, uses_json

        if uses_json(os.environ.get("LOG_FORMAT", "auto").lower()):
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())


logger_class = ServiceLogger
