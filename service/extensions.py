"""Database wiring: one engine and session factory per app, one session per app context."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from service.config import Settings
from service.persistence.base import PSEUDONYM_KEY, WRITER, derive_pseudonym_key
from service.storage import LocalStorage, PacketStorage, S3Storage


class Database:
    """Use cases receive `db.session` as an argument and commit themselves; the
    teardown closes the session, rolling back whatever a failed request left.

    A request the HTTP layer marks as reading only (`g.reads_only`, set before
    authentication) gets a session on an autocommit connection on PostgreSQL:
    no BEGIN and ROLLBACK around its selects, two of a lookup's four round
    trips. Its session carries the transactional factory (`WRITER`), so a read
    that must record something (the first view of the panel's feedback) writes
    in a transaction of its own (`persistence.base.transaction`). SQLite keeps
    one transactional session: its BEGIN IMMEDIATE holds the write lock, so a
    second session could not write beside it; so does a factory bound to one
    connection (the tests' rolled-back transaction).
    """

    def init_app(self, app: Flask) -> None:
        settings = app.config["SETTINGS"]
        engine = make_engine(
            settings.database_url,
            sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            prepared_statements=settings.database_prepared_statements,
        )
        key = derive_pseudonym_key(app.config["SETTINGS"].secret_key)
        app.extensions["db"] = sessionmaker(
            bind=engine, expire_on_commit=False, info={PSEUDONYM_KEY: key}
        )
        app.teardown_appcontext(self._close_session)

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            factory: sessionmaker[Session] = current_app.extensions["db"]
            if g.get("reads_only"):
                factory = _reads_factory(current_app, factory)
            g.db_session = factory()
        session: Session = g.db_session
        return session

    @staticmethod
    def new_session() -> Session:
        """A session of its own, for background jobs (not tied to a request)."""
        session: Session = current_app.extensions["db"]()
        return session

    @staticmethod
    def engine(app: Flask | None = None) -> Engine:
        factory: sessionmaker[Session] = (app or current_app).extensions["db"]
        engine: Engine = factory.kw["bind"]
        return engine

    @staticmethod
    def _close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def _reads_factory(app: Flask, factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions on autocommit connections of `factory`'s engine (sharing its pool), made
    once per factory; `factory` itself unless it is bound to a PostgreSQL engine."""
    made = app.extensions.get("db_reads")
    if made is not None and made[0] is factory:
        reads: sessionmaker[Session] = made[1]
        return reads
    bind = factory.kw["bind"]
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        return factory
    reads = sessionmaker(
        bind=bind.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        info={**factory.kw.get("info", {}), WRITER: factory},
    )
    app.extensions["db_reads"] = (factory, reads)
    return reads


def init_storage(app: Flask, settings: Settings) -> None:
    """Packet files live in the bucket of `PACKET_STORAGE_URL` when it is set, otherwise
    under `PACKET_STORAGE_DIR`; nothing is created or contacted until one is written."""
    if settings.packet_storage_url:
        app.extensions["storage"] = S3Storage(
            settings.packet_storage_url, endpoint_url=settings.s3_endpoint_url
        )
    else:
        app.extensions["storage"] = LocalStorage(settings.packet_storage_dir)


def packet_storage() -> PacketStorage:
    """The current app's packet storage."""
    storage: PacketStorage = current_app.extensions["storage"]
    return storage


def make_engine(
    url: str, *, sqlite_busy_timeout_ms: int = 30_000, prepared_statements: bool = True
) -> Engine:
    """The engine for `url`. Statement parameters (names, emails, free text) never reach
    exception messages or logs (`hide_parameters`). On SQLite a writer waits up to
    `sqlite_busy_timeout_ms` for the lock (`Settings.sqlite_busy_timeout_ms`).
    Without `prepared_statements` (DATABASE_PREPARED_STATEMENTS=off, for PgBouncer in
    transaction mode) psycopg never prepares a statement on the server."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True)
        event.listen(
            engine, "connect", partial(_sqlite_pragmas, busy_timeout_ms=sqlite_busy_timeout_ms)
        )
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = {} if prepared_statements else {"prepare_threshold": None}
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args=connect_args,
    )
    event.listen(engine, "connect", _utc_session)
    return engine


def _utc_session(dbapi_connection: DBAPIConnection, connection_record: ConnectionPoolEntry) -> None:
    """Every PostgreSQL session in UTC, the service's time zone: dates taken in SQL
    (a day, a week) do not depend on the server's setting, and psycopg hands back
    timestamps in `datetime.UTC` itself, which `UTCDateTime` passes on as they are (an
    `astimezone` per value was ~5% of a list request's CPU). PgBouncer keeps a
    client's TimeZone across the server connections it lends it."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def _sqlite_pragmas(
    dbapi_connection: DBAPIConnection,
    connection_record: ConnectionPoolEntry,
    *,
    busy_timeout_ms: int,
) -> None:
    """Enforce foreign keys, let readers run beside a writer, wait instead of failing.

    The driver's own transaction handling is switched off (it skips BEGIN before
    SELECTs and breaks SAVEPOINT); `_sqlite_begin` emits BEGIN instead, the
    recipe in SQLAlchemy's SQLite documentation. It is BEGIN IMMEDIATE: a
    deferred transaction that reads and then writes fails at once with
    "database is locked" when another writer got there first, whereas an
    immediate one waits its turn (busy_timeout). The embedded default trades
    concurrency for never failing a request on a lock.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


db = Database()
