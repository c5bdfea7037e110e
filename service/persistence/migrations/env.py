"""Alembic environment. Batch mode on SQLite, whose ALTER TABLE is limited."""

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool, text

# Importing the package (done before any of its modules) registers every model on Base.
from service.persistence.base import Base, UTCDateTime

config = context.config
# Any fixed number; it names the lock that serialises concurrent `hiring db upgrade`s.
MIGRATION_LOCK = 4_118_181_801


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two deploys migrating at once: the second waits here for the first to commit,
            # then finds the revisions applied. A transaction's lock, so it holds through
            # PgBouncer in transaction mode too, and ends with the transaction.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def _render_item(type_, obj, autogen_context):
    """Render our column types as plain SQLAlchemy types, so migrations never
    import application code that may change after they are written."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


run_migrations_online()
