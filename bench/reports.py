"""Report benches (target: reports over 100k applications answer in well under a second).

Each report is requested through the Flask test client as the generated admin (or
the requisition's hiring manager for the pipeline), a few times after one warm-up
request, and its median wall time is set beside the median of a bare
`SELECT status, count(*) FROM applications GROUP BY status` through the app's own
session in the same run: one pass over the applications, the least any report
over all of them can cost.

The app is loaded as the gunicorn master loads it (`gunicorn.conf.py`): with the
garbage collector off, then frozen, so that a full collection during a report
walks only the objects the requests made (about 30-55 ms) rather than the whole
loaded app as well (0.9-1.3 s under load, every fifth request or so).

Plugs into `bench.run` as a section; also runnable alone on a generated database:
    .venv/bin/python -m bench.reports --database-url URL --tokens instance/bench/tokens.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from statistics import median
from typing import Any

from flask import Flask
from sqlalchemy import func, select, text

from service import create_app
from service.config import Settings as ServiceSettings
from service.extensions import db
from service.persistence.applications import Application
from service.persistence.requisitions import Requisition

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 5
REPORTED_TABLES = (
    "applications",
    "stage_changes",
    "self_identifications",
    "scorecards",
    "scorecard_revisions",
    "scorecard_ratings",
)
TARGET_MS = 250.0  # issue 18: the interviewers and all-requisitions adverse-impact reports


def bench_app(context: dict[str, Any], name: str) -> Flask:
    """The service on the context's database, with its instance folder under the bench's."""
    size = context.get("size", "?")
    workdir = Path(context.get("workdir") or ROOT / "instance" / "bench" / f"{name}-{size}")
    workdir.mkdir(parents=True, exist_ok=True)
    settings = replace(
        ServiceSettings.from_env(workdir, env={}),
        database_url=context["database_url"],
        secret_key="bench-only",  # PostgreSQL refuses the public default key
    )
    return create_app({"SETTINGS": settings, "INSTANCE_PATH": str(workdir)})


def run(context: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """Median time of each report against the bare GROUP BY, at the context's size."""
    from bench.run import Figure

    size = context.get("size", "?")
    repeats = context.get("repeats", REPEATS)
    gc.disable()
    app = bench_app(context, "reports")
    gc.freeze()  # as gunicorn.conf.py does before forking its workers
    gc.enable()
    tokens = context["tokens"]
    admin = {"Authorization": f"Bearer {tokens['admin']['token']}"}
    managers = {m["id"]: m["token"] for m in tokens["hiring_managers"]}
    client = app.test_client()
    try:
        with app.app_context():
            requisition_id, manager_id = _busiest_requisition()
            baseline_ms = _timed(repeats, _group_by_status)
            tables = _table_state()
        manager = {"Authorization": f"Bearer {managers[manager_id]}"}
        requests = {
            "adverse impact (all)": ("/api/v1/reports/adverse-impact", admin),
            "adverse impact (1 requisition)": (
                f"/api/v1/reports/adverse-impact?requisition_id={requisition_id}",
                admin,
            ),
            "pipeline (1 requisition)": (
                f"/api/v1/reports/pipeline?requisition_id={requisition_id}",
                manager,
            ),
            "stuck (all)": ("/api/v1/reports/stuck", admin),
            "interviewers (all)": ("/api/v1/reports/interviewers", admin),
        }
        raw: dict[str, Any] = {
            "baseline_ms": baseline_ms,
            "repeats": repeats,
            "requisition_id": requisition_id,
            "tables": tables,
        }
        figures = []
        for name, (url, headers) in requests.items():
            elapsed = _timed(repeats, lambda u=url, h=headers: _get(client, u, h))
            raw[name] = elapsed
            value = elapsed["median_ms"]
            print(
                f"  {size:>5} {name:<32} median {value:>8.1f} ms  "
                f"(baseline {baseline_ms['median_ms']:.1f} ms; process CPU "
                f"{elapsed['median_process_cpu_ms']:.1f} ms, gc {elapsed['gc_pause_ms']:.1f} ms "
                f"in {elapsed['gc_collections']})",
                file=sys.stderr,
                flush=True,
            )
            figures.append(
                Figure(
                    "reports",
                    size,
                    name,
                    value,
                    "ms",
                    "bare GROUP BY status",
                    baseline_ms["median_ms"],
                    target=f"< {TARGET_MS:.0f} ms",
                    ok=value < TARGET_MS,
                )
            )
        return figures, raw
    finally:
        db.engine(app).dispose()


