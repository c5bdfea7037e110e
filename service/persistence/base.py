"""Declarative base, shared column types and the constraint naming convention."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    CursorResult,
    DateTime,
    Enum,
    Executable,
    MetaData,
    TypeDecorator,
    func,
    inspect,
    or_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import (
    DeclarativeBase,
    QueryableAttribute,
    Session,
    make_transient_to_detached,
)
from sqlalchemy.orm.attributes import set_committed_value

# Deterministic constraint names, so migrations can drop and alter them by name
# on every database (SQLite included).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite keeps no offset, so values come back naive; this type stores UTC and
    always hands back an aware datetime, so comparisons never mix the two.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is UTC:  # PostgreSQL's, in a UTC session
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Primary and foreign keys are 32-bit INTEGER columns. A larger id sent by a
# client makes PostgreSQL (and, past 64 bits, SQLite) raise instead of finding
# nothing, so the HTTP layer and the cursor decoder refuse it first.
MAX_ID = 2**31 - 1


def checked_enum(values: Sequence[str], name: str, length: int = 20) -> Enum:
    """A VARCHAR column limited to `values` by a CHECK constraint named `name`, the
    same on every backend (no native ENUM type)."""
    return Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


PSEUDONYM_KEY = "pseudonym_key"


def pseudonym_key(session: Session) -> bytes:
    """The key of the anonymous codes, carried by every session the app makes (`info`)."""
    key = session.info.get(PSEUDONYM_KEY)
    if not isinstance(key, bytes):
        raise RuntimeError("a session made outside the app's session factory has no pseudonym key")
    return key


# In a read session's `info` (service.extensions): the factory of transactional sessions.
WRITER = "writer"


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """A session whose changes commit together, for a write during a read.

    `session` itself when it runs in a transaction; for a read session on an
    autocommit connection (whose `info` carries `WRITER`), a transactional session
    of its own, closed afterwards. The caller commits.
    """
    factory = session.info.get(WRITER)
    if factory is None:
        yield session
        return
    with factory() as writer:
        yield writer


def plain_rows(
    session: Session, stmt: Executable, parameters: Mapping[str, Any]
) -> CursorResult[Any]:
    """The rows of `stmt`, a select of plain columns, on the session's connection: flushed
    first, as `session.execute` would. For the reads every request makes (the token's
    holder, a listed page, one application, the assessment's access check), where the
    ORM's execution layer cost a third more than the fetch (BENCHMARKS.md, "Issue 18:
    the list")."""
    session.flush()
    return session.connection().execute(stmt, parameters)


def derive_pseudonym_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"hiring-pipeline:pseudonyms:" + secret_key.encode()).digest()


def upsert_into(session: Session, model: type[Base]) -> Any:
    """The dialect's INSERT into `model`'s table, the one with ON CONFLICT (PostgreSQL's
    and SQLite's spell it alike)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(model)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


_Model = TypeVar("_Model", bound=Base)


def snapshot(obj: Base, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The row's column values as JSON-ready data, for audit before/after."""
    values: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if column.key in exclude:
            continue
        value = getattr(obj, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return values


def columns(model: type[Base], exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`snapshot`'s keys for a row of `model` not yet written, each with its column
    (`Model.column`), for a writer that fills in the stored values itself
    (`persistence.submissions.write_submission`)."""
    return {
        column.key: getattr(model, column.key)
        for column in model.__table__.columns
        if column.key not in exclude
    }


def persistent_from_row(session: Session, model: type[_Model], values: dict[str, Any]) -> _Model:
    """The `model` object of the stored row `values` (its columns by key, the primary key
    `id`), persistent in `session` as if a query had loaded it: the object the session
    already holds, refreshed (as `populate_existing` would), or a new one. For the
    submission's hot path, which reads Core rows: loading them as ORM entities cost more
    than their statements (BENCHMARKS.md, "Issue 18: the submission, second pass")."""
    key = inspect(model).identity_key_from_primary_key((values["id"],))
    held = session.identity_map.get(key)
    if held is not None:
        for name, value in values.items():
            set_committed_value(held, name, value)
        return held  # type: ignore[return-value]
    obj = model(**values)
    make_transient_to_detached(obj)  # its values are the stored row's
    session.add(obj)  # detached to persistent: nothing to write
    return obj


def name_or_email_contains(
    name: QueryableAttribute[str], email: QueryableAttribute[Any], text: str
) -> ColumnElement[bool]:
    """Part of a name, in any case, or of an email (stored lower-case); `%` and `_` in
    `text` are taken literally."""
    needle = text.strip().lower()
    return or_(
        func.lower(name).contains(needle, autoescape=True),
        email.contains(needle, autoescape=True),
    )
