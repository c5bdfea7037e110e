"""The OpenAPI document: valid 3.1, complete, and declaring bearer authentication;
every operation named, described, with its errors, headers and media types."""

import ast
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from service.http.errors import PROBLEM_JSON
from service.http.openapi import OPERATION_ID

SPEC_PATH = "/api/v1/openapi.json"
DOCUMENTED_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def spec(client):
    response = client.get(SPEC_PATH)
    assert response.status_code == 200
    return response.json


def api_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every route the app serves under /api/v1."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == SPEC_PATH:
            continue
        if rule.rule.startswith("/api/v1/docs"):  # the docs page, not an operation
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(path, method) for method in rule.methods & DOCUMENTED_METHODS}
    return routes


def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_document_lists_every_api_route_and_method(app, spec):
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method.upper() in DOCUMENTED_METHODS
    }
    assert api_routes(app) == documented


def test_known_routes_are_documented(spec):
    for path in (
        "/api/v1/requisitions/{requisition_id}",
        "/api/v1/candidates",
        "/api/v1/applications/{application_id}/moves",
        "/api/v1/applications/{application_id}/timeline",
        "/api/v1/audit",
    ):
        assert path in spec["paths"]


def test_document_declares_the_bearer_security_scheme(spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "opaque API token",
    }
    assert {"bearer": []} in spec["security"]


def test_request_schemas_come_from_the_validating_schemas(spec):
    operation = spec["paths"]["/api/v1/applications/{application_id}/moves"]["post"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    move = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(move["required"]) == {"from_stage", "to_stage"}
    assert move["additionalProperties"] is False


def test_path_ids_declare_the_database_range(spec):
    [parameter] = spec["paths"]["/api/v1/applications/{application_id}"]["parameters"]
    assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_every_list_answers_in_one_envelope(spec):
    """A response with `items` also has `next_cursor`: one shape for every list, present and
    future (timeline, scorecards, packets, decisions, reports, tasks, tokens, pages)."""
    schemas = spec["components"]["schemas"]
    lists = {name: s for name, s in schemas.items() if "items" in s.get("properties", {})}
    assert len(lists) >= 10
    assert {n for n, s in lists.items() if "next_cursor" not in s["properties"]} == set()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method.upper() in DOCUMENTED_METHODS:
                yield path, method, operation


def test_every_operation_has_a_unique_verb_noun_operation_id(spec):
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not OPERATION_ID.fullmatch(i)] == []
    assert {"move_application", "list_applications", "get_packet_pdf"} <= set(ids)


def test_every_operation_has_a_summary_and_a_description(spec):
    missing = [
        (method, path)
        for path, method, operation in operations(spec)
        if not operation.get("summary") or not operation.get("description")
    ]
    assert missing == []


def test_every_error_is_a_problem_document(spec):
    responses = spec["components"]["responses"]
    for path, method, operation in operations(spec):
        statuses = {int(s) for s in operation["responses"]}
        assert {400, 401, 422, 429} <= statuses, (method, path)
        assert ("{" in path) <= (404 in statuses), (method, path)
        assert (method != "get") <= ({409, 413, 415} <= statuses), (method, path)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                name = response["$ref"].rsplit("/", 1)[1]
                assert list(responses[name]["content"]) == [PROBLEM_JSON]


def test_a_body_naming_a_record_by_id_can_be_a_404(spec):
    assert "404" in spec["paths"]["/api/v1/applications"]["post"]["responses"]


def test_problem_documents_name_their_headers(spec):
    responses = spec["components"]["responses"]
    assert "WWW-Authenticate" in responses["Unauthorized"]["headers"]
    assert "Retry-After" in responses["TooManyRequests"]["headers"]


