"""The bench suite: every figure beside a baseline measured in the same run, as a ratio.

    make bench                                   # sizes 1k,10k,100k on PostgreSQL
    .venv/bin/python -m bench.run --sizes 1k,10k --requests 1000
    .venv/bin/python -m bench.run --quick        # a smoke run: 1k, few requests

For each size it fills its own PostgreSQL database (`hiring_bench_<size>`,
never the test database; `BENCH_DATABASE_PREFIX=hiring_bench_mine_` and
`BENCH_REDIS_URL` let a second bench run beside it) with `bench.generate`, serves the API and the
baseline app (`bench.baseline_app`: one indexed query in a bare Flask view)
with the same gunicorn settings, and sends each endpoint a fixed number of
requests from a bounded client on 127.0.0.1. It also times the calibration
refit on the generated data and the calibration model at 10k–1M ratings
(`bench.calibration`). Prints a table and writes bench/results/latest.json
(and a dated copy). Memory, packet, report, page and scaling benches plug in through
`SECTIONS`.
"""

from __future__ import annotations

# First: bench.calibration pins BLAS to one thread before numpy loads (for the service's
# calibration job timed in this process; the model bench runs in processes of its own).
from bench import calibration  # noqa: F401  # isort: skip

import argparse
import importlib
import json
import os
import platform
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from bench import generate
from bench.load import LOOPBACK, Request, Sender, http_sender, run_load, wsgi_sender
from service.persistence import migrate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TOKENS_DIR = ROOT / "instance" / "bench"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
# The bench's own Redis database (the tests use 15): submissions enqueue the refit here.
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# Databases are named `<prefix><size>`; another prefix lets two benches run side by side.
DATABASE_PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "hiring_bench_")
# From this size on, one more requisition with 500 active applications: the pages bench
# times the board on it (issue 14's "the board for a requisition with 500 active").
BUSY_FROM, BUSY_REQUISITION = 100_000, 500
READ_ENDPOINTS = ("list_applications", "get_application", "get_assessment")
# The assessment's first read after a change computes and stores it (no target: the
# targets are the read's); measured first, it leaves every planned one stored.
ENDPOINTS = (
    "list_applications",
    "get_application",
    "get_assessment_first_read",
    "get_assessment",
    "submit_scorecard",
)
# Targets from the issues (7 and 4, then 18): throughput over the bare view's, and p99.
THROUGHPUT_RATIOS = {
    "list_applications": 0.6,
    "get_application": 0.6,
    "get_assessment": 0.5,
    "submit_scorecard": 0.25,
}
P99_MS = {name: 100.0 if name == "submit_scorecard" else 50.0 for name in THROUGHPUT_RATIOS}
MEMORY_RATIO = 1.3  # API worker over a bare Flask + SQLAlchemy worker (issue 18)
FLAT_GROWTH = 1.5  # per-request cost at the largest size over the smallest, against the baseline's
# Issue 18: for the default (ordinal) model, the refresh started from the last fit.
CALIBRATION_TARGETS_S = {100_000: ("fit", 10.0), 1_000_000: ("fit", 5.0)}
REFRESH_TARGET_S = {1_000_000: 1.0}


@dataclass
class Figure:
    """One measured value beside its baseline from the same run."""

    section: str
    size: str
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline


@dataclass(frozen=True)
class Settings:
    workers: int = 4
    concurrency: int = 4
    requests: int = 2_000
    submits: int = 400
    warmup: int = 50
    seed: int = 1


# --- sizes and databases ---------------------------------------------------------------


def parse_size(label: str) -> int:
    label = label.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(label[-1], 1)
    return int(float(label.rstrip("km")) * factor)


def size_label(n: int) -> str:
    return (
        f"{n // 1_000_000}m"
        if n % 1_000_000 == 0
        else f"{n // 1_000}k"
        if n % 1_000 == 0
        else str(n)
    )


