"""Interview loops: scheduling rules, double-booking, status changes, the loop view and the kit."""

from datetime import timedelta

import pytest

from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, UserFactory

TOMORROW = utcnow().replace(microsecond=0) + timedelta(days=1)


def schedule(client, user, application, interviewer, key="technical_screen", at=TOMORROW, **extra):
    return client.post(
        f"/api/v1/applications/{application.id}/interviews",
        json={
            "interview_key": key,
            "interviewer_id": interviewer.id,
            "starts_at": at.isoformat(),
            **extra,
        },
        headers=auth(user),
    )


def template_of(application):
    return application.requisition.template_version.template()


def test_schedule_takes_the_duration_from_the_template(client, session, recruiter, interviewer):
    application = ApplicationFactory()
    response = schedule(client, recruiter, application, interviewer)
    assert response.status_code == 201, response.json
    planned = template_of(application).interview("technical_screen")
    assert response.json["duration_minutes"] == planned.duration_minutes
    assert response.json["interviewer"]["id"] == interviewer.id
    assert response.headers["Location"].endswith(f"/api/v1/interviews/{response.json['id']}")


def test_interview_key_must_belong_to_the_pinned_template(client, session, recruiter, interviewer):
    response = schedule(
        client, recruiter, ApplicationFactory(), interviewer, key="portfolio_review"
    )
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert "technical_screen" in errors["interview_key"]


@pytest.mark.parametrize(
    "role,active", [("recruiter", True), ("admin", True), ("interviewer", False)]
)
def test_interviewer_must_be_an_active_user_who_may_interview(
    client, session, recruiter, role, active
):
    candidate_interviewer = UserFactory(role=role, active=active)
    response = schedule(client, recruiter, ApplicationFactory(), candidate_interviewer)
    assert response.status_code == 422
    assert "interviewer_id" in {e["field"] for e in response.json["errors"]}


def test_hiring_managers_may_interview(client, session, recruiter, hiring_manager):
    assert schedule(client, recruiter, ApplicationFactory(), hiring_manager).status_code == 201


def test_double_booking_is_409_naming_the_clash(client, session, recruiter, interviewer):
    first = schedule(client, recruiter, ApplicationFactory(), interviewer).json
    clash = schedule(
        client, recruiter, ApplicationFactory(), interviewer, at=TOMORROW + timedelta(minutes=30)
    )
    assert clash.status_code == 409
    assert clash.json["conflicting_interview_id"] == first["id"]


def test_back_to_back_interviews_are_not_a_clash(client, session, recruiter, interviewer):
    first = schedule(client, recruiter, ApplicationFactory(), interviewer).json
    after = TOMORROW + timedelta(minutes=first["duration_minutes"])
    assert (
        schedule(client, recruiter, ApplicationFactory(), interviewer, at=after).status_code == 201
    )


def test_a_cancelled_interview_frees_the_slot(client, session, recruiter, interviewer):
    first = schedule(client, recruiter, ApplicationFactory(), interviewer).json
    client.post(
        f"/api/v1/interviews/{first['id']}/cancel",
        json={"reason": "Candidate ill"},
        headers=auth(recruiter),
    )
    assert schedule(client, recruiter, ApplicationFactory(), interviewer).status_code == 201


def test_only_recruiters_and_admins_schedule(client, session, interviewer, hiring_manager):
    application = ApplicationFactory(requisition__hiring_manager=hiring_manager)
    assert schedule(client, hiring_manager, application, interviewer).status_code == 403


def test_adding_an_interview_twice_needs_a_reason_and_is_recorded(client, session, recruiter):
    application = ApplicationFactory()
    schedule(client, recruiter, application, UserFactory(role="interviewer"))
    second_interviewer = UserFactory(role="interviewer")
    refused = schedule(client, recruiter, application, second_interviewer)
    assert refused.status_code == 422
    assert "reason" in {e["field"] for e in refused.json["errors"]}
    added = schedule(
        client,
        recruiter,
        application,
        second_interviewer,
        reason="First interviewer lost connection halfway",
    )
    assert added.status_code == 201
    loop = client.get(f"/api/v1/applications/{application.id}/loop", headers=auth(recruiter)).json
    assert [
        (d["kind"], d["interview_key"], d["reason"], d["actor"]["id"]) for d in loop["deviations"]
    ] == [("added", "technical_screen", "First interviewer lost connection halfway", recruiter.id)]


