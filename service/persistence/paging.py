"""Keyset (cursor) pagination, by id or by (a sort column, id): stable under inserts,
cheap at any depth."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, or_
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
    """A page of `stmt` by id after `cursor` (`keyset_statement` built for this request).
    `rows`: `stmt` selects columns (plain rows), not one entity (its objects)."""
    page = keyset_statement(stmt, id_column, after=bool(cursor))
    parameters = keyset_parameters(cursor, None, limit)
    if rows:
        items = list(session.execute(page, parameters))
    else:
        items = list(session.scalars(page, parameters).unique())
    return keyset_page(items, limit, None, None)


# The bind parameters of a statement made by `keyset_statement`.
LIMIT = "page_limit"
AFTER_ID = "after_id"
AFTER_VALUE = "after_value"


def keyset_statement(
    stmt: Select[Any],
    id_column: InstrumentedAttribute[int],
    key_column: InstrumentedAttribute[datetime] | None = None,
    *,
    descending: bool = False,
    after: bool = False,
) -> Select[Any]:
    """`stmt` as one keyset page, ordered by id or by (`key_column`, id), descending or
    not, with bind parameters instead of values: `LIMIT` (the rows to fetch), and when
    `after`, the last row's `AFTER_ID` (and `AFTER_VALUE` with a key column). Built once
    per shape by a hot path; `keyset_parameters` gives the values for a request and
    `keyset_page` turns the fetched rows into a page."""
    last_id = bindparam(AFTER_ID, type_=Integer, required=True)
    if key_column is None:
        order: tuple[Any, ...] = (id_column,)
        if after:
            stmt = stmt.where(id_column > last_id)
    else:
        order = (key_column.desc(), id_column.desc()) if descending else (key_column, id_column)
        if after:
            value = bindparam(AFTER_VALUE, type_=key_column.type, required=True)
            if descending:
                later = or_(key_column < value, and_(key_column == value, id_column < last_id))
            else:
                later = or_(key_column > value, and_(key_column == value, id_column > last_id))
            stmt = stmt.where(later)
    return stmt.order_by(*order).limit(bindparam(LIMIT, type_=Integer, required=True))


def keyset_parameters(cursor: str | None, sort: str | None, limit: int) -> dict[str, Any]:
    """The values of `keyset_statement`'s parameters for a page of `limit` after `cursor`
    (none: the first page); `sort` is None for the order by id. One row more than the page
    is fetched, to know whether another page follows. Raises RuleViolationError for a
    cursor that is not one of this order's."""
    parameters: dict[str, Any] = {LIMIT: limit + 1}
    if cursor and sort is None:
        parameters[AFTER_ID] = decode_cursor(cursor)
    elif cursor and sort is not None:
        parameters[AFTER_VALUE], parameters[AFTER_ID] = _decode_sorted_cursor(cursor, sort)
    return parameters


def keyset_page(rows: Sequence[Any], limit: int, sort: str | None, key: str | None) -> Page:
    """The page of `rows` fetched with `keyset_parameters(…, limit)`: at most `limit` rows,
    and the cursor to the next page when there is one. `key` names the rows' sort column
    (None when `sort` is)."""
    if len(rows) <= limit:
        return Page(list(rows), None)
    rows = list(rows[:limit])
    last = rows[-1]
    if sort is None or key is None:
        return Page(rows, encode_cursor(last.id))
    return Page(rows, _encode_sorted_cursor(sort, getattr(last, key), last.id))


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