def prepare_database(n: int, seed: int, reuse: bool) -> tuple[str, dict[str, Any]]:
    """A database with `n` generated applications, and its tokens file (regenerated unless reused)."""
    name = f"{DATABASE_PREFIX}{size_label(n)}"
    url = f"{POSTGRES}/{name}"
    tokens_path = TOKENS_DIR / f"tokens-{name}.json"
    admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if reuse and exists and tokens_path.exists():
                tokens = json.loads(tokens_path.read_text())
                summary = tokens["summary"]
                if summary["applications"] == n and summary["seed"] == seed:
                    migrate.upgrade(url)  # a migration added since it was generated
                    if _as_generated(url, summary["rows"]):
                        print(f"reusing {name}", file=sys.stderr)
                        return url, tokens
                    print(f"{name} has changed since it was generated", file=sys.stderr)
            assert name.startswith("hiring_bench")  # never the test database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    busy = BUSY_REQUISITION if n >= BUSY_FROM else 0
    generate.generate(url, n, seed=seed, tokens_path=tokens_path, busy_requisition=busy)
    return url, json.loads(tokens_path.read_text())


def _as_generated(url: str, rows: dict[str, int]) -> bool:
    """Whether the database holds the rows it was generated with, and no more.

    A run adds to it (the submit bench's interviews and scorecards, the packets' and
    pages' applications), always to the same applications: reused as it was, the 1k
    database held 2,000 applications after three runs, and the submit bench's
    applications 9 scorecards each instead of 4-5, so each run measured other data
    than the one before. Now every run measures the generated data, regenerating it
    when it has changed (~20 s at 100k)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return all(
                connection.scalar(text(f'SELECT count(*) FROM "{table}"')) == count
                for table, count in rows.items()
            )
    finally:
        engine.dispose()


# --- the request plans -----------------------------------------------------------------


def build_plans(
    url: str, tokens: dict[str, Any], settings: Settings, endpoints: Sequence[str]
) -> dict[str, list[Request]]:
    """Seeded request lists per endpoint (warm-up included), from ids found in the database."""
    from service.persistence.applications import Application
    from service.persistence.requisitions import Requisition
    from service.persistence.scorecards import Scorecard

    rng = random.Random(settings.seed)
    total = settings.requests + settings.warmup
    recruiter = tokens["recruiters"][0]["token"]
    managers = {m["id"]: m["token"] for m in tokens["hiring_managers"]}
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            app_ids = list(connection.scalars(select(Application.id)))
            req_ids = list(connection.scalars(select(Requisition.id)))
            assessed = connection.execute(
                select(Scorecard.application_id, Requisition.hiring_manager_id)
                .join(Application, Application.id == Scorecard.application_id)
                .join(Requisition, Requisition.id == Application.requisition_id)
                .where(Scorecard.state == "submitted")
                .group_by(Scorecard.application_id, Requisition.hiring_manager_id)
                .having(func.count() >= 3)
            ).all()
    finally:
        engine.dispose()
    plans: dict[str, list[Request]] = {
        "baseline": [
            Request("GET", f"/baseline/applications/{i}") for i in rng.choices(app_ids, k=total)
        ],
    }
    if "list_applications" in endpoints:
        chosen = rng.choices(req_ids, k=total)
        plans["list_applications"] = [
            Request("GET", f"/api/v1/applications?requisition_id={r}&limit=50", recruiter)
            for r in chosen
        ]
        plans["baseline_page"] = [
            Request("GET", f"/baseline/applications?requisition_id={r}&limit=50") for r in chosen
        ]
    if "get_application" in endpoints:
        plans["get_application"] = [
            Request("GET", f"/api/v1/applications/{i}", recruiter)
            for i in rng.choices(app_ids, k=total)
        ]
    if "get_assessment" in endpoints and assessed:
        chosen_assessed = rng.choices(assessed, k=total)
        plans["get_assessment"] = [
            Request("GET", f"/api/v1/applications/{a}/assessment", managers[m])
            for a, m in chosen_assessed
        ]
        if "get_assessment_first_read" in endpoints:
            # Distinct applications, none of them read by get_assessment's pre-warm (which
            # stores its reads): every measured request computes. At 1k a fifth of them
            # had been, and the first read's growth to 100k measured 1.9-2.4 against ~1.
            _forget_stored_assessments(url)
            prewarmed = set(prewarm(plans["get_assessment"], settings))
            plans["get_assessment_first_read"] = [
                request
                for request in dict.fromkeys(plans["get_assessment"])
                if request not in prewarmed
            ]
    if "submit_scorecard" in endpoints:
        n = settings.submits + min(settings.warmup, settings.submits // 4)
        pending = generate.add_pending_interviews(
            url, tokens["interviewers"], n, seed=settings.seed
        )
        plans["submit_scorecard"] = [
            Request(
                "POST",
                f"/api/v1/interviews/{p['interview_id']}/scorecard/submit",
                p["token"],
                _scorecard_body(p["competencies"], rng),
            )
            for p in pending
        ]
    return plans


def prewarm(plan: list[Request], settings: Settings) -> list[Request]:
    """The requests of `plan` sent before any measurement, to every worker."""
    return plan[: max(settings.warmup, 4 * settings.concurrency)]


def _forget_stored_assessments(url: str) -> None:
    """A reused database keeps the assessments its last run stored: clear them, so that
    each first read computes, as after a change."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM assessment_read_models"))
    finally:
        engine.dispose()