def test_reschedule_and_reassign(client, session, recruiter, interviewer):
    interview = schedule(client, recruiter, ApplicationFactory(), interviewer).json
    other = UserFactory(role="interviewer")
    later = TOMORROW + timedelta(days=2)
    response = client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"interviewer_id": other.id, "starts_at": later.isoformat()},
        headers=auth(recruiter),
    )
    assert response.status_code == 200
    assert response.json["interviewer"]["id"] == other.id
    assert response.json["starts_at"].startswith(later.isoformat()[:19])


def test_reassigning_after_submission_is_refused(client, session, recruiter):
    interview = InterviewFactory(starts_at=utcnow() - timedelta(hours=1))
    template = template_of(interview.application)
    ratings = [
        {"competency": c, "score": 3, "evidence": "x" * 80}
        for c in template.interview("technical_screen").competencies
    ]
    client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        json={"ratings": ratings, "recommendation": "yes"},
        headers=auth(interview.interviewer),
    )
    response = client.patch(
        f"/api/v1/interviews/{interview.id}",
        json={"interviewer_id": UserFactory(role="interviewer").id},
        headers=auth(recruiter),
    )
    assert response.status_code == 409


def test_empty_patch_says_what_to_send(client, session, recruiter):
    interview = InterviewFactory()
    response = client.patch(f"/api/v1/interviews/{interview.id}", json={}, headers=auth(recruiter))
    assert response.status_code == 422
    assert "starts_at" in response.json["detail"]


