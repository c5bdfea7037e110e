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
"""

import os
import shutil
import tempfile

from gunicorn.glogging import Logger

access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s'

# Before the app (and prometheus_client) is imported in any process.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hiring-metrics-")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


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
