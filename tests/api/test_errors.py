"""Bad input is a 4xx `application/problem+json` a person can act on, never a 500,
and never leaves a half-written record."""

import pytest
from sqlalchemy import func, select

from service.persistence.audit import AuditEvent
from service.persistence.candidates import Candidate
from service.persistence.requisitions import Requisition
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, UserFactory

PROBLEM_MEMBERS = {"type", "title", "status", "detail"}
CANDIDATE_FIELDS = ("email", "links", "name", "phone", "resume_text", "source")


def fields(problem) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.get("errors", [])}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json.keys() >= PROBLEM_MEMBERS
    assert response.json["status"] == status
    assert response.json["detail"]


def test_malformed_json_is_400_problem(client, recruiter):
    response = client.post(
        "/api/v1/candidates",
        data='{"name": "Ada", ',
        content_type="application/json",
        headers=auth(recruiter),
    )
    assert_problem(response, 400)
    assert "Invalid JSON" in response.json["detail"]


def test_body_that_is_not_utf8_is_400_problem(client, recruiter):
    response = client.post(
        "/api/v1/candidates",
        data=b"\xff\xfe{}",
        content_type="application/json",
        headers=auth(recruiter),
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_body_that_is_not_declared_json_is_415_naming_content_type(client, recruiter, content_type):
    response = client.post(
        "/api/v1/candidates",
        data='{"name": "Ada", "email": "a@x.org"}',
        content_type=content_type,
        headers=auth(recruiter),
    )
    assert_problem(response, 415)
    assert "Content-Type: application/json" in response.json["detail"]
    assert content_type in response.json["detail"]


def test_body_over_the_limit_is_413_problem(client, session, recruiter):
    body = {"name": "Ada", "email": "ada@example.org", "resume_text": "x" * (64 * 1024)}
    response = client.post("/api/v1/candidates", json=body, headers=auth(recruiter))
    assert_problem(response, 413)
    assert str(64 * 1024) in response.json["detail"]
    assert count(session, Candidate) == 0


def test_body_just_under_the_limit_is_accepted(client, recruiter):
    body = {"name": "Ada", "email": "ada@example.org", "resume_text": "x" * (60 * 1024)}
    response = client.post("/api/v1/candidates", json=body, headers=auth(recruiter))
    assert response.status_code == 201


def test_unknown_field_is_422_naming_it_and_listing_allowed_fields(client, session, recruiter):
    response = client.post(
        "/api/v1/candidates",
        json={"name": "Ada", "email": "ada@example.org", "salary": 1},
        headers=auth(recruiter),
    )
    assert_problem(response, 422)
    message = fields(response.json)["salary"]
    assert message.startswith("Unknown field.")
    assert f"Allowed fields: {', '.join(CANDIDATE_FIELDS)}." in message
    assert count(session, Candidate) == 0


@pytest.mark.parametrize("value", ["7", 7.5, True, None])
def test_wrong_type_for_an_integer_is_422_naming_the_field(client, session, recruiter, value):
    candidate_id = ApplicationFactory().candidate_id
    response = client.post(
        "/api/v1/applications",
        json={"candidate_id": candidate_id, "requisition_id": value},
        headers=auth(recruiter),
    )
    assert_problem(response, 422)
    assert list(fields(response.json)) == ["requisition_id"]


def test_missing_required_fields_are_each_named_once(client, recruiter):
    response = client.post("/api/v1/candidates", json={}, headers=auth(recruiter))
    assert_problem(response, 422)
    assert fields(response.json) == {
        "name": "Missing data for required field.",
        "email": "Missing data for required field.",
    }


def test_post_without_a_body_is_422_naming_required_fields(client, recruiter):
    response = client.post("/api/v1/candidates", headers=auth(recruiter))
    assert_problem(response, 422)
    assert {"name", "email"} <= fields(response.json).keys()


def test_body_that_is_not_an_object_is_422(client, recruiter):
    response = client.post(
        "/api/v1/candidates", json=["Ada", "ada@example.org"], headers=auth(recruiter)
    )
    assert_problem(response, 422)
    assert "Invalid input type." in fields(response.json).values()


def test_unknown_route_is_404_problem(client, recruiter):
    response = client.get("/api/v1/nothing-here", headers=auth(recruiter))
    assert_problem(response, 404)


def test_wrong_method_is_405_problem_with_allow_header(client, recruiter):
    response = client.delete("/api/v1/candidates", headers=auth(recruiter))
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications/2147483648",
        "/api/v1/candidates/99999999999999999999",
        "/api/v1/requisitions/3000000000/",
        "/api/v1/applications/3000000000/timeline",
    ],
)
def test_id_beyond_the_database_range_in_the_path_is_404(client, recruiter, path):
    assert_problem(client.get(path, headers=auth(recruiter)), 404)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "post",
            "/api/v1/applications",
            {"candidate_id": 2**31, "requisition_id": 1},
            "candidate_id",
        ),
        (
            "post",
            "/api/v1/applications",
            {"candidate_id": 1, "requisition_id": 10**20},
            "requisition_id",
        ),
        (
            "post",
            "/api/v1/requisitions",
            {"title": "x", "hiring_manager_id": 2**31, "template_key": "backend_engineer"},
            "hiring_manager_id",
        ),
        ("get", "/api/v1/applications?requisition_id=3000000000", None, "query.requisition_id"),
        ("get", "/api/v1/audit?entity_id=99999999999999999999", None, "query.entity_id"),
    ],
)
def test_id_beyond_the_database_range_in_body_or_query_is_422(
    client, admin, method, path, body, field
):
    response = getattr(client, method)(path, json=body, headers=auth(admin))
    assert_problem(response, 422)
    assert field in fields(response.json)


