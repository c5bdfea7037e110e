"""Event-to-receipt latency of webhooks and email, through real Redis, one real
`python -m workers` process, a loopback HTTP receiver and a loopback SMTP server.

    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python -m bench.notify_latency [--events 30]

For each event (an interview scheduled, committed on a SQLite file) it measures the
time from the event's `created_at` to the webhook's arrival and to the invitation's
arrival, one event at a time; then, with Redis unreachable at commit time, how long
the periodic sweep (`OUTBOX_SWEEP_INTERVAL_SECONDS`, 1 s here) takes to deliver.
The Redis database given is flushed.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from redis import Redis

from service import create_app, jobs
from service.config import Settings
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.extensions import db
from service.persistence import migrate
from service.persistence.base import utcnow
from service.persistence.outbox import OutboxEvent
from service.usecases import applications, candidates, interviews, requisitions, webhooks
from service.usecases.templates import sync_templates
from service.usecases.users import create_user
from tests.receivers import smtp_server, webhook_receiver

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=30)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    Redis.from_url(redis_url).flushdb()
    with tempfile.TemporaryDirectory() as tmp, webhook_receiver() as hooks, smtp_server() as inbox:
        database_url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(database_url)
        settings = replace(
            Settings.from_env(tmp, env={}),
            database_url=database_url,
            redis_url=redis_url,
            webhook_allow_private=True,
        )
        app = create_app({"SETTINGS": settings, "INSTANCE_PATH": tmp})
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "WEBHOOK_ALLOW_PRIVATE": "1",
            "SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
            "OUTBOX_SWEEP_INTERVAL_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        }
        with app.app_context():
            session = db.session
            sync_templates(session, load_template_dir(TEMPLATE_DIR))
            admin, _ = create_user(session, "a@example.com", "Avery", "admin")
            recruiter, _ = create_user(session, "r@example.com", "Riley", "recruiter")
            manager, _ = create_user(session, "m@example.com", "Morgan", "hiring_manager")
            interviewer, _ = create_user(session, "i@example.com", "Indra", "interviewer")
            requisition = requisitions.create_requisition(
                session,
                recruiter,
                {"title": "B", "hiring_manager_id": manager.id, "template_key": "backend_engineer"},
            )
            candidate = candidates.create_candidate(
                session, recruiter, {"name": "Ada", "email": "ada@example.org"}
            )
            application = applications.create_application(
                session, recruiter, candidate.id, requisition.id
            )
            webhooks.create_endpoint(
                session, admin, webhooks.policy_of(settings), url=hooks.url, events=["*"]
            )
            worker = subprocess.Popen(
                [sys.executable, "-m", "workers"], cwd=ROOT, env=env, start_new_session=True
            )
            try:
                session.rollback()
                time.sleep(8)  # imports and the WeasyPrint warm-up
                hook_ms, mail_ms = [], []
                for number in range(args.events):
                    event_at = schedule(session, recruiter, application.id, interviewer.id, number)
                    hooks.wait_for(number + 1)
                    inbox.wait_for(number + 1)
                    hook_ms.append((hooks.requests[-1].at - event_at) * 1000)
                    mail_ms.append((time.time() - event_at) * 1000)
                jobs.configure("redis://127.0.0.1:1/0")
                event_at = schedule(session, recruiter, application.id, interviewer.id, 999)
                jobs.configure(redis_url)
                hooks.wait_for(args.events + 1)
                swept_ms = (hooks.requests[-1].at - event_at) * 1000
            finally:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
    print(
        f"webhook, event to receipt: median {statistics.median(hook_ms):.0f} ms, "
        f"max {max(hook_ms):.0f} ms over {len(hook_ms)} events"
    )
    print(
        f"email (invitation), event to receipt (upper bound): median "
        f"{statistics.median(mail_ms):.0f} ms, max {max(mail_ms):.0f} ms"
    )
    print(f"webhook of an event made while Redis was down, via the sweep: {swept_ms:.0f} ms")


def schedule(session, recruiter, application_id, interviewer_id, number) -> float:
    interview = interviews.schedule_interview(
        session,
        recruiter,
        application_id,
        interview_key="technical_screen",
        interviewer_id=interviewer_id,
        starts_at=utcnow() + timedelta(days=1, hours=2 * number),
        reason="bench" if number else "",
    )
    event = (
        session.query(OutboxEvent)
        .filter(OutboxEvent.type == "interview.scheduled")
        .order_by(OutboxEvent.id.desc())
        .first()
    )
    assert event is not None and event.data["interview_id"] == interview.id
    created = event.created_at.timestamp()
    session.rollback()  # SQLite: an open reader here holds the write lock (BEGIN IMMEDIATE)
    return created


if __name__ == "__main__":
    main()
