"""The interviewer's pages through the test client: who may open them, what the form
sends, and the blind rule (the panel's feedback only after submitting)."""

from __future__ import annotations

from datetime import timedelta

from service.persistence.base import utcnow
from service.usecases import scorecards
from tests.factories import ApplicationFactory, InterviewFactory
from tests.web.conftest import csrf_token, post_form, sign_in, with_password

EVIDENCE = "Wrote the retry loop with an idempotency key, then tested the double-submit case."
OTHER_EVIDENCE = "PANEL-SECRET: drew the queue, named the hot partition and sized it."


def form(scores=("3", "none"), evidence=EVIDENCE, recommendation="yes", summary="Careful."):
    """The kit's form for backend_engineer's technical_screen (coding, problem_solving)."""
    data = {"recommendation": recommendation, "summary": summary}
    for index, (competency, score) in enumerate(
        zip(("coding", "problem_solving"), scores, strict=True)
    ):
        data[f"ratings-{index}-competency"] = competency
        data[f"ratings-{index}-score"] = score
        data[f"ratings-{index}-evidence"] = evidence if score != "none" else ""
    return data


def held(session, interviewer, application=None, key="technical_screen"):
    return InterviewFactory(
        interviewer=interviewer,
        starts_at=utcnow() - timedelta(hours=2),
        interview_key=key,
        **({"application": application} if application else {}),
    )


def test_my_interviews_lists_scorecards_owed_and_marks_overdue(web_client, session, interviewer):
    overdue = InterviewFactory(interviewer=interviewer, starts_at=utcnow() - timedelta(days=3))
    recent = held(session, interviewer)
    upcoming = InterviewFactory(interviewer=interviewer, starts_at=utcnow() + timedelta(days=1))
    sign_in(web_client, interviewer)
    html = web_client.get("/interviews").get_data(as_text=True)
    owed = html.split('id="owed-heading"')[1].split('id="upcoming-heading"')[0]
    assert owed.index(f"/interviews/{overdue.id}") < owed.index(f"/interviews/{recent.id}")
    assert owed.count("Overdue") == 1
    assert f"/interviews/{upcoming.id}" in html.split('id="upcoming-heading"')[1]


def test_another_interviewers_kit_is_a_404_like_a_missing_one(web_client, session, interviewer):
    theirs = held(session, with_password(session, role="interviewer"))
    sign_in(web_client, interviewer)
    for path in (f"/interviews/{theirs.id}", "/interviews/999999"):
        response = web_client.get(path)
        assert response.status_code == 404, path
        assert "not yours to see" in response.get_data(as_text=True)
    assert "Technical" not in web_client.get(f"/interviews/{theirs.id}").get_data(as_text=True)


def test_posting_to_another_interviewers_scorecard_is_a_404(web_client, session, interviewer):
    theirs = held(session, with_password(session, role="interviewer"))
    mine = held(session, interviewer)
    sign_in(web_client, interviewer)
    for action in ("draft", "scorecard", "amendments"):
        response = post_form(
            web_client,
            f"/interviews/{theirs.id}/{action}",
            form(),
            page_path=f"/interviews/{mine.id}",
        )
        assert response.status_code == 404, action


def test_the_scorecard_form_refuses_a_post_without_its_csrf_token(web_client, session, interviewer):
    interview = held(session, interviewer)
    sign_in(web_client, interviewer)
    response = web_client.post(f"/interviews/{interview.id}/draft", data=form())
    assert response.status_code == 400
    assert "Draft saved" not in web_client.get(f"/interviews/{interview.id}").get_data(as_text=True)


def test_save_draft_keeps_the_text_and_shows_the_wording_warning(web_client, session, interviewer):
    interview = held(session, interviewer)
    sign_in(web_client, interviewer)
    path = f"/interviews/{interview.id}"
    saved = post_form(
        web_client, f"{path}/draft", form(summary="Great culture fit."), page_path=path
    )
    assert saved.status_code == 302
    html = web_client.get(path).get_data(as_text=True)
    assert "Draft saved" in html
    assert EVIDENCE in html
    assert "<mark>culture fit</mark>" in html


