"""Keyset (cursor) pagination, by id or by (a sort column, id): stable under inserts,
cheap at any depth."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.domain.errors import RuleViolationError
from service.persistence.base import MAX_ID


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        last_id = int(value)
        if prefix != "id" or not 0 <= last_id <= MAX_ID:
            raise ValueError(text)
        return last_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RuleViolationError(
            "The cursor is not valid; pass the `next_cursor` of a previous page, or none.",
            errors={"query.cursor": "not a cursor returned by this API"},
        ) from None


def paginate(
    session: Session,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[int],
    cursor: str | None,
    limit: int,
    *,
    rows: bool = False,
) -> Page:
    """`rows`: `stmt` selects columns (plain rows), not one entity (its objects)."""
    if cursor:
        stmt = stmt.where(id_column > decode_cursor(cursor))
    items = _fetch(session, stmt.order_by(id_column).limit(limit + 1), rows)
    has_more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1].id) if has_more else None)


def _fetch(session: Session, stmt: Select[Any], rows: bool) -> list[Any]:
    if rows:
        return list(session.execute(stmt))
    return list(session.scalars(stmt).unique())


def paginate_sorted(
    session: Session,
    stmt: Select[Any],
    sort: str,
    key_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[int],
    cursor: str | None,
    limit: int,
    *,
    rows: bool = False,
) -> Page:
    """Keyset pagination on (a datetime column, id), ascending, or descending when `sort`
    starts with "-". The cursor carries the sort it was made for, the last row's value
    and id, so a page never skips or repeats a row, whatever ties the column has.
    `rows` as in `paginate`."""
    descending = sort.startswith("-")
    if cursor:
        value, last_id = _decode_sorted_cursor(cursor, sort)
        if descending:
            after = or_(key_column < value, and_(key_column == value, id_column < last_id))
        else:
            after = or_(key_column > value, and_(key_column == value, id_column > last_id))
        stmt = stmt.where(after)
    order = (key_column.desc(), id_column.desc()) if descending else (key_column, id_column)
    items = _fetch(session, stmt.order_by(*order).limit(limit + 1), rows)
    has_more = len(items) > limit
    items = items[:limit]
    if not has_more:
        return Page(items, None)
    last = items[-1]
    return Page(items, _encode_sorted_cursor(sort, getattr(last, key_column.key), last.id))


def _encode_sorted_cursor(sort: str, value: datetime, last_id: int) -> str:
    text = f"{sort}|{value.isoformat()}|{last_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_sorted_cursor(cursor: str, sort: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cursor_sort, raw_value, raw_id = text.split("|")
        value = datetime.fromisoformat(raw_value)
        last_id = int(raw_id)
        if cursor_sort != sort or value.tzinfo is None or not 0 <= last_id <= MAX_ID:
            raise ValueError(text)
        return value, last_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RuleViolationError(
            f"The cursor is not valid for sort '{sort}'; pass the `next_cursor` of a previous "
            "page with the same sort, or none.",
            errors={"query.cursor": "not a cursor returned by this API for this sort"},
        ) from None
