"""Requisitions over HTTP: create (pinned template version), list, get, update."""

import pytest
from sqlalchemy import func, select

from service.persistence.requisitions import Requisition
from tests.api.conftest import auth
from tests.factories import (
    CandidateFactory,
    RequisitionFactory,
    UserFactory,
    template_version,
)


def fields(problem) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.get("errors", [])}


def requisition_body(manager, **overrides):
    body = {
        "title": "Staff Backend Engineer",
        "team": "Payments",
        "hiring_manager_id": manager.id,
        "template_key": "backend_engineer",
        "headcount": 2,
    }
    return {**body, **overrides}


def test_create_answers_201_with_location_and_the_requisition(
    client, session, recruiter, hiring_manager
):
    response = client.post(
        "/api/v1/requisitions", json=requisition_body(hiring_manager), headers=auth(recruiter)
    )
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/requisitions/{body['id']}")
    assert body["title"] == "Staff Backend Engineer"
    assert body["team"] == "Payments"
    assert body["headcount"] == 2
    assert body["status"] == "open"
    assert body["hiring_manager"]["id"] == hiring_manager.id
    assert session.get(Requisition, body["id"]) is not None


def test_create_pins_the_current_template_version(client, session, recruiter, hiring_manager):
    response = client.post(
        "/api/v1/requisitions", json=requisition_body(hiring_manager), headers=auth(recruiter)
    )
    current = template_version("backend_engineer")
    assert response.json["template_key"] == "backend_engineer"
    assert response.json["template_version"] == current.version
    assert session.get(Requisition, response.json["id"]).template_version_id == current.id


def test_create_with_unknown_template_key_is_422_listing_known_keys(
    client, recruiter, hiring_manager
):
    response = client.post(
        "/api/v1/requisitions",
        json=requisition_body(hiring_manager, template_key="astronaut"),
        headers=auth(recruiter),
    )
    assert response.status_code == 422
    message = fields(response.json)["template_key"]
    assert "astronaut" in message
    for known in ("backend_engineer", "engineering_manager", "product_designer"):
        assert known in message
        assert known in response.json["detail"]


@pytest.mark.parametrize(
    "manager_kind", ["interviewer", "recruiter", "inactive_hiring_manager", "missing"]
)
def test_create_with_an_unfit_hiring_manager_is_422_naming_the_field(
    client, session, recruiter, manager_kind
):
    if manager_kind == "missing":
        manager_id = 999_999
    elif manager_kind == "inactive_hiring_manager":
        manager_id = UserFactory(role="hiring_manager", active=False).id
    else:
        manager_id = UserFactory(role=manager_kind).id
    response = client.post(
        "/api/v1/requisitions",
        json={"title": "x", "hiring_manager_id": manager_id, "template_key": "backend_engineer"},
        headers=auth(recruiter),
    )
    assert response.status_code == 422
    assert "hiring_manager_id" in fields(response.json)
    assert session.scalar(select(func.count()).select_from(Requisition)) == 0


def test_create_requires_title_manager_and_template(client, recruiter):
    response = client.post("/api/v1/requisitions", json={}, headers=auth(recruiter))
    assert response.status_code == 422
    assert {"title", "hiring_manager_id", "template_key"} <= fields(response.json).keys()


