"""Keyset (cursor) pagination by id: stable under inserts, cheap at any depth."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
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
    session: Session, stmt: Select, id_column: InstrumentedAttribute, cursor: str | None, limit: int
) -> Page:
    if cursor:
        stmt = stmt.where(id_column > decode_cursor(cursor))
    rows = list(session.scalars(stmt.order_by(id_column).limit(limit + 1)).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id) if has_more else None)
