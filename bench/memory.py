"""Worker memory: the API's gunicorn workers against the bare Flask + SQLAlchemy ones, and
the packet worker's peak (issue 18: the API worker within 1.3x the bare one).

Both apps are served by the same gunicorn settings (`gunicorn.conf.py`: preloaded in
the master, frozen before the fork), sent the same reads (the API's list, get and
assessment; the baseline's lookup and page), then each worker's memory is read from
/proc: peak RSS, PSS and USS (`bench.run.worker_memory_mb`). The largest worker of
each server is reported. `bench.run` runs this as its `memory` section, where the
target is judged; it also records the figures after its whole API load (with the
submissions and first assessment reads, which the bare app has no counterpart for).

    .venv/bin/python -m bench.memory --database-url URL --tokens instance/bench/tokens.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.load import run_load
from bench.run import (
    BENCH_REDIS,
    READ_ENDPOINTS,
    ROOT,
    TOKENS_DIR,
    Server,
    Settings,
    build_plans,
    memory_figures,
)

MEASURED_REQUESTS = 300  # per read endpoint: past each worker's growth on first use


def measure(database_url: str, tokens: dict[str, Any], requests: int) -> dict[str, Any]:
    """Memory of the busiest-grown worker of each server after `requests` of each read."""
    settings = Settings(requests=requests, warmup=0)
    plans = build_plans(database_url, tokens, settings, READ_ENDPOINTS)
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-only",
        "REDIS_URL": BENCH_REDIS,
        "LOG_LEVEL": "WARNING",
        "PACKET_STORAGE_DIR": str(TOKENS_DIR / "packets"),
    }
    service = Server("wsgi:app", env, settings.workers, "/api/v1/openapi.json")
    try:
        baseline = Server("bench.baseline_app:app", env, settings.workers, "/baseline/health")
        try:
            for name in READ_ENDPOINTS:
                run_load(service.sender(), plans[name], settings.concurrency)
            for name in ("baseline", "baseline_page"):
                run_load(baseline.sender(), plans[name], settings.concurrency)
            return {"service": service.memory_mb(), "baseline": baseline.memory_mb()}
        finally:
            baseline.stop()
    finally:
        service.stop()


def run(context: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """bench.run's section: the figures of `measure`, with the target on the USS."""
    result = measure(context["database_url"], context["tokens"], MEASURED_REQUESTS)
    figures = memory_figures(
        context["size"],
        result["service"],
        result["baseline"],
        after="the same reads as the bare app",
        target=True,
    )
    return figures, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tokens", type=Path, default=ROOT / "instance" / "bench" / "tokens.json")
    parser.add_argument(
        "--requests", type=int, default=MEASURED_REQUESTS, help="per read endpoint [300]"
    )
    args = parser.parse_args(argv)
    result = measure(args.database_url, json.loads(args.tokens.read_text()), args.requests)
    figures = memory_figures(
        "-", result["service"], result["baseline"], after="the same reads", target=True
    )
    for f in figures:
        print(
            f"{f.name:<28} {f.value:>7.1f} MB   {f.baseline_name:<30} {f.baseline:>7.1f} MB   "
            f"ratio {f.ratio:.2f}"
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
