"""Submitting a scorecard through the use case: one upsert and one flush, all or nothing.

The submission writes the scorecard, its first revision with the ratings, the audit
event and the outbox event in one transaction (`usecases.scorecards.submit_scorecard`).
These tests read what it stored, and make the database refuse a write half-way to show
that nothing of it is kept.
"""

from datetime import timedelta

import pytest
from flask import current_app
from psycopg import _queries as psycopg_queries
from redis.exceptions import RedisError
from sqlalchemy import event, func, select, text, update
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.exc import DatabaseError

from service import jobs
from service.domain.access import Actor
from service.domain.errors import ConflictError, PermissionDeniedError
from service.http.scorecards.schemas import ScorecardSchema
from service.persistence import submissions
from service.persistence.assessment_read_model import AssessmentReadModel
from service.persistence.audit import AuditEvent
from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.outbox import OutboxEvent
from service.persistence.scorecards import Scorecard, ScorecardRating, ScorecardRevision
from service.usecases import notifications, scorecards
from tests.factories import ApplicationFactory, InterviewFactory

EVIDENCE = "Walked through a sharded queue design, named hot partitions and retried idempotently."
# backend_engineer's technical_screen assesses these two competencies.
COMPETENCIES = ("coding", "problem_solving")


def card(recommendation="yes", score=3):
    return {
        "ratings": [{"competency": c, "score": score, "evidence": EVIDENCE} for c in COMPETENCIES],
        "recommendation": recommendation,
        "summary": "Solid screen.",
    }


def held_interview(hours_ago=2, **kwargs):
    return InterviewFactory(starts_at=utcnow() - timedelta(hours=hours_ago), **kwargs)


pytestmark = pytest.mark.usefixtures("in_app")


def count(session, model, **where):
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return session.scalar(stmt)


def audits_of(session, scorecard, action):
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "scorecard",
                AuditEvent.entity_id == scorecard.id,
                AuditEvent.action == action,
            )
        )
    )


def events_about(session, interview):
    return [
        e
        for e in session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "scorecard.submitted")
        )
        if e.data["interview_id"] == interview.id
    ]


def test_a_submission_stores_the_scorecard_its_revision_the_audit_and_the_event(session):
    interview = held_interview()
    scorecard = scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    session.expire_all()
    stored = session.get(Scorecard, scorecard.id)
    assert (stored.state, stored.revision, stored.draft, stored.late) == (
        "submitted",
        1,
        None,
        False,
    )
    [revision] = stored.revisions
    assert (revision.number, revision.recommendation, revision.after_seeing_others) == (
        1,
        "yes",
        False,
    )
    assert [(r.competency, r.score, r.evidence) for r in revision.ratings] == [
        (c, 3, EVIDENCE) for c in COMPETENCIES
    ]
    [audit] = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "scorecard", AuditEvent.entity_id == scorecard.id
        )
    )
    assert (audit.action, audit.actor_id) == ("scorecard.submitted", interview.interviewer_id)
    assert audit.after["state"] == "submitted"
    assert audit.after["ratings"] == [{"competency": c, "score": 3} for c in COMPETENCIES]
    [outbox] = events_about(session, interview)
    assert outbox.data == {
        "scorecard_id": scorecard.id,
        "interview_id": interview.id,
        "application_id": interview.application_id,
        "interviewer_id": interview.interviewer_id,
        "late": False,
    }