def test_autosave_answers_json_with_the_warnings(web_client, session, interviewer):
    interview = held(session, interviewer)
    sign_in(web_client, interviewer)
    path = f"/interviews/{interview.id}"
    response = post_form(
        web_client,
        f"{path}/draft",
        form(summary="Great culture fit."),
        page_path=path,
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert [w["phrase"] for w in response.json["warnings"]] == ["culture fit"]
    assert response.json["warnings"][0]["field"] == "summary"


def test_submission_errors_appear_next_to_their_fields(web_client, session, interviewer):
    interview = held(session, interviewer)
    sign_in(web_client, interviewer)
    path = f"/interviews/{interview.id}"
    response = post_form(
        web_client,
        f"{path}/scorecard",
        form(evidence="too short", recommendation=""),
        page_path=path,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-coding-evidence"' in html
    assert 'id="error-recommendation"' in html
    assert "too short" in html  # what was typed is kept


def test_a_refused_submission_keeps_the_work_as_a_draft_with_its_warnings(
    web_client, session, interviewer
):
    interview = held(session, interviewer)
    sign_in(web_client, interviewer)
    path = f"/interviews/{interview.id}"
    refused = post_form(
        web_client,
        f"{path}/scorecard",
        form(recommendation="", summary="A culture fit."),
        page_path=path,
    )
    assert refused.status_code == 422
    assert "<mark>culture fit</mark>" in refused.get_data(as_text=True)
    again = web_client.get(path).get_data(as_text=True)
    assert "A culture fit." in again and EVIDENCE in again


def test_panel_feedback_opens_only_after_submitting(app, web_client, session, interviewer):
    application = ApplicationFactory()
    other = with_password(session, role="interviewer")
    theirs = held(session, other, application)
    mine = held(session, interviewer, application, key="technical_screen")
    with app.app_context():  # submitting schedules the calibration refresh
        submit_as(session, other, theirs.id)
    sign_in(web_client, interviewer)
    path = f"/interviews/{mine.id}"
    before = web_client.get(path).get_data(as_text=True)
    assert "PANEL-SECRET" not in before
    assert "You'll see the panel's feedback after you submit yours" in before
    submitted = post_form(web_client, f"{path}/scorecard", form(), page_path=path)
    assert submitted.status_code == 302
    after = web_client.get(path).get_data(as_text=True)
    assert "PANEL-SECRET" in after


def submit_as(session, user, interview_id):
    scorecards.submit_scorecard(
        session,
        user,
        interview_id,
        {
            "ratings": [
                {"competency": "coding", "score": 3, "evidence": OTHER_EVIDENCE},
                {"competency": "problem_solving", "score": None, "evidence": ""},
            ],
            "recommendation": "no",
            "summary": "",
        },
    )


def test_amendment_needs_a_reason_and_adds_a_revision(web_client, session, interviewer):
    interview = held(session, interviewer)
    sign_in(web_client, interviewer)
    path = f"/interviews/{interview.id}"
    post_form(web_client, f"{path}/scorecard", form(), page_path=path)
    refused = post_form(web_client, f"{path}/amendments", form(), page_path=path)
    assert refused.status_code == 422
    assert 'id="error-reason"' in refused.get_data(as_text=True)
    amended = post_form(
        web_client,
        f"{path}/amendments",
        {**form(scores=("4", "none")), "reason": "Re-read my notes: the edge cases were his own."},
        page_path=path,
    )
    assert amended.status_code == 302
    html = web_client.get(path).get_data(as_text=True)
    assert "Revision 2" in html
    assert "Re-read my notes" in html


def test_autosave_after_the_session_ended_answers_json_not_the_sign_in_page(
    web_client, session, interviewer
):
    interview = held(session, interviewer)
    sign_in(web_client, interviewer)
    path = f"/interviews/{interview.id}"
    token = csrf_token(web_client.get(path))
    with web_client.session_transaction() as web_session:
        web_session.pop("user_id")
    response = web_client.post(
        f"{path}/draft",
        data={**form(), "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 401
    assert "session has ended" in response.json["detail"]
