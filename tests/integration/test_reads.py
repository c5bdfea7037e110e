"""Read-only requests on a committed database: on PostgreSQL they run on autocommit
connections, and a write one of them needs (the first read of the panel's feedback)
still commits with its audit event, once, however many reads race to make it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.http.blueprint import note_reads_only
from service.persistence.audit import AuditEvent
from service.persistence.base import utcnow
from service.persistence.scorecards import ScorecardView
from tests.api.conftest import auth
from tests.api.test_scorecards import card
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory
from tests.integration.test_races import in_parallel, statuses

pytestmark = pytest.mark.integration


def isolation_level(app, method: str, path: str) -> str | None:
    """The isolation level the request's session runs at, when not the engine's default."""
    with app.test_request_context(path, method=method):
        note_reads_only()
        return db.session.connection().get_execution_options().get("isolation_level")


def test_reads_only_views_get_an_autocommit_session_on_postgresql(race_app):
    listing = isolation_level(race_app, "GET", "/api/v1/applications")
    creating = isolation_level(race_app, "POST", "/api/v1/applications")
    unmarked = isolation_level(race_app, "GET", "/api/v1/requisitions")
    if db.engine(race_app).dialect.name == "postgresql":
        assert listing == "AUTOCOMMIT"
    else:
        assert listing != "AUTOCOMMIT"  # SQLite: one transactional session (its write lock)
    assert creating != "AUTOCOMMIT"
    assert unmarked != "AUTOCOMMIT"


def test_parallel_first_reads_of_the_panel_record_one_view_and_one_audit_event(
    race_app, race_session
):
    manager = UserFactory(role="hiring_manager")
    application = ApplicationFactory(requisition=RequisitionFactory(hiring_manager=manager))
    start = utcnow() - timedelta(hours=5)
    other = InterviewFactory(application=application, starts_at=start, status="completed")
    own = InterviewFactory(
        application=application,
        interviewer=manager,
        starts_at=start + timedelta(hours=1),
        interview_key=other.interview_key,
        status="completed",
    )
    race_session.commit()
    client = race_app.test_client()
    for interview in (other, own):
        submitted = client.post(
            f"/api/v1/interviews/{interview.id}/scorecard/submit",
            json=card(),
            headers=auth(interview.interviewer),
        )
        assert submitted.status_code == 200, submitted.json

    def read(client, i):
        return client.get(
            f"/api/v1/applications/{application.id}/assessment", headers=auth(manager)
        )

    responses = in_parallel(race_app, read)
    assert statuses(responses) == {200: len(responses)}
    views = race_session.scalar(
        select(func.count(ScorecardView.id)).where(
            ScorecardView.application_id == application.id, ScorecardView.user_id == manager.id
        )
    )
    events = race_session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "scorecards.first_viewed",
            AuditEvent.entity_id == application.id,
            AuditEvent.actor_id == manager.id,
        )
    )
    assert (views, events) == (1, 1)
