"""Page benches (target: every page server-rendered in under 100 ms at 100k applications).

Each page is requested through the Flask test client with a signed-in web session
(set directly, as `start_web_session` would: the argon2 check of a sign-in is not
part of a page's cost), a few times after one warm-up request, and its median wall
time is set beside the median of the API's JSON for the same thing in the same run
(the kit page beside `GET /api/v1/interviews/ID/kit`, My interviews beside
`GET /api/v1/me/tasks`; the hiring manager's Decisions waiting beside their
`GET /api/v1/me/tasks`, the assessment page beside `GET .../assessment`, the decision
form beside `GET .../decision`; the admin's report pages beside the API report they
render, the template pages beside `GET /api/v1/me/tasks` as a small fixed cost).

The recruiter's pages are timed as an admin (who sees every requisition): the board of
the requisition with the most active applications (`bench.generate --busy-requisition
500` adds one with 500), unfiltered and filtered to cards with interviews to schedule;
the Pipeline home with every open requisition; Stuck with every requisition (its 100
longest waiting listed) beside `GET /api/v1/reports/stuck?limit=100`.

The interviewer is the one with the most interviews; the kit page is timed on one
of their interviews whose application has the most submitted scorecards, with
theirs submitted, so the panel's feedback is open (the heaviest case). The assessment
and decision pages are timed for the application with the most submitted scorecards
(as its hiring manager, not on its panel); Decisions waiting for the hiring manager
with the most decisions waiting (it assesses each application listed, up to 25, for
the panel's summary line, so its cost grows with that number).

Plugs into `bench.run` as a section; also runnable alone on a generated database:
    .venv/bin/python -m bench.pages --database-url URL
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.reports import REPEATS, _get, _timed, bench_app
from service.extensions import db
from service.persistence.applications import Application
from service.persistence.interviews import Interview
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard
from service.persistence.users import User
from service.usecases.tasks import my_tasks
from service.usecases.users import issue_token

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 100.0


def run(context: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """Median render time of each page and of the API call that gives the same data."""
    from bench.run import Figure

    size = context.get("size", "?")
    repeats = context.get("repeats", REPEATS)
    app = bench_app(context, "pages")
    try:
        with app.app_context():
            interviewer_id, interview_id, n_interviews = _busiest_interviewer()
            manager_id, application_id, n_scorecards = _fullest_application()
            # The API side needs tokens (the bench's tokens file may be elsewhere).
            interviewer_token = issue_token(db.session, None, interviewer_id).plain
            manager_token = issue_token(db.session, None, manager_id).plain
            busiest_id, n_waiting = _busiest_manager()
            busiest_token = issue_token(db.session, None, busiest_id).plain
            admin_id = db.session.scalar(
                select(User.id).where(User.role == "admin", User.active.is_(True)).limit(1)
            )
            requisition_id, n_active, longest_id = _busiest_requisition()
            stage, n_in_stage = _busiest_stage(requisition_id)
            admin_token = issue_token(db.session, None, admin_id).plain
        sessions = {
            user_id: _signed_in_client(app, user_id)
            for user_id in (interviewer_id, manager_id, busiest_id, admin_id)
        }
        application = f"/applications/{application_id}"
        pages = {
            "my interviews page": (interviewer_id, "/interviews", "/api/v1/me/tasks"),
            "kit and scorecard page (panel open)": (
                interviewer_id,
                f"/interviews/{interview_id}",
                f"/api/v1/interviews/{interview_id}/kit",
            ),
            "decisions waiting page": (busiest_id, "/decisions", "/api/v1/me/tasks"),
            "assessment page": (
                manager_id,
                f"{application}/assessment",
                f"/api/v1{application}/assessment",
            ),
            "decision page": (
                manager_id,
                f"{application}/decision",
                f"/api/v1{application}/decision",
            ),
        }
        # The recruiter's pages, as an admin (who sees every requisition).
        pages |= {
            f"board page ({n_active} active)": (
                admin_id,
                f"/pipeline/requisitions/{requisition_id}",
                f"/api/v1/applications?requisition_id={requisition_id}&status=active&limit=100",
            ),
            "application page (recruiter)": (
                admin_id,
                f"/pipeline/applications/{longest_id}",
                f"/api/v1/applications/{longest_id}/loop",
            ),
            "pipeline home (every open requisition)": (
                admin_id,
                "/pipeline?show=all",
                "/api/v1/me/tasks",
            ),
            f"board page ({n_active} active), needs scheduling": (
                admin_id,
                f"/pipeline/requisitions/{requisition_id}?needs=scheduling",
                f"/api/v1/applications?requisition_id={requisition_id}&status=active&limit=100",
            ),
            f"board page, one stage ({n_in_stage} cards, page 2)": (
                admin_id,
                f"/pipeline/requisitions/{requisition_id}?stage={stage}&page=2",
                f"/api/v1/applications?requisition_id={requisition_id}&status=active&limit=100",
            ),
            "stuck page (every requisition, 100 listed)": (
                admin_id,
                "/pipeline/stuck?show=all",
                "/api/v1/reports/stuck?limit=100",
            ),
        }
        # The admin's report and template pages beside the API report they render.
        pages |= {
            "adverse impact page (every requisition)": (
                admin_id,
                "/admin/adverse-impact",
                "/api/v1/reports/adverse-impact",
            ),
            "adverse impact page (1 requisition)": (
                admin_id,
                f"/admin/adverse-impact?requisition_id={requisition_id}",
                f"/api/v1/reports/adverse-impact?requisition_id={requisition_id}",
            ),
            "pipeline funnel page": (
                admin_id,
                f"/admin/funnel?requisition_id={requisition_id}",
                f"/api/v1/reports/pipeline?requisition_id={requisition_id}",
            ),
            "calibration page": (admin_id, "/admin/calibration", "/api/v1/reports/interviewers"),
            "templates page": (admin_id, "/admin/templates", "/api/v1/me/tasks"),
            "template diff page": (
                admin_id,
                "/admin/templates/backend_engineer/changes",
                "/api/v1/me/tasks",
            ),
        }
        tokens = {
            admin_id: admin_token,
            interviewer_id: interviewer_token,
            manager_id: manager_token,
            busiest_id: busiest_token,
        }
        raw: dict[str, Any] = {
            "repeats": repeats,
            "interviewer_id": interviewer_id,
            "interviewer_interviews": n_interviews,
            "interview_id": interview_id,
            "manager_id": manager_id,
            "application_id": application_id,
            "application_scorecards": n_scorecards,
            "busiest_manager_id": busiest_id,
            "busiest_manager_decisions_waiting": n_waiting,
        }
        figures = []
        for name, (user_id, page, api_url) in pages.items():
            client, api = sessions[user_id], {"Authorization": f"Bearer {tokens[user_id]}"}
            elapsed = _timed(repeats, lambda u=page, c=client: _get(c, u, {}))
            baseline = _timed(repeats, lambda u=api_url, c=client, h=api: _get(c, u, h))
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


def _busiest_stage(requisition_id: int) -> tuple[str, int]:
    """(the requisition's stage with the most active applications, how many)."""
    stage, count = db.session.execute(
        select(Application.stage, func.count())
        .where(Application.requisition_id == requisition_id, Application.status == "active")
        .group_by(Application.stage)
        .order_by(func.count().desc(), Application.stage)
        .limit(1)
    ).one()
    return stage, count


def _busiest_requisition() -> tuple[int, int, int]:
    """(the requisition with the most active applications, how many, its application
    that has been longest in its stage)."""
    requisition_id, count = db.session.execute(
        select(Application.requisition_id, func.count())
        .where(Application.status == "active")
        .group_by(Application.requisition_id)
        .order_by(func.count().desc(), Application.requisition_id)
        .limit(1)
    ).one()
    application_id = db.session.scalar(
        select(Application.id)
        .where(Application.requisition_id == requisition_id, Application.status == "active")
        .order_by(Application.stage_entered_at, Application.id)
        .limit(1)
    )
    db.session.rollback()
    return requisition_id, count, application_id


def _signed_in_client(app: Any, user_id: int) -> Any:
    client = app.test_client()
    with client.session_transaction() as web_session:
        web_session.update(user_id=user_id, auth_method="password", signed_in_at=int(time.time()))
    return client


def _busiest_manager() -> tuple[int, int]:
    """(the hiring manager with the most decisions waiting, how many)."""
    managers = db.session.scalars(select(User).where(User.role == "hiring_manager")).all()
    waiting = {m.id: my_tasks(db.session, m, limit=1)["totals"]["decision"] for m in managers}
    db.session.rollback()
    busiest = max(waiting, key=lambda user_id: (waiting[user_id], -user_id))
    return busiest, waiting[busiest]


def _fullest_application() -> tuple[int, int, int]:
    """(hiring manager id, their application with the most submitted scorecards on
    which they are not a panelist, how many)."""
    row = db.session.execute(
        select(Requisition.hiring_manager_id, Scorecard.application_id, func.count())
        .join(Application, Application.id == Scorecard.application_id)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .where(
            Scorecard.state == "submitted",
            ~select(Interview.id)
            .where(
                Interview.application_id == Application.id,
                Interview.interviewer_id == Requisition.hiring_manager_id,
            )
            .exists(),
        )
        .group_by(Requisition.hiring_manager_id, Scorecard.application_id)
        .order_by(func.count().desc(), Scorecard.application_id)
        .limit(1)
    ).one()
    db.session.rollback()
    return row[0], row[1], row[2]


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
