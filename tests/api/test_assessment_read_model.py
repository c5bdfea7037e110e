"""The stored assessment read model: served only behind the blind rule, and after every
change the assessment shows (a scorecard, an amendment, a calibration run, a decision, an
interview or deviation, an erasure, the clock), the next read equals a fresh computation."""

import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from service.domain.assessment import assess, to_dict
from service.http.assessments.schemas import AssessmentSchema
from service.persistence.applications import Application
from service.persistence.assessment_read_model import (
    AssessmentReadModel,
    store,
    stored_from,
    with_stored_assessment,
)
from service.persistence.base import utcnow
from service.persistence.calibration import latest_run
from service.usecases import applications, assessments
from service.usecases.calibration import refit_calibration
from tests.api import test_calibration, test_packets
from tests.api.conftest import auth
from tests.api.test_assessment import GOOD, WEAK, assessment, submit
from tests.api.test_decisions import decide, fresh_packet, manager_of
from tests.api.test_interviews import schedule
from tests.factories import ApplicationFactory, CandidateFactory, InterviewFactory, UserFactory

loop = test_packets.loop  # an application with a two-person panel, not yet submitted


@pytest.fixture
def recruiter(session):
    return UserFactory(role="recruiter")


@pytest.fixture
def panel(session):
    application = ApplicationFactory(candidate=CandidateFactory(name="Zelda Quorra"))
    start = utcnow() - timedelta(hours=6)
    return [
        InterviewFactory(
            application=application, starts_at=start + timedelta(hours=n), status="completed"
        )
        for n in range(3)
    ]


def fresh(session, application_id, now=None):
    """The assessment computed from what is stored now, as the API would send it."""
    # A session of its own: the requests wrote through theirs, so this one's objects may be old.
    with Session(bind=session.connection()) as own:
        template = own.get(Application, application_id).template
        inputs = assessments.assessment_inputs(own, application_id, template)
        return json.loads(json.dumps(to_dict(assess(*inputs, now=now or utcnow()))))


def stored_assessment(session, application_id, now):
    """What a read at `now` finds stored (`stored_from`), as the use case reads it."""
    stmt = with_stored_assessment(select(Application.id).where(Application.id == application_id))
    return stored_from(session.execute(stmt).one(), now)


def stored_row(session, application_id):
    return session.execute(
        select(AssessmentReadModel.generation, AssessmentReadModel.body).where(
            AssessmentReadModel.application_id == application_id
        )
    ).one_or_none()


def read(client, user, application_id):
    response = assessment(client, user, application_id)
    assert response.status_code == 200, response.json
    return response.json


def read_and_store(client, session, user, application_id):
    """Read once, so the next read is served from the stored model."""
    body = read(client, user, application_id)
    row = stored_row(session, application_id)
    assert row is not None and json.loads(row.body) == body
    return body