def _scorecard_body(competencies: Sequence[str], rng: random.Random) -> dict[str, Any]:
    scores = [rng.choice((2, 3, 3, 4)) for _ in competencies]
    return {
        "ratings": [
            {"competency": c, "score": s, "evidence": generate.EVIDENCE[s]}
            for c, s in zip(competencies, scores, strict=True)
        ],
        "recommendation": "yes" if sum(scores) / len(scores) >= 2.6 else "no",
        "summary": "Clear reasoning; tested the failure cases without being asked.",
    }


# --- the API section -------------------------------------------------------------------


def measure_api(
    service: Callable[[], Sender],
    baseline: Callable[[], Sender],
    plans: dict[str, list[Request]],
    settings: Settings,
    size: str,
) -> tuple[list[Figure], dict[str, Any]]:
    """Each endpoint between two half-runs of its baseline, each after its own warm-up.

    The machine is shared and noisy, so every endpoint gets a baseline measured
    right before and right after it; its figure uses their mean. The page list is
    compared with a bare page of 50 rows, the other endpoints with a bare lookup.
    """
    raw: dict[str, Any] = {}

    def measure(name: str, sender: Callable[[], Sender], plan: list[Request]) -> dict[str, Any]:
        warm = min(settings.warmup, len(plan) // 5)
        if warm:
            run_load(sender, plan[:warm], settings.concurrency)
        result = run_load(sender, plan[warm:], settings.concurrency).summary()
        result["load_average"] = round(os.getloadavg()[0], 2)
        print(
            f"  {size:>5} {name:<22} {result['throughput_rps']:>8} req/s  "
            f"p50 {result['p50_ms']:>7} ms  p99 {result['p99_ms']:>7} ms  "
            f"errors {result['errors']}  load {result['load_average']}",
            file=sys.stderr,
            flush=True,
        )
        if result["errors"]:
            print(f"    first error: {result['first_error']}", file=sys.stderr)
        return result

    def halves(plan: list[Request]) -> tuple[list[Request], list[Request]]:
        middle = settings.warmup + (len(plan) - settings.warmup) // 2
        return plan[:middle], plan[: settings.warmup] + plan[middle:]

    # Every worker opens its connections and fills its caches before anything is measured
    # (the first reads warm up in their own measurement, on reads not measured).
    for name, plan in plans.items():
        if name not in ("submit_scorecard", "get_assessment_first_read"):
            run_load(
                baseline if name.startswith("baseline") else service,
                prewarm(plan, settings),
                settings.concurrency,
            )

    figures = []
    for name in ENDPOINTS:
        if name not in plans:
            continue
        base_name = "baseline_page" if name == "list_applications" else "baseline"
        before, after = halves(plans[base_name])
        first = measure(f"{base_name} (before)", baseline, before)
        result = measure(name, service, plans[name])
        second = measure(f"{base_name} (after)", baseline, after)
        base = {
            key: (first[key] + second[key]) / 2 for key in ("throughput_rps", "p50_ms", "p99_ms")
        }
        raw[name] = {
            **result,
            "baseline": {"name": base_name, "before": first, "after": second, "mean": base},
        }
        label = (
            "bare Flask: page of 50, 1 indexed query"
            if base_name == "baseline_page"
            else "bare Flask: 1 indexed lookup"
        )
        ratio, p99 = THROUGHPUT_RATIOS.get(name), P99_MS.get(name)
        figures += [
            Figure(
                "api",
                size,
                f"{name} throughput",
                result["throughput_rps"],
                "req/s",
                label,
                base["throughput_rps"],
                target=f"ratio >= {ratio}" if ratio else "",
                ok=(
                    result["throughput_rps"] >= ratio * base["throughput_rps"]
                    and not result["errors"]
                )
                if ratio
                else None,
            ),
            Figure(
                "api", size, f"{name} p50", result["p50_ms"], "ms", "baseline p50", base["p50_ms"]
            ),
            Figure(
                "api",
                size,
                f"{name} p99",
                result["p99_ms"],
                "ms",
                "baseline p99",
                base["p99_ms"],
                target=f"< {p99:.0f} ms" if p99 else "",
                ok=result["p99_ms"] < p99 if p99 else None,
            ),
        ]
    return figures, raw


def growth_figures(per_size: dict[str, dict[str, Any]]) -> list[Figure]:
    """Per-request cost (p50) at each size over the smallest, against the baseline's growth."""
    labels = list(per_size)
    if len(labels) < 2:
        return []
    smallest = per_size[labels[0]]
    figures = []
    for label in labels[1:]:
        current = per_size[label]
        for name in ENDPOINTS:
            if name in current and name in smallest:
                growth = current[name]["p50_ms"] / smallest[name]["p50_ms"]
                base_growth = (
                    current[name]["baseline"]["mean"]["p50_ms"]
                    / smallest[name]["baseline"]["mean"]["p50_ms"]
                )
                figures.append(
                    Figure(
                        "growth",
                        f"{labels[0]}->{label}",
                        f"{name} p50 growth",
                        round(growth, 3),
                        "x",
                        "baseline p50 growth",
                        round(base_growth, 3),
                        target=f"ratio <= {FLAT_GROWTH}",
                        ok=growth / base_growth <= FLAT_GROWTH,
                    )
                )
    return figures


# --- servers ---------------------------------------------------------------------------


class Server:
    """A gunicorn master we started, on a free loopback port; stopped by its own pid."""

    def __init__(self, app: str, env: dict[str, str], workers: int, ready_path: str) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"{LOOPBACK}:{self.port}",
                "--log-level",
                "warning",
                "--backlog",
                "512",
                app,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
        )
        self._wait(ready_path)

    def sender(self) -> Callable[[], Sender]:
        return http_sender(self.port)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def memory_mb(self) -> dict[str, float]:
        """The largest of each reading among the workers (see `worker_memory_mb`)."""
        readings = [worker_memory_mb(pid) for pid in self.worker_pids()]
        return {key: max(r[key] for r in readings) for key in readings[0]}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _wait(self, path: str) -> None:
        import http.client

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=2)
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer {path} within 60 s")