def _busiest_requisition() -> tuple[int, int]:
    """The requisition with the most applications (the heaviest one-requisition report)."""
    row = db.session.execute(
        select(Requisition.id, Requisition.hiring_manager_id)
        .join(Application, Application.requisition_id == Requisition.id)
        .group_by(Requisition.id, Requisition.hiring_manager_id)
        .order_by(func.count().desc(), Requisition.id)
        .limit(1)
    ).one()
    db.session.rollback()
    return row.id, row.hiring_manager_id


def _table_state() -> dict[str, dict[str, int]]:
    """What the load before this section left in the tables the reports read (PostgreSQL;
    autovacuum may be off on a CI server): dead rows, rows inserted since the last vacuum
    (their pages are not all-visible yet) and rows changed since the last analyze."""
    if db.session.get_bind().dialect.name != "postgresql":
        return {}
    rows = db.session.execute(
        text(
            "SELECT relname, n_dead_tup, n_ins_since_vacuum, n_mod_since_analyze "
            "FROM pg_stat_user_tables WHERE relname = ANY(:names) ORDER BY relname"
        ),
        {"names": list(REPORTED_TABLES)},
    ).all()
    db.session.rollback()
    return {
        name: {"dead": dead, "inserted_since_vacuum": inserted, "changed_since_analyze": changed}
        for name, dead, inserted, changed in rows
    }


def _group_by_status() -> None:
    db.session.execute(select(Application.status, func.count()).group_by(Application.status)).all()
    db.session.rollback()


def _get(client, url: str, headers: dict[str, str]) -> None:
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(
            f"GET {url}: {response.status_code} {response.get_data(as_text=True)[:300]}"
        )


def _timed(repeats: int, call) -> dict[str, Any]:
    """Median, min and max wall time of `call`, with what explains a slow run: this
    process's CPU time (the rest is the database and waiting for a CPU) and the garbage
    collector's pauses during the timed calls."""
    call()  # warm-up: connections, caches, first-request imports
    times, cpu = [], []
    with _gc_pauses() as pauses:
        for _ in range(repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            call()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "median_ms": round(median(times), 2),
        "min_ms": round(min(times), 2),
        "max_ms": round(max(times), 2),
        "median_process_cpu_ms": round(median(cpu), 2),
        "gc_collections": len(pauses),
        "gc_pause_ms": round(sum(pauses), 2),
        "load_average": round(os.getloadavg()[0], 2),
    }


@contextmanager
def _gc_pauses() -> Iterator[list[float]]:
    """The duration (ms) of every garbage collection inside the block."""
    pauses: list[float] = []
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(callback)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(callback)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tokens", type=Path, default=ROOT / "instance" / "bench" / "tokens.json")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    tokens = json.loads(args.tokens.read_text())
    size = tokens["summary"]["applications"]
    figures, raw = run(
        {
            "size": f"{size // 1000}k" if size % 1000 == 0 else str(size),
            "database_url": args.database_url,
            "tokens": tokens,
            "repeats": args.repeats,
        }
    )
    for f in figures:
        print(
            f"{f.name:<34} {f.value:>9.1f} ms   baseline {f.baseline:>7.1f} ms   "
            f"ratio {f.ratio:>7.1f}   {'ok' if f.ok else 'NO'}"
        )
    print(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
