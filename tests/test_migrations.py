"""Migrations: one head, up → down → up on an empty database, and models == migrations."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from service.persistence import Base, migrate
from tests.conftest import POSTGRES_URL, reset_postgres


def test_single_migration_head():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/hiring_migrations"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS hiring_migrations"))
        connection.execute(text("CREATE DATABASE hiring_migrations"))
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
