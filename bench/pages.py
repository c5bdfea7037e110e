"""Page benches (target: every page server-rendered in under 100 ms at 100k applications).

Each page is requested through the Flask test client with a signed-in web session
(set directly, as `start_web_session` would: the argon2 check of a sign-in is not
part of a page's cost), a few times after one warm-up request, and its median wall
time is set beside the median of the API's JSON for the same thing in the same run
(the kit page beside `GET /api/v1/interviews/ID/kit`, My interviews beside
`GET /api/v1/me/tasks`).

The interviewer is the one with the most interviews; the kit page is timed on one
of their interviews whose application has the most submitted scorecards, with
theirs submitted, so the panel's feedback is open (the heaviest case).

Plugs into `bench.run` as a section; also runnable alone on a generated database:
    .venv/bin/python -m bench.pages --database-url URL
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.reports import REPEATS, _get, _timed
from service import create_app
from service.config import Settings as ServiceSettings
from service.extensions import db
from service.persistence.interviews import Interview
from service.persistence.scorecards import Scorecard
from service.usecases.users import issue_token

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 100.0


def run(context: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """Median render time of each page and of the API call that gives the same data."""
    from bench.run import Figure

    size = context.get("size", "?")
    repeats = context.get("repeats", REPEATS)
    workdir = Path(context.get("workdir") or ROOT / "instance" / "bench" / f"pages-{size}")
    workdir.mkdir(parents=True, exist_ok=True)
    settings = replace(
        ServiceSettings.from_env(workdir, env={}),
        database_url=context["database_url"],
        secret_key="bench-only",  # PostgreSQL refuses the public default key
    )
    app = create_app({"SETTINGS": settings, "INSTANCE_PATH": str(workdir)})
    client = app.test_client()
    try:
        with app.app_context():
            interviewer_id, interview_id, n_interviews = _busiest_interviewer()
            # The API side needs a token of theirs (the bench's tokens file may be elsewhere).
            token = issue_token(db.session, None, interviewer_id).plain
        api = {"Authorization": f"Bearer {token}"}
        with client.session_transaction() as web_session:
            web_session.update(
                user_id=interviewer_id, auth_method="password", signed_in_at=int(time.time())
            )
        pages = {
            "my interviews page": ("/interviews", "/api/v1/me/tasks"),
            "kit and scorecard page (panel open)": (
                f"/interviews/{interview_id}",
                f"/api/v1/interviews/{interview_id}/kit",
            ),
        }
        raw: dict[str, Any] = {
            "repeats": repeats,
            "interviewer_id": interviewer_id,
            "interviewer_interviews": n_interviews,
            "interview_id": interview_id,
        }
        figures = []
        for name, (page, api_url) in pages.items():
            elapsed = _timed(repeats, lambda u=page: _get(client, u, {}))
            baseline = _timed(repeats, lambda u=api_url: _get(client, u, api))
            raw[name] = {"page": elapsed, "api": baseline}
            value = elapsed["median_ms"]
            print(
                f"  {size:>5} {name:<40} median {value:>7.1f} ms  "
                f"(API {api_url.split('/api/v1')[1]}: {baseline['median_ms']:.1f} ms)",
                file=sys.stderr,
                flush=True,
            )
            figures.append(
                Figure(
                    "pages",
                    size,
                    name,
                    value,
                    "ms",
                    f"API {api_url.split('/api/v1')[1]}",
                    baseline["median_ms"],
                    target=f"< {TARGET_MS:.0f} ms",
                    ok=value < TARGET_MS,
                )
            )
        return figures, raw
    finally:
        db.engine(app).dispose()


def _busiest_interviewer() -> tuple[int, int, int]:
    """(interviewer id, their interview on the application with the most submitted
    scorecards, with their own submitted, how many interviews they have)."""
    interviewer_id, count = db.session.execute(
        select(Interview.interviewer_id, func.count())
        .group_by(Interview.interviewer_id)
        .order_by(func.count().desc(), Interview.interviewer_id)
        .limit(1)
    ).one()
    panel_size = (
        select(Scorecard.application_id, func.count().label("n"))
        .where(Scorecard.state == "submitted")
        .group_by(Scorecard.application_id)
        .subquery()
    )
    interview_id = db.session.scalar(
        select(Interview.id)
        .join(Scorecard, Scorecard.interview_id == Interview.id)
        .join(panel_size, panel_size.c.application_id == Interview.application_id)
        .where(Interview.interviewer_id == interviewer_id, Scorecard.state == "submitted")
        .order_by(panel_size.c.n.desc(), Interview.id)
        .limit(1)
    )
    db.session.rollback()
    return interviewer_id, interview_id, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--size", default="?")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    _, raw = run({"database_url": args.database_url, "size": args.size, "repeats": args.repeats})
    print(json.dumps(raw, indent=2, default=str))


if __name__ == "__main__":
    main()