def test_a_read_stores_the_assessment_and_the_next_read_serves_it(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    recruiter = UserFactory(role="recruiter")
    first = assessment(client, recruiter, panel[0].application_id)
    stored = stored_row(session, panel[0].application_id)
    assert stored.body.encode() == first.get_data()
    again = assessment(client, recruiter, panel[0].application_id)
    assert again.get_data() == first.get_data()
    assert again.json == fresh(session, panel[0].application_id)


def test_the_stored_body_is_what_the_schema_documents(client, session, panel):
    for interview, score in zip(panel, (3, 3, 1), strict=True):
        submit(client, interview, score, GOOD if score == 3 else WEAK, "yes")
    body = read(client, UserFactory(role="recruiter"), panel[0].application_id)
    assert AssessmentSchema().dump(body) == body


def test_a_stored_model_is_never_served_to_a_panelist_who_owes_a_scorecard(client, session, panel):
    """The manager's read stores the panel's scores; the blind rule still refuses a
    panelist who has not submitted, before anything stored is read."""
    submit(client, panel[0], 3, GOOD, "yes")
    read_and_store(client, session, manager_of(panel), panel[0].application_id)
    refused = assessment(client, panel[1].interviewer, panel[0].application_id)
    assert refused.status_code == 403
    assert refused.json["pending_interview_ids"] == [panel[1].id]
    assert GOOD not in refused.get_data(as_text=True)


def test_a_panelist_with_two_interviews_reads_it_only_after_submitting_both(client, session, panel):
    second = InterviewFactory(
        application=panel[0].application,
        interviewer=panel[0].interviewer,
        interview_key="pair_programming",
        starts_at=utcnow() - timedelta(hours=1),
        status="completed",
    )
    submit(client, panel[1], 3, GOOD, "yes")
    read_and_store(client, session, manager_of(panel), panel[0].application_id)
    submit(client, panel[0], 3, GOOD, "yes")
    refused = assessment(client, panel[0].interviewer, panel[0].application_id)
    assert (refused.status_code, refused.json.get("pending_interview_ids")) == (403, [second.id])
    submit(client, second, 2, WEAK, "no")
    body = read(client, panel[0].interviewer, panel[0].application_id)
    assert body == fresh(session, panel[0].application_id)


def test_a_stored_model_is_never_served_to_someone_who_may_not_see_the_application(
    client, session, panel
):
    submit(client, panel[0], 3, GOOD, "yes")
    read_and_store(client, session, manager_of(panel), panel[0].application_id)
    outsider = assessment(client, UserFactory(role="interviewer"), panel[0].application_id)
    assert outsider.status_code == 404
    assert GOOD not in outsider.get_data(as_text=True)


def test_a_submission_invalidates_it(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    manager = manager_of(panel)
    before = read_and_store(client, session, manager, panel[0].application_id)
    submit(client, panel[1], 1, WEAK, "strong_no")
    after = read(client, manager, panel[0].application_id)
    assert after != before
    assert after == fresh(session, panel[0].application_id)


def test_the_submission_invalidates_with_one_statement(client, session, panel, connection):
    submit(client, panel[0], 3, GOOD, "yes")
    read_and_store(client, session, manager_of(panel), panel[0].application_id)
    statements = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "assessment_read_models" in statement:
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", note)
    try:
        submit(client, panel[1], 1, WEAK, "strong_no")
    finally:
        event.remove(connection, "before_cursor_execute", note)
    # On PostgreSQL the invalidation is part of the submission's one statement of writes.
    [statement] = statements
    expected = (
        "WITH " if connection.dialect.name == "postgresql" else "INSERT INTO assessment_read_models"
    )
    assert statement.startswith(expected)
    assert "INSERT INTO assessment_read_models" in statement


def test_an_amendment_invalidates_it(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    submit(client, panel[1], 3, GOOD, "yes")
    manager = manager_of(panel)
    before = read_and_store(client, session, manager, panel[0].application_id)
    template = panel[1].application.requisition.template_version.template()
    amended = client.post(
        f"/api/v1/interviews/{panel[1].id}/scorecard/amendments",
        json={
            "ratings": [
                {"competency": c, "score": 1, "evidence": WEAK}
                for c in template.interview(panel[1].interview_key).competencies
            ],
            "recommendation": "no",
            "reason": "Reconsidered after my notes",
        },
        headers=auth(panel[1].interviewer),
    )
    assert amended.status_code == 201, amended.json
    after = read(client, manager, panel[0].application_id)
    assert after != before
    assert after == fresh(session, panel[0].application_id)


def test_a_new_calibration_run_invalidates_it(client, session):
    generous = UserFactory(role="interviewer")
    test_calibration.history(client, generous, [UserFactory(role="interviewer")] * 2, 6)
    application_id = test_calibration.latest_application_of(session, generous)
    recruiter = UserFactory(role="recruiter")
    read_and_store(client, session, recruiter, application_id)
    run = refit_calibration(session, full=True, model="linear")
    assert run is not None and run.id == latest_run(session).id
    after = read(client, recruiter, application_id)
    assert after == fresh(session, application_id)
    stored = stored_assessment(session, application_id, utcnow())
    assert (stored.calibration_run_id, stored.body) == (
        run.id,
        json.dumps(after, sort_keys=True, separators=(",", ":")),
    )


def test_a_decision_leaves_it_equal_to_a_fresh_computation(client, session, loop):
    test_packets.submit_panel(client, loop)
    manager = manager_of(loop)
    read_and_store(client, session, manager, loop[0].application_id)
    assert decide(client, loop, fresh_packet(client, loop)["id"]).status_code == 201
    assert read(client, manager, loop[0].application_id) == fresh(session, loop[0].application_id)


def test_an_added_interview_invalidates_it(client, session, panel, recruiter):
    submit(client, panel[0], 3, GOOD, "yes")
    application = panel[0].application
    before = read_and_store(client, session, recruiter, application.id)
    added = schedule(
        client,
        recruiter,
        application,
        UserFactory(role="interviewer"),
        key=panel[0].interview_key,
        reason="The first interviewer lost the connection halfway",
    )
    assert added.status_code == 201, added.json
    after = read(client, recruiter, application.id)
    assert after != before
    assert "process_deviation" in {f["code"] for f in after["flags"]}
    assert after == fresh(session, application.id)


def test_a_cancelled_interview_invalidates_it(client, session, recruiter):
    overdue = InterviewFactory(starts_at=utcnow() - timedelta(days=3), status="scheduled")
    application_id = overdue.application_id
    before = read_and_store(client, session, recruiter, application_id)
    assert "missing_scorecard" in {f["code"] for f in before["flags"]}
    cancelled = client.post(
        f"/api/v1/interviews/{overdue.id}/cancel",
        json={"reason": "The candidate withdrew from this round"},
        headers=auth(recruiter),
    )
    assert cancelled.status_code == 200, cancelled.json
    after = read(client, recruiter, application_id)
    assert "missing_scorecard" not in {f["code"] for f in after["flags"]}
    assert after == fresh(session, application_id)


def test_an_overrun_invalidates_it(client, session, recruiter):
    interview = InterviewFactory(starts_at=utcnow() - timedelta(hours=2), duration_minutes=60)
    before = read_and_store(client, session, recruiter, interview.application_id)
    done = client.post(
        f"/api/v1/interviews/{interview.id}/complete",
        json={"actual_minutes": 95, "reason": "Candidate asked many questions"},
        headers=auth(recruiter),
    )
    assert done.status_code == 200, done.json
    after = read(client, recruiter, interview.application_id)
    assert after != before
    assert after == fresh(session, interview.application_id)


def test_a_stage_skipped_with_its_interviews_invalidates_it(client, session, recruiter):
    application = ApplicationFactory()
    template = application.template
    stage = template.interview("technical_screen").stage
    application.stage = stage
    session.flush()
    before = read_and_store(client, session, recruiter, application.id)
    moved = client.post(
        f"/api/v1/applications/{application.id}/moves",
        json={
            "from_stage": stage,
            "to_stage": template.allowed_moves(stage)[0],
            "reason": "Referral",
        },
        headers=auth(recruiter),
    )
    assert moved.status_code == 200, moved.json
    after = read(client, recruiter, application.id)
    assert after != before
    assert "skipped" in {
        f["details"][0]["kind"] for f in after["flags"] if f["code"] == "process_deviation"
    }
    assert after == fresh(session, application.id)


def test_an_erasure_invalidates_it_and_leaves_no_erased_text_stored(
    client, session, panel, recruiter
):
    named = "Zelda Quorra designed the ledger with idempotent writes and tests for each case."
    submit(client, panel[0], 3, named, "yes")
    application = panel[0].application
    assert "Zelda" in json.dumps(read_and_store(client, session, recruiter, application.id))
    applications.change_status(
        session, recruiter, application.id, "reject", rejection_reason="skills_gap"
    )
    erased = client.post(
        f"/api/v1/candidates/{application.candidate_id}/erasure",
        json={"reason": "The candidate asked by email."},
        headers=auth(UserFactory(role="admin")),
    )
    assert erased.status_code == 200, erased.json
    row = stored_row(session, application.id)
    assert row.body is None or "Zelda" not in row.body
    after = read(client, recruiter, application.id)
    assert "Zelda" not in json.dumps(after)
    assert after == fresh(session, application.id)


def test_it_holds_until_a_scheduled_interview_becomes_overdue(client, session, recruiter):
    """The stored model carries the instant its one time-dependent fact changes; a read
    after it computes again, and the interview's scorecard is then missing."""
    interview = InterviewFactory(starts_at=utcnow() - timedelta(hours=1), status="scheduled")
    application_id = interview.application_id
    body = read_and_store(client, session, recruiter, application_id)
    assert "missing_scorecard" not in {f["code"] for f in body["flags"]}
    hours = interview.application.template.scoring.late_feedback_hours
    overdue_at = interview.starts_at + timedelta(hours=hours)
    assert stored_assessment(session, application_id, overdue_at).body is not None
    later = overdue_at + timedelta(microseconds=1)
    assert stored_assessment(session, application_id, later).body is None
    with time_machine.travel(later + timedelta(seconds=1), tick=False):
        after = read(client, recruiter, application_id)
        assert "missing_scorecard" in {f["code"] for f in after["flags"]}
        assert after == fresh(session, application_id)


@pytest.mark.parametrize("stored_before", [False, True], ids=["no-row-yet", "stored"])
def test_a_reader_that_computed_before_a_write_does_not_store_its_stale_result(
    client, session, panel, stored_before
):
    """Reader: reads the model's generation, then the facts; a writer commits; the reader
    stores late. The write's generation wins, so the next read sees the new facts."""
    submit(client, panel[0], 3, GOOD, "yes")
    manager = manager_of(panel)
    application_id = panel[0].application_id
    if stored_before:
        read_and_store(client, session, manager, application_id)
        submit(client, panel[2], 2, WEAK, "no")
    else:  # as for an application last written before the read model existed
        session.execute(
            delete(AssessmentReadModel).where(AssessmentReadModel.application_id == application_id)
        )
    found = stored_assessment(session, application_id, utcnow())
    assert found.body is None and (found.generation is None) is not stored_before
    stale = json.dumps(fresh(session, application_id), sort_keys=True, separators=(",", ":"))
    submit(client, panel[1], 1, WEAK, "strong_no")
    store(session, application_id, found, stale, None)
    assert stored_row(session, application_id).body is None
    after = read(client, manager, application_id)
    assert after != json.loads(stale)
    assert after == fresh(session, application_id)
