"""A bounded load client: a fixed list of requests sent by a fixed number of threads.

Over HTTP on loopback (`http_sender`) against gunicorn, or in-process through
Flask's test client (`wsgi_sender`) for the smoke run. Each thread takes the
next request from the list until it is empty, so the run ends after exactly
`len(requests)` requests, however fast or slow the server is.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    token: str | None = None
    body: dict[str, Any] | None = None
    expect: int = 200


@dataclass
class LoadResult:
    requests: int
    concurrency: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    first_error: str | None = None
    statuses: dict[int, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "concurrency": self.concurrency,
            "seconds": round(self.seconds, 3),
            "throughput_rps": round(self.requests / self.seconds, 1) if self.seconds else None,
            "p50_ms": round(percentile(ordered, 50), 2),
            "p90_ms": round(percentile(ordered, 90), 2),
            "p99_ms": round(percentile(ordered, 99), 2),
            "max_ms": round(ordered[-1], 2),
            "errors": self.errors,
            "first_error": self.first_error,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


Sender = Callable[[Request], tuple[int, bytes]]


def http_sender(port: int, host: str = LOOPBACK) -> Callable[[], Sender]:
    """One connection per request: gunicorn's sync workers close it after each response."""
    if host != LOOPBACK:
        raise ValueError("the load client only targets 127.0.0.1")

    def make() -> Sender:
        def send(request: Request) -> tuple[int, bytes]:
            connection = http.client.HTTPConnection(host, port, timeout=30)
            try:
                headers = {"Connection": "close"}
                if request.token:
                    headers["Authorization"] = f"Bearer {request.token}"
                body = None
                if request.body is not None:
                    body = json.dumps(request.body).encode()
                    headers["Content-Type"] = "application/json"
                connection.request(request.method, request.path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            finally:
                connection.close()

        return send

    return make


def wsgi_sender(app: Any) -> Callable[[], Sender]:
    """In-process requests through the Flask test client (no network, no server)."""

    def make() -> Sender:
        client = app.test_client()

        def send(request: Request) -> tuple[int, bytes]:
            headers = {"Authorization": f"Bearer {request.token}"} if request.token else {}
            response = client.open(
                request.path, method=request.method, headers=headers, json=request.body
            )
            return response.status_code, response.get_data()

        return send

    return make


def run_load(
    make_sender: Callable[[], Sender], requests: Sequence[Request], concurrency: int
) -> LoadResult:
    """Send every request once, `concurrency` at a time; latency is measured per request."""
    queue = iter(range(len(requests)))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = [0]
    first_error: list[str] = []

    def worker() -> None:
        send = make_sender()
        local: list[float] = []
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                break
            request = requests[index]
            started = time.perf_counter()
            try:
                status, body = send(request)
            except OSError as error:
                status, body = 0, str(error).encode()
            local.append(1000 * (time.perf_counter() - started))
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status != request.expect:
                    errors[0] += 1
                    if not first_error:
                        first_error.append(
                            f"{request.method} {request.path} -> {status}: "
                            f"{body[:300].decode(errors='replace')}"
                        )
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return LoadResult(
        len(requests),
        concurrency,
        seconds,
        latencies,
        errors[0],
        first_error[0] if first_error else None,
        statuses,
    )


def cycle(items: Sequence[Any], n: int) -> list[Any]:
    """The first n items of `items` repeated."""
    return list(itertools.islice(itertools.cycle(items), n))
