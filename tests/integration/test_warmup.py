"""The warm-up a preloading gunicorn master runs before it forks (`service.warmup`): a
worker's first reads then find every statement they run compiled already, nothing was
written or audited by it, and it left no connection open for a worker to inherit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.engine.interfaces import CacheStats

from service import create_app
from service.demo import SCREEN_EVIDENCE, seed_demo
from service.extensions import db
from service.persistence.applications import Application
from service.persistence.audit import AuditEvent
from service.persistence.base import utcnow
from service.persistence.scorecards import Scorecard, ScorecardView
from service.usecases import scorecards
from service.warmup import warm_up
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory

SCREEN_SCORECARD = {
    "ratings": [
        {"competency": key, "score": 3, "evidence": text} for key, text in SCREEN_EVIDENCE.items()
    ],
    "recommendation": "yes",
    "summary": "Solid screen: correct, tested solution and clear reasoning about trade-offs.",
}

pytestmark = pytest.mark.usefixtures("race_app")


@pytest.fixture(scope="module")
def seeded(race_app):
    """The demo's people and loop, committed; (recruiter's token, hiring manager's token,
    an application with submitted scorecards, its requisition)."""
    with race_app.app_context():
        tokens = {c.email: c.token for c in seed_demo(db.session)}
        db.session.commit()
        application = db.session.get(
            Application,
            db.session.scalar(
                select(Scorecard.application_id).where(Scorecard.state == "submitted").limit(1)
            ),
        )
        assessed = (application.id, application.requisition_id)
    return tokens["recruiter@example.com"], tokens["hm.backend@example.com"], *assessed


def a_worker(race_app: Flask) -> Flask:
    """A new app on the same database: its own engine, nothing compiled yet."""
    settings = race_app.config["SETTINGS"]
    return create_app(
        {
            "SETTINGS": replace(settings),
            "TESTING": True,
            "INSTANCE_PATH": race_app.instance_path,
        }
    )


def compiled_on_first_reads(app: Flask, seeded) -> list[str]:
    """The statements a worker's first list, get and assessment compiled for themselves."""
    recruiter, manager, application_id, requisition_id = seeded
    missed: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.cache_hit is CacheStats.CACHE_MISS:
            missed.append(statement)

    engine = db.engine(app)
    event.listen(engine, "after_cursor_execute", note)
    try:
        client = app.test_client()
        for token, path in (
            (recruiter, f"/api/v1/applications?requisition_id={requisition_id}&limit=50"),
            (recruiter, f"/api/v1/applications/{application_id}"),
            (manager, f"/api/v1/applications/{application_id}/assessment"),
        ):
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.get_data(as_text=True)
    finally:
        event.remove(engine, "after_cursor_execute", note)
    return missed


def audit_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)))


def test_after_the_warm_up_a_workers_first_reads_compile_nothing(race_app, seeded):
    cold, warmed = a_worker(race_app), a_worker(race_app)
    try:
        assert compiled_on_first_reads(cold, seeded), "without the warm-up a first read compiles"

        before = audit_count(race_app)
        warm_up(warmed)
        assert audit_count(race_app) == before
        pool = db.engine(warmed).pool
        assert (pool.checkedin(), pool.checkedout()) == (0, 0)  # nothing left for a worker

        assert compiled_on_first_reads(warmed, seeded) == []
        # The pages' templates too.
        assert len(warmed.jinja_env.cache) == len(warmed.jinja_env.list_templates())
    finally:
        for app in (cold, warmed):
            db.engine(app).dispose()


def test_without_a_reachable_database_the_warm_up_leaves_the_reads_to_the_workers(race_app, caplog):
    settings = race_app.config["SETTINGS"]
    unreachable = create_app(
        {
            "SETTINGS": replace(
                settings, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"
            ),
            "TESTING": True,
            "INSTANCE_PATH": race_app.instance_path,
        }
    )
    warm_up(unreachable)
    assert "the reads were left to the workers" in caplog.text
    assert len(unreachable.jinja_env.cache) == len(unreachable.jinja_env.list_templates())


def test_the_warm_up_reads_no_assessment_as_a_panelist(race_app, race_session, seeded):
    """A hiring manager on the panel who has submitted their own scorecard would have
    their first view of the others' recorded and audited by a read of the assessment:
    the warm-up reads none whose hiring manager is on its panel, however recent."""
    manager = UserFactory(role="hiring_manager")
    application = ApplicationFactory(
        requisition=RequisitionFactory(hiring_manager=manager), stage="technical_screen"
    )
    for interviewer in (UserFactory(role="interviewer"), manager):
        interview = InterviewFactory(
            application=application,
            interviewer=interviewer,
            starts_at=utcnow() - timedelta(hours=3),
            status="completed",
        )
        race_session.commit()
        scorecards.submit_scorecard(race_session, interviewer, interview.id, SCREEN_SCORECARD)
    before = audit_count(race_app)
    warmed = a_worker(race_app)
    try:
        warm_up(warmed)
    finally:
        db.engine(warmed).dispose()
    assert audit_count(race_app) == before
    views = select(func.count(ScorecardView.id)).where(ScorecardView.user_id == manager.id)
    assert race_session.scalar(views) == 0
