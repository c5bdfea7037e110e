"""Scorecards: drafts, submission rules, amendments, independence, lateness, language warnings."""

from datetime import timedelta

import pytest
from sqlalchemy import event

from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, UserFactory

EVIDENCE = "Walked through a sharded queue design, named hot partitions and retried idempotently."
# backend_engineer's technical_screen assesses these two competencies.
COMPETENCIES = ("coding", "problem_solving")


def card(recommendation="yes", scores=(3, 3), evidence=EVIDENCE, summary="Solid screen."):
    return {
        "ratings": [
            {"competency": c, "score": s, "evidence": evidence}
            for c, s in zip(COMPETENCIES, scores, strict=False)
        ],
        "recommendation": recommendation,
        "summary": summary,
    }


def held_interview(**kwargs):
    """An interview that took place an hour ago."""
    return InterviewFactory(starts_at=utcnow() - timedelta(hours=2), **kwargs)


def submit(client, interview, body=None):
    return client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        json=body or card(),
        headers=auth(interview.interviewer),
    )


def test_template_interview_assesses_the_competencies_these_tests_use(session):
    template = held_interview().application.requisition.template_version.template()
    assert template.interview("technical_screen").competencies == COMPETENCIES


def test_draft_saves_partial_work_and_only_its_author_sees_it(client, session, recruiter):
    interview = held_interview()
    draft = {"ratings": [{"competency": "coding", "score": 2, "evidence": "short"}]}
    saved = client.put(
        f"/api/v1/interviews/{interview.id}/scorecard",
        json=draft,
        headers=auth(interview.interviewer),
    )
    assert saved.status_code == 200
    assert saved.json["state"] == "draft"
    assert saved.json["ratings"][0]["evidence"] == "short"
    mine = client.get(
        f"/api/v1/interviews/{interview.id}/scorecard", headers=auth(interview.interviewer)
    )
    assert mine.json["ratings"][0]["score"] == 2
    theirs = client.get(f"/api/v1/interviews/{interview.id}/scorecard", headers=auth(recruiter))
    assert theirs.status_code == 404
    listed = client.get(
        f"/api/v1/applications/{interview.application_id}/scorecards", headers=auth(recruiter)
    )
    assert listed.json["items"] == []


def test_submit_records_one_revision(client, session):
    interview = held_interview()
    response = submit(client, interview)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["state"], body["revision"], body["late"]) == ("submitted", 1, False)
    assert body["recommendation"] == "yes"
    assert [r["competency"] for r in body["ratings"]] == list(COMPETENCIES)
    assert len(body["revisions"]) == 1


def test_only_the_assigned_interviewer_writes(client, session):
    interview = held_interview()
    other = UserFactory(role="interviewer")
    InterviewFactory(application=interview.application, interviewer=other)
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit", json=card(), headers=auth(other)
    )
    assert response.status_code == 403
    assert "assigned interviewer" in response.json["detail"]


def test_recruiter_cannot_write_a_scorecard(client, session, recruiter):
    interview = held_interview()
    response = client.put(
        f"/api/v1/interviews/{interview.id}/scorecard", json=card(), headers=auth(recruiter)
    )
    assert response.status_code == 403


def test_evidence_too_short_names_the_competency(client, session):
    interview = held_interview()
    body = card()
    body["ratings"][1]["evidence"] = "good"
    response = submit(client, interview, body)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert "ratings[1].evidence" in errors
    assert "'problem_solving'" in errors["ratings[1].evidence"]
    assert "is 4 characters" in errors["ratings[1].evidence"]


def test_a_bare_number_is_rejected(client, session):
    interview = held_interview()
    response = submit(client, interview, card(evidence=""))
    assert response.status_code == 422
    assert {"ratings[0].evidence", "ratings[1].evidence"} <= {
        e["field"] for e in response.json["errors"]
    }


def test_not_assessed_needs_no_evidence(client, session):
    interview = held_interview()
    body = card()
    body["ratings"][1] = {"competency": "problem_solving", "score": None, "evidence": ""}
    assert submit(client, interview, body).status_code == 200


def test_unknown_competency_is_named_with_the_ones_assessed(client, session):
    interview = held_interview()
    body = card()
    body["ratings"][0]["competency"] = "sytem_design"
    response = submit(client, interview, body)
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert "'sytem_design' is not assessed in this interview" in errors["ratings[0].competency"]
    assert "coding, problem_solving" in errors["ratings[0].competency"]