def test_the_audit_records_the_submitted_row_as_an_amendment_reads_it_back(session):
    """The submission's audit `after` and event `data` name the row's values (on
    PostgreSQL built by the writing statement itself): a draft's creation time, at a
    whole second here, as `datetime.isoformat` writes it, and the same snapshot the next
    amendment records as its `before`, read from the stored row."""
    interview = held_interview()
    draft = scorecards.save_draft(
        session, interview.interviewer, interview.id, {"ratings": [], "summary": "notes"}
    )
    created = (utcnow() - timedelta(days=1)).replace(microsecond=0)
    session.execute(update(Scorecard).where(Scorecard.id == draft.id).values(created_at=created))
    session.commit()
    scorecard = scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    session.expire_all()
    stored = session.get(Scorecard, scorecard.id)
    [submitted] = audits_of(session, stored, "scorecard.submitted")
    assert submitted.after == {
        "id": stored.id,
        "interview_id": interview.id,
        "application_id": interview.application_id,
        "author_id": interview.interviewer_id,
        "state": "submitted",
        "submitted_at": stored.submitted_at.isoformat(),
        "late": False,
        "revision": 1,
        "created_at": created.isoformat(),
        "updated_at": stored.updated_at.isoformat(),
        "recommendation": "yes",
        "ratings": [{"competency": c, "score": 3} for c in COMPETENCIES],
    }
    assert "." not in submitted.after["created_at"]
    assert submitted.before is None
    [event] = events_about(session, interview)
    assert event.data["scorecard_id"] == stored.id and event.data["late"] is False
    scorecards.amend_scorecard(
        session, interview.interviewer, interview.id, {**card(score=2), "reason": "Recounted."}
    )
    [amended] = audits_of(session, stored, "scorecard.amended")
    assert amended.before == submitted.after


def test_the_submitted_scorecard_comes_back_with_all_its_response_reads(session, connection):
    """The scorecard returned has its interview, author, revision and ratings loaded, so
    the response reads nothing more: on PostgreSQL the author comes with the writing
    statement; on SQLite, whose upsert returns the scorecard's row alone, it is loaded
    when read (one select)."""
    interview = held_interview()
    user = interview.interviewer
    actor = Actor(user.id, user.email, user.name, user.role, user.active)
    session.commit()
    session.expunge_all()  # nothing already at hand: the author is not in the session
    scorecard = scorecards.submit_scorecard(session, actor, interview.id, card())
    sent = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        body = ScorecardSchema().dump(scorecard)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert body["author"] == {"id": user.id, "name": user.name}
    assert body["interview_key"] == interview.interview_key
    assert [r["competency"] for r in body["ratings"]] == list(COMPETENCIES)
    assert len(body["revisions"]) == 1
    selects = [s for s in sent if s.startswith("SELECT")]
    assert len(selects) == (0 if connection.dialect.name == "postgresql" else 1)


def test_the_submissions_statement_stays_short_enough_for_the_drivers_parse_cache():
    """psycopg keeps its parsing of a statement's placeholders only for statements up to
    4 kB and 50 parameters, and parses a longer one again on every execution: the
    submission's one statement is kept under both (short CTE and parameter names). A
    column added to a table it writes lengthens it; shorten it again rather than have
    it parsed on every submission (`persistence.submissions`)."""
    revision = ScorecardRevision(recommendation="yes", ratings=[])
    interview = Interview(id=1, application_id=1, interviewer_id=1)
    stmt = submissions._statement(
        submissions._shape(scorecards._submitted_snapshot(revision)),
        submissions._shape(scorecards._event_data(interview)),
    )
    compiled = stmt.compile(dialect=postgresql_psycopg.dialect())  # the app's driver
    assert len(str(compiled).encode()) <= psycopg_queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= psycopg_queries.MAX_CACHED_STATEMENT_PARAMS


