"""End-to-end fixtures: a committed database of its own, real Redis, real worker processes."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service import create_app, jobs
from service.config import Settings
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.extensions import db
from service.persistence import migrate
from service.persistence.base import utcnow
from service.usecases import applications, candidates, interviews, requisitions, scorecards
from service.usecases.templates import sync_templates
from service.usecases.users import create_user
from tests import factories
from tests.conftest import REDIS_URL, postgres_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url():
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.flushdb()
    except RedisConnectionError as error:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}); start it with `make services`.",
            pytrace=False,
        )
    yield REDIS_URL
    connection.flushdb()


@pytest.fixture
def live_app(tmp_path, redis_url):
    """An app on a migrated SQLite file whose writes are committed, enqueuing to real Redis."""
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    migrate.upgrade(database_url)
    settings = replace(
        Settings.from_env(tmp_path, env={}),
        database_url=database_url,
        redis_url=redis_url,
        packet_storage_dir=str(tmp_path / "packets"),
        packet_render_lease_seconds=2,
    )
    app = create_app({"SETTINGS": settings, "TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        sync_templates(db.session, load_template_dir(TEMPLATE_DIR))
        yield app
    db.engine(app).dispose()
    jobs.configure(None)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def race_app(request, tmp_path_factory):
    """An app on a committed, migrated database of its own, for requests sent in parallel.

    The `client` fixture shares one rolled-back transaction, so it cannot show a race.
    On PostgreSQL this is a fresh database per test module on the TEST_POSTGRES_URL
    server (dropped after); on SQLite a file. Jobs go to Redis, where no worker runs.
    """
    tmp_path = tmp_path_factory.mktemp("race")
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'race.db'}"
        drop = None
    else:
        database_url, drop = _fresh_postgres_database()
    Redis.from_url(REDIS_URL).flushdb()
    try:
        migrate.upgrade(database_url)
        settings = replace(
            Settings.from_env(tmp_path, env={}),
            database_url=database_url,
            redis_url=REDIS_URL,
            packet_storage_dir=str(tmp_path / "packets"),
            secret_key="race-tests-" + "x" * 32,  # PostgreSQL refuses the development default
        )
        app = create_app({"SETTINGS": settings, "TESTING": True, "INSTANCE_PATH": str(tmp_path)})
        with app.app_context():
            sync_templates(db.session, load_template_dir(TEMPLATE_DIR))
        yield app
        db.engine(app).dispose()
        jobs.configure(None)
    finally:
        Redis.from_url(REDIS_URL).flushdb()
        if drop is not None:
            drop()


@pytest.fixture
def race_session(race_app):
    """A session on the race app's database with the factories bound to it; commit what
    the parallel requests must see."""
    with Session(db.engine(race_app), expire_on_commit=False) as session:
        factories.bind(session)
        yield session
        factories.bind(None)


def _fresh_postgres_database():
    """A new database beside TEST_POSTGRES_URL's, and the function that drops it."""
    base = postgres_url()
    url = make_url(base)
    name = f"{url.database}_live_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is not reachable at {base} ({error.orig}); start it with `make services`.",
            pytrace=False,
        )

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def start_worker(
    app, *extra_args: str, env: dict[str, str] | None = None, code: str | None = None
) -> subprocess.Popen:
    """A real `python -m workers` process (in its own process group) on the app's database
    and Redis; with `code`, `python -c code` in its place."""
    settings = app.config["SETTINGS"]
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "PACKET_STORAGE_DIR": settings.packet_storage_dir,
        "PACKET_RENDER_LEASE_SECONDS": str(settings.packet_render_lease_seconds),
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-c", code] if code else [sys.executable, "-m", "workers", *extra_args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen, *, whole_group: bool = False, timeout: float = 60) -> str:
    """SIGTERM to a `start_worker` process (or to its whole process group: the worker,
    its job's child and its scheduler); its output once it has stopped. One that has not
    stopped within `timeout` is killed with its group before the timeout is raised, so
    that no worker outlives its test and claims or takes the next test's jobs."""
    if whole_group:
        os.killpg(worker.pid, signal.SIGTERM)
    else:
        worker.terminate()
    try:
        output, _ = worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate()
        raise
    return output


EVIDENCE = "Explained the retry design, named the idempotency key and tested the timeout path."


@pytest.fixture
def submitted_loop(live_app):
    """A committed application with two submitted scorecards; returns (application id, manager)."""
    session = db.session
    recruiter, _ = create_user(session, "r@example.com", "Riley", "recruiter")
    manager, _ = create_user(session, "m@example.com", "Morgan", "hiring_manager")
    requisition = requisitions.create_requisition(
        session,
        recruiter,
        {"title": "Backend", "hiring_manager_id": manager.id, "template_key": "backend_engineer"},
    )
    candidate = candidates.create_candidate(session, recruiter, {"name": "Ada", "email": "a@x.org"})
    application = applications.create_application(session, recruiter, candidate.id, requisition.id)
    for number in range(2):
        interviewer, _ = create_user(
            session, f"i{number}@example.com", f"I {number}", "interviewer"
        )
        interview = interviews.schedule_interview(
            session,
            recruiter,
            application.id,
            interview_key="technical_screen",
            interviewer_id=interviewer.id,
            reason="second opinion" if number else "",
            starts_at=utcnow() - timedelta(hours=3 + number),
        )
        scorecards.submit_scorecard(
            session,
            interviewer,
            interview.id,
            {
                "ratings": [
                    {"competency": c, "score": 3, "evidence": EVIDENCE}
                    for c in ("coding", "problem_solving")
                ],
                "recommendation": "yes",
            },
        )
    session.close()
    return application.id, manager.id
