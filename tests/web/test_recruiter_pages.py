"""The recruiter's pages through the test client: who may open them, the board's
columns and filters, moves (allowed, refused, stale), reject, withdraw, reopen, and the
application page (which never shows the panel's feedback)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.persistence.applications import Application
from service.persistence.base import utcnow
from service.usecases import applications, scorecards
from service.web import recruiter as recruiter_pages
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory
from tests.web.conftest import post_form, sign_in, with_password

SECRET = "PANEL-SECRET: walked through the retry loop and its idempotency key in detail."


@pytest.fixture
def recruiter(session):
    return with_password(session, role="recruiter")


@pytest.fixture
def requisition(session, recruiter):
    return RequisitionFactory(recruiter=recruiter, title="Backend Engineer, Payments")


def board_path(requisition):
    return f"/pipeline/requisitions/{requisition.id}"


def move(client, application, to_stage, *, version=None, from_stage=None, reason="Strong CV"):
    return post_form(
        client,
        f"/pipeline/applications/{application.id}/move",
        {
            "from_stage": from_stage or application.stage,
            "to_stage": to_stage,
            "reason": reason,
            "version": version if version is not None else application.version,
        },
        page_path=board_path(application.requisition),
    )


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_an_interviewer_and_a_hiring_manager_get_404_on_every_recruiter_page(
    web_client, session, requisition, role
):
    application = ApplicationFactory(requisition=requisition)
    sign_in(web_client, with_password(session, role=role))
    for path in ("/pipeline", board_path(requisition), f"/pipeline/applications/{application.id}"):
        response = web_client.get(path)
        assert response.status_code == 404, path
        assert application.candidate.name not in response.get_data(as_text=True)
    response = post_form(
        web_client,
        f"/pipeline/applications/{application.id}/move",
        {"from_stage": "applied", "to_stage": "recruiter_screen", "version": "1"},
        page_path="/interviews",  # their own page's form token
    )
    assert response.status_code == 404
    assert session.get(Application, application.id).stage == "applied"
    assert "Pipeline" not in web_client.get("/interviews").get_data(as_text=True)


def test_the_recruiter_lands_on_the_pipeline_with_counts_per_stage_and_past_target(
    web_client, session, recruiter, requisition
):
    ApplicationFactory(requisition=requisition, stage="applied")
    ApplicationFactory(
        requisition=requisition, stage="applied", stage_entered_at=utcnow() - timedelta(days=4)
    )
    ApplicationFactory(requisition=requisition, stage="onsite")
    RequisitionFactory(title="Someone else's requisition")
    sign_in(web_client, recruiter)
    html = web_client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "<h1>Pipeline</h1>" in html
    assert "Backend Engineer, Payments" in html and "Someone else" not in html
    assert "3 active" in html and "1 past target" in html
    applied_row = html.split('<th scope="row">Applied</th>')[1].split("</tr>")[0]
    assert "<td>2</td>" in applied_row and '<strong class="over">1</strong>' in applied_row
    everyone = web_client.get("/pipeline?show=all").get_data(as_text=True)
    assert "Someone else&#39;s requisition" in everyone


def test_the_board_has_a_column_per_stage_highlights_past_target_and_searches(
    web_client, session, recruiter, requisition
):
    late = ApplicationFactory(
        requisition=requisition, stage="applied", stage_entered_at=utcnow() - timedelta(days=5)
    )
    fresh = ApplicationFactory(requisition=requisition, stage="onsite")
    sign_in(web_client, recruiter)
    html = web_client.get(board_path(requisition)).get_data(as_text=True)
    for stage in (
        "Applied",
        "Recruiter screen",
        "Onsite loop",
        "Hiring committee debrief",
        "Offer",
    ):
        assert f'>{stage} <span class="count">' in html, stage
    late_card = html.split(f'id="application-{late.id}"')[1].split("</li>")[0]
    assert "Past target" in late_card and "of 3 days in stage" in late_card
    assert "Past target" not in html.split(f'id="application-{fresh.id}"')[1].split("</details>")[0]
    found = web_client.get(board_path(requisition), query_string={"q": late.candidate.name})
    assert late.candidate.name in found.get_data(as_text=True)
    assert fresh.candidate.name not in found.get_data(as_text=True)
    overdue = web_client.get(board_path(requisition), query_string={"past_target": "1"})
    assert fresh.candidate.name not in overdue.get_data(as_text=True)


def test_moving_a_card_records_the_reason_and_comes_back_to_it(
    web_client, session, recruiter, requisition
):
    application = ApplicationFactory(requisition=requisition)
    sign_in(web_client, recruiter)
    response = move(web_client, application, "recruiter_screen")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#application-{application.id}")
    session.refresh(application)
    assert application.stage == "recruiter_screen"
    timeline = applications.application_timeline(session, recruiter, application.id)
    assert (timeline[-1].actor_id, timeline[-1].reason) == (recruiter.id, "Strong CV")
    page = web_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{application.candidate.name} moved to Recruiter screen." in page
    timeline = web_client.get(f"/pipeline/applications/{application.id}").get_data(as_text=True)
    entry = timeline.split('class="timeline"')[1].split("</ol>")[0]
    assert "from Applied to Recruiter screen" in entry and recruiter.name in entry
    assert "“Strong CV”" in entry


def test_a_move_the_template_does_not_allow_is_a_422_naming_the_allowed_stages(
    web_client, session, recruiter, requisition
):
    application = ApplicationFactory(requisition=requisition)
    sign_in(web_client, recruiter)
    response = move(web_client, application, "offer")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "does not allow a move from &#39;applied&#39; to &#39;offer&#39;" in html
    assert "Allowed next stages: &#39;recruiter_screen&#39;" in html
    assert session.get(Application, application.id).stage == "applied"


def test_a_stale_move_shows_who_moved_the_card_and_why(web_client, session, recruiter, requisition):
    application = ApplicationFactory(requisition=requisition)
    seen_version = application.version
    colleague = with_password(session, role="recruiter", name="Robin Colleague")
    applications.move_application(
        session,
        colleague,
        application.id,
        from_stage="applied",
        to_stage="recruiter_screen",
        reason="Called them this morning",
    )
    sign_in(web_client, recruiter)
    response = move(
        web_client, application, "recruiter_screen", version=seen_version, from_stage="applied"
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "someone else changed this application first" in html
    assert "to Recruiter screen by Robin Colleague" in html
    assert "Called them this morning" in html
    assert len(applications.application_timeline(session, recruiter, application.id)) == 1


def test_reject_with_a_reason_code_and_note_then_reopen(
    web_client, session, recruiter, requisition
):
    application = ApplicationFactory(requisition=requisition)
    sign_in(web_client, recruiter)
    path = f"/pipeline/applications/{application.id}/status"
    data = {"action": "reject", "reason_code": "skills_gap", "note": "No Go", "version": "1"}
    assert post_form(web_client, path, data, page_path=board_path(requisition)).status_code == 302
    session.refresh(application)
    assert (application.status, application.rejection_reason) == ("rejected", "skills_gap")
    rejected = web_client.get(board_path(requisition), query_string={"status": "rejected"})
    assert "Skills gap — No Go" in rejected.get_data(as_text=True)
    data = {"action": "reopen", "reason": "Wrong pile", "version": str(application.version)}
    reopened = post_form(web_client, path, data, page_path=board_path(requisition))
    assert reopened.status_code == 302
    session.refresh(application)
    assert application.status == "active"


def test_reject_without_a_known_reason_code_is_a_422_naming_the_field(
    web_client, session, recruiter, requisition
):
    application = ApplicationFactory(requisition=requisition)
    sign_in(web_client, recruiter)
    response = post_form(
        web_client,
        f"/pipeline/applications/{application.id}/status",
        {"action": "reject", "reason_code": "vibes", "version": "1"},
        page_path=board_path(requisition),
    )
    assert response.status_code == 422
    assert "reason_code" in response.get_data(as_text=True)
    assert session.get(Application, application.id).status == "active"


def test_withdraw(web_client, session, recruiter, requisition):
    application = ApplicationFactory(requisition=requisition)
    sign_in(web_client, recruiter)
    response = post_form(
        web_client,
        f"/pipeline/applications/{application.id}/status",
        {"action": "withdraw", "reason": "Took another offer", "version": "1"},
        page_path=board_path(requisition),
    )
    assert response.status_code == 302
    session.refresh(application)
    assert application.status == "withdrawn"


def test_a_move_without_its_csrf_token_is_refused(web_client, session, recruiter, requisition):
    application = ApplicationFactory(requisition=requisition)
    sign_in(web_client, recruiter)
    for action, data in (
        ("move", {"from_stage": "applied", "to_stage": "recruiter_screen", "version": "1"}),
        ("status", {"action": "withdraw", "version": "1"}),
    ):
        response = web_client.post(f"/pipeline/applications/{application.id}/{action}", data=data)
        assert response.status_code == 400, action
    session.refresh(application)
    assert (application.stage, application.status) == ("applied", "active")


def test_the_application_page_shows_the_loop_timeline_and_states_not_the_feedback(
    web_client, app, session, recruiter, requisition
):
    application = ApplicationFactory(requisition=requisition, stage="technical_screen")
    interviewer = with_password(session, role="interviewer", name="Ida Interviewer")
    interview = InterviewFactory(
        application=application,
        interviewer=interviewer,
        starts_at=utcnow() - timedelta(days=3),
        status="completed",
    )
    InterviewFactory(
        application=application,
        interview_key="pair_programming",
        starts_at=utcnow() - timedelta(days=2),
        status="completed",
    )
    ratings = [{"competency": "coding", "score": 3, "evidence": SECRET}]
    ratings.append({"competency": "problem_solving", "score": None, "evidence": ""})
    with app.app_context():  # submitting schedules the calibration refresh
        scorecards.submit_scorecard(
            session,
            interviewer,
            interview.id,
            {"ratings": ratings, "recommendation": "yes", "summary": SECRET},
        )
    sign_in(web_client, recruiter)
    html = web_client.get(f"/pipeline/applications/{application.id}").get_data(as_text=True)
    assert application.candidate.email in html
    assert "Ida Interviewer" in html and "Submitted" in html
    assert '<span class="badge badge-overdue">Late</span>' in html  # pair programming's
    assert "Planned, not scheduled" in html  # the onsite's interviews
    assert "No decision recorded." in html and "No packet requested." in html
    assert "PANEL-SECRET" not in html


@pytest.fixture
def crowded(session, requisition, monkeypatch):
    """Ten applications in Applied, the longest in stage first; a column of 3 cards and
    pages of 4 on the board of one stage."""
    monkeypatch.setattr(recruiter_pages, "COLUMN_CARDS", 3)
    monkeypatch.setattr(recruiter_pages, "STAGE_PAGE", 4)
    now = utcnow()
    return [
        ApplicationFactory(
            requisition=requisition, stage="applied", stage_entered_at=now - timedelta(hours=10 - i)
        )
        for i in range(10)
    ]


def cards_of(html):
    return [int(part.split('"')[0]) for part in html.split('id="application-')[1:]]


def test_a_crowded_column_shows_its_longest_waiting_cards_and_links_to_all_of_them(
    web_client, session, recruiter, requisition, crowded
):
    sign_in(web_client, recruiter)
    html = web_client.get(board_path(requisition)).get_data(as_text=True)
    assert cards_of(html) == [a.id for a in crowded[:3]]
    assert '>Applied <span class="count">(10)</span>' in html
    assert "Showing the 3 longest in stage of 10." in html
    more = html.split('class="more"')[1].split('href="')[1].split('"')[0]
    assert more == f"{board_path(requisition)}?stage=applied"

    pages = []
    for number in (1, 2, 3):
        page = web_client.get(f"{more}&page={number}").get_data(as_text=True)
        pages.append(cards_of(page))
    assert pages == [[a.id for a in crowded[s : s + 4]] for s in (0, 4, 8)]
    second = web_client.get(f"{more}&page=2").get_data(as_text=True)
    assert "5–8 of 10, longest in stage first" in second
    assert f'href="{more}&amp;page=1" rel="prev"' in second
    assert f'href="{more}&amp;page=3" rel="next"' in second
    # A page past the end is the last; one that is not a number is the first.
    assert cards_of(web_client.get(f"{more}&page=99").get_data(as_text=True)) == pages[2]
    assert cards_of(web_client.get(f"{more}&page=x").get_data(as_text=True)) == pages[0]


def test_the_card_a_move_comes_back_to_is_shown_however_far_down_its_column(
    web_client, session, recruiter, requisition, crowded
):
    newest = crowded[-1]
    sign_in(web_client, recruiter)
    html = web_client.get(board_path(requisition), query_string={"card": newest.id})
    assert cards_of(html.get_data(as_text=True)) == [a.id for a in crowded[:3]] + [newest.id]

    # A refused move re-renders the board with the card and its error.
    refused = move(web_client, newest, "offer")
    assert refused.status_code == 422
    card = refused.get_data(as_text=True).split(f'id="application-{newest.id}"')[1]
    assert 'class="field-error"' in card.split("</li>")[0]

    # A move into a crowded column (the newest there, so its last) comes back to the card.
    for application in crowded[:4]:
        assert move(web_client, application, "recruiter_screen").status_code == 302
    response = move(web_client, crowded[4], "recruiter_screen")
    location = response.headers["Location"]
    assert f"card={crowded[4].id}" in location
    page = web_client.get(location).get_data(as_text=True)
    column = page.split('id="col-recruiter_screen"')[1].split("</section>")[0]
    assert cards_of(column) == [a.id for a in crowded[:3]] + [crowded[4].id]
