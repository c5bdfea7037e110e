"""Applications over HTTP: create, list, get, stage moves, status changes, timeline."""

from datetime import UTC, datetime, timedelta, timezone
from unittest import mock

import pytest
from flask import g
from sqlalchemy import select

from service.domain import pipeline
from service.persistence.applications import Application, StageChange
from service.persistence.base import utcnow
from service.persistence.reports import ENTRY_KINDS
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, CandidateFactory, RequisitionFactory

BACKEND_STAGES = ["applied", "recruiter_screen", "technical_screen", "onsite", "debrief", "offer"]


def fields(problem) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.get("errors", [])}


def apply(client, user, candidate, requisition):
    return client.post(
        "/api/v1/applications",
        json={"candidate_id": candidate.id, "requisition_id": requisition.id},
        headers=auth(user),
    )


def move(client, user, application_id, from_stage, to_stage, reason="", headers=None):
    return client.post(
        f"/api/v1/applications/{application_id}/moves",
        json={"from_stage": from_stage, "to_stage": to_stage, "reason": reason},
        headers=auth(user) | (headers or {}),
    )


def action(client, user, application_id, name, body=None, headers=None):
    return client.post(
        f"/api/v1/applications/{application_id}/{name}",
        json=body or {},
        headers=auth(user) | (headers or {}),
    )


def timeline(session, application_id) -> list[StageChange]:
    return list(
        session.scalars(
            select(StageChange)
            .where(StageChange.application_id == application_id)
            .order_by(StageChange.id)
        )
    )


def listed_ids(client, user, **query) -> list[int]:
    response = client.get("/api/v1/applications", query_string=query, headers=auth(user))
    assert response.status_code == 200, response.json
    return [a["id"] for a in response.json["items"]]


# --- create -----------------------------------------------------------------


def test_create_starts_in_the_templates_first_stage(client, session, recruiter):
    requisition = RequisitionFactory()
    response = apply(client, recruiter, CandidateFactory(), requisition)
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/applications/{response.json['id']}")
    assert response.json["stage"] == requisition.template_version.template().first_stage.key
    assert response.json["status"] == "active"
    assert response.json["version"] == 1
    assert response.headers["ETag"] == '"1"'


def test_create_adds_an_applied_timeline_entry(client, session, recruiter):
    response = apply(client, recruiter, CandidateFactory(), RequisitionFactory())
    [entry] = timeline(session, response.json["id"])
    assert (entry.kind, entry.to_stage, entry.to_status, entry.actor_id) == (
        "applied",
        "applied",
        "active",
        recruiter.id,
    )


def test_second_active_application_for_the_same_pair_is_409_naming_the_first(
    client, session, recruiter
):
    first = ApplicationFactory()
    response = apply(client, recruiter, first.candidate, first.requisition)
    assert response.status_code == 409
    assert response.json["existing_application_id"] == first.id
    assert f"application {first.id}" in response.json["detail"]
    assert session.scalars(select(Application.id)).all() == [first.id]


@pytest.mark.parametrize("status", ["rejected", "withdrawn"])
def test_new_application_is_allowed_once_the_first_is_closed(client, session, recruiter, status):
    first = ApplicationFactory(status=status)
    response = apply(client, recruiter, first.candidate, first.requisition)
    assert response.status_code == 201
    assert response.json["id"] != first.id


@pytest.mark.parametrize("missing", ["candidate_id", "requisition_id"])
def test_create_for_an_unknown_candidate_or_requisition_is_404(client, session, recruiter, missing):
    body = {"candidate_id": CandidateFactory().id, "requisition_id": RequisitionFactory().id}
    body[missing] = 999_999
    response = client.post("/api/v1/applications", json=body, headers=auth(recruiter))
    assert response.status_code == 404
    assert "999999" in response.json["detail"]


# --- list -------------------------------------------------------------------


def test_list_filters_by_requisition(client, session, recruiter):
    wanted = ApplicationFactory()
    ApplicationFactory()
    assert listed_ids(client, recruiter, requisition_id=wanted.requisition_id) == [wanted.id]


