"""Self-identification: recorded by recruiters and admins, read back by no route but the audited export."""

import csv
import io
from datetime import timedelta

import pytest
from werkzeug.routing import IntegerConverter

from service.domain.self_identification import QUESTIONS
from service.persistence.base import utcnow
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory
from tests.web.conftest import signed_in_page_session, without_csrf_tokens

# Distinctive answers: none of these strings is in any other payload by accident.
ANSWERS = {
    "sex": "non_binary",
    "race_ethnicity": "native_hawaiian_or_other_pacific_islander",
    "veteran_status": "protected_veteran",
    "disability_status": "has_disability",
}
EVIDENCE = "Walked through a sharded queue design, named hot partitions and retried idempotently."
# The one route that exists to read answers per candidate (admin, audited).
EXPORT = "/api/v1/reports/self-identification.csv"


def put(client, user, application_id, body):
    return client.put(
        f"/api/v1/applications/{application_id}/self-identification", json=body, headers=auth(user)
    )


def test_recruiter_records_answers_and_gets_no_body_back(client, session, recruiter):
    application = ApplicationFactory()
    response = put(client, recruiter, application.id, ANSWERS)
    assert response.status_code == 204
    assert response.data == b""


def test_admin_may_record_and_a_second_put_replaces_the_answers(client, session, admin):
    application = ApplicationFactory()
    assert put(client, admin, application.id, ANSWERS).status_code == 204
    assert put(client, admin, application.id, {"sex": "female"}).status_code == 204
    rows = export(client, admin)
    assert [(r["application_id"], r["sex"], r["race_ethnicity"]) for r in rows] == [
        (str(application.id), "female", "decline_to_answer")
    ]


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_other_roles_may_not_record(client, session, role):
    application = ApplicationFactory()
    user = (
        application.requisition.hiring_manager
        if role == "hiring_manager"
        else InterviewFactory(application=application).interviewer
    )
    assert put(client, user, application.id, ANSWERS).status_code == 403


def test_unknown_answer_names_the_field_and_the_allowed_values(client, session, recruiter):
    application = ApplicationFactory()
    response = put(client, recruiter, application.id, {"race_ethnicity": "martian"})
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert set(errors) == {"race_ethnicity"}
    for allowed in QUESTIONS["race_ethnicity"]:
        assert allowed in errors["race_ethnicity"]


def test_unknown_question_is_refused(client, session, recruiter):
    application = ApplicationFactory()
    response = put(client, recruiter, application.id, {"religion": "none"})
    assert response.status_code == 422
    assert "religion" in {e["field"] for e in response.json["errors"]}


def test_missing_application_is_404(client, session, recruiter):
    assert put(client, recruiter, 2**31 - 1, ANSWERS).status_code == 404


def test_audit_event_names_the_action_but_not_the_answers(client, session, recruiter):
    application = ApplicationFactory()
    put(client, recruiter, application.id, ANSWERS)
    response = client.get(
        "/api/v1/audit",
        query_string={"action": "self_identification.recorded"},
        headers=auth(recruiter),
    )
    [event] = response.json["items"]
    assert (event["entity_type"], event["entity_id"]) == ("application", application.id)
    assert event["before"] is None and event["after"] is None and event["reason"] == ""
    assert not any(value in response.text for value in ANSWERS.values())


def export(client, user):
    response = client.get(EXPORT, headers=auth(user))
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text)))


def test_export_is_admin_only_and_audited(client, session, admin, recruiter):
    application = ApplicationFactory()
    put(client, recruiter, application.id, ANSWERS)
    assert client.get(EXPORT, headers=auth(recruiter)).status_code == 403
    [row] = export(client, admin)
    assert row == {
        "application_id": str(application.id),
        "requisition_id": str(application.requisition_id),
        **ANSWERS,
        "recorded_at": row["recorded_at"],
    }
    audit = client.get(
        "/api/v1/audit",
        query_string={"action": "self_identification.exported"},
        headers=auth(admin),
    ).json["items"]
    assert [(e["actor_id"], e["after"]) for e in audit] == [(admin.id, {"rows": 1})]


# --- never leaks -------------------------------------------------------------


def submitted_loop():
    """An application with a held interview and a submitted scorecard, made through the API."""
    application = ApplicationFactory()
    interview = InterviewFactory(application=application, starts_at=utcnow() - timedelta(hours=2))
    return application, interview


def get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static" and rule.rule != EXPORT:
            yield rule


def fill(app, rule, ids):
    """The rule's URL with real ids (an unknown int argument gets the application's id)."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = (
            ids.get(name, ids["application_id"])
            if isinstance(converter, IntegerConverter)
            else "backend_engineer"
        )
    return rule.build(values)[1]


def walk(client, app, users, ids, query):
    """Every GET route's body, for every user and both JSON and CSV, keyed by request;
    pages are read signed in, their forms' CSRF tokens (new on every render) blanked."""
    bodies = {}
    for rule in get_routes(app):
        url = fill(app, rule, ids)
        for user in users:
            for accept in ("application/json", "text/csv"):
                signed_in_page_session(client, user)
                response = client.get(
                    url,
                    query_string=query.get(rule.rule, {}),
                    headers=auth(user) | {"Accept": accept},
                )
                assert response.status_code < 500, (url, response.data)
                bodies[(url, user.role, accept)] = without_csrf_tokens(response.text)
    return bodies


def test_no_get_route_ever_returns_the_answers(app, client, session, admin, recruiter):
    application, interview = submitted_loop()
    submitted = client.post(
        f"/api/v1/interviews/{interview.id}/scorecard/submit",
        headers=auth(interview.interviewer),
        json={
            "ratings": [
                {"competency": c, "score": 3, "evidence": EVIDENCE}
                for c in ("coding", "problem_solving")
            ],
            "recommendation": "yes",
            "summary": "Solid.",
        },
    )
    assert submitted.status_code == 200, submitted.json
    users = (admin, recruiter, application.requisition.hiring_manager, interview.interviewer)
    ids = {
        "application_id": application.id,
        "candidate_id": application.candidate_id,
        "requisition_id": application.requisition_id,
        "interview_id": interview.id,
        "interviewer_id": interview.interviewer_id,
        "user_id": interview.interviewer_id,
    }
    query = {"/api/v1/reports/pipeline": {"requisition_id": application.requisition_id}}
    before = walk(client, app, users, ids, query)
    assert put(client, recruiter, application.id, ANSWERS).status_code == 204
    after = walk(client, app, users, ids, query)

    assert before.keys() == after.keys()
    leaks = [
        key
        for key, body in after.items()
        if body != before[key] and any(value in body for value in ANSWERS.values())
    ]
    assert leaks == []
    # Documentation (OpenAPI) and the aggregate reports list the categories, but one
    # person's answers change nothing in them.
    # `/metrics` counts the walk's own requests.
    changed = {key[0] for key, body in after.items() if body != before[key]}
    assert changed <= {"/api/v1/audit", "/metrics"}