def worker_memory_mb(pid: int) -> dict[str, float]:
    """A process's memory in MB: peak RSS (VmHWM: every page it touched, shared ones
    too), RSS now, PSS (shared pages divided among the processes sharing them) and USS
    (the pages no other process shares: what one more worker costs), from
    /proc/PID/status and /proc/PID/smaps_rollup."""
    fields: dict[str, int] = {}
    for path in (f"/proc/{pid}/status", f"/proc/{pid}/smaps_rollup"):
        for line in Path(path).read_text().splitlines():
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                fields[name] = int(parts[0])
    return {
        "peak_rss": fields["VmHWM"] / 1024,
        "rss": fields["Rss"] / 1024,
        "pss": fields["Pss"] / 1024,
        "uss": (fields["Private_Clean"] + fields["Private_Dirty"]) / 1024,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def api_over_http(
    url: str,
    tokens: dict[str, Any],
    settings: Settings,
    size: str,
) -> tuple[list[Figure], dict[str, Any]]:
    from redis import Redis

    plans = build_plans(url, tokens, settings, ENDPOINTS)
    redis = Redis.from_url(BENCH_REDIS)
    redis.flushdb()  # the bench's own database: a queued refit from an earlier run would linger
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only",  # PostgreSQL refuses the public default key
        "REDIS_URL": BENCH_REDIS,
        "LOG_LEVEL": "WARNING",
        "PACKET_STORAGE_DIR": str(TOKENS_DIR / "packets"),
    }
    service = Server("wsgi:app", env, settings.workers, "/api/v1/openapi.json")
    try:
        baseline = Server("bench.baseline_app:app", env, settings.workers, "/baseline/health")
        try:
            figures, raw = measure_api(service.sender(), baseline.sender(), plans, settings, size)
            memory, base_memory = service.memory_mb(), baseline.memory_mb()
        finally:
            baseline.stop()
    finally:
        service.stop()
        redis.flushdb()
    figures += memory_figures(size, memory, base_memory, after="the whole load", target=False)
    raw["memory_mb"] = {"service_worker": memory, "baseline_worker": base_memory}
    return figures, raw