def test_list_filters_by_stage(client, session, recruiter):
    wanted = ApplicationFactory(stage="onsite")
    ApplicationFactory(stage="applied")
    assert listed_ids(client, recruiter, stage="onsite") == [wanted.id]


def test_list_filters_by_status(client, session, recruiter):
    wanted = ApplicationFactory(status="rejected")
    ApplicationFactory(status="active")
    assert listed_ids(client, recruiter, status="rejected") == [wanted.id]


def test_list_with_unknown_status_filter_is_422(client, recruiter):
    response = client.get(
        "/api/v1/applications", query_string={"status": "pending"}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert "query.status" in fields(response.json)


@pytest.mark.parametrize(
    "updated_after",
    [
        "2030-01-01T09:00:00",  # naive: read as UTC
        "2030-01-01T09:00:00+00:00",
        "2030-01-01T11:00:00+02:00",  # the same instant with an offset
        "2030-01-01T04:00:00-05:00",
    ],
)
def test_list_filters_by_updated_after(client, session, recruiter, updated_after):
    cutoff = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    ApplicationFactory(updated_at=cutoff - timedelta(minutes=1))
    ApplicationFactory(updated_at=cutoff)
    later = ApplicationFactory(updated_at=cutoff + timedelta(minutes=1))
    assert listed_ids(client, recruiter, updated_after=updated_after) == [later.id]


def test_list_with_unparseable_updated_after_is_422(client, recruiter):
    response = client.get(
        "/api/v1/applications", query_string={"updated_after": "yesterday"}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert "query.updated_after" in fields(response.json)


def test_cursor_pagination_walks_every_page_without_duplicates(client, session, recruiter):
    created = [ApplicationFactory().id for _ in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/applications", query_string=query, headers=auth(recruiter)).json
        pages += 1
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert pages == 3


@pytest.mark.parametrize("limit", [201, 0, -1])
def test_page_size_outside_the_cap_is_422_naming_query_limit(client, recruiter, limit):
    response = client.get(
        "/api/v1/applications", query_string={"limit": limit}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert "query.limit" in fields(response.json)


def test_page_size_at_the_cap_is_accepted(client, recruiter):
    response = client.get(
        "/api/v1/applications", query_string={"limit": 200}, headers=auth(recruiter)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "cursor",
    ["garbage!", "not-base64", "aWQ6eA", "Zm9vOjE", "aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"],
    ids=["punctuation", "undecodable", "id-not-a-number", "wrong-prefix", "id-too-large"],
)
def test_garbage_cursor_is_422_naming_the_cursor(client, session, recruiter, cursor):
    ApplicationFactory()
    response = client.get(
        "/api/v1/applications", query_string={"cursor": cursor}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert "query.cursor" in fields(response.json)
    assert "next_cursor" in response.json["detail"]


# --- get --------------------------------------------------------------------


def test_get_shows_stage_version_and_etag(client, session, recruiter):
    application = ApplicationFactory(stage="technical_screen")
    response = client.get(f"/api/v1/applications/{application.id}", headers=auth(recruiter))
    assert response.status_code == 200
    assert response.json["stage"] == "technical_screen"
    assert response.json["stage_name"] == "Technical screen"
    assert response.json["version"] == application.version == 1
    assert response.headers["ETag"] == '"1"'
    assert response.json["allowed_moves"] == ["onsite"]


def test_get_shows_time_in_stage_against_the_templates_target(client, session, recruiter):
    application = ApplicationFactory(stage="applied", stage_entered_at=utcnow() - timedelta(days=5))
    target = application.requisition.template_version.template().stage("applied").sla_days
    time_in_stage = client.get(
        f"/api/v1/applications/{application.id}", headers=auth(recruiter)
    ).json["time_in_stage"]
    assert time_in_stage["target_days"] == target == 3
    assert time_in_stage["days"] == pytest.approx(5, abs=0.01)
    assert time_in_stage["over_target"] is True


def test_get_time_in_stage_within_target_is_not_over(client, session, recruiter):
    application = ApplicationFactory(stage="onsite", stage_entered_at=utcnow() - timedelta(days=2))
    time_in_stage = client.get(
        f"/api/v1/applications/{application.id}", headers=auth(recruiter)
    ).json["time_in_stage"]
    assert (time_in_stage["target_days"], time_in_stage["over_target"]) == (10, False)


# --- moves ------------------------------------------------------------------


def test_allowed_move_answers_200_with_the_new_stage_version_and_etag(client, session, recruiter):
    application = ApplicationFactory()
    response = move(
        client,
        recruiter,
        application.id,
        "applied",
        "recruiter_screen",
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.json["stage"] == "recruiter_screen"
    assert response.json["version"] == 2
    assert response.headers["ETag"] == '"2"'
    session.refresh(application)
    assert (application.stage, application.version) == ("recruiter_screen", 2)


def test_move_without_if_match_relies_on_from_stage(client, session, recruiter):
    application = ApplicationFactory()
    response = move(client, recruiter, application.id, "applied", "recruiter_screen")
    assert response.status_code == 200


@pytest.mark.parametrize("if_match", ['W/"1"', "1"])
def test_move_accepts_weak_and_unquoted_if_match(client, session, recruiter, if_match):
    application = ApplicationFactory()
    response = move(
        client,
        recruiter,
        application.id,
        "applied",
        "recruiter_screen",
        headers={"If-Match": if_match},
    )
    assert response.status_code == 200


def test_move_resets_time_in_stage(client, session, recruiter):
    application = ApplicationFactory(stage_entered_at=utcnow() - timedelta(days=9))
    response = move(client, recruiter, application.id, "applied", "recruiter_screen")
    assert response.json["time_in_stage"]["days"] == pytest.approx(0, abs=0.01)


def test_stale_from_stage_is_409_saying_the_current_stage(client, session, recruiter):
    application = ApplicationFactory(stage="onsite")
    response = move(client, recruiter, application.id, "applied", "recruiter_screen")
    assert response.status_code == 409
    assert response.json["current_stage"] == "onsite"
    assert "'onsite'" in response.json["detail"]
    assert "from_stage" in fields(response.json)
    session.refresh(application)
    assert (application.stage, application.version) == ("onsite", 1)


def test_stale_if_match_is_409_saying_the_current_stage_and_version(client, session, recruiter):
    application = ApplicationFactory()
    move(client, recruiter, application.id, "applied", "recruiter_screen")
    response = move(
        client,
        recruiter,
        application.id,
        "recruiter_screen",
        "technical_screen",
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 409
    assert response.json["current_version"] == 2
    assert response.json["current_stage"] == "recruiter_screen"
    session.refresh(application)
    assert application.stage == "recruiter_screen"


@pytest.mark.parametrize("if_match", ["abc", '"v1"', "*", ""])
def test_malformed_if_match_is_400_naming_the_header(client, session, recruiter, if_match):
    application = ApplicationFactory()
    response = move(
        client,
        recruiter,
        application.id,
        "applied",
        "recruiter_screen",
        headers={"If-Match": if_match},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "header.If-Match" in fields(response.json)
    session.refresh(application)
    assert application.stage == "applied"


def test_move_the_template_does_not_allow_is_422_listing_allowed_stages(client, session, recruiter):
    application = ApplicationFactory(stage="debrief")
    response = move(client, recruiter, application.id, "debrief", "applied")
    assert response.status_code == 422
    assert response.json["allowed_stages"] == ["offer", "onsite"]
    assert "'offer'" in response.json["detail"] and "'onsite'" in response.json["detail"]
    assert "to_stage" in fields(response.json)


def test_move_to_a_stage_the_template_lacks_is_422(client, session, recruiter):
    application = ApplicationFactory()
    response = move(client, recruiter, application.id, "applied", "moon_landing")
    assert response.status_code == 422
    assert response.json["allowed_stages"] == ["recruiter_screen"]


def test_move_from_the_final_stage_says_there_is_no_next_stage(client, session, recruiter):
    application = ApplicationFactory(stage="offer")
    response = move(client, recruiter, application.id, "offer", "debrief")
    assert response.status_code == 422
    assert response.json["allowed_stages"] == []
    assert "final stage" in response.json["detail"]


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "hired"])
def test_only_active_applications_move(client, session, recruiter, status):
    application = ApplicationFactory(status=status)
    response = move(client, recruiter, application.id, "applied", "recruiter_screen")
    assert response.status_code == 409
    assert status in response.json["detail"]
    assert response.json["application_status"] == status


def test_move_needs_from_and_to_stage(client, session, recruiter):
    application = ApplicationFactory()
    response = client.post(
        f"/api/v1/applications/{application.id}/moves", json={}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert {"from_stage", "to_stage"} <= fields(response.json).keys()


def test_move_of_an_unknown_application_is_404(client, recruiter):
    response = move(client, recruiter, 999_999, "applied", "recruiter_screen")
    assert response.status_code == 404


def test_repeating_a_move_with_the_same_if_match_and_from_stage_writes_it_once(
    client, session, recruiter
):
    application_id = apply(client, recruiter, CandidateFactory(), RequisitionFactory()).json["id"]
    headers = {"If-Match": '"1"'}
    first = move(client, recruiter, application_id, "applied", "recruiter_screen", headers=headers)
    second = move(client, recruiter, application_id, "applied", "recruiter_screen", headers=headers)
    assert (first.status_code, second.status_code) == (200, 409)
    assert [c.kind for c in timeline(session, application_id)] == ["applied", "moved"]
    application = session.get(Application, application_id)
    assert (application.stage, application.version) == ("recruiter_screen", 2)


def test_move_that_loses_a_race_is_409_and_writes_nothing(client, session, recruiter):
    """Both requests load version 1; the other one commits first, between our
    load and our write, so our versioned UPDATE matches no row."""
    application = ApplicationFactory()
    real_check_move = pipeline.check_move
    raced = {}

    def check_move_then_lose_the_race(*args, **kwargs):
        real_check_move(*args, **kwargs)
        if raced:
            return
        raced["started"] = True
        # The nested request shares our app context; give it its own session,
        # as a concurrent request would have.
        ours = g.pop("db_session")
        try:
            raced["response"] = move(
                client,
                recruiter,
                application.id,
                "applied",
                "recruiter_screen",
                reason="the winner",
            )
        finally:
            g.pop("db_session").close()
            g.db_session = ours
        raced["timeline"] = [(c.kind, c.reason) for c in timeline(session, application.id)]

    with mock.patch.object(pipeline, "check_move", check_move_then_lose_the_race):
        response = move(
            client,
            recruiter,
            application.id,
            "applied",
            "recruiter_screen",
            reason="the loser",
            headers={"If-Match": '"1"'},
        )
    assert raced["response"].status_code == 200
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "changed by another request" in response.json["detail"]
    # Seen right after the winner committed: its move alone, none of the loser's.
    assert raced["timeline"] == [("moved", "the winner")]


# --- status changes ----------------------------------------------------------


def test_reject_records_the_reason_code_and_note(client, session, recruiter):
    application = ApplicationFactory()
    response = action(
        client,
        recruiter,
        application.id,
        "reject",
        {"reason_code": "skills_gap", "note": "No distributed-systems depth yet."},
    )
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert response.json["rejection_reason"] == "skills_gap"
    assert response.json["rejection_note"] == "No distributed-systems depth yet."
    assert response.json["allowed_moves"] == []


def test_reject_with_unknown_reason_code_is_422_listing_the_codes(client, session, recruiter):
    application = ApplicationFactory()
    response = action(client, recruiter, application.id, "reject", {"reason_code": "vibes"})
    assert response.status_code == 422
    message = fields(response.json)["reason_code"]
    for code in pipeline.REJECTION_REASONS:
        assert code in message
    session.refresh(application)
    assert application.status == "active"


def test_reject_needs_a_reason_code(client, session, recruiter):
    application = ApplicationFactory()
    response = action(client, recruiter, application.id, "reject", {"note": "no"})
    assert response.status_code == 422
    assert "reason_code" in fields(response.json)


def test_withdraw_marks_the_application_withdrawn(client, session, recruiter):
    application = ApplicationFactory(stage="onsite")
    response = action(
        client, recruiter, application.id, "withdraw", {"reason": "Accepted another offer"}
    )
    assert response.status_code == 200
    assert (response.json["status"], response.json["stage"]) == ("withdrawn", "onsite")


def test_hire_from_the_final_stage_marks_hired(client, session, recruiter):
    application = ApplicationFactory(stage="offer")
    response = action(client, recruiter, application.id, "hire")
    assert response.status_code == 200
    assert response.json["status"] == "hired"


def test_hire_before_the_final_stage_is_409_naming_it(client, session, recruiter):
    application = ApplicationFactory(stage="debrief")
    response = action(client, recruiter, application.id, "hire")
    assert response.status_code == 409
    assert "'offer'" in response.json["detail"]
    assert response.json["current_stage"] == "debrief"
    session.refresh(application)
    assert application.status == "active"


@pytest.mark.parametrize(
    ("name", "status", "body"),
    [
        ("reject", "withdrawn", {"reason_code": "other"}),
        ("reject", "hired", {"reason_code": "other"}),
        ("withdraw", "rejected", {}),
        ("hire", "withdrawn", {}),
    ],
)
def test_status_change_from_a_closed_status_is_409_saying_why(
    client, session, recruiter, name, status, body
):
    application = ApplicationFactory(stage="offer", status=status)
    response = action(client, recruiter, application.id, name, body)
    assert response.status_code == 409
    assert response.json["application_status"] == status
    assert f"Cannot {name} an application that is {status}" in response.json["detail"]
    assert "only active applications" in response.json["detail"]
    session.refresh(application)
    assert application.status == status


def test_reopen_a_rejected_application_makes_it_active_again(client, session, recruiter):
    application = ApplicationFactory(
        status="rejected", rejection_reason="other", rejection_note="Wrong team"
    )
    response = action(client, recruiter, application.id, "reopen", {"reason": "Team changed"})
    assert response.status_code == 200
    assert response.json["status"] == "active"
    assert response.json["rejection_reason"] is None
    assert response.json["rejection_note"] is None


@pytest.mark.parametrize("status", ["active", "withdrawn", "hired"])
def test_reopen_anything_but_rejected_is_409_saying_why(client, session, recruiter, status):
    application = ApplicationFactory(status=status)
    response = action(client, recruiter, application.id, "reopen")
    assert response.status_code == 409
    assert f"Cannot reopen an application that is {status}" in response.json["detail"]
    assert "only rejected applications" in response.json["detail"]
    assert response.json["application_status"] == status


def test_reopen_when_another_application_is_active_is_409_naming_it(client, session, recruiter):
    rejected = ApplicationFactory(status="rejected")
    newer = ApplicationFactory(candidate=rejected.candidate, requisition=rejected.requisition)
    response = action(client, recruiter, rejected.id, "reopen")
    assert response.status_code == 409
    assert response.json["existing_application_id"] == newer.id


def test_status_change_with_stale_if_match_is_409(client, session, recruiter):
    application = ApplicationFactory()
    action(client, recruiter, application.id, "reject", {"reason_code": "other"})
    response = action(client, recruiter, application.id, "reopen", headers={"If-Match": '"1"'})
    assert response.status_code == 409
    assert response.json["current_version"] == 2
    session.refresh(application)
    assert application.status == "rejected"


# --- timeline -----------------------------------------------------------------


def test_timeline_lists_every_change_with_actor_reason_and_time_in_order(
    client, session, recruiter, admin
):
    application_id = apply(client, recruiter, CandidateFactory(), RequisitionFactory()).json["id"]
    move(client, recruiter, application_id, "applied", "recruiter_screen", reason="Strong CV")
    action(
        client,
        admin,
        application_id,
        "reject",
        {"reason_code": "position_filled", "note": "Role filled"},
    )
    action(client, admin, application_id, "reopen", {"reason": "Second headcount approved"})
    response = client.get(
        f"/api/v1/applications/{application_id}/timeline", headers=auth(recruiter)
    )
    assert response.status_code == 200
    items = response.json["items"]
    assert [
        (
            i["kind"],
            i["from_stage"],
            i["to_stage"],
            i["from_status"],
            i["to_status"],
            i["actor"]["id"],
            i["reason"],
        )
        for i in items
    ] == [
        ("applied", None, "applied", None, "active", recruiter.id, ""),
        ("moved", "applied", "recruiter_screen", "active", "active", recruiter.id, "Strong CV"),
        (
            "rejected",
            "recruiter_screen",
            "recruiter_screen",
            "active",
            "rejected",
            admin.id,
            "Role filled",
        ),
        (
            "reopened",
            "recruiter_screen",
            "recruiter_screen",
            "rejected",
            "active",
            admin.id,
            "Second headcount approved",
        ),
    ]
    times = [datetime.fromisoformat(i["at"]) for i in items]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times)
    assert items[0]["actor"]["role"] == "recruiter"


def test_timeline_of_an_unknown_application_is_404(client, recruiter):
    response = client.get("/api/v1/applications/999999/timeline", headers=auth(recruiter))
    assert response.status_code == 404


def test_updated_after_with_an_offset_compares_instants(client, session, recruiter):
    """An offset is not ignored: 10:30+02:00 is 08:30 UTC, before the update at 09:00 UTC."""
    updated = ApplicationFactory(updated_at=datetime(2030, 1, 1, 9, 0, tzinfo=UTC))
    east = datetime(2030, 1, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))).isoformat()
    assert listed_ids(client, recruiter, updated_after=east) == [updated.id]


def stored_entered_stages(session, application_id) -> str:
    """The column as stored (not the session's copy of the object)."""
    session.expire_all()
    return session.scalar(
        select(Application.entered_stages).where(Application.id == application_id)
    )


def entered_per_timeline(session, application_id) -> str:
    return pipeline.joined_stages(
        c.to_stage for c in timeline(session, application_id) if c.kind in ENTRY_KINDS
    )


def test_the_stages_entered_are_kept_on_the_application_as_its_timeline_has_them(
    client, session, recruiter
):
    """The reports count entries from `entered_stages`: after applying and every move and
    status change (a move back included) it says what the timeline's entries say."""
    requisition = RequisitionFactory()
    application_id = apply(client, recruiter, CandidateFactory(), requisition).json["id"]
    assert stored_entered_stages(session, application_id) == "applied"
    steps = [
        ("move", "applied", "recruiter_screen"),
        ("reject", {"reason_code": "skills_gap"}),
        ("reopen", {"reason": "Second look"}),
        ("move", "recruiter_screen", "technical_screen"),
        ("move", "technical_screen", "onsite"),
        ("move", "onsite", "debrief"),
        ("move", "debrief", "onsite"),  # back: onsite entered twice, kept once
        ("move", "onsite", "debrief"),
        ("move", "debrief", "offer"),
        ("hire", {}),
    ]
    for step in steps:
        if step[0] == "move":
            response = move(client, recruiter, application_id, step[1], step[2])
        else:
            response = action(client, recruiter, application_id, step[0], step[1])
        assert response.status_code == 200, (step, response.json)
        assert stored_entered_stages(session, application_id) == entered_per_timeline(
            session, application_id
        ), step
    assert stored_entered_stages(session, application_id) == ",".join(sorted(BACKEND_STAGES))
    withdrawn_id = apply(client, recruiter, CandidateFactory(), requisition).json["id"]
    move(client, recruiter, withdrawn_id, "applied", "recruiter_screen")
    withdrawn = action(client, recruiter, withdrawn_id, "withdraw", {"reason": "took a job"})
    assert withdrawn.status_code == 200
    assert stored_entered_stages(session, withdrawn_id) == "applied,recruiter_screen"
    assert entered_per_timeline(session, withdrawn_id) == "applied,recruiter_screen"