def test_a_competency_not_assessed_is_stored_in_its_place_with_the_warnings(session):
    """The ratings keep the order they were given in, a null score and empty evidence
    included, and the revision keeps the wording warnings (on PostgreSQL they travel as
    arrays and JSON parameters of one statement)."""
    interview = held_interview()
    data = {
        "ratings": [
            {"competency": "problem_solving", "score": None, "evidence": ""},
            {
                "competency": "coding",
                "score": 4,
                "evidence": EVIDENCE + " Young and energetic, a culture fit.",
            },
        ],
        "recommendation": "yes",
        "summary": "",
    }
    scorecard = scorecards.submit_scorecard(session, interview.interviewer, interview.id, data)
    returned = [(r.competency, r.score, r.evidence) for r in scorecard.current.ratings]
    warnings = scorecard.current.warnings
    assert warnings, "the evidence's wording is flagged"
    session.expire_all()
    [revision] = session.get(Scorecard, scorecard.id).revisions
    stored = [(r.competency, r.score, r.evidence) for r in revision.ratings]
    assert (
        stored
        == returned
        == [(r["competency"], r["score"], r["evidence"]) for r in data["ratings"]]
    )
    assert revision.warnings == warnings
    assert revision.created_at == session.get(Scorecard, scorecard.id).submitted_at


def test_a_saved_draft_becomes_the_submission_in_place(session):
    interview = held_interview()
    draft = scorecards.save_draft(
        session, interview.interviewer, interview.id, {"ratings": [], "summary": "notes"}
    )
    created = draft.created_at
    submitted = scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    session.expire_all()
    stored = session.get(Scorecard, draft.id)
    assert submitted.id == draft.id
    assert (stored.state, stored.draft, stored.revision) == ("submitted", None, 1)
    assert stored.created_at == created and stored.submitted_at >= created
    assert count(session, Scorecard, interview_id=interview.id) == 1


def test_a_second_submission_is_refused_and_adds_nothing(session):
    """Refused before anything is written: no revision, audit or outbox event, and the
    stored assessment is not invalidated (on PostgreSQL all of it is the one statement,
    whose every write reads the upsert's row, and there is none)."""
    interview = held_interview()
    scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    generation = stored_generation(session, interview.application_id)
    with pytest.raises(ConflictError, match="amendment"):
        scorecards.submit_scorecard(
            session, interview.interviewer, interview.id, card(recommendation="no")
        )
    assert stored_generation(session, interview.application_id) == generation
    session.rollback()
    scorecard = session.scalars(
        select(Scorecard).where(Scorecard.interview_id == interview.id)
    ).one()
    assert [r.recommendation for r in scorecard.revisions] == ["yes"]
    assert len(events_about(session, interview)) == 1
    assert len(audits_of(session, scorecard, "scorecard.submitted")) == 1


def stored_generation(session, application_id):
    """The stored assessment's generation, read in the session's transaction."""
    return session.scalar(
        select(AssessmentReadModel.generation).where(
            AssessmentReadModel.application_id == application_id
        )
    )


def test_a_panelist_who_read_the_others_first_has_the_submission_marked(session):
    """The upsert returns whether its author had read others' feedback (their first view)."""
    application = ApplicationFactory()
    other = held_interview(application=application)
    first = held_interview(application=application)
    later = held_interview(5, application=application, interviewer=first.interviewer)
    scorecards.submit_scorecard(session, other.interviewer, other.id, card())
    scorecards.submit_scorecard(session, first.interviewer, first.id, card())
    # `later` is still owed, so the blind rule keeps the panel's feedback closed.
    with pytest.raises(PermissionDeniedError, match="Submit your own scorecard"):
        scorecards.list_scorecards(session, first.interviewer, application.id)
    session.rollback()
    scorecards.submit_scorecard(session, first.interviewer, later.id, card())
    scorecards.list_scorecards(session, first.interviewer, application.id)
    third = held_interview(8, application=application, interviewer=first.interviewer)
    scorecard = scorecards.submit_scorecard(session, first.interviewer, third.id, card())
    assert [r.after_seeing_others for r in scorecard.revisions] == [True]
    session.expire_all()
    assert session.get(Scorecard, scorecard.id).revisions[0].after_seeing_others is True


