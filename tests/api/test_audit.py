"""Every write leaves exactly one append-only audit event; admins and recruiters read them."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from service.persistence.audit import AuditEvent, record_event
from tests.api.conftest import auth
from tests.factories import (
    ApplicationFactory,
    CandidateFactory,
    RequisitionFactory,
    UserFactory,
)


def events_since(session, last_id) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id))
    )


def last_event_id(session) -> int:
    return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def create_requisition(session):
    manager = UserFactory(role="hiring_manager")
    body = {
        "title": "Platform Engineer",
        "hiring_manager_id": manager.id,
        "template_key": "backend_engineer",
    }
    return "post", "/api/v1/requisitions", body, None


def update_requisition(session):
    requisition = RequisitionFactory(headcount=1)
    return "patch", f"/api/v1/requisitions/{requisition.id}", {"headcount": 2}, requisition.id


def create_candidate(session):
    return "post", "/api/v1/candidates", {"name": "Ada", "email": "ada@example.org"}, None


def update_candidate(session):
    candidate = CandidateFactory(name="Ada")
    return "patch", f"/api/v1/candidates/{candidate.id}", {"name": "Ada L."}, candidate.id


def create_application(session):
    body = {"candidate_id": CandidateFactory().id, "requisition_id": RequisitionFactory().id}
    return "post", "/api/v1/applications", body, None


def on_application(suffix, body, **attributes):
    def arrange(session):
        application = ApplicationFactory(**attributes)
        return "post", f"/api/v1/applications/{application.id}/{suffix}", body, application.id

    return arrange


# (arrange, action, entity type, the change the event's before/after shows)
WRITES = [
    (create_requisition, "requisition.created", "requisition", ("headcount", None, 1)),
    (update_requisition, "requisition.updated", "requisition", ("headcount", 1, 2)),
    (create_candidate, "candidate.created", "candidate", ("email", None, "ada@example.org")),
    (update_candidate, "candidate.updated", "candidate", ("name", "Ada", "Ada L.")),
    (create_application, "application.created", "application", ("stage", None, "applied")),
    (
        on_application(
            "moves", {"from_stage": "applied", "to_stage": "recruiter_screen", "reason": "Good CV"}
        ),
        "application.moved",
        "application",
        ("stage", "applied", "recruiter_screen"),
    ),
    (
        on_application("reject", {"reason_code": "skills_gap", "note": "Not yet"}),
        "application.rejected",
        "application",
        ("status", "active", "rejected"),
    ),
    (
        on_application("withdraw", {"reason": "Took another offer"}),
        "application.withdrawn",
        "application",
        ("status", "active", "withdrawn"),
    ),
    (
        on_application("hire", {}, stage="offer"),
        "application.hired",
        "application",
        ("status", "active", "hired"),
    ),
    (
        on_application("reopen", {"reason": "Second headcount"}, status="rejected"),
        "application.reopened",
        "application",
        ("status", "rejected", "active"),
    ),
]


@pytest.mark.parametrize(
    ("arrange", "action", "entity_type", "change"), WRITES, ids=[w[1] for w in WRITES]
)
def test_every_write_leaves_exactly_one_audit_event(
    client, session, recruiter, arrange, action, entity_type, change
):
    method, path, body, entity_id = arrange(session)
    since = last_event_id(session)
    response = getattr(client, method)(path, json=body, headers=auth(recruiter))
    assert response.status_code in (200, 201), response.json
    [event] = events_since(session, since)
    assert event.action == action
    assert event.actor_id == recruiter.id
    assert (event.entity_type, event.entity_id) == (entity_type, response.json["id"])
    assert event.at is not None
    field, before, after = change
    if entity_id is None:  # a create: nothing before
        assert event.before is None
    else:
        assert event.entity_id == entity_id
        assert event.before[field] == before
    assert event.after[field] == after


def test_audit_event_carries_the_reason_of_a_move(client, session, recruiter):
    application = ApplicationFactory()
    client.post(
        f"/api/v1/applications/{application.id}/moves",
        json={
            "from_stage": "applied",
            "to_stage": "recruiter_screen",
            "reason": "Strong systems background",
        },
        headers=auth(recruiter),
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "application.moved"))
    assert event.reason == "Strong systems background"


def test_a_refused_write_leaves_no_audit_event(client, session, recruiter):
    application = ApplicationFactory(stage="applied")
    since = last_event_id(session)
    response = client.post(
        f"/api/v1/applications/{application.id}/hire", json={}, headers=auth(recruiter)
    )
    assert response.status_code == 409
    assert events_since(session, since) == []


@pytest.mark.parametrize("role", ["admin", "recruiter"])
def test_audit_list_filtered_by_entity_shows_that_entitys_events_in_order(client, session, role):
    reader = UserFactory(role=role)
    writer = UserFactory(role="recruiter")
    candidate = CandidateFactory()
    other = CandidateFactory()
    for name in ("First", "Second"):
        client.patch(
            f"/api/v1/candidates/{candidate.id}", json={"name": name}, headers=auth(writer)
        )
    client.patch(f"/api/v1/candidates/{other.id}", json={"name": "Other"}, headers=auth(writer))
    response = client.get(
        "/api/v1/audit",
        query_string={"entity_type": "candidate", "entity_id": candidate.id},
        headers=auth(reader),
    )
    assert response.status_code == 200
    items = response.json["items"]
    assert [(i["action"], i["entity_id"], i["actor_id"], i["after"]["name"]) for i in items] == [
        ("candidate.updated", candidate.id, writer.id, "First"),
        ("candidate.updated", candidate.id, writer.id, "Second"),
    ]
    assert items[1]["before"]["name"] == "First"
    assert all(i["at"] for i in items)


def test_audit_list_filters_by_entity_type(client, session, admin):
    client.post(
        "/api/v1/candidates", json={"name": "Ada", "email": "ada@example.org"}, headers=auth(admin)
    )
    requisition = RequisitionFactory()
    client.patch(
        f"/api/v1/requisitions/{requisition.id}", json={"title": "Renamed"}, headers=auth(admin)
    )
    items = client.get(
        "/api/v1/audit", query_string={"entity_type": "requisition"}, headers=auth(admin)
    ).json["items"]
    assert [(i["entity_type"], i["entity_id"]) for i in items] == [("requisition", requisition.id)]


def test_audit_list_pages_with_next_cursor(client, session, admin):
    for n in range(3):
        client.post(
            "/api/v1/candidates",
            json={"name": f"C{n}", "email": f"c{n}@example.org"},
            headers=auth(admin),
        )
    query = {"entity_type": "candidate", "limit": 2}
    first = client.get("/api/v1/audit", query_string=query, headers=auth(admin)).json
    second = client.get(
        "/api/v1/audit", query_string=query | {"cursor": first["next_cursor"]}, headers=auth(admin)
    ).json
    names = [i["after"]["name"] for i in first["items"] + second["items"]]
    assert names == ["C0", "C1", "C2"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_audit_list_is_403_for_interviewers_and_hiring_managers(client, session, role):
    user = UserFactory(role=role)
    response = client.get(
        "/api/v1/audit", query_string={"entity_type": "candidate"}, headers=auth(user)
    )
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "admin, recruiter" in response.json["detail"]


def test_audit_event_cannot_be_updated_through_the_orm(session, recruiter):
    event = record_event(
        session, recruiter.id, "candidate.created", "candidate", 1, after={"name": "Ada"}
    )
    session.flush()
    event.after = {"name": "Someone else"}
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()


def test_audit_event_cannot_be_deleted_through_the_orm(session, recruiter):
    event = record_event(session, recruiter.id, "candidate.created", "candidate", 1)
    session.flush()
    session.delete(event)
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()


# The database itself refuses, whoever writes: raw SQL bypasses the ORM's check above.


@pytest.fixture
def stored_event(session, recruiter):
    event = record_event(session, recruiter.id, "candidate.created", "candidate", 1)
    session.flush()
    return event


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET reason = 'rewritten' WHERE id = :id",
        "UPDATE audit_events SET actor_id = NULL",
        "DELETE FROM audit_events WHERE id = :id",
        "DELETE FROM audit_events",
    ],
)
def test_audit_events_cannot_be_changed_with_raw_sql(session, stored_event, statement):
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement), {"id": stored_event.id})
    assert (
        session.scalar(
            text("SELECT reason FROM audit_events WHERE id = :id"), {"id": stored_event.id}
        )
        == ""
    )


def test_audit_events_cannot_be_emptied_in_one_statement(session, stored_event):
    # PostgreSQL's TRUNCATE skips row triggers (CASCADE: audit_scrubs refers to it too);
    # SQLite's whole-table DELETE is its TRUNCATE.
    emptying = (
        "TRUNCATE audit_events CASCADE"
        if session.bind.dialect.name == "postgresql"
        else ("DELETE FROM audit_events")
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(emptying))


def test_audit_events_can_still_be_added_with_raw_sql(session, recruiter):
    session.execute(
        text(
            "INSERT INTO audit_events (actor_id, action, entity_type, entity_id, at, reason) "
            "VALUES (:actor, 'raw.insert', 'candidate', 1, CURRENT_TIMESTAMP, '')"
        ),
        {"actor": recruiter.id},
    )
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "raw.insert"))
