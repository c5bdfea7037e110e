"""Packet benches, each beside a baseline from the same run:

- render: our render of the fullest packet in the database (tagged, PDF/UA-1) against
  bare WeasyPrint rendering the very same HTML to a plain, untagged PDF (target:
  ≤ 1.15×), and bare WeasyPrint's tagged render beside its plain one (what tagging
  itself costs);
- request → ready of that same packet through Redis with an idle packets-only worker
  (`python -m workers packets`), the median of three requests, against its render time
  (target: ≤ render time + 0.5 s);
- packets per minute with one worker and with two (the ratio is the scaling);
- the packet worker's peak memory (the worker or any job's child it forks, read with
  wait4) against a bare `import weasyprint` process rendering the same HTML.

Plugs into `bench.run` as a section; also runnable alone:
    .venv/bin/python -m bench.packets --database-url sqlite:///instance/bench/x.db
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from statistics import median
from typing import Any

from redis import Redis
from rq import Worker
from sqlalchemy import delete, func, select
from weasyprint import HTML

from service import create_app
from service.config import Settings as ServiceSettings
from service.extensions import db
from service.pdf.document import packet_html, render_packet_document
from service.pdf.render import ASSETS, PDF_VARIANT
from service.persistence.packets import Packet
from service.persistence.scorecards import Scorecard
from service.persistence.users import User
from service.usecases.packets import request_packet

ROOT = Path(__file__).resolve().parents[1]
# The bench's own Redis database (`BENCH_REDIS_URL`, as `bench.run`), flushed by each run.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RENDER_RUNS = 7
LATENCY_RUNS = 3
THROUGHPUT_PACKETS = 10
RENDER_TARGET = 1.15
LATENCY_MARGIN_S = 0.5


def run(context: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    from bench.run import Figure

    size = context.get("size", "?")
    workdir = Path(context.get("workdir") or ROOT / "instance" / "bench" / f"packets-{size}")
    app = _app(context["database_url"], workdir)
    with app.app_context():
        db.session.execute(delete(Packet))  # every run renders afresh
        db.session.commit()
        applications = _fullest_applications(THROUGHPUT_PACKETS * 2 + 1)
        ours, bare, bare_tagged, interviews, html = _render_times(applications[0])
        bare_peak_mb = _bare_render_peak_mb(html)
        latency = _request_to_ready(app, applications[0])
        throughput = {
            workers: _throughput(
                app,
                applications[
                    1 + (workers - 1) * THROUGHPUT_PACKETS : 1 + workers * THROUGHPUT_PACKETS
                ],
                workers,
            )
            for workers in (1, 2)
        }
        per_minute = {workers: rate for workers, (rate, _) in throughput.items()}
        worker_peak_mb = max(peak for _, peak in throughput.values())
    db.engine(app).dispose()
    figures = [
        Figure(
            "packets",
            size,
            f"render, {interviews}-interview packet",
            ours,
            "s",
            "bare WeasyPrint, same HTML",
            bare,
            target=f"≤ {RENDER_TARGET}×",
            ok=ours / bare <= RENDER_TARGET,
        ),
        Figure(
            "packets",
            size,
            "bare WeasyPrint, tagged (PDF/UA-1)",
            bare_tagged,
            "s",
            "bare WeasyPrint, untagged",
            bare,
        ),
        Figure(
            "packets",
            size,
            "request → ready, idle worker",
            latency,
            "s",
            "our render time",
            ours,
            target=f"≤ render + {LATENCY_MARGIN_S} s",
            ok=latency <= ours + LATENCY_MARGIN_S,
        ),
        Figure(
            "packets",
            size,
            "packets per minute, 2 workers",
            per_minute[2],
            "/min",
            "1 worker",
            per_minute[1],
        ),
        Figure(
            "packets",
            size,
            "packet worker peak RSS",
            round(worker_peak_mb, 1),
            "MB",
            "bare WeasyPrint process, same HTML",
            round(bare_peak_mb, 1),
        ),
    ]
    raw = {
        "render_s": ours,
        "bare_weasyprint_s": bare,
        "bare_weasyprint_tagged_s": bare_tagged,
        "interviews": interviews,
        "request_to_ready_s": latency,
        "packets_per_minute": per_minute,
        "worker_peak_rss_mb": worker_peak_mb,
        "bare_weasyprint_peak_rss_mb": bare_peak_mb,
    }
    return figures, raw


def _app(database_url: str, workdir: Path):
    workdir.mkdir(parents=True, exist_ok=True)
    settings = replace(
        ServiceSettings.from_env(workdir, env={}),
        database_url=database_url,
        redis_url=REDIS_URL,
        packet_storage_dir=str(workdir / "packets"),
        secret_key="bench-only",  # PostgreSQL refuses the public default key
    )
    Redis.from_url(REDIS_URL).flushdb()
    return create_app({"SETTINGS": settings, "INSTANCE_PATH": str(workdir)})


def _fullest_applications(count: int) -> list[int]:
    """Applications with the most submitted scorecards: the biggest packets."""
    rows = db.session.execute(
        select(Scorecard.application_id, func.count(Scorecard.id).label("cards"))
        .where(Scorecard.state == "submitted")
        .group_by(Scorecard.application_id)
        .order_by(func.count(Scorecard.id).desc(), Scorecard.application_id)
        .limit(count)
    ).all()
    return [application_id for application_id, _ in rows]


def _manager(application_id: int) -> User:
    from service.persistence.applications import Application

    return db.session.get(Application, application_id).requisition.hiring_manager


def _render_times(application_id: int) -> tuple[float, float, float, int, str]:
    """Medians of RENDER_RUNS interleaved renders of the same HTML: ours (template + tagged
    PDF), bare WeasyPrint untagged, and bare WeasyPrint tagged; and the HTML."""
    from service.pdf.content import content_digest
    from service.persistence.applications import Application
    from service.usecases.packets import packet_content

    content = packet_content(db.session, db.session.get(Application, application_id), False)
    digest = content_digest(content)
    html = packet_html(content, digest, 1)
    render_packet_document(content, digest, 1)  # warm-up: fonts, Pango
    base_url = ASSETS.resolve().as_uri() + "/"
    ours, bare, bare_tagged = [], [], []
    for _ in range(RENDER_RUNS):
        started = time.perf_counter()
        render_packet_document(content, digest, 1)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        HTML(string=html, base_url=base_url).write_pdf()
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        HTML(string=html, base_url=base_url).write_pdf(pdf_variant=PDF_VARIANT)
        bare_tagged.append(time.perf_counter() - started)
    return median(ours), median(bare), median(bare_tagged), len(content["interviews"]), html


def _bare_render_peak_mb(html: str) -> float:
    """Peak RSS of a process doing nothing but import WeasyPrint and render `html` (tagged)."""
    script = (
        "import sys; from weasyprint import HTML; "
        "HTML(string=sys.stdin.read(), base_url=sys.argv[1]).write_pdf(pdf_variant=sys.argv[2])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, ASSETS.resolve().as_uri() + "/", PDF_VARIANT],
        stdin=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(html)
    process.stdin.close()
    return _reap(process)


def _reap(process: subprocess.Popen) -> float:
    """Wait for `process`; its peak RSS in MB, or that of a child it waited for if larger."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024  # kB on Linux