def refuse_inserts(connection, table):
    """Make the database itself refuse every new row of `table` (a constraint no row meets,
    or SQLite's trigger), until `allow_inserts`; the test's transaction undoes it anyway."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(f"ALTER TABLE {table} ADD CONSTRAINT refuse_every_row CHECK (false) NOT VALID")
        )
    else:
        connection.execute(
            text(
                f"CREATE TRIGGER refuse_every_row BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )


def allow_inserts(connection, table):
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT refuse_every_row"))
    else:
        connection.execute(text("DROP TRIGGER refuse_every_row"))


@pytest.mark.parametrize("refused", ["scorecard_ratings", "audit_events", "outbox_events"])
def test_a_write_refused_half_way_leaves_nothing_of_the_submission(session, connection, refused):
    """The database refuses one of the submission's later inserts (after the scorecard's
    upsert; on PostgreSQL a part of its second statement): the scorecard stays the draft
    it was, with no revision, rating, audit event or outbox event."""
    interview = held_interview()
    draft = scorecards.save_draft(
        session, interview.interviewer, interview.id, {"ratings": [], "summary": "notes"}
    )
    refuse_inserts(connection, refused)
    with pytest.raises(DatabaseError, match="refuse"):
        scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    session.rollback()
    session.expire_all()
    stored = session.get(Scorecard, draft.id)
    assert (stored.state, stored.revision, stored.submitted_at) == ("draft", 0, None)
    assert stored.draft["summary"] == "notes"
    assert count(session, ScorecardRevision, scorecard_id=draft.id) == 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(ScorecardRating)
            .join(ScorecardRevision)
            .where(ScorecardRevision.scorecard_id == draft.id)
        )
        == 0
    )
    assert [
        e.action
        for e in session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "scorecard", AuditEvent.entity_id == draft.id
            )
        )
    ] == ["scorecard.draft_saved"]
    assert events_about(session, interview) == []
    # And the interviewer can submit it once the database takes it again.
    allow_inserts(connection, refused)
    scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    assert count(session, ScorecardRevision, scorecard_id=draft.id) == 1


def test_a_submission_enqueues_only_its_events_dispatch_which_asks_for_the_refit_and_packet(
    session, monkeypatch
):
    """After its commit a submission enqueues one job, the outbox dispatch; dispatching
    its event asks for the calibration refresh and the application's packet preparation
    (the jobs the submission itself enqueued before)."""
    asked = []
    monkeypatch.setattr(
        jobs, "enqueue_all", lambda wanted: asked.append([w.function for w in wanted])
    )
    interview = held_interview()
    scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    assert asked == [["workers.jobs.dispatch_events"]]
    asked.clear()
    notifications.dispatch_events(session, current_app.config["SETTINGS"])
    assert [f for batch in asked for f in batch if f in FOLLOW_UPS] == list(FOLLOW_UPS)


# What a submitted scorecard's event asks for when it is dispatched, in this order.
FOLLOW_UPS = ("workers.jobs.refresh_calibration", "workers.jobs.prepare_packets")


def test_a_submission_committed_while_redis_is_away_gets_its_refit_from_the_sweep(
    session, monkeypatch
):
    """Redis refuses the jobs after the submission's commit: the scorecard is stored, and
    the periodic sweep, dispatching its event, asks for the calibration refresh and the
    packet preparation, so none of the submission's jobs is lost."""

    def redis_away(wanted):
        raise RedisError("connection refused")

    monkeypatch.setattr(jobs, "enqueue_all", redis_away)
    interview = held_interview()
    scorecard = scorecards.submit_scorecard(session, interview.interviewer, interview.id, card())
    assert session.get(Scorecard, scorecard.id).state == "submitted"
    asked = []
    monkeypatch.setattr(jobs, "enqueue_all", asked.extend)
    notifications.sweep(session, current_app.config["SETTINGS"])
    assert {(w.function, w.args) for w in asked} >= {
        ("workers.jobs.refresh_calibration", (False,)),
        ("workers.jobs.prepare_packets", (interview.application_id,)),
    }
