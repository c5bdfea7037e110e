"""Fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is built by the real Alembic migrations once per database; each
test then runs inside a transaction that is rolled back at the end (use cases
commit to a SAVEPOINT), so tests are isolated and fast. Each database, its
engine and its app are made once per test process and kept while the tests
alternate between the two databases.

`make test` runs the suite in two processes (pytest-xdist, `-n 2 --dist loadfile`:
a test file stays in one process). What a test shares with the outside must then be
its process's own; the convention, for every new test too:

- PostgreSQL: `postgres_url()` (TEST_POSTGRES_URL, its database suffixed with the
  worker's id under xdist: `test_gw0`, `test_gw1`, created when missing). A test that
  needs a database of its own names it after that one's (`{database}_something`).
- Redis: `REDIS_URL`, the worker's entry of TEST_REDIS_URL (comma-separated, one per
  worker; by default db 15 for the first worker and 12 for the second). Flush only it.
- Files: under `tmp_path` / `tmp_path_factory`, never the checkout's `instance/`.
- Ports: 0 (the kernel picks a free one), never a fixed number.

Passwords are hashed with argon2's cheapest parameters here (see `TEST_PASSWORD_HASHER`);
tests/domain/test_passwords.py checks the production ones.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from flask import Flask
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service import create_app
from service.config import Settings
from service.domain import passwords
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.extensions import make_engine
from service.persistence import migrate
from service.persistence.base import PSEUDONYM_KEY, derive_pseudonym_key
from tests import factories

# "gw0", "gw1", … in a pytest-xdist worker; "" in a plain `pytest` run.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_postgres_url() -> str:
    url = make_url(
        os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    if WORKER:
        url = url.set(database=f"{url.database}_{WORKER}")
    return url.render_as_string(hide_password=False)


def _worker_redis_url() -> str:
    urls = os.environ.get(
        "TEST_REDIS_URL", "redis://127.0.0.1:6379/15,redis://127.0.0.1:6379/12"
    ).split(",")
    number = int(WORKER.removeprefix("gw")) if WORKER else 0
    if number >= len(urls):
        raise pytest.UsageError(
            f"TEST_REDIS_URL names {len(urls)} Redis database(s) but test worker {WORKER} "
            "needs one of its own: give one URL per worker, comma-separated."
        )
    return urls[number].strip()


POSTGRES_URL = _worker_postgres_url()
REDIS_URL = _worker_redis_url()

TEST_PASSWORD_HASHER = PasswordHasher.from_parameters(CHEAPEST)
passwords.use_hasher(TEST_PASSWORD_HASHER)


def reset_postgres(url: str) -> None:
    """Drop everything in the test database, so migrations start from empty."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as error:
        _unreachable(url, error)
    finally:
        engine.dispose()


def _unreachable(url: str, error: OperationalError) -> NoReturn:
    """Never a silent skip: the suite is defined to run on both databases."""
    pytest.fail(
        f"PostgreSQL is not reachable at {url} ({error.orig}). Start it with "
        "`make services` (or set TEST_POSTGRES_URL).",
        pytrace=False,
    )


def create_postgres_database(url: str) -> None:
    """Create the test database (a worker's, under xdist) when it does not exist yet."""
    name = make_url(url).database
    server = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        _unreachable(url, error)
    finally:
        engine.dispose()


@functools.cache
def postgres_url() -> str:
    """POSTGRES_URL, its database created first when missing: use this, not the constant,
    to connect (under xdist the worker's database does not exist until then)."""
    create_postgres_database(POSTGRES_URL)
    return POSTGRES_URL


class Databases:
    """The test process's two databases, each migrated, with its engine and app, made the
    first time a test asks and kept until the session ends: the tests switch between
    the databases many times (each test file runs on both), and a switch must not
    migrate or build an app again."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self.tmp_path_factory = tmp_path_factory
        self.urls: dict[str, str] = {}
        self.engines: dict[str, Engine] = {}
        self.apps: dict[str, Flask] = {}

    def url(self, kind: str) -> str:
        if kind not in self.urls:
            self.urls[kind] = self._migrated(kind)
        return self.urls[kind]

    def _migrated(self, kind: str) -> str:
        if kind == "sqlite":
            url = f"sqlite:///{self.tmp_path_factory.mktemp('db') / 'test.db'}"
        else:
            url = postgres_url()
            reset_postgres(url)
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            from service.usecases.templates import sync_templates

            sync_templates(session, load_template_dir(TEMPLATE_DIR))
        engine.dispose()
        return url

    def engine(self, url: str) -> Engine:
        if url not in self.engines:
            self.engines[url] = make_engine(url)
        return self.engines[url]

    def app(self, url: str) -> Flask:
        if url not in self.apps:
            instance = self.tmp_path_factory.mktemp("instance")
            settings = replace(
                Settings.from_env(instance, env={}),
                database_url=url,
                max_body_bytes=64 * 1024,
                # On PostgreSQL the app refuses the public development key.
                secret_key="test-secret-key",
            )
            self.apps[url] = create_app(
                {"SETTINGS": settings, "TESTING": True, "INSTANCE_PATH": str(instance)}
            )
        return self.apps[url]

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    databases = Databases(tmp_path_factory)
    yield databases
    databases.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, databases) -> str:
    return databases.url(request.param)


@pytest.fixture(scope="session")
def engine(database_url, databases):
    return databases.engine(database_url)


@pytest.fixture
def connection(engine):
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection):
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={PSEUDONYM_KEY: derive_pseudonym_key("test-secret-key")},
    )


@pytest.fixture
def session(session_factory):
    with session_factory() as session:
        factories.bind(session)
        yield session


@pytest.fixture(scope="session")
def app(database_url, databases):
    return databases.app(database_url)


@pytest.fixture
def client(app, session, session_factory):
    """A test client whose requests share the test's rolled-back transaction."""
    original = app.extensions["db"]
    app.extensions["db"] = session_factory
    app.extensions["auth_throttle"].reset()  # one test's failed tokens do not throttle the next
    yield app.test_client()
    app.extensions["db"] = original


@pytest.fixture
def in_app(app, session_factory):
    """For use-case tests: an app context whose sessions join the test's rolled-back
    transaction, for the jobs use cases run in-process that open sessions of their own
    (as the API tests' `client` does). `pytestmark = pytest.mark.usefixtures("in_app")`."""
    original = app.extensions["db"]
    app.extensions["db"] = session_factory
    with app.app_context():
        yield
    app.extensions["db"] = original


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """An S3-compatible server on loopback (moto's standalone server, a real HTTP server
    in a process of its own), with boto3's credential chain pointed at test values only."""
    log = tmp_path_factory.mktemp("s3") / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        endpoint = _wait_for_endpoint(server, log)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in S3_TEST_ENVIRONMENT.items():
                patch.setenv(name, value)
            yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


# Test credentials (moto accepts any), and no shared files or instance metadata service.
S3_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _wait_for_endpoint(server: subprocess.Popen, log: Path) -> str:
    """The server's address, from the line it prints once it listens."""
    for _ in range(600):
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return found.group(1)
        if server.poll() is not None:
            pytest.fail(f"the S3 test server exited:\n{log.read_text()}", pytrace=False)
        time.sleep(0.05)
    pytest.fail(f"the S3 test server did not start:\n{log.read_text()}", pytrace=False)


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A new, empty bucket on the test server; returns its name."""
    import boto3

    name = f"packets-{secrets.token_hex(6)}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name
