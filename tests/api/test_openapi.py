"""The OpenAPI document: valid 3.1, complete, and declaring bearer authentication."""

import re

import pytest
from openapi_spec_validator import validate

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
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
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
