"""The transactional outbox: events stored in the same transaction as the change that
caused them, handed out afterwards (webhooks, notifications) by the dispatcher.

A row is pending until `dispatched_at` is set. The dispatcher (an RQ job enqueued
after the commit, and a periodic sweep for when Redis was away) locks pending rows
and skips those another dispatcher holds, so each event is fanned out once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.persistence.base import Base, utcnow


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_dispatched_at", "dispatched_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What receivers see as the event's id (`evt_…`); never the row id.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]]
    # Set for events that must happen once per step (a reminder, a loop completing):
    # a second insert with the same key is refused by the unique index.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def add_event(
    session: Session, type_: str, data: dict[str, Any], dedupe_key: str | None = None
) -> OutboxEvent | None:
    """Add an event to the session's transaction. With a `dedupe_key` already stored it
    adds nothing and returns None. Two transactions adding the same key at once: the
    unique index refuses the second at commit, which fails as a whole (its job is
    retried, and then finds the key)."""
    if dedupe_key is not None and session.scalar(
        select(OutboxEvent.id).where(OutboxEvent.dedupe_key == dedupe_key)
    ):
        return None
    row = new_event(type_, data, dedupe_key)
    session.add(row)
    return row


def new_event(type_: str, data: dict[str, Any], dedupe_key: str | None = None) -> OutboxEvent:
    """The row `add_event` adds, not yet added (a writer that sends it with its change in
    one statement of its own, `persistence.submissions.write_submission`)."""
    return OutboxEvent(
        public_id=new_public_id("evt"),
        type=type_,
        data=data,
        dedupe_key=dedupe_key,
        created_at=utcnow(),
    )


def undispatched_count(session: Session) -> int:
    """How many events wait for the dispatcher (the outbox backlog)."""
    count = session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
    )
    return int(count or 0)


def pending_events(session: Session, limit: int) -> list[OutboxEvent]:
    """The oldest undispatched events, locked (PostgreSQL), skipping those another
    dispatcher holds."""
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