def memory_figures(
    size: str,
    memory: dict[str, float],
    base_memory: dict[str, float],
    *,
    after: str,
    target: bool,
) -> list[Figure]:
    """The API worker's memory against the bare Flask + SQLAlchemy worker's, both preloaded
    by the same gunicorn settings, read `after` their load. The target (issue 18) is on
    the worker's own memory (USS) after the same reads as the bare app's (`bench.memory`):
    after the whole load the API's workers have also written scorecards and computed
    assessments, which the bare app never does."""
    names = {"peak_rss": "peak RSS", "pss": "PSS", "uss": "USS (unique)"}
    return [
        Figure(
            "memory",
            size,
            f"API worker {label}, after {after}",
            round(memory[key], 1),
            "MB",
            f"baseline worker {label}",
            round(base_memory[key], 1),
            target=f"ratio <= {MEMORY_RATIO}" if target and key == "uss" else "",
            ok=memory[key] <= MEMORY_RATIO * base_memory[key] if target and key == "uss" else None,
        )
        for key, label in names.items()
    ]


# --- calibration ---------------------------------------------------------------------


def service_calibration(url: str, size: str) -> list[Figure]:
    """The refit job on the generated data, against reading the same ratings from the database."""
    from sqlalchemy.orm import Session

    from service.extensions import make_engine
    from service.usecases.calibration import load_ratings, refit_calibration

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            ratings = load_ratings(session)
            read_s = time.perf_counter() - started
            session.rollback()
            started = time.perf_counter()
            run = refit_calibration(session, full=True)
            full_s = time.perf_counter() - started
            started = time.perf_counter()
            refit_calibration(session, full=False)
            refresh_s = time.perf_counter() - started
    finally:
        engine.dispose()
    n = len(ratings.score) if ratings is not None else 0
    label = f"{size} ({n} ratings)"
    return (
        [
            Figure(
                "calibration job",
                label,
                "full refit (load, fit, store)",
                round(full_s, 3),
                "s",
                "load the ratings only",
                round(read_s, 3),
            ),
            Figure(
                "calibration job",
                label,
                "refresh (no new data)",
                round(refresh_s, 3),
                "s",
                "load the ratings only",
                round(read_s, 3),
            ),
        ]
        if run is not None
        else []
    )


