"""The assessment endpoint: who may read it, and that it reflects what is stored."""

import json
from datetime import timedelta

import pytest

from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, UserFactory

GOOD = (
    "Designed the ledger with idempotent writes and explained the reconciliation job step by step."
)
WEAK = "Could not explain how a retried payment avoids double charging, even after two hints."


def submit(client, interview, score, evidence, recommendation):
    template = interview.application.requisition.template_version.template()
    ratings = [
        {"competency": c, "score": score, "evidence": evidence}
        for c in template.interview(interview.interview_key).competencies
    ]
    response = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        json={"ratings": ratings, "recommendation": recommendation},
        headers=auth(interview.interviewer),
    )
    assert response.status_code == 200, response.json


@pytest.fixture
def panel(session):
    application = ApplicationFactory()
    start = utcnow() - timedelta(hours=6)
    return [
        InterviewFactory(
            application=application, starts_at=start + timedelta(hours=n), status="completed"
        )
        for n in range(3)
    ]


def assessment(client, user, application_id):
    return client.get(f"/api/v1/applications/{application_id}/assessment", headers=auth(user))


def test_hiring_manager_sees_scores_dissent_and_recommendations(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    submit(client, panel[1], 3, GOOD, "yes")
    submit(client, panel[2], 1, WEAK, "strong_no")
    manager = panel[0].application.requisition.hiring_manager
    response = assessment(client, manager, panel[0].application_id)
    assert response.status_code == 200
    body = response.json
    coding = next(c for c in body["competencies"] if c["key"] == "coding")
    assert sorted(s["raw"] for s in coding["scores"]) == [1, 3, 3]
    assert coding["n_raters"] == 3
    assert body["recommendations"]["counts"] == {"strong_no": 1, "no": 0, "yes": 2, "strong_yes": 0}
    assert body["dissents"], "a 1 against two 3s is dissent at the 1.5 threshold"
    quoted = json.dumps(body["dissents"][0])
    assert WEAK in quoted and GOOD in quoted
    assert "coverage_gap" in {f["code"] for f in body["flags"]}


def test_missing_scorecard_is_flagged(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    body = assessment(client, UserFactory(role="recruiter"), panel[0].application_id).json
    missing = [f for f in body["flags"] if f["code"] == "missing_scorecard"]
    assert {i for f in missing for i in f["records"]["interview_ids"]} == {panel[1].id, panel[2].id}


def test_panelist_who_has_not_submitted_gets_403(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    response = assessment(client, panel[1].interviewer, panel[1].application_id)
    assert response.status_code == 403
    assert "Submit your own scorecard" in response.json["detail"]


def test_panelist_who_submitted_may_read_and_the_view_is_recorded(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    submit(client, panel[1], 3, GOOD, "yes")
    assert assessment(client, panel[1].interviewer, panel[1].application_id).status_code == 200
    # Amending now is flagged as written after seeing others.
    template = panel[1].application.requisition.template_version.template()
    ratings = [
        {"competency": c, "score": 2, "evidence": WEAK}
        for c in template.interview("technical_screen").competencies
    ]
    client.post(
        f"/api/v1/interviews/{panel[1].id}/scorecard/amendments",
        json={"ratings": ratings, "recommendation": "no", "reason": "Reconsidered"},
        headers=auth(panel[1].interviewer),
    )
    body = assessment(client, UserFactory(role="recruiter"), panel[1].application_id).json
    flagged = [f for f in body["flags"] if f["code"] == "not_independent"]
    assert [f["records"]["interview_ids"] for f in flagged] == [[panel[1].id]]


def test_interviewer_off_the_panel_cannot_see_it(client, session, panel):
    assert (
        assessment(client, UserFactory(role="interviewer"), panel[0].application_id).status_code
        == 404
    )


def test_the_same_data_gives_the_same_bytes(client, session, panel):
    submit(client, panel[0], 3, GOOD, "yes")
    recruiter = UserFactory(role="recruiter")
    first = assessment(client, recruiter, panel[0].application_id).get_data()
    assert assessment(client, recruiter, panel[0].application_id).get_data() == first


def test_reading_an_assessment_with_only_your_own_scores_is_not_a_first_view(
    client, session, panel
):
    from service.persistence.scorecards import ScorecardView

    submit(client, panel[0], 3, GOOD, "yes")
    assert assessment(client, panel[0].interviewer, panel[0].application_id).status_code == 200
    assert session.query(ScorecardView).filter_by(user_id=panel[0].interviewer.id).count() == 0
    submit(client, panel[1], 3, GOOD, "yes")
    assessment(client, panel[0].interviewer, panel[0].application_id)
    assert session.query(ScorecardView).filter_by(user_id=panel[0].interviewer.id).count() == 1


def test_each_panelist_is_judged_by_their_own_scorecards_not_the_previous_readers(
    client, session, panel
):
    """The access check's statement is built once per role (`access._application_feedback`);
    each request must still read its own viewer's panelist states and visibility."""
    submit(client, panel[0], 3, GOOD, "yes")
    submitted, owing = panel[0].interviewer, panel[1].interviewer
    for reader, status in ((submitted, 200), (owing, 403), (submitted, 200), (owing, 403)):
        assert assessment(client, reader, panel[0].application_id).status_code == status


def test_each_hiring_manager_reads_only_their_own_applications_assessments(client, session, panel):
    other = InterviewFactory(status="completed").application
    mine = panel[0].application
    managers = {a.id: a.requisition.hiring_manager for a in (mine, other)}
    for reader_of, read in ((mine, mine), (other, mine), (other, other), (mine, other)):
        expected = 200 if reader_of.id == read.id else 404
        response = assessment(client, managers[reader_of.id], read.id)
        assert response.status_code == expected