def test_cancel_needs_a_reason(client, session, recruiter):
    interview = InterviewFactory()
    response = client.post(
        f"/api/v1/interviews/{interview.id}/cancel", json={}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert "reason" in {e["field"] for e in response.json["errors"]}


def test_complete_and_no_show_only_after_the_start(client, session, recruiter):
    future = InterviewFactory(starts_at=utcnow() + timedelta(hours=2))
    for action in ("complete", "no-show"):
        response = client.post(
            f"/api/v1/interviews/{future.id}/{action}", json={}, headers=auth(recruiter)
        )
        assert response.status_code == 409


def test_only_scheduled_interviews_change_status(client, session, recruiter):
    interview = InterviewFactory(starts_at=utcnow() - timedelta(hours=2))
    client.post(f"/api/v1/interviews/{interview.id}/no-show", json={}, headers=auth(recruiter))
    response = client.post(
        f"/api/v1/interviews/{interview.id}/complete", json={}, headers=auth(recruiter)
    )
    assert response.status_code == 409
    assert "no_show" in response.json["detail"]


def test_overrunning_the_time_box_is_a_recorded_deviation(client, session, recruiter):
    interview = InterviewFactory(starts_at=utcnow() - timedelta(hours=2), duration_minutes=60)
    within = InterviewFactory(
        starts_at=utcnow() - timedelta(hours=5),
        duration_minutes=60,
        application=interview.application,
        interview_key="pair_programming",
    )
    client.post(
        f"/api/v1/interviews/{within.id}/complete",
        json={"actual_minutes": 60},
        headers=auth(recruiter),
    )
    done = client.post(
        f"/api/v1/interviews/{interview.id}/complete",
        json={"actual_minutes": 95, "reason": "Candidate asked many questions"},
        headers=auth(recruiter),
    )
    assert done.json["actual_minutes"] == 95
    loop = client.get(
        f"/api/v1/applications/{interview.application_id}/loop", headers=auth(recruiter)
    ).json
    assert [(d["kind"], d["interview_id"]) for d in loop["deviations"]] == [
        ("overran", interview.id)
    ]


def test_moving_past_a_stage_with_missing_interviews_records_them_skipped(
    client, session, recruiter
):
    application = ApplicationFactory()
    template = template_of(application)
    stage_with_interviews = template.interview("technical_screen").stage
    application.stage = stage_with_interviews
    session.flush()
    next_stage = template.allowed_moves(stage_with_interviews)[0]
    client.post(
        f"/api/v1/applications/{application.id}/moves",
        json={
            "from_stage": stage_with_interviews,
            "to_stage": next_stage,
            "reason": "Strong referral",
        },
        headers=auth(recruiter),
    )
    loop = client.get(f"/api/v1/applications/{application.id}/loop", headers=auth(recruiter)).json
    skipped = [i.key for i in template.interviews if i.stage == stage_with_interviews]
    assert [(d["kind"], d["interview_key"], d["reason"]) for d in loop["deviations"]] == [
        ("skipped", key, "Strong referral") for key in skipped
    ]


def test_loop_lists_every_planned_interview_with_its_state(client, session, recruiter):
    interview = InterviewFactory(starts_at=utcnow() - timedelta(hours=2))
    loop = client.get(
        f"/api/v1/applications/{interview.application_id}/loop", headers=auth(recruiter)
    ).json
    template = template_of(interview.application)
    assert [i["key"] for i in loop["interviews"]] == [i.key for i in template.interviews]
    screen = next(i for i in loop["interviews"] if i["key"] == "technical_screen")
    assert screen["state"] == "scheduled"
    assert screen["interviews"][0]["scorecard"] == "missing"
    others = [i for i in loop["interviews"] if i["key"] != "technical_screen"]
    assert {i["state"] for i in others} == {"not_scheduled"}


def test_kit_has_questions_anchors_time_box_and_guidance(client, session):
    interview = InterviewFactory()
    response = client.get(
        f"/api/v1/interviews/{interview.id}/kit", headers=auth(interview.interviewer)
    )
    assert response.status_code == 200
    kit = response.json
    planned = template_of(interview.application).interview("technical_screen")
    assert kit["duration_minutes"] == planned.duration_minutes
    assert [q["text"] for q in kit["questions"]] == [q.text for q in planned.questions]
    assert all(q["follow_ups"] for q in kit["questions"])
    assert [c["key"] for c in kit["competencies"]] == list(planned.competencies)
    assert all(
        len(c["rubric"]) == 4 and all(level["anchor"] for level in c["rubric"])
        for c in kit["competencies"]
    )
    assert "what the candidate said or did" in kit["evidence_guidance"]


def test_kit_holds_no_other_interviewers_feedback(client, session):
    mine = InterviewFactory(starts_at=utcnow() - timedelta(hours=1))
    other = InterviewFactory(application=mine.application, starts_at=utcnow() - timedelta(hours=3))
    secret = "The candidate froze on recursion and needed three hints to finish."
    ratings = [
        {"competency": c, "score": 1, "evidence": secret}
        for c in template_of(other.application).interview("technical_screen").competencies
    ]
    client.post(
        f"/api/v1/interviews/{other.id}/scorecard/submit",
        json={"ratings": ratings, "recommendation": "strong_no", "summary": secret},
        headers=auth(other.interviewer),
    )
    kit = client.get(f"/api/v1/interviews/{mine.id}/kit", headers=auth(mine.interviewer))
    assert secret not in kit.get_data(as_text=True)


def test_kit_is_for_the_assigned_interviewer_not_other_panelists(client, session, recruiter):
    mine = InterviewFactory()
    other = InterviewFactory(application=mine.application)
    assert (
        client.get(f"/api/v1/interviews/{mine.id}/kit", headers=auth(other.interviewer)).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/interviews/{mine.id}/kit", headers=auth(recruiter)).status_code == 200
    )
    manager = mine.application.requisition.hiring_manager
    assert client.get(f"/api/v1/interviews/{mine.id}/kit", headers=auth(manager)).status_code == 200
    stranger = UserFactory(role="interviewer")
    assert (
        client.get(f"/api/v1/interviews/{mine.id}/kit", headers=auth(stranger)).status_code == 404
    )


def test_every_interview_write_is_audited(client, session, recruiter, interviewer):
    interview = schedule(client, recruiter, ApplicationFactory(), interviewer).json
    client.patch(
        f"/api/v1/interviews/{interview['id']}",
        json={"starts_at": (TOMORROW + timedelta(days=1)).isoformat()},
        headers=auth(recruiter),
    )
    client.post(
        f"/api/v1/interviews/{interview['id']}/cancel",
        json={"reason": "Role paused"},
        headers=auth(recruiter),
    )
    events = client.get(
        f"/api/v1/audit?entity_type=interview&entity_id={interview['id']}", headers=auth(recruiter)
    ).json["items"]
    assert [e["action"] for e in events] == [
        "interview.scheduled",
        "interview.updated",
        "interview.cancelled",
    ]


def test_interviewer_lists_only_their_own_slots(client, session, recruiter, interviewer):
    mine = InterviewFactory(interviewer=interviewer)
    InterviewFactory(application=mine.application)  # a co-panelist's slot
    InterviewFactory()
    listed = client.get("/api/v1/interviews", headers=auth(interviewer)).json["items"]
    assert [i["id"] for i in listed] == [mine.id]
    everything = client.get(
        f"/api/v1/interviews?application_id={mine.application_id}", headers=auth(recruiter)
    ).json["items"]
    assert len(everything) == 2