def test_list_pages_through_every_requisition_with_next_cursor(client, session, recruiter):
    created = [RequisitionFactory().id for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/requisitions", query_string=query, headers=auth(recruiter)).json
        pages += 1
        assert len(page["items"]) <= 2
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert pages == 3


def test_list_filters_by_status(client, session, recruiter):
    open_one = RequisitionFactory(status="open")
    on_hold = RequisitionFactory(status="on_hold")
    RequisitionFactory(status="closed")
    response = client.get(
        "/api/v1/requisitions", query_string={"status": "on_hold"}, headers=auth(recruiter)
    )
    assert [r["id"] for r in response.json["items"]] == [on_hold.id]
    response = client.get(
        "/api/v1/requisitions", query_string={"status": "open"}, headers=auth(recruiter)
    )
    assert [r["id"] for r in response.json["items"]] == [open_one.id]


def test_list_with_unknown_status_filter_is_422(client, recruiter):
    response = client.get(
        "/api/v1/requisitions", query_string={"status": "paused"}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert "query.status" in fields(response.json)


def test_get_returns_the_requisition(client, session, recruiter):
    requisition = RequisitionFactory(title="Data Engineer", headcount=3)
    response = client.get(f"/api/v1/requisitions/{requisition.id}", headers=auth(recruiter))
    assert response.status_code == 200
    assert response.json["id"] == requisition.id
    assert response.json["title"] == "Data Engineer"
    assert response.json["headcount"] == 3
    assert response.json["template_version"] == requisition.template_version.version


def test_get_unknown_requisition_is_404_problem(client, recruiter):
    response = client.get("/api/v1/requisitions/999999", headers=auth(recruiter))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "999999" in response.json["detail"]


@pytest.mark.parametrize(
    "changes",
    [
        {"title": "Principal Engineer"},
        {"headcount": 4},
        {"status": "on_hold"},
        {"status": "closed"},
    ],
)
def test_patch_changes_the_given_field(client, session, recruiter, changes):
    requisition = RequisitionFactory()
    response = client.patch(
        f"/api/v1/requisitions/{requisition.id}", json=changes, headers=auth(recruiter)
    )
    assert response.status_code == 200
    [(name, value)] = changes.items()
    assert response.json[name] == value
    session.refresh(requisition)
    assert getattr(requisition, name) == value


def test_patch_leaves_other_fields_alone(client, session, recruiter):
    requisition = RequisitionFactory(title="Original", headcount=2)
    client.patch(
        f"/api/v1/requisitions/{requisition.id}",
        json={"status": "on_hold"},
        headers=auth(recruiter),
    )
    session.refresh(requisition)
    assert (requisition.title, requisition.headcount) == ("Original", 2)


def test_patch_with_unknown_status_is_422_listing_the_choices(client, session, recruiter):
    requisition = RequisitionFactory()
    response = client.patch(
        f"/api/v1/requisitions/{requisition.id}", json={"status": "paused"}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    message = fields(response.json)["status"]
    assert "open" in message and "on_hold" in message and "closed" in message


def test_patch_with_empty_body_is_422(client, session, recruiter):
    requisition = RequisitionFactory()
    response = client.patch(
        f"/api/v1/requisitions/{requisition.id}", json={}, headers=auth(recruiter)
    )
    assert response.status_code == 422
    assert "at least one field" in response.json["detail"]


def test_patch_with_unknown_field_is_422_listing_allowed_fields(client, session, recruiter):
    requisition = RequisitionFactory()
    response = client.patch(
        f"/api/v1/requisitions/{requisition.id}",
        json={"template_key": "product_designer"},
        headers=auth(recruiter),
    )
    assert response.status_code == 422
    message = fields(response.json)["template_key"]
    assert "Unknown field" in message
    for allowed in ("title", "team", "hiring_manager_id", "headcount", "status"):
        assert allowed in message


@pytest.mark.parametrize("headcount", [0, -1, "2", 1.5])
def test_patch_with_bad_headcount_is_422(client, session, recruiter, headcount):
    requisition = RequisitionFactory()
    response = client.patch(
        f"/api/v1/requisitions/{requisition.id}",
        json={"headcount": headcount},
        headers=auth(recruiter),
    )
    assert response.status_code == 422
    assert "headcount" in fields(response.json)


@pytest.mark.parametrize("status", ["on_hold", "closed"])
def test_no_new_applications_on_a_requisition_that_is_not_open(client, session, recruiter, status):
    requisition = RequisitionFactory(status=status)
    candidate = CandidateFactory()
    response = client.post(
        "/api/v1/applications",
        json={"candidate_id": candidate.id, "requisition_id": requisition.id},
        headers=auth(recruiter),
    )
    assert response.status_code == 409
    assert status in response.json["detail"]
    assert response.json["requisition_status"] == status


def test_requisition_put_on_hold_through_the_api_refuses_applications(client, session, recruiter):
    requisition = RequisitionFactory()
    client.patch(
        f"/api/v1/requisitions/{requisition.id}",
        json={"status": "on_hold"},
        headers=auth(recruiter),
    )
    response = client.post(
        "/api/v1/applications",
        json={"candidate_id": CandidateFactory().id, "requisition_id": requisition.id},
        headers=auth(recruiter),
    )
    assert response.status_code == 409


# --- the recruiter who runs it ---------------------------------------------------


def test_a_requisition_names_its_recruiter_and_can_be_unassigned(
    client, session, recruiter, hiring_manager
):
    body = requisition_body(hiring_manager, recruiter_id=recruiter.id)
    created = client.post("/api/v1/requisitions", json=body, headers=auth(recruiter)).json
    assert created["recruiter"] == {
        "id": recruiter.id,
        "name": recruiter.name,
        "email": recruiter.email,
    }
    url = f"/api/v1/requisitions/{created['id']}"
    patched = client.patch(url, json={"recruiter_id": None}, headers=auth(recruiter))
    assert patched.status_code == 200 and patched.json["recruiter"] is None


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_only_a_recruiter_or_admin_can_run_a_requisition(
    client, session, recruiter, hiring_manager, role
):
    other = UserFactory(role=role)
    session.flush()
    body = requisition_body(hiring_manager, recruiter_id=other.id)
    response = client.post("/api/v1/requisitions", json=body, headers=auth(recruiter))
    assert response.status_code == 422
    assert "recruiter" in fields(response.json)["recruiter_id"]
    assert session.scalar(select(func.count(Requisition.id))) == 0


def test_list_filters_by_recruiter(client, session, recruiter):
    mine = RequisitionFactory(recruiter=recruiter)
    RequisitionFactory(recruiter=UserFactory(role="recruiter"))
    RequisitionFactory()
    session.flush()
    response = client.get(
        "/api/v1/requisitions", query_string={"recruiter_id": recruiter.id}, headers=auth(recruiter)
    )
    assert [r["id"] for r in response.json["items"]] == [mine.id]


def test_patch_answers_with_the_new_hiring_manager(client, session, recruiter, hiring_manager):
    requisition = RequisitionFactory()
    session.flush()
    response = client.patch(
        f"/api/v1/requisitions/{requisition.id}",
        json={"hiring_manager_id": hiring_manager.id},
        headers=auth(recruiter),
    )
    assert response.json["hiring_manager"]["id"] == hiring_manager.id