def _request_to_ready(app, application_id: int) -> float:
    """The median of LATENCY_RUNS requests for the packet of `application_id` (the one
    whose render was timed: another application's packet renders in another time), each
    from the POST's use case to `ready` while a worker waits idle. The packet is deleted
    before each request, so that each one renders."""
    times = []
    with _workers(app, 1):
        for _ in range(LATENCY_RUNS):
            db.session.execute(delete(Packet).where(Packet.application_id == application_id))
            db.session.commit()
            started = time.perf_counter()
            packet = request_packet(db.session, _manager(application_id), application_id, False)
            _wait_ready([packet.id])
            times.append(time.perf_counter() - started)
    return median(times)


def _throughput(app, application_ids: list[int], workers: int) -> tuple[float, float]:
    """Packets per minute: `workers` idle workers, then a burst of requests, until all are
    ready; and the largest peak RSS of a worker (or its job children) meanwhile."""
    with _workers(app, workers) as running:
        started = time.perf_counter()
        ids = [request_packet(db.session, _manager(a), a, True).id for a in application_ids]
        _wait_ready(ids)
        rate = len(ids) / (time.perf_counter() - started) * 60
    return rate, running.peak_mb


class _workers:
    """Real `python -m workers` processes, waited for until they listen, stopped after."""

    def __init__(self, app, count: int) -> None:
        settings = app.config["SETTINGS"]
        self.env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": settings.secret_key,
            "REDIS_URL": REDIS_URL,
            "PACKET_STORAGE_DIR": settings.packet_storage_dir,
            "LOG_LEVEL": "WARNING",
        }
        self.count = count

    def __enter__(self):
        connection = Redis.from_url(REDIS_URL)
        before = len(Worker.all(connection=connection))
        self.processes = [
            subprocess.Popen(
                # Packet workers of their own, as docs/deployment.md advises: a worker
                # serving every queue first runs the periodic jobs' first passes.
                [sys.executable, "-m", "workers", "packets"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(self.count)
        ]
        deadline = time.monotonic() + 60
        while len(Worker.all(connection=connection)) < before + self.count:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.terminate()
        # RQ waits for each job's child, so a worker's peak includes its renders'.
        self.peak_mb = max(_reap(process) for process in self.processes)


def _wait_ready(packet_ids: list[int], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        statuses = set(db.session.scalars(select(Packet.status).where(Packet.id.in_(packet_ids))))
        db.session.commit()  # end the read transaction so workers can write
        if statuses == {"ready"}:
            return
        if "failed" in statuses:
            raise RuntimeError("a packet failed to render")
        time.sleep(0.01)
    raise TimeoutError("packets not ready in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    figures, raw = run({"database_url": args.database_url, "size": "given"})
    for figure in figures:
        print(
            f"{figure.name:40} {figure.value:8.3f} {figure.unit:5} vs {figure.baseline_name} "
            f"{figure.baseline:8.3f}  ratio {figure.ratio:.2f}  {figure.target}"
        )
    print(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