def calibration_model(
    sizes: Sequence[int], quiet_wait_s: float = 60.0
) -> tuple[list[Figure], list[dict[str, Any]]]:
    """bench/calibration.py's fit and refresh at each size, against its co-panel baseline,
    each size in a process of its own, as the service's worker runs each calibration job
    in a child it forks for the job (not after everything above and the smaller sizes in
    this process; BENCHMARKS.md, "Issue 18, fifth pass"), once the machine is quiet
    (waiting at most `quiet_wait_s`)."""
    figures, rows = [], []
    for n in sizes:
        row = calibration_in_own_process(n, quiet_wait_s)
        rows.append(row)
        label = f"{size_label(n)} ratings"
        fit_target = CALIBRATION_TARGETS_S.get(n)
        refresh_target = REFRESH_TARGET_S.get(n)
        figures += [
            Figure(
                "calibration",
                label,
                "full REML fit",
                round(row["fit_s"], 3),
                "s",
                "O(n) co-panel estimate",
                round(row["copanel_s"], 4),
            ),
            Figure(
                "calibration",
                label,
                "BLUP refresh",
                round(row["refresh_s"], 3),
                "s",
                "O(n) co-panel estimate",
                round(row["copanel_s"], 4),
            ),
        ]
        figures += [
            Figure(
                "calibration",
                label,
                "ordinal model, full fit",
                round(row["ordinal_fit_s"], 3),
                "s",
                "linear model, full fit (same run)",
                round(row["fit_s"], 3),
                target=f"<= {fit_target[1]:.0f} s" if fit_target else "",
                ok=row["ordinal_fit_s"] <= fit_target[1] if fit_target else None,
            ),
            Figure(
                "calibration",
                label,
                "ordinal model, refresh",
                round(row["ordinal_refresh_s"], 3),
                "s",
                "linear model, refresh (same run)",
                round(row["refresh_s"], 3),
            ),
            Figure(
                "calibration",
                label,
                "ordinal model, refresh from the last fit",
                round(row["ordinal_warm_refresh_s"], 3),
                "s",
                "O(n) co-panel estimate",
                round(row["copanel_s"], 4),
                target=f"<= {refresh_target:.0f} s" if refresh_target else "",
                ok=row["ordinal_warm_refresh_s"] <= refresh_target if refresh_target else None,
            ),
            Figure(
                "calibration",
                label,
                "ordinal model, refresh from the last fit, slowest of its 3 runs",
                round(max(row["ordinal_warm_refresh_runs_s"]), 3),
                "s",
                "the fastest (the figure above)",
                round(row["ordinal_warm_refresh_s"], 3),
            ),
        ]
        print(
            f"  calibration {label}: fit {row['fit_s']:.2f} s, refresh {row['refresh_s']:.2f} s"
            f" (waited {row['waited_for_quiet_s']} s for a quiet machine; meanwhile other"
            f" processes used {row['others_cores']:.2f} cores, the host took"
            f" {row['stolen_cores']:.2f})",
            file=sys.stderr,
            flush=True,
        )
    return figures, rows


def calibration_in_own_process(n: int, quiet_wait_s: float) -> dict[str, Any]:
    """`bench.calibration.run(n)` in a fresh interpreter; its row, with the CPU the rest
    of the machine used meanwhile (`others_cores`, `stolen_cores`): the model's fit and
    refresh use both cores, so a process beside them (an autovacuum after the API
    bench's writes, another VM on the host) slows them more than anything single-threaded.
    Starts once the machine is quiet (`wait_for_quiet`)."""
    output = RESULTS / f"calibration-{n}.json"
    waited = wait_for_quiet(quiet_wait_s)
    before = machine_cpu_s()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bench.calibration", "--sizes", str(n), "--output", str(output)],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[1],
    )
    elapsed = time.perf_counter() - started
    after = machine_cpu_s()
    try:
        row: dict[str, Any] = json.loads(output.read_text())["runs"][0]
    finally:
        output.unlink(missing_ok=True)
    child = after["children"] - before["children"]
    row["others_cores"] = round((after["busy"] - before["busy"] - child) / elapsed, 3)
    row["stolen_cores"] = round((after["steal"] - before["steal"]) / elapsed, 3)
    row["waited_for_quiet_s"] = waited
    return row