def test_every_assessed_competency_must_appear_to_submit(client, session):
    interview = held_interview()
    body = card()
    body["ratings"].pop()
    response = submit(client, interview, body)
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert "missing: problem_solving" in errors["ratings"]


@pytest.mark.parametrize("score", [0, 5, "3", 2.5])
def test_scores_outside_the_scale_are_rejected(client, session, score):
    interview = held_interview()
    body = card()
    body["ratings"][0]["score"] = score
    response = submit(client, interview, body)
    assert response.status_code == 422
    assert "ratings[0].score" in {e["field"] for e in response.json["errors"]}


def test_recommendation_is_required_to_submit_but_not_for_a_draft(client, session):
    interview = held_interview()
    body = card(recommendation=None)
    saved = client.put(
        f"/api/v1/interviews/{interview.id}/scorecard",
        json=body,
        headers=auth(interview.interviewer),
    )
    assert saved.status_code == 200
    response = submit(client, interview, body)
    assert response.status_code == 422
    assert "recommendation" in {e["field"] for e in response.json["errors"]}


def test_no_submission_before_the_interview_has_started(client, session):
    interview = InterviewFactory(starts_at=utcnow() + timedelta(hours=3))
    response = submit(client, interview)
    assert response.status_code == 409
    assert "after the interview has taken place" in response.json["detail"]


def test_one_submitted_scorecard_per_interview(client, session):
    interview = held_interview()
    submit(client, interview)
    again = submit(client, interview)
    assert again.status_code == 409
    assert "amendment" in again.json["detail"]
    draft = client.put(
        f"/api/v1/interviews/{interview.id}/scorecard",
        json=card(),
        headers=auth(interview.interviewer),
    )
    assert draft.status_code == 409


def test_amendments_keep_every_revision(client, session):
    interview = held_interview()
    submit(client, interview)
    amended = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/amendments",
        json={**card(recommendation="strong_yes", scores=(4, 3)), "reason": "Mixed up the scale"},
        headers=auth(interview.interviewer),
    )
    assert amended.status_code == 201, amended.json
    body = amended.json
    assert body["revision"] == 2 and body["recommendation"] == "strong_yes"
    first, second = body["revisions"]
    assert (first["recommendation"], first["ratings"][0]["score"]) == ("yes", 3)
    assert (second["recommendation"], second["ratings"][0]["score"]) == ("strong_yes", 4)
    assert second["reason"] == "Mixed up the scale"


def test_an_amendment_needs_a_reason(client, session):
    interview = held_interview()
    submit(client, interview)
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/amendments",
        json=card(),
        headers=auth(interview.interviewer),
    )
    assert response.status_code == 422
    assert "reason" in {e["field"] for e in response.json["errors"]}


def test_late_feedback_is_marked(client, session):
    # The template allows 24 hours after the interview's end.
    interview = InterviewFactory(starts_at=utcnow() - timedelta(hours=27))
    assert submit(client, interview).json["late"] is True
    on_time = InterviewFactory(starts_at=utcnow() - timedelta(hours=24))
    assert submit(client, on_time).json["late"] is False


def panel(size=2):
    application = ApplicationFactory()
    return [held_interview(application=application) for _ in range(size)]


def test_panelist_reading_others_before_submitting_gets_403(client, session):
    first, second = panel()
    submit(client, first)
    response = client.get(
        f"/api/v1/applications/{second.application_id}/scorecards", headers=auth(second.interviewer)
    )
    assert response.status_code == 403
    assert "Submit your own scorecard" in response.json["detail"]
    single = client.get(
        f"/api/v1/interviews/{first.id}/scorecard", headers=auth(second.interviewer)
    )
    assert single.status_code == 403


def test_panelist_with_only_a_draft_still_gets_403(client, session):
    first, second = panel()
    submit(client, first)
    client.put(
        f"/api/v1/interviews/{second.id}/scorecard", json=card(), headers=auth(second.interviewer)
    )
    response = client.get(
        f"/api/v1/applications/{second.application_id}/scorecards", headers=auth(second.interviewer)
    )
    assert response.status_code == 403


