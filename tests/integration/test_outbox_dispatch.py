"""The outbox's dispatch job, asked for once per committed transaction that stored events."""

from __future__ import annotations

from service import jobs
from service.extensions import db
from service.usecases.outbox import DISPATCH_JOB, EVENTS_QUEUE, emit_event


def dispatches() -> list[str]:
    return [job.func_name for job in jobs.queue(EVENTS_QUEUE).get_jobs()]


def test_one_dispatch_for_a_transaction_that_stores_several_events(live_app):
    session = db.session
    emit_event(session, "test.first", {"n": 1})
    emit_event(session, "test.second", {"n": 2})
    session.commit()
    assert dispatches() == [DISPATCH_JOB]


def test_after_a_rollback_the_next_transaction_still_gets_its_dispatch(live_app):
    """The rolled-back transaction's dispatch is dropped with it; the session's next
    transaction that stores an event asks for its own."""
    session = db.session
    emit_event(session, "test.rolled_back", {"n": 1})
    session.rollback()
    assert dispatches() == []
    emit_event(session, "test.committed", {"n": 2})
    session.commit()
    assert dispatches() == [DISPATCH_JOB]
