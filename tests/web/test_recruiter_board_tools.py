"""The recruiter's board filters (stage, needs scheduling, scorecards owed, source, search),
the Stuck page, the live booking check, and the static scripts the pages load — through
the test client, on the same use cases as the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.persistence.base import utcnow
from tests.factories import (
    ApplicationFactory,
    CandidateFactory,
    InterviewFactory,
    RequisitionFactory,
)
from tests.web.conftest import post_form, sign_in, with_password


@pytest.fixture
def recruiter(session):
    return with_password(session, role="recruiter", name="Riley Recruiter")


@pytest.fixture
def requisition(session, recruiter):
    return RequisitionFactory(recruiter=recruiter, title="Backend Engineer, Payments")


def board(client, requisition, **args):
    response = client.get(f"/pipeline/requisitions/{requisition.id}", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_board_filters_by_stage_source_and_search_as_get_parameters(
    web_client, session, recruiter, requisition
):
    ApplicationFactory(
        requisition=requisition,
        stage="applied",
        candidate=CandidateFactory(name="Ann Applied", source="agency"),
    )
    ApplicationFactory(
        requisition=requisition,
        stage="onsite",
        candidate=CandidateFactory(name="Olu Onsite", source="referral"),
    )
    sign_in(web_client, recruiter)

    html = board(web_client, requisition, stage="onsite")
    assert "Olu Onsite" in html and "Ann Applied" not in html
    assert 'id="col-applied"' not in html and 'id="col-onsite"' in html
    # The card's move form still offers every other stage.
    assert '<option value="debrief"' in html and '<option value="offer"' in html

    html = board(web_client, requisition, source="agency")
    assert "Ann Applied" in html and "Olu Onsite" not in html
    assert '<option value="agency" selected>' in html

    html = board(web_client, requisition, q="olu")
    assert "Olu Onsite" in html and "Ann Applied" not in html

    # Unknown values filter nothing rather than failing.
    html = board(web_client, requisition, stage="nope", needs="nope", source="nope")
    assert "Olu Onsite" in html and "Ann Applied" in html


def test_needs_scheduling_and_scorecards_owed_pick_the_cards_waiting_on_them(
    web_client, session, recruiter, requisition
):
    unscheduled = ApplicationFactory(
        requisition=requisition,
        stage="technical_screen",
        candidate=CandidateFactory(name="Una Unscheduled"),
    )
    scheduled = ApplicationFactory(
        requisition=requisition,
        stage="technical_screen",
        candidate=CandidateFactory(name="Sam Scheduled"),
    )
    InterviewFactory(application=scheduled, interview_key="technical_screen")
    owed = ApplicationFactory(
        requisition=requisition, stage="onsite", candidate=CandidateFactory(name="Owen Owed")
    )
    for key in ("pair_programming", "system_design", "project_deep_dive"):
        InterviewFactory(
            application=owed,
            interview_key=key,
            starts_at=utcnow() - timedelta(days=1),
            status="completed",
        )
    InterviewFactory(
        application=owed,
        interview_key="collaboration_and_ownership",
        starts_at=utcnow() + timedelta(days=1),
    )
    sign_in(web_client, recruiter)

    html = board(web_client, requisition, needs="scheduling")
    assert "Una Unscheduled" in html and "Sam Scheduled" not in html
    assert "To schedule: Technical screen (live coding)" in html
    assert "Owen Owed" not in html  # the whole onsite loop is on the calendar

    html = board(web_client, requisition, needs="scorecards")
    assert "Owen Owed" in html and "3 scorecards owed" in html
    assert "Una Unscheduled" not in html and "Sam Scheduled" not in html
    assert unscheduled.id and scheduled.id


def test_a_move_from_a_filtered_board_comes_back_to_the_same_filters(
    web_client, session, recruiter, requisition
):
    from tests.web.conftest import post_form

    application = ApplicationFactory(
        requisition=requisition, candidate=CandidateFactory(name="Fay Filter", source="agency")
    )
    sign_in(web_client, recruiter)
    path = f"/pipeline/requisitions/{requisition.id}?stage=applied&source=agency"
    html = web_client.get(path).get_data(as_text=True)
    assert '<input type="hidden" name="stage" value="applied">' in html
    response = post_form(
        web_client,
        f"/pipeline/applications/{application.id}/move",
        {
            "from_stage": "applied",
            "to_stage": "recruiter_screen",
            "reason": "Strong CV",
            "version": application.version,
            "stage": "applied",
            "source": "agency",
            "board_status": "active",
        },
        page_path=path,
    )
    assert response.status_code == 302
    assert "stage=applied" in response.location and "source=agency" in response.location


def test_the_board_carries_what_drag_and_drop_needs_and_loads_its_script(
    web_client, session, recruiter, requisition
):
    application = ApplicationFactory(requisition=requisition, stage="debrief")
    sign_in(web_client, recruiter)
    html = board(web_client, requisition)
    assert f'id="application-{application.id}"' in html
    assert 'data-allowed="offer onsite"' in html
    assert 'data-allowed-names="Offer, Onsite loop"' in html
    assert 'src="/assets/board.js"' in html
    assert "<script>" not in html  # nothing inline: the CSP forbids it
    with web_client.get("/assets/board.js") as script:
        assert script.status_code == 200 and "requestSubmit" in script.get_data(as_text=True)
    # A closed board has nothing to drag.
    assert "board.js" not in board(web_client, requisition, status="rejected")


def test_stuck_lists_the_recruiters_applications_past_target_with_the_next_steps_owner(
    web_client, session, recruiter, requisition
):
    long_ago = utcnow() - timedelta(days=20)
    waiting = ApplicationFactory(
        requisition=requisition,
        stage="technical_screen",
        stage_entered_at=long_ago,
        candidate=CandidateFactory(name="Tess Waiting"),
    )
    ApplicationFactory(
        requisition=requisition, stage="applied", candidate=CandidateFactory(name="Fresh Face")
    )
    other_recruiter = with_password(session, role="recruiter")
    ApplicationFactory(
        requisition=RequisitionFactory(recruiter=other_recruiter, title="Someone else's"),
        stage="applied",
        stage_entered_at=long_ago,
        candidate=CandidateFactory(name="Theo Theirs"),
    )
    sign_in(web_client, recruiter)

    html = web_client.get("/pipeline").get_data(as_text=True)
    assert 'href="/pipeline/stuck"' in html  # in the navigation

    response = web_client.get("/pipeline/stuck")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tess Waiting" in html and "Fresh Face" not in html
    assert "Theo Theirs" not in html  # another recruiter's requisition
    assert "Schedule: technical_screen" in html and "Riley Recruiter" in html
    assert f'href="/pipeline/applications/{waiting.id}"' in html
    assert "20.0 days</span> target 7, 13.0 over" in html

    html = web_client.get("/pipeline/stuck?show=all").get_data(as_text=True)
    assert "Tess Waiting" in html and "Theo Theirs" in html


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_the_new_pages_are_a_404_for_those_who_do_not_run_the_pipeline(
    web_client, session, requisition, role
):
    application = ApplicationFactory(
        requisition=requisition, stage_entered_at=utcnow() - timedelta(days=20)
    )
    sign_in(web_client, with_password(session, role=role))
    for path in (
        "/pipeline/stuck",
        f"/pipeline/requisitions/{requisition.id}?stage=applied&needs=scheduling",
        f"/pipeline/applications/{application.id}/booking-check"
        "?interview_key=technical_screen&interviewer_id=1&starts_at=2030-01-07T10:00",
    ):
        response = web_client.get(path)
        assert response.status_code == 404, path
        assert application.candidate.name not in response.get_data(as_text=True)
    assert "Stuck" not in web_client.get("/interviews").get_data(as_text=True)


def check(client, application, **args):
    return client.get(
        f"/pipeline/applications/{application.id}/booking-check",
        query_string={"interview_key": "technical_screen", **args},
        headers={"Accept": "application/json"},
    )


def test_the_booking_check_answers_with_the_conflict_rule_of_the_save(
    web_client, session, recruiter, requisition
):
    application = ApplicationFactory(requisition=requisition, stage="technical_screen")
    interviewer = with_password(session, role="interviewer")
    at_ten = utcnow().replace(year=2030, month=1, day=7, hour=10, minute=0, second=0, microsecond=0)
    booked = InterviewFactory(interviewer=interviewer, starts_at=at_ten)
    sign_in(web_client, recruiter)

    response = check(
        web_client, application, interviewer_id=interviewer.id, starts_at="2030-01-07T10:30"
    )
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["free"] is False
    assert f"already has interview {booked.id}" in answer["detail"]
    assert answer["conflicting_interview_id"] == booked.id
    assert answer["message"] == (
        f"The interviewer already has interview {booked.id}, Mon 7 Jan 2030, 10:00 UTC to "
        "11:00 UTC, which overlaps 10:30 to 11:30 UTC."
    )
    assert [o["id"] for o in answer["same_day"]] == [booked.id]
    assert answer["same_day"][0]["when"] == "10:00 to 11:00 UTC"

    # The template's 60 minutes end exactly when the other one starts: free.
    answer = check(
        web_client, application, interviewer_id=interviewer.id, starts_at="2030-01-07T09:00"
    ).get_json()
    assert answer["free"] is True and answer["ends_at"].startswith("2030-01-07T10:00")

    # Moving the booked interview itself to half an hour later is no conflict with itself.
    answer = check(
        web_client,
        booked.application,
        interviewer_id=interviewer.id,
        starts_at="2030-01-07T10:30",
        interview_id=booked.id,
    ).get_json()
    assert answer["free"] is True and answer["same_day"] == []


def test_the_booking_check_names_the_bad_field(web_client, session, recruiter, requisition):
    application = ApplicationFactory(requisition=requisition)
    interviewer = with_password(session, role="interviewer")
    sign_in(web_client, recruiter)
    for args, field in (
        ({"interviewer_id": interviewer.id, "starts_at": "tomorrow"}, "starts_at"),
        ({"interviewer_id": "kim", "starts_at": "2030-01-07T10:00"}, "interviewer_id"),
        ({"interviewer_id": recruiter.id, "starts_at": "2030-01-07T10:00"}, "interviewer_id"),
        (
            {
                "interviewer_id": interviewer.id,
                "starts_at": "2030-01-07T10:00",
                "interview_key": "x",
            },
            "interview_key",
        ),
    ):
        response = check(web_client, application, **args)
        assert response.status_code == 422, args
        assert response.mimetype == "application/problem+json"
        assert field in response.get_json()["errors"], args
    # An interview of another application is not one to move here.
    other = InterviewFactory()
    response = check(
        web_client,
        application,
        interviewer_id=interviewer.id,
        starts_at="2030-01-07T10:00",
        interview_id=other.id,
    )
    assert response.status_code == 404


def test_the_pipeline_home_lists_open_requisitions_fifty_a_page(web_client, session, recruiter):
    for number in range(51):
        RequisitionFactory(recruiter=recruiter, title=f"Requisition {number:02d}")
    sign_in(web_client, recruiter)
    html = web_client.get("/pipeline").get_data(as_text=True)
    assert 'Open requisitions <span class="count">(51)</span>' in html
    assert "Requisition 49" in html and "Requisition 50" not in html
    assert "Page 1 of 2" in html and 'href="/pipeline?page=2"' in html
    html = web_client.get("/pipeline?page=2").get_data(as_text=True)
    assert "Requisition 50" in html and "Requisition 49" not in html
    # A page past the last is the last; a word is the first.
    assert "Requisition 50" in web_client.get("/pipeline?page=9").get_data(as_text=True)
    assert "Requisition 00" in web_client.get("/pipeline?page=x").get_data(as_text=True)


@pytest.mark.parametrize("value", ["²", "٣", "9" * 30, "-1", "x"])
def test_a_page_or_number_that_is_not_plain_digits_is_never_a_500(
    web_client, session, requisition, value
):
    """`str.isdigit` also accepts '²' (which int() refuses) and other scripts' digits:
    each page number and id of a query is read as ASCII digits only, else as none."""
    application = ApplicationFactory(requisition=requisition, stage="applied")
    sign_in(web_client, with_password(session, role="admin"))
    for path in (
        f"/pipeline?page={value}",
        f"/pipeline/requisitions/{requisition.id}?stage=applied&page={value}",
    ):
        assert web_client.get(path).status_code == 200, path
    for path in (
        f"/admin/calibration?page={value}&others_page={value}",
        f"/admin/adverse-impact?requisition_id={value}",
        f"/admin/funnel?requisition_id={value}",
        f"/admin/templates/backend_engineer/changes?from={value}",
        f"/pipeline/applications/{application.id}/booking-check?interview_id={value}",
        f"/pipeline/applications/{application.id}/booking-check?interview_key=onsite_coding"
        f"&interviewer_id={value}&starts_at=2026-12-02T10:00",
    ):
        assert web_client.get(path).status_code in (200, 404, 422), path
    read = post_form(web_client, "/notifications/read", {"id": value}, page_path="/notifications")
    assert read.status_code in (200, 302), read.status_code
