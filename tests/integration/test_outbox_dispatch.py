"""The outbox's dispatch job, asked for once per committed transaction that stored events."""

from __future__ import annotations

from sqlalchemy import select

from service import jobs
from service.extensions import db
from service.persistence.outbox import OutboxEvent
from service.usecases.outbox import DISPATCH_JOB, EVENTS_QUEUE, emit_event
from tests.integration.conftest import start_worker


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


def test_while_a_dispatch_waits_to_start_later_commits_enqueue_no_other(live_app):
    """A burst of commits is one dispatch: the one waiting reads them all when it starts.
    Its mark in Redis expires, so a lost run holds back the next one a minute at most."""
    session = db.session
    for n in range(3):
        emit_event(session, "test.burst", {"n": n})
        session.commit()
    assert dispatches() == [DISPATCH_JOB]
    mark = jobs.queue(EVENTS_QUEUE).connection.ttl(f"hiring:jobs:waiting:{DISPATCH_JOB}")
    assert 0 < mark <= jobs.COALESCE_SECONDS


def test_the_waiting_dispatch_dispatches_every_coalesced_event_and_then_the_next_commit_asks_again(
    live_app,
):
    """A real worker runs the one dispatch of a burst: every event of the burst is
    dispatched; the dispatch cleared its mark as it started, so the next commit
    enqueues a dispatch of its own, which dispatches its event."""
    session = db.session
    ids = []
    for n in range(3):
        ids.append(emit_event(session, "test.burst", {"n": n}).id)
        session.commit()
    assert dispatches() == [DISPATCH_JOB]
    run_worker_until_empty(live_app)
    assert dispatches() == []
    assert undispatched(ids) == []
    late = emit_event(session, "test.after", {"n": 3}).id
    session.commit()
    assert dispatches() == [DISPATCH_JOB]
    run_worker_until_empty(live_app)
    assert undispatched([late]) == []


def run_worker_until_empty(app) -> None:
    """A real worker on the events queue, until that queue is empty."""
    worker = start_worker(app, "events", "--burst")
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output


def undispatched(ids: list[int]) -> list[int]:
    with db.new_session() as session:
        return list(
            session.scalars(
                select(OutboxEvent.id).where(
                    OutboxEvent.id.in_(ids), OutboxEvent.dispatched_at.is_(None)
                )
            )
        )
