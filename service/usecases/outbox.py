"""The one way a use case announces an event: `emit_event`, called before its commit.

Like `access`, this module is a foundation under the feature use cases: it imports no
other use case, and every feature may import it (tests/test_layering.py). The event is
a row in the same transaction as the change (`persistence.outbox`); once the
transaction commits, a dispatch job is enqueued, unless one is already waiting to
start (it will read the event). If Redis is away then, the event
waits in the table for the periodic sweep, so a lost Redis never loses an event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service import jobs
from service.persistence.outbox import OutboxEvent, add_event, new_event

DISPATCH_JOB = "workers.jobs.dispatch_events"
# The queue of every job that carries events out (dispatch, webhook deliveries, email).
EVENTS_QUEUE = "events"


def emit_event(
    session: Session, type_: str, data: dict[str, Any], *, dedupe_key: str | None = None
) -> OutboxEvent | None:
    """Store the event `type_` with `data` (ids and the minimum needed: never feedback
    text or self-identification answers) in the caller's transaction. With a
    `dedupe_key` already used, nothing is stored (a step announced once); returns None."""
    row = add_event(session, type_, data, dedupe_key)
    if row is not None:
        dispatch_after_commit(session)
    return row


def event_to_write(type_: str, data: dict[str, Any]) -> OutboxEvent:
    """The event `emit_event` would store, for a use case that writes it with its change
    in one statement of its own (`persistence.submissions.write_submission`): not added to
    any session. Once it is written, the use case calls `dispatch_after_commit`."""
    return new_event(type_, data)


def dispatch_after_commit(session: Session) -> None:
    """Enqueue the dispatch once the transaction commits, once however many events (for
    an event written with `event_to_write`; `emit_event` asks for it itself), and not
    while a dispatch is waiting to start: that one will read them
    (`jobs.enqueue_coalesced_after_commit`). A transaction that rolls back asked for
    none, so the session's next one asks again."""
    jobs.enqueue_coalesced_after_commit(session, DISPATCH_JOB, queue_name=EVENTS_QUEUE)
