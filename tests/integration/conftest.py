"""End-to-end fixtures: a committed database of its own, real Redis, real worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from service import create_app, jobs
from service.config import Settings
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.extensions import db
from service.persistence import migrate
from service.usecases.templates import sync_templates

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
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


def start_worker(app, *extra_args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A real `python -m workers` process (in its own process group) on the app's database
    and Redis."""
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
        [sys.executable, "-m", "workers", *extra_args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
