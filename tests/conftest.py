"""Fixtures: every database test runs on SQLite and on PostgreSQL.

The schema is built by the real Alembic migrations once per database; each
test then runs inside a transaction that is rolled back at the end (use cases
commit to a SAVEPOINT), so tests are isolated and fast.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service import create_app
from service.config import Settings
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.extensions import make_engine
from service.persistence import migrate
from service.persistence.base import PSEUDONYM_KEY, derive_pseudonym_key
from tests import factories

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def reset_postgres(url: str) -> None:
    """Drop everything in the test database, so migrations start from empty."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as error:
        # Never a silent skip: the suite is defined to run on both databases.
        pytest.fail(
            f"PostgreSQL is not reachable at {url} ({error.orig}). Start it with "
            "`make services` (or set TEST_POSTGRES_URL).",
            pytrace=False,
        )
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = POSTGRES_URL
        reset_postgres(url)
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        from service.usecases.templates import sync_templates

        sync_templates(session, load_template_dir(TEMPLATE_DIR))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


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
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    settings = replace(
        Settings.from_env(instance, env={}),
        database_url=database_url,
        max_body_bytes=64 * 1024,
        # On PostgreSQL the app refuses the public development key.
        secret_key="test-secret-key",
    )
    return create_app({"SETTINGS": settings, "TESTING": True, "INSTANCE_PATH": str(instance)})


@pytest.fixture
def client(app, session, session_factory):
    """A test client whose requests share the test's rolled-back transaction."""
    original = app.extensions["db"]
    app.extensions["db"] = session_factory
    app.extensions["auth_throttle"].reset()  # one test's failed tokens do not throttle the next
    yield app.test_client()
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
