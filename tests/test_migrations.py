"""Migrations: one head, up → down → up on an empty database, and models == migrations."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from service.persistence import Base, migrate
from tests.conftest import postgres_url, reset_postgres


def test_single_migration_head():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return empty_postgres_url()


def empty_postgres_url() -> str:
    # Named after the test database, so suites run side by side on one server do not collide.
    base = postgres_url()
    name = f"{make_url(base).database}_migrations"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    reset_postgres(url)
    return url


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database_url):
    migrate.upgrade(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    engine = create_engine(empty_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert {"users", "applications", "audit_events"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_audit_triggers_refuse_changes_until_their_downgrade(empty_database_url):
    migrate.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    insert = text(
        "INSERT INTO audit_events (action, entity_type, entity_id, at, reason) "
        "VALUES ('x', 'y', 1, CURRENT_TIMESTAMP, '')"
    )
    with engine.begin() as connection:
        connection.execute(insert)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
    engine.dispose()
    migrate.downgrade(empty_database_url, "0006_stage_change_entries_index")
    with engine.begin() as connection:
        assert connection.execute(text("DELETE FROM audit_events")).rowcount == 1
    engine.dispose()


def test_two_upgrades_at_once_on_postgresql_apply_each_revision_once():
    """Two deploys running `hiring db upgrade` at the same moment: the second waits for the
    first (a transaction's advisory lock) and then finds nothing to do. (SQLite lets one
    writer in at a time by itself.)"""
    empty_database_url = empty_postgres_url()
    import subprocess
    import sys

    code = "import sys; from service.persistence import migrate; migrate.upgrade(sys.argv[1])"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, empty_database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    engine = create_engine(empty_database_url)
    with engine.connect() as connection:
        current, heads = migrate.pending_heads(connection)
    engine.dispose()
    assert current == heads
