"""Two API servers and two workers on one database and one Redis, as on two machines.

- Throughput: the same reads (get one application) sent to one gunicorn server, then
  spread over two (each on its own port, with the same number of workers), from the
  same bounded client; the ratio is the scaling. On one machine the two servers share
  its cores, so the ratio is bounded by the cores left idle by one server.
- Exactly once: with both servers and two `python -m workers` processes running, N
  packets are requested through both servers at once (every application asked on
  each server, so each request races its twin), and a webhook receiver on loopback
  is subscribed to `packet.ready`. Then each application has exactly one packet,
  rendered in one attempt by one job (distinct job ids), one stored file with the
  recorded checksum, one `packet.ready` outbox event, dispatched, and delivered to
  the receiver once.

Plugs into `bench.run` as a section; also runnable alone on a generated database:
    .venv/bin/python -m bench.scaling --database-url URL --tokens instance/bench/tokens.json
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Worker
from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.engine import Engine

from bench.load import Request, Sender, run_load
from service.persistence.applications import Application
from service.persistence.outbox import OutboxEvent
from service.persistence.packets import Packet
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard
from service.persistence.webhooks import WebhookDelivery, WebhookEndpoint

ROOT = Path(__file__).resolve().parents[1]
WORKERS_PER_SERVER = 1
CONCURRENCY = 4
REQUESTS = 1_000
PACKETS = 12


def run(context: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """Throughput of one server and of two, then the exactly-once check."""
    from bench.run import BENCH_REDIS, Figure, Server

    size = context.get("size", "?")
    url, tokens = context["database_url"], context["tokens"]
    workdir = Path(context.get("workdir") or ROOT / "instance" / "bench" / f"scaling-{size}")
    storage = workdir / "packets"
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only",  # PostgreSQL refuses the public default key
        "REDIS_URL": BENCH_REDIS,
        "LOG_LEVEL": "WARNING",
        "PACKET_STORAGE_DIR": str(storage),
        "WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on loopback
    }
    redis = Redis.from_url(BENCH_REDIS)
    redis.flushdb()
    engine = create_engine(url)
    requests = _reads(engine, tokens, context.get("requests", REQUESTS))
    workers = context.get("workers_per_server", WORKERS_PER_SERVER)
    servers = [Server("wsgi:app", env, workers, "/api/v1/openapi.json") for _ in range(2)]
    try:
        one = _throughput([servers[0]], requests)
        two = _throughput(servers, requests)
        one_again = _throughput([servers[1]], requests)
        once = _exactly_once(engine, servers, tokens, env, context.get("packets", PACKETS))
    finally:
        for server in servers:
            server.stop()
        redis.flushdb()
        engine.dispose()
    single = (one["requests_per_s"] + one_again["requests_per_s"]) / 2
    figures = [
        Figure(
            "scaling",
            size,
            f"get_application, 2 servers x {workers} worker(s)",
            round(two["requests_per_s"], 1),
            "req/s",
            "1 server, same load (mean of before and after)",
            round(single, 1),
        ),
        Figure(
            "scaling",
            size,
            f"packets through 2 servers, 2 workers: rendered exactly once ({once['packets']})",
            float(once["problems"] == []),
            "ok",
            "expected",
            1.0,
            target="every packet once",
            ok=once["problems"] == [],
        ),
    ]
    raw = {"one_server": one, "two_servers": two, "one_server_again": one_again, **once}
    return figures, raw


def _reads(engine: Engine, tokens: dict[str, Any], n: int) -> list[Request]:
    recruiter = tokens["recruiters"][0]["token"]
    with engine.connect() as connection:
        ids = list(connection.scalars(select(Application.id)))
    rng = random.Random(1)
    return [Request("GET", f"/api/v1/applications/{i}", recruiter) for i in rng.choices(ids, k=n)]


def _throughput(servers: list, requests: list[Request]) -> dict[str, Any]:
    """Requests per second of `requests` spread round-robin over `servers`."""
    run_load(_round_robin(servers), requests[:50], CONCURRENCY)  # warm-up
    summary = run_load(_round_robin(servers), requests, CONCURRENCY).summary()
    if summary["errors"]:
        raise RuntimeError(f"{summary['errors']} errors: {summary['first_error']}")
    return {"servers": len(servers), "requests_per_s": summary["throughput_rps"], **summary}


def _round_robin(servers: list) -> Callable[[], Sender]:
    """Each client thread sends to the servers in turn, starting at a different one."""
    makers = [server.sender() for server in servers]
    started = iter(range(1_000_000))
    lock = threading.Lock()

    def make() -> Sender:
        with lock:
            turn = next(started)
        senders = [make_one() for make_one in makers]

        def send(request: Request) -> tuple[int, bytes]:
            nonlocal turn
            turn += 1
            return senders[turn % len(senders)](request)

        return send

    return make


def _exactly_once(
    engine: Engine, servers: list, tokens: dict[str, Any], env: dict[str, str], n: int
) -> dict[str, Any]:
    """Request `n` packets through both servers at once; list whatever was not exactly once."""
    from bench.run import BENCH_REDIS

    applications = _fullest_with_managers(engine, n)
    managers = {m["id"]: m["token"] for m in tokens["hiring_managers"]}
    admin = tokens["admin"]["token"]
    # Every run renders afresh: no packet row, and no file an earlier run stored (the
    # check below counts every file in the folder).
    shutil.rmtree(env["PACKET_STORAGE_DIR"], ignore_errors=True)
    with engine.begin() as connection:
        connection.execute(delete(Packet))
        connection.execute(delete(WebhookDelivery))
        connection.execute(delete(WebhookEndpoint))
        since = connection.scalar(select(func.coalesce(func.max(OutboxEvent.id), 0)))
        # The generated history's reminders (thousands, never dispatched) would queue
        # ahead of the packets' events: they are not what is measured here.
        connection.execute(
            update(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .values(dispatched_at=func.now())
        )
    senders = [server.sender()() for server in servers]
    with _receiver() as received, _workers(env, BENCH_REDIS, 2):
        status, _ = senders[0](
            Request(
                "POST", "/api/v1/webhooks", admin, {"url": received.url, "events": ["packet.ready"]}
            )
        )
        if status != 201:
            raise RuntimeError(f"creating the webhook: {status}")
        named = {"anonymized": False}
        asks = [
            (sender, Request("POST", f"/api/v1/applications/{a}/packets", managers[m], named))
            for a, m in applications
            for sender in senders
        ]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2 * len(senders)) as pool:
            answers = list(pool.map(lambda ask: ask[0](ask[1])[0], asks))
        ids = [a for a, _ in applications]
        _wait(lambda: _ready(engine, ids) == len(ids), "packets ready")
        elapsed = time.perf_counter() - started
        expected = _ready_events(engine, since)
        _wait(lambda: expected <= set(received.events), "webhook deliveries", timeout=300)
        time.sleep(2)  # a duplicate delivery would arrive meanwhile
        problems = [f"a request answered {s}" for s in answers if s != 202]
        problems += _check(engine, ids, since, Path(env["PACKET_STORAGE_DIR"]), received.events)
    return {
        "packets": len(ids),
        "requests": len(asks),
        "seconds_to_all_ready": round(elapsed, 2),
        "deliveries": sum(1 for event in received.events if event in expected),
        "problems": problems,
    }


def _fullest_with_managers(engine: Engine, n: int) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        return [
            (row.application_id, row.hiring_manager_id)
            for row in connection.execute(
                select(Scorecard.application_id, Requisition.hiring_manager_id)
                .join(Application, Application.id == Scorecard.application_id)
                .join(Requisition, Requisition.id == Application.requisition_id)
                .where(Scorecard.state == "submitted")
                .group_by(Scorecard.application_id, Requisition.hiring_manager_id)
                .order_by(func.count().desc(), Scorecard.application_id)
                .limit(n)
            )
        ]


def _ready_events(engine: Engine, since: int) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.scalars(
                select(OutboxEvent.public_id).where(
                    OutboxEvent.type == "packet.ready", OutboxEvent.id > since
                )
            )
        )


def _ready(engine: Engine, application_ids: list[int]) -> int:
    with engine.connect() as connection:
        statuses = list(
            connection.scalars(
                select(Packet.status).where(Packet.application_id.in_(application_ids))
            )
        )
    if "failed" in statuses:
        raise RuntimeError("a packet failed to render")
    return statuses.count("ready")


def _check(
    engine: Engine,
    application_ids: list[int],
    since: int,
    storage: Path,
    deliveries: list[str],
) -> list[str]:
    """Everything that was not exactly once, in words (an empty list: all was)."""
    with engine.connect() as connection:
        packets = connection.execute(
            select(
                Packet.id,
                Packet.application_id,
                Packet.attempts,
                Packet.job_id,
                Packet.storage_key,
                Packet.sha256,
            ).where(Packet.application_id.in_(application_ids))
        ).all()
        events = connection.execute(
            select(OutboxEvent.public_id, OutboxEvent.data, OutboxEvent.dispatched_at).where(
                OutboxEvent.type == "packet.ready", OutboxEvent.id > since
            )
        ).all()
    problems = []
    per_application = Counter(p.application_id for p in packets)
    problems += [f"application {a}: {n} packets" for a, n in per_application.items() if n != 1]
    problems += [f"application {a}: no packet" for a in application_ids if a not in per_application]
    problems += [f"packet {p.id}: {p.attempts} attempts" for p in packets if p.attempts != 1]
    jobs = Counter(p.job_id for p in packets)
    problems += [f"job {j} rendered {n} packets" for j, n in jobs.items() if n != 1 or j is None]
    for p in packets:
        path = storage / p.storage_key if p.storage_key else None
        if path is None or not path.is_file():
            problems.append(f"packet {p.id}: no stored file")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != p.sha256:
            problems.append(f"packet {p.id}: the stored file is not the recorded one")
    stored = [f for f in storage.rglob("*") if f.is_file()] if storage.exists() else []
    if len(stored) != len(packets):
        problems.append(f"{len(stored)} stored files for {len(packets)} packets")
    per_packet = Counter(e.data["packet_id"] for e in events)
    problems += [
        f"packet {p.id}: {per_packet[p.id]} packet.ready events"
        for p in packets
        if per_packet[p.id] != 1
    ]
    problems += [f"event {e.public_id} not dispatched" for e in events if e.dispatched_at is None]
    ours = {e.public_id for e in events}
    delivered = Counter(d for d in deliveries if d in ours)
    problems += [f"event {e} delivered {n} times" for e, n in delivered.items() if n != 1]
    problems += [
        f"event {e.public_id} not delivered" for e in events if e.public_id not in delivered
    ]
    return problems


class _Received:
    url = ""

    def __init__(self) -> None:
        self.events: list[str] = []


@contextmanager
def _receiver() -> Iterator[_Received]:
    """A webhook receiver on loopback recording each delivered event's id."""
    received = _Received()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                received.events.append(json.loads(body)["id"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_port}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _workers(env: dict[str, str], redis_url: str, count: int) -> Iterator[None]:
    """`count` real `python -m workers` processes, waited for until they listen.

    Without their periodic schedulers: at 100k the reminders' first pass over the
    generated history enqueues thousands of emails on the `events` queue, ahead of the
    webhook deliveries measured here (which then missed the 300 s wait), and a worker
    in the middle of such a job did not stop within a minute."""
    connection = Redis.from_url(redis_url)
    before = len(Worker.all(connection=connection))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "workers", "--no-periodic"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        _wait(lambda: len(Worker.all(connection=connection)) >= before + count, "workers")
        yield
    finally:
        for process in processes:
            process.terminate()  # RQ's warm shutdown: the job in hand is finished first
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                _kill_with_children(process)


def _kill_with_children(process: subprocess.Popen) -> None:
    """SIGKILL a worker and the job's child it forked (RQ gives it a session of its own)."""
    children = subprocess.run(
        ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
    ).stdout
    for pid in [*map(int, children.split()), process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tokens", type=Path, default=ROOT / "instance" / "bench" / "tokens.json")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--packets", type=int, default=PACKETS)
    parser.add_argument("--workers-per-server", type=int, default=WORKERS_PER_SERVER)
    args = parser.parse_args(argv)
    figures, raw = run(
        {
            "size": "given",
            "database_url": args.database_url,
            "tokens": json.loads(args.tokens.read_text()),
            "requests": args.requests,
            "packets": args.packets,
            "workers_per_server": args.workers_per_server,
        }
    )
    for f in figures:
        print(f"{f.name:<70} {f.value:>8.1f} {f.unit:<6} {f.baseline_name} {f.baseline:.1f}")
    print(json.dumps(raw, indent=1, default=str))


if __name__ == "__main__":
    main()
