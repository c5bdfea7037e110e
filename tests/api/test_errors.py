"""Bad input is a 4xx `application/problem+json` a person can act on, never a 500,
and never leaves a half-written record."""

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from service.persistence.audit import AuditEvent
from service.persistence.candidates import Candidate
from service.persistence.requisitions import Requisition
from tests.api.conftest import auth
from tests.conftest import postgres_url
from tests.factories import ApplicationFactory, UserFactory

PROBLEM_MEMBERS = {"type", "title", "status", "detail"}
CANDIDATE_FIELDS = ("email", "keep_until", "links", "name", "phone", "resume_text", "source")


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


# --- unhandled errors ---------------------------------------------------------

ADA = {"name": "Ada Lovelace", "email": "ada.lovelace@example.org"}


@pytest.fixture
def failing_create(app, monkeypatch):
    """Creating a candidate fails in the database with the person's data in the statement:
    a statement naming a column the table does not have (a bug, not a client's mistake;
    a constraint violation would be a 409)."""
    from service.usecases import candidates

    def create_broken(session, actor, data):
        session.execute(
            text("INSERT INTO candidates (name, email, no_such_column) VALUES (:name, :email, 1)"),
            data,
        )

    monkeypatch.setattr(candidates, "create_candidate", create_broken)
    # Like production: the error becomes a 500 instead of reaching the test.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)


def post_ada(client, recruiter, **headers):
    return client.post("/api/v1/candidates", json=ADA, headers=auth(recruiter) | headers)


def test_unhandled_error_is_a_500_problem_quoting_the_request_id(client, recruiter, failing_create):
    response = post_ada(client, recruiter, **{"X-Request-ID": "support-case-42"})
    assert_problem(response, 500)
    assert response.json["request_id"] == "support-case-42"
    assert response.headers["X-Request-ID"] == "support-case-42"
    assert "support-case-42" in response.json["detail"]
    assert "ada" not in response.text.lower()


def test_unhandled_error_is_logged_once_with_its_request_id(
    client, recruiter, failing_create, caplog
):
    with caplog.at_level("INFO"):
        response = post_ada(client, recruiter)
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    request_id = response.headers["X-Request-ID"]
    assert errors[0].request_id == request_id
    assert request_id in errors[0].getMessage()
    assert "POST /api/v1/candidates" in errors[0].getMessage()
    assert "Error" in errors[0].getMessage()  # still says what went wrong, and where
    assert "create_broken" in errors[0].getMessage()


def test_unhandled_error_logs_no_personal_data(client, recruiter, failing_create, caplog):
    with caplog.at_level("DEBUG"):
        post_ada(client, recruiter)
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for value in (ADA["email"], ADA["name"], "Lovelace"):
        assert value not in logged


def test_database_errors_never_quote_statement_parameters(engine):
    """Elsewhere (workers, job failures) a database error is logged as it is: its text must
    not carry the values bound to the statement."""
    with engine.connect() as connection, pytest.raises(DBAPIError) as raised:
        connection.execute(text("SELECT :email FROM no_such_table"), {"email": ADA["email"]})
    assert ADA["email"] not in str(raised.value)
    assert "parameters hidden" in str(raised.value)


def test_unhandled_error_log_keeps_what_the_database_said_about_the_schema(
    client, recruiter, failing_create, caplog
):
    post_ada(client, recruiter)
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "no_such_column" in record.getMessage()


def test_a_value_quoted_in_a_postgresql_message_is_left_out_of_the_log():
    from service.http.errors import redacted_traceback

    # PostgreSQL only: SQLite casts any text to an integer without an error.
    engine = create_engine(postgres_url())
    with engine.connect() as connection, pytest.raises(DBAPIError) as raised:
        connection.execute(text("SELECT CAST(:email AS integer)"), {"email": ADA["email"]})
    assert ADA["email"] in str(raised.value)  # "invalid input syntax for type integer: ..."
    logged = redacted_traceback(raised.value)
    assert ADA["email"] not in logged
    assert "sqlstate 22P02" in logged
    engine.dispose()
