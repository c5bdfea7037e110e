"""Scheduling from the application page through the test client: the template's
interviews and eligible interviewers, the double-booking refusal shown with the
interviewer's day, reschedule, cancel, no-show, and who may do it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory
from tests.web.conftest import post_form, sign_in, with_password


@pytest.fixture
def recruiter(session):
    return with_password(session, role="recruiter")


@pytest.fixture
def application(session, recruiter):
    return ApplicationFactory(
        requisition=RequisitionFactory(recruiter=recruiter), stage="technical_screen"
    )


def page(application):
    return f"/pipeline/applications/{application.id}"


def tomorrow_at(hour: int):
    day = utcnow().date() + timedelta(days=1)
    return utcnow().replace(
        year=day.year, month=day.month, day=day.day, hour=hour, minute=0, second=0, microsecond=0
    )


def schedule(client, application, interviewer, when, key="technical_screen"):
    return post_form(
        client,
        f"{page(application)}/interviews",
        {"interview_key": key, "interviewer_id": interviewer.id, "starts_at": when},
        page_path=page(application),
    )


def test_scheduling_takes_the_duration_from_the_template(
    web_client, session, recruiter, application
):
    interviewer = with_password(session, role="interviewer", name="Ida Interviewer")
    sign_in(web_client, recruiter)
    html = web_client.get(page(application)).get_data(as_text=True)
    assert "Technical screen (live coding) (Technical screen, 60 min)" in html
    assert "Ida Interviewer (interviewer)" in html
    response = schedule(web_client, application, interviewer, "2030-01-07T10:00")
    assert response.status_code == 302
    interview = session.query(Interview).filter_by(application_id=application.id).one()
    assert (interview.starts_at.hour, interview.duration_minutes) == (10, 60)
    assert "Scheduled: Ida Interviewer" in web_client.get(page(application)).get_data(as_text=True)


def test_a_double_booking_is_a_409_showing_the_interviewers_day_and_keeping_the_form(
    web_client, session, recruiter, application
):
    interviewer = with_password(session, role="interviewer")
    other = InterviewFactory(interviewer=interviewer, starts_at=tomorrow_at(10))
    sign_in(web_client, recruiter)
    when = tomorrow_at(10).replace(minute=30).strftime("%Y-%m-%dT%H:%M")
    response = schedule(web_client, application, interviewer, when)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert f"already has interview {other.id}" in html
    assert "other interviews that day" in html and f"(interview {other.id})" in html
    assert f'value="{when}"' in html
    assert session.query(Interview).filter_by(application_id=application.id).count() == 0


def test_a_bad_time_is_a_422_naming_the_field(web_client, session, recruiter, application):
    interviewer = with_password(session, role="interviewer")
    sign_in(web_client, recruiter)
    response = schedule(web_client, application, interviewer, "next tuesday")
    assert response.status_code == 422
    assert "starts at:" in response.get_data(as_text=True)


def test_reschedule_cancel_and_no_show(web_client, session, recruiter, application):
    interviewer = with_password(session, role="interviewer")
    later = InterviewFactory(application=application, interviewer=interviewer)
    held = InterviewFactory(
        application=application,
        interviewer=interviewer,
        interview_key="pair_programming",
        starts_at=utcnow() - timedelta(hours=3),
    )
    sign_in(web_client, recruiter)
    change = f"/pipeline/interviews/{later.id}/change"
    moved = post_form(
        web_client,
        change,
        {"action": "reschedule", "starts_at": "2030-01-08T09:00", "reason": "Asked to move"},
        page_path=page(application),
    )
    assert moved.status_code == 302
    session.refresh(later)
    assert (later.starts_at.year, later.starts_at.hour) == (2030, 9)
    refused = post_form(
        web_client, change, {"action": "cancel", "reason": ""}, page_path=page(application)
    )
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True)
    cancelled = post_form(
        web_client,
        change,
        {"action": "cancel", "reason": "Role paused"},
        page_path=page(application),
    )
    assert cancelled.status_code == 302
    no_show = post_form(
        web_client,
        f"/pipeline/interviews/{held.id}/change",
        {"action": "no_show", "reason": "Did not join"},
        page_path=page(application),
    )
    assert no_show.status_code == 302
    session.refresh(later)
    session.refresh(held)
    assert (later.status, held.status) == ("cancelled", "no_show")


def test_an_interviewer_cannot_schedule_or_change_and_a_form_needs_its_token(
    web_client, session, recruiter, application
):
    interviewer = with_password(session, role="interviewer")
    mine = InterviewFactory(application=application, interviewer=interviewer)
    sign_in(web_client, interviewer)
    assert web_client.get(page(application)).status_code == 404
    for path, data in (
        (f"{page(application)}/interviews", {"interview_key": "onsite"}),
        (f"/pipeline/interviews/{mine.id}/change", {"action": "cancel", "reason": "x"}),
    ):
        token_post = post_form(web_client, path, data, page_path="/interviews")
        assert token_post.status_code == 404, path
    session.refresh(mine)
    assert mine.status == "scheduled"
    recruiter_client = web_client.application.test_client()
    sign_in(recruiter_client, recruiter)
    bare = recruiter_client.post(
        f"/pipeline/interviews/{mine.id}/change", data={"action": "cancel"}
    )
    assert bare.status_code == 400
