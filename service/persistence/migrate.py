"""Alembic, driven from code: the database URL comes from the app's settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default; env.py does not change it


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # `%` must be doubled for configparser; URLs may contain it (encoded passwords).
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def pending_heads(connection: Connection) -> tuple[set[str], set[str]]:
    """(the database's revisions, the scripts' heads); equal when migrations are at head."""
    # Read directly: Alembic's MigrationContext logs two INFO lines per call, and a
    # readiness probe calls this every few seconds.
    current: set[str] = set()
    if inspect(connection).has_table(VERSION_TABLE):
        current = set(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))
    heads = set(ScriptDirectory.from_config(alembic_config("")).get_heads())
    return current, heads