def test_problem_schema_documents_every_extension_member_the_use_cases_send(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["additionalProperties"] is True
    sent = {"request_id"} | extension_members_raised()
    assert sent - set(problem["properties"]) == set()


def extension_members_raised() -> set[str]:
    """Keyword arguments (but `errors`) of every `raise SomethingError(...)` in the service."""
    members = set()
    for module in Path("service").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name.endswith("Error"):
                    members |= {k.arg for k in node.exc.keywords if k.arg not in (None, "errors")}
    return members


def test_if_match_is_declared_where_honoured(spec):
    move = spec["paths"]["/api/v1/applications/{application_id}/moves"]["post"]
    assert "If-Match" in [p["name"] for p in move["parameters"]]
    decide = spec["paths"]["/api/v1/applications/{application_id}/decision"]["post"]
    assert {"412", "428"} <= set(decide["responses"])
    read = spec["paths"]["/api/v1/applications/{application_id}"]["get"]
    assert "If-None-Match" in [p["name"] for p in read["parameters"] if p["in"] == "header"]
    assert "304" in read["responses"]
    assert "ETag" in read["responses"]["200"]["headers"]


def test_creates_and_packet_requests_declare_location_and_link_onwards(spec):
    request = spec["paths"]["/api/v1/applications/{application_id}/packets"]["post"]
    accepted = request["responses"]["202"]
    assert "Location" in accepted["headers"]
    assert accepted["links"]["GetPacket"] == {
        "operationId": "get_packet",
        "parameters": {"packet_id": "$response.body#/id"},
    }
    created = spec["paths"]["/api/v1/candidates"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    move = spec["paths"]["/api/v1/applications/{application_id}/moves"]["post"]
    assert move["responses"]["200"]["links"]["GetApplication"]["operationId"] == "get_application"


def test_link_targets_exist(spec):
    ids = {operation["operationId"] for _, _, operation in operations(spec)}
    for _, _, operation in operations(spec):
        for response in operation["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ids


def test_pdf_and_csv_are_declared_with_their_file_name_header(spec):
    pdf = spec["paths"]["/api/v1/packets/{packet_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]
    assert "Content-Disposition" in pdf["headers"]
    for path in ("adverse-impact", "pipeline", "stuck", "interviewers"):
        report = spec["paths"][f"/api/v1/reports/{path}"]["get"]["responses"]["200"]
        assert {"application/json", "text/csv"} <= set(report["content"]), path
        assert "Content-Disposition" in report["headers"]


def test_every_success_response_declares_the_request_id(spec):
    for path, method, operation in operations(spec):
        success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        assert "X-Request-ID" in success["headers"], (method, path)


def test_response_fields_are_required_and_request_fields_are_not_forced(spec):
    schemas = spec["components"]["schemas"]
    assert {"id", "stage", "status", "version"} <= set(schemas["Application"]["required"])
    assert set(schemas["Move"]["required"]) == {"from_stage", "to_stage"}


def test_document_describes_the_api_and_its_server(spec):
    assert "problem" in spec["info"]["description"]
    assert spec["servers"] == [{"url": "/", "description": "This server"}]


def test_docs_page_is_public_and_served_from_this_origin(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http" not in html  # no other origin
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()


def test_docs_page_serves_no_other_file(client):
    assert client.get("/api/v1/docs/assets/LICENSE").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2F..%2F__init__.py").status_code == 404


def test_every_status_like_response_field_is_an_enum(spec):
    """Status, state, outcome, kind, role, verdict and recommendation fields list their
    values, so a generated client gets an enum (the problem document's members excepted:
    they echo whichever status refused the request)."""
    named = re.compile(r"(^|_)(status|state|outcome|kind|role|recommendation|verdict)$")
    loose = [
        (name, field)
        for name, schema in spec["components"]["schemas"].items()
        if name != "Problem"
        for field, prop in schema.get("properties", {}).items()
        if named.search(field) and "enum" not in prop
    ]
    assert loose == []


# The flows a newcomer follows first: each shows a real request and answer.
MAIN_OPERATIONS = {
    "create_requisition",
    "create_candidate",
    "create_application",
    "move_application",
    "get_application",
    "list_applications",
    "list_tasks",
    "get_interview_kit",
    "save_scorecard_draft",
    "submit_scorecard",
    "get_application_assessment",
    "request_packet",
    "get_packet",
    "record_decision",
}


def examples_of(spec):
    """(operationId, where, example, schema) for every example in the document."""
    for operations in spec["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, r) for status, r in operation["responses"].items()]
            for where, body in bodies:
                media = body.get("content", {}).get("application/json", {})
                if "example" in media:
                    yield operation["operationId"], where, media["example"], media["schema"]


def test_main_operations_show_a_recorded_request_and_answer(spec):
    shown = {(operation_id, where) for operation_id, where, *_ in examples_of(spec)}
    for operation_id in MAIN_OPERATIONS:
        assert any(o == operation_id and w != "request" for o, w in shown), operation_id
    creates = {o for o in MAIN_OPERATIONS if o.split("_")[0] in ("create", "move", "submit")}
    assert creates <= {o for o, w in shown if w == "request"}


def test_every_example_is_valid_against_its_schema(spec):
    checked = 0
    for operation_id, where, example, schema in examples_of(spec):
        root = {**schema, "components": spec["components"]}
        errors = [e.message for e in Draft202012Validator(root).iter_errors(example)]
        assert not errors, (operation_id, where, errors[:3])
        checked += 1
    assert checked >= 2 * len(MAIN_OPERATIONS) - 6


def test_a_method_a_path_does_not_support_is_documented_with_allow(spec):
    not_allowed = spec["components"]["responses"]["MethodNotAllowed"]
    assert "Allow" in not_allowed["headers"]
    assert "405" in spec["info"]["description"]


def test_response_objects_are_typed_but_the_audit_snapshots(spec):
    """Every object a client receives has its properties declared; only the audit's
    before/after snapshots, whose keys are the audited record's columns, are free-form
    (and say so)."""

    def loose(node, path):
        if isinstance(node, dict):
            if node.get("type") in ("object", ["object", "null"]) and not node.get("properties"):
                values = node.get("additionalProperties", {})
                if not values or values == {} or values is True:
                    yield path, node.get("x-free-form", False)
            for key, value in node.items():
                if key != "example":
                    yield from loose(value, f"{path}/{key}")
        elif isinstance(node, list):
            for value in node:
                yield from loose(value, path)

    found = list(loose(spec["components"]["schemas"], ""))
    assert sorted(path for path, free in found if not free) == []
    assert sorted(path for path, _ in found) == [
        "/AuditEvent/properties/after",
        "/AuditEvent/properties/before",
    ]
