"""Two bookings of one interviewer's slot at the same moment on PostgreSQL can deadlock in
the exclusion constraint's check instead of violating it; the loser of that deadlock
is refused as a double booking (409), not answered with a 500."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.extensions import make_engine
from service.persistence import migrate
from service.persistence.base import utcnow
from service.persistence.interviews import is_double_booking
from service.usecases.templates import sync_templates
from tests import factories
from tests.factories import InterviewFactory, UserFactory
from tests.integration.conftest import _fresh_postgres_database

AT = utcnow().replace(microsecond=0) + timedelta(days=3)


def test_a_deadlock_while_checking_the_constraint_counts_as_a_double_booking():
    """Two transactions each move an interview onto one interviewer's slot: each waits for
    the other (one in the constraint's check, one for the row the other holds), and
    PostgreSQL fails one of them. That one lost the slot as surely as a violation."""
    url, drop = _fresh_postgres_database()
    engine = None
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            sync_templates(session, load_template_dir(TEMPLATE_DIR))
            factories.bind(session)
            busy = UserFactory(role="interviewer")
            first, second = (InterviewFactory(starts_at=AT) for _ in range(2))
            session.commit()
            ids = (busy.id, first.id, second.id)
        factories.bind(None)
        error = _deadlock_in_the_check(engine, *ids)
        assert "exclusion constraint" in error.orig.diag.context
        assert is_double_booking(error)
    finally:
        if engine is not None:
            engine.dispose()
        drop()


def _deadlock_in_the_check(engine, busy_id, first_id, second_id) -> OperationalError:
    """The loser's error: it waits for the winner in the constraint's check, the winner
    then waits for the row the loser holds, and the loser gives up first."""
    move = text("UPDATE interviews SET interviewer_id = :busy WHERE id = :id")
    lock = text("SELECT id FROM interviews WHERE id = :id FOR UPDATE")
    with engine.connect() as winner, engine.connect() as loser, ThreadPoolExecutor(2) as pool:
        winner.execute(text("SET LOCAL deadlock_timeout = '30s'"))
        winner.execute(move, {"busy": busy_id, "id": first_id})
        loser.execute(text("SET LOCAL deadlock_timeout = '1s'"))
        lost = pool.submit(loser.execute, move, {"busy": busy_id, "id": second_id})
        time.sleep(0.3)  # the loser waits for the winner, in the constraint's check
        won = pool.submit(winner.execute, lock, {"id": second_id})  # and now a cycle
        with pytest.raises(OperationalError) as refused:
            lost.result(timeout=20)
        won.result(timeout=20)  # the winner goes on once the loser has failed
        winner.rollback()
    return refused.value