@pytest.mark.parametrize(
    ("method", "path", "body", "role", "status"),
    [
        ("post", "/api/v1/candidates", {"name": ""}, "recruiter", 422),
        ("post", "/api/v1/requisitions", {"title": "x"}, "recruiter", 422),
        ("get", "/api/v1/applications?limit=1000", None, "recruiter", 422),
        ("get", "/api/v1/applications/999999", None, "recruiter", 404),
        (
            "post",
            "/api/v1/applications/999999/moves",
            {"from_stage": "a", "to_stage": "b"},
            "recruiter",
            404,
        ),
        ("get", "/api/v1/audit", None, "interviewer", 403),
        ("get", "/api/v1/me", None, None, 401),
    ],
)
def test_every_error_response_is_a_complete_problem_document(
    client, session, method, path, body, role, status
):
    headers = auth(UserFactory(role=role)) if role else {}
    response = getattr(client, method)(path, json=body, headers=headers)
    assert_problem(response, status)
    assert response.json["title"]
    assert response.json["type"].startswith("urn:hiring-pipeline:problem:")
    assert response.json["instance"] == path.split("?")[0]


def test_rejected_create_leaves_no_row_and_no_audit_event(
    client, session, recruiter, hiring_manager
):
    events_before = count(session, AuditEvent)
    response = client.post(
        "/api/v1/requisitions",
        json={
            "title": "Backend",
            "hiring_manager_id": hiring_manager.id,
            "template_key": "no_such_template",
        },
        headers=auth(recruiter),
    )
    assert response.status_code == 422
    assert count(session, Requisition) == 0
    assert count(session, AuditEvent) == events_before


def test_conflicting_create_leaves_no_row_and_no_audit_event(client, session, recruiter):
    client.post(
        "/api/v1/candidates",
        json={"name": "Ada", "email": "ada@example.org"},
        headers=auth(recruiter),
    )
    events_before = count(session, AuditEvent)
    response = client.post(
        "/api/v1/candidates",
        json={"name": "Ada 2", "email": "ADA@example.org"},
        headers=auth(recruiter),
    )
    assert response.status_code == 409
    assert count(session, Candidate) == 1
    assert count(session, AuditEvent) == events_before


def test_refused_move_leaves_the_application_and_its_history_unchanged(client, session, recruiter):
    application = ApplicationFactory(stage="applied")
    events_before = count(session, AuditEvent)
    response = client.post(
        f"/api/v1/applications/{application.id}/moves",
        json={"from_stage": "applied", "to_stage": "offer"},
        headers=auth(recruiter),
    )
    assert response.status_code == 422
    session.refresh(application)
    assert (application.stage, application.version) == ("applied", 1)
    assert count(session, AuditEvent) == events_before


def test_unknown_query_parameter_is_422_naming_it(client, recruiter):
    response = client.get("/api/v1/applications?stauts=active", headers=auth(recruiter))
    assert_problem(response, 422)
    assert "query.stauts" in fields(response.json)