def test_after_submitting_a_panelist_sees_the_others(client, session):
    first, second = panel()
    submit(client, first)
    submit(client, second)
    response = client.get(
        f"/api/v1/applications/{second.application_id}/scorecards", headers=auth(second.interviewer)
    )
    assert response.status_code == 200
    assert {s["interview_id"] for s in response.json["items"]} == {first.id, second.id}


def test_hiring_manager_and_recruiter_see_submitted_scorecards(client, session, recruiter):
    first, _second = panel()
    submit(client, first)
    manager = first.application.requisition.hiring_manager
    for reader in (recruiter, manager):
        response = client.get(
            f"/api/v1/applications/{first.application_id}/scorecards", headers=auth(reader)
        )
        assert [s["interview_id"] for s in response.json["items"]] == [first.id]


def test_first_view_is_recorded_and_a_later_amendment_is_flagged(client, session):
    first, second = panel()
    submit(client, first)
    submit(client, second)
    assert submit(client, second).status_code == 409
    client.get(
        f"/api/v1/applications/{second.application_id}/scorecards", headers=auth(second.interviewer)
    )
    amended = client.post(
        f"/api/v1/interviews/{second.id}/scorecard/amendments",
        json={**card(recommendation="no"), "reason": "Reconsidered"},
        headers=auth(second.interviewer),
    ).json
    assert [r["after_seeing_others"] for r in amended["revisions"]] == [False, True]
    events = client.get(
        f"/api/v1/audit?entity_type=application&entity_id={second.application_id}"
        "&action=scorecards.first_viewed",
        headers=auth(UserFactory(role="admin")),
    ).json["items"]
    assert [e["actor_id"] for e in events] == [second.interviewer.id]


def test_language_warnings_are_returned_and_stored_but_do_not_block(client, session, recruiter):
    interview = held_interview()
    body = card(summary="Great culture fit, very energetic young guy.")
    saved = client.put(
        f"/api/v1/interviews/{interview.id}/scorecard",
        json=body,
        headers=auth(interview.interviewer),
    )
    categories = {w["category"] for w in saved.json["warnings"]}
    assert saved.status_code == 200 and len(categories) >= 2
    assert all(w["field"] == "summary" for w in saved.json["warnings"])
    submitted = submit(client, interview, body)
    assert submitted.status_code == 200
    stored = client.get(f"/api/v1/interviews/{interview.id}/scorecard", headers=auth(recruiter))
    assert stored.json["warnings"] == submitted.json["warnings"] != []


def test_every_scorecard_write_is_audited(client, session):
    interview = held_interview()
    admin = UserFactory(role="admin")
    client.put(
        f"/api/v1/interviews/{interview.id}/scorecard",
        json=card(),
        headers=auth(interview.interviewer),
    )
    submit(client, interview)
    client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/amendments",
        json={**card(), "reason": "typo"},
        headers=auth(interview.interviewer),
    )
    events = client.get("/api/v1/audit?entity_type=scorecard", headers=auth(admin)).json["items"]
    assert [e["action"] for e in events] == [
        "scorecard.draft_saved",
        "scorecard.submitted",
        "scorecard.amended",
    ]
    assert {e["actor_id"] for e in events} == {interview.interviewer.id}


def test_a_submission_takes_a_handful_of_statements(client, session, connection):
    """Authentication, the interview with its application, then the writes up to the
    commit (here the release of the test's savepoint; the jobs that run in-process after
    it are not counted). On PostgreSQL the writes are one statement (the scorecard's
    upsert, the revision, its ratings, the audit event, the outbox event and the stored
    assessment's invalidation): 3, where the upsert and a flush made 9. On SQLite they are
    the upsert, one flush and the invalidation: 8; the same statement sent again at once
    is one (SQLite inserts the ratings row by row to return their ids)."""
    interview = held_interview()
    sent = []

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        assert submit(client, interview).status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", record)
    commit = next(i for i, s in enumerate(sent) if s.startswith("RELEASE SAVEPOINT"))
    statements = [s for s in sent[:commit] if not s.startswith("SAVEPOINT")]
    distinct = [s for i, s in enumerate(statements) if i == 0 or s != statements[i - 1]]
    assert len(distinct) <= (3 if connection.dialect.name == "postgresql" else 8)