def machine_cpu_s() -> dict[str, float]:
    """CPU seconds so far: the machine's busy time and the time its host took from it
    (steal, on a VM), from /proc/stat, and this process's waited-for children's."""
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "busy": (user + nice + system + irq + softirq) / tick,
        "steal": steal / tick,
        "children": children.ru_utime + children.ru_stime,
    }


def wait_for_quiet(most_s: float, cores: float = 0.2) -> float:
    """Wait (at most `most_s`) until the machine used less than `cores` of CPU over a
    second while this process waited; the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < most_s:
        before = machine_cpu_s()["busy"]
        time.sleep(1.0)
        if machine_cpu_s()["busy"] - before < cores:
            break
    return round(time.perf_counter() - started, 1)


# --- sections other engineers add ---------------------------------------------------------

# Memory, packets, reports, pages and scaling plug in here: a module `bench/<name>.py` with
#     def run(context: dict) -> tuple[list[Figure], dict]
# is called once per size with {"size", "n_applications", "database_url", "tokens",
# "settings"} and its figures join the table and the JSON. Missing modules are
# listed under "not_measured" so the gap stays visible.
SECTIONS = ("memory", "packets", "reports", "pages", "scaling")


def extra_sections(
    context: dict[str, Any],
    names: Sequence[str] = SECTIONS,
) -> tuple[list[Figure], dict[str, Any], list[str]]:
    """Run each section that exists; one that fails is reported, and the run goes on."""
    figures, raw, missing = [], {}, []
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"bench.{name}":
                raise
            missing.append(name)
            continue
        except Exception as error:
            print(f"    section {name} does not import: {error!r}", file=sys.stderr, flush=True)
            raw[name] = {"error": repr(error)}
            missing.append(f"{name} (failed: {type(error).__name__})")
            continue
        print(f"  {context['size']:>5} section {name}", file=sys.stderr, flush=True)
        try:
            section_figures, raw[name] = module.run(context)
        except Exception as error:
            print(f"    section {name} failed: {error!r}", file=sys.stderr, flush=True)
            raw[name] = {"error": repr(error)}
            missing.append(f"{name} (failed: {type(error).__name__})")
            continue
        figures += section_figures
    return figures, raw, missing


# --- the in-process smoke run -----------------------------------------------------------


def smoke(workdir: Path, applications: int = 200, requests: int = 10) -> dict[str, Any]:
    """The smallest run, in-process on SQLite: generator, one API figure, calibration, JSON.

    Run by tests/test_bench_smoke.py so the bench cannot rot.
    """
    from bench.baseline_app import create_baseline_app
    from service import create_app
    from service.config import Settings as ServiceSettings

    url = f"sqlite:///{workdir / 'bench.db'}"
    tokens_path = workdir / "tokens.json"
    summary = generate.generate(url, applications, seed=1, tokens_path=tokens_path, progress=False)
    tokens = json.loads(tokens_path.read_text())
    settings = Settings(workers=0, concurrency=2, requests=requests, submits=0, warmup=2)
    plans = build_plans(url, tokens, settings, ("get_application",))
    app = create_app(
        {"SETTINGS": replace(ServiceSettings.from_env(workdir, env={}), database_url=url)}
    )
    figures, raw = measure_api(
        wsgi_sender(app),
        wsgi_sender(create_baseline_app(url)),
        plans,
        settings,
        size_label(applications),
    )
    app.extensions["db"].kw["bind"].dispose()
    # No wait: the test suite runs beside it.
    calibration_figures, calibration_rows = calibration_model([2_000], quiet_wait_s=0.0)
    return report(
        figures + calibration_figures,
        {
            "smoke": True,
            "generator": summary,
            "api": {size_label(applications): raw},
            "calibration": calibration_rows,
        },
        settings,
        ["packets", "reports"],
        command="bench.run.smoke",
    )


# --- report ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(int(meminfo[1]) / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            check=False,
            text=True,
        ).stdout.strip()
        return head + ("+uncommitted" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(
    figures: list[Figure], raw: dict[str, Any], settings: Settings, missing: list[str], command: str
) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": command,
        "machine": machine(),
        "settings": asdict(settings),
        "figures": [asdict(f) for f in figures],
        "not_measured": missing,
        "raw": raw,
    }


def print_table(figures: Sequence[Figure]) -> None:
    header = (
        f"{'section':<16} {'size':<22} {'figure':<34} {'value':>10} {'unit':<5} "
        f"{'baseline':>10} {'ratio':>7}  {'target':<14} ok"
    )
    print(header)
    print("-" * len(header))
    for f in figures:
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        ok = {True: "yes", False: "NO", None: ""}[f.ok]
        print(
            f"{f.section:<16} {f.size:<22} {f.name:<34} {f.value:>10g} {f.unit:<5} "
            f"{f.baseline:>10g} {ratio:>7}  {f.target:<14} {ok}"
        )


def markdown_table(figures: Sequence[dict[str, Any]]) -> str:
    """The figures of a results file as a Markdown table, for BENCHMARKS.md."""
    lines = [
        "| section | size | figure | value | baseline | ratio | target | ok |",
        "| --- | --- | --- | ---: | --- | ---: | --- | --- |",
    ]
    for f in figures:
        ratio = f"{f['ratio']:.2f}" if f["ratio"] is not None else ""
        ok = {True: "yes", False: "**no**", None: ""}[f["ok"]]
        lines.append(
            f"| {f['section']} | {f['size']} | {f['name']} | {f['value']:g} {f['unit']} | "
            f"{f['baseline']:g} ({f['baseline_name']}) | {ratio} | {f['target']} | {ok} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1k,10k,100k", help="applications per database [1k,10k,100k]"
    )
    parser.add_argument(
        "--calibration-sizes",
        default="10k,100k,1m",
        help="ratings for the calibration model bench [10k,100k,1m]",
    )
    parser.add_argument("--requests", type=int, default=2_000, help="per read endpoint [2000]")
    parser.add_argument("--submits", type=int, default=400, help="scorecard submissions [400]")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers [4]")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads [4]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a generated database of the same size and seed while no run has changed it",
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"other benches to run per size [{','.join(SECTIONS)}]; '' for none",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1k applications, 150 requests, 10k ratings"
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="RESULTS_JSON",
        help="print a results file's figures as a Markdown table, and exit",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown_table(json.loads(args.markdown.read_text())["figures"]))
        return
    if args.quick:
        args.sizes, args.calibration_sizes = "1k", "10k"
        args.requests, args.submits = 150, 40
    settings = Settings(
        workers=args.workers,
        concurrency=args.concurrency,
        requests=args.requests,
        submits=args.submits,
        warmup=50 if not args.quick else 20,
        seed=args.seed,
    )
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]

    figures: list[Figure] = []
    raw: dict[str, Any] = {"api": {}, "generator": {}, "sections": {}}
    missing: list[str] = []
    for n in sizes:
        label = size_label(n)
        print(f"size {label}: preparing the database", file=sys.stderr, flush=True)
        url, tokens = prepare_database(n, args.seed, args.reuse)
        raw["generator"][label] = tokens["summary"]
        api_figures, raw["api"][label] = api_over_http(url, tokens, settings, label)
        figures += api_figures
        figures += service_calibration(url, label)
        context = {
            "size": label,
            "n_applications": n,
            "database_url": url,
            "tokens": tokens,
            "settings": settings,
        }
        sections = [name for name in args.sections.split(",") if name]
        section_figures, raw["sections"][label], not_run = extra_sections(context, sections)
        missing += [name for name in not_run if name not in missing]
        figures += section_figures
    figures += growth_figures(raw["api"])
    calibration_sizes = [parse_size(s) for s in args.calibration_sizes.split(",") if s]
    calibration_figures, raw["calibration"] = calibration_model(calibration_sizes)
    figures += calibration_figures

    result = report(figures, raw, settings, missing, command)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in (RESULTS / "latest.json", RESULTS / f"run-{stamp}.json"):
        path.write_text(json.dumps(result, indent=2))
    print_table(figures)
    if missing:
        print(f"not measured yet: {', '.join(missing)}")
    print(f"wrote {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
