"""Logs and metrics: JSON log lines carrying the request id, Prometheus metrics.

The request id of a log record is the current request's, or, inside a job, the
id of the request that enqueued it (`job.meta["request_id"]`, bound by the
worker with `bound_request_id`). No record carries request bodies, query
strings or SQL parameters.

Metrics are prometheus_client's. Under gunicorn (several processes) they are
written to `PROMETHEUS_MULTIPROC_DIR` (set up in gunicorn.conf.py) and a scrape
adds up every process's files; the RQ worker records job metrics in its
long-lived parent process, into the same directory when it is set. Queue depth
and packets by state are read at scrape time.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from flask import Flask, Response, has_request_context, request
from flask.signals import request_finished, request_started
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

_bound_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

REQUEST_DURATION = Histogram(
    "hiring_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (the URL rule, never the raw path) and status.",
    ["method", "route", "status"],
)
JOB_DURATION = Histogram(
    "hiring_job_duration_seconds",
    "Time a background job ran, by job function and outcome (success, failure).",
    ["function", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
UNMATCHED_ROUTE = "<unmatched>"  # a 404 for a path no rule matches: never the path itself


# Logging


def current_request_id() -> str | None:
    """The request id the current code works for: a job's requester, or this request's."""
    bound = _bound_request_id.get()
    if bound is None and has_request_context():
        from service.http.request_ids import request_id

        return request_id()
    return bound


@contextmanager
def bound_request_id(value: str | None) -> Iterator[None]:
    """Log records inside the block carry `value` as their request id (a job's requester)."""
    token = _bound_request_id.set(value)
    try:
        yield
    finally:
        _bound_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` attribute (None outside requests and jobs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "process": record.process,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def uses_json(log_format: str) -> bool:
    """JSON for `json`, text for `text`; `auto` is JSON unless stderr is a terminal."""
    if log_format == "auto":
        return not sys.stderr.isatty()
    return log_format == "json"


def log_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if uses_json(log_format) else logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str, log_format: str) -> None:
    """One handler on the root logger, to stderr; calling it again replaces it."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(log_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("alembic.runtime.plugins", "weasyprint.progress"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# Metrics


def observe_requests(app: Flask) -> None:
    """Time every request by route and status (signals: independent of hook order)."""
    request_started.connect(_start_timer, app, weak=False)
    request_finished.connect(_observe_request, app, weak=False)


def _start_timer(sender: Flask, **_: object) -> None:
    request.environ["hiring.started"] = time.perf_counter()


def _observe_request(sender: Flask, response: Response, **_: object) -> None:
    started = request.environ.get("hiring.started")
    if started is None:
        return
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
    REQUEST_DURATION.labels(request.method, route, str(response.status_code)).observe(
        time.perf_counter() - started
    )


def observe_job(function: str | None, succeeded: bool, seconds: float) -> None:
    JOB_DURATION.labels(function, "success" if succeeded else "failure").observe(seconds)


class _ScrapeTimeGauges(Collector):
    """Gauges read when Prometheus scrapes: queue depth and failed jobs per RQ queue,
    packets by state, and the outbox events not yet dispatched."""

    def __init__(
        self,
        queue_depths: Mapping[str, int],
        packets: Mapping[str, int],
        failed_jobs: Mapping[str, int],
        outbox_backlog: int | None,
    ) -> None:
        self.queue_depths = queue_depths
        self.packets = packets
        self.failed_jobs = failed_jobs
        self.outbox_backlog = outbox_backlog

    def collect(self) -> Iterator[Metric]:
        queues = GaugeMetricFamily(
            "hiring_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        for name, depth in self.queue_depths.items():
            queues.add_metric([name], depth)
        yield queues
        packets = GaugeMetricFamily(
            "hiring_packets", "Hiring-committee packets by state.", labels=["status"]
        )
        for status, count in self.packets.items():
            packets.add_metric([status], count)
        yield packets
        failed = GaugeMetricFamily(
            "hiring_failed_jobs",
            "Jobs in each RQ queue's failed registry (failed for good, kept for inspection).",
            labels=["queue"],
        )
        for name, count in self.failed_jobs.items():
            failed.add_metric([name], count)
        yield failed
        if self.outbox_backlog is not None:
            yield GaugeMetricFamily(
                "hiring_outbox_backlog",
                "Outbox events not dispatched yet (webhooks, notifications, emails to make).",
                value=self.outbox_backlog,
            )


class _ThisProcess(Collector):
    """The metrics of this process alone (no multiprocess directory: one process)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def metrics_page(
    queue_depths: Mapping[str, int],
    packets: Mapping[str, int],
    failed_jobs: Mapping[str, int] | None = None,
    outbox_backlog: int | None = None,
) -> bytes:
    """The Prometheus text exposition: every process's metrics plus the scrape-time gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_ScrapeTimeGauges(queue_depths, packets, failed_jobs or {}, outbox_backlog))
    return generate_latest(registry)
