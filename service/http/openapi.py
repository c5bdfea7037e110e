"""The OpenAPI document tells the truth: operation ids, every error an operation can
answer, the headers it reads and sends, its other media types and its links.

flask-smorest builds each operation from the view's decorators and docstring;
`ContractPlugin` then completes it from facts that hold for every route (all of
/api/v1 needs a bearer token, so any operation can answer 401 and 429; a path
id can be a 404; a body can be too large or not JSON) and from the facts a view
states with the `Blueprint` contract decorators (`versioned`, `returns_location`,
`links_to`, `offers_csv`). A route added later is covered without a line here.
`finish_document` adds what belongs to the whole document: response fields
marked required, the problem responses and their headers, and the examples
recorded from real calls (`examples.json`, written by `scripts/api_examples.py`).
"""

from __future__ import annotations

import json
import re
from copy import deepcopy
from functools import cache
from pathlib import Path
from typing import Any

from apispec import BasePlugin

from service.http.errors import PROBLEM_JSON
from service.http.schemas import OPTIONAL_MARK

DESCRIPTION = """\
Structured hiring: requisitions pinned to interview templates, candidates and their
applications moving through stages, interview loops with evidence-backed
scorecards, calibrated assessments, hiring-committee packets (PDF) and decisions,
and fairness reports.

**Authentication.** Every operation needs `Authorization: Bearer <token>` (an API
token; `make run` prints the demo users' tokens). Too many bad tokens from one
address are answered 429 with `Retry-After`.

**Errors.** Every error is an RFC 9457 problem document
(`application/problem+json`); invalid fields are listed in `errors`, and facts a
client can act on are extension members (`current_stage`, `current_version`, …).
A method a path does not support is answered 405 with `Allow`.

**Versions.** Records that can race carry an `ETag`; send it back in `If-Match`
on a change, and in `If-None-Match` on a read (304 when unchanged).

**Reports** are also served as CSV with `Accept: text/csv`.
"""

# The view's own HTTP method names flask-smorest documents.
HTTP_METHODS = ("get", "put", "post", "patch", "delete")

# Per status: the component name, and when an operation can answer it.
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "A header or the JSON body cannot be read (for example `If-Match`)."),
    401: (
        "Unauthorized",
        "No bearer token, or one that is unknown, revoked or of an inactive user.",
    ),
    403: ("Forbidden", "Your role may not do this, or may not see this record."),
    404: ("NotFound", "A record named in the path does not exist, or you may not know it does."),
    405: (
        "MethodNotAllowed",
        "The path does not support this method (so no operation of the path answers it); "
        "`Allow` lists the methods it does.",
    ),
    409: (
        "Conflict",
        "The request conflicts with the record's current state or a concurrent change.",
    ),
    412: ("PreconditionFailed", "`If-Match` names a version that is no longer current."),
    413: ("ContentTooLarge", "The body is larger than the configured limit."),
    415: ("UnsupportedMediaType", "A body was sent that is not `application/json`."),
    422: (
        "UnprocessableContent",
        "A field, query parameter or business rule refused the request; `errors` names each field.",
    ),
    428: ("PreconditionRequired", "A change that can race was sent without `If-Match`."),
    429: (
        "TooManyRequests",
        "Too many failed tokens from your address; wait `Retry-After` seconds.",
    ),
}

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id, also in our logs; quote it when you report a problem.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "The record's version (a strong ETag); send it back in `If-Match`.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "The URL of the resource.", "schema": {"type": "string"}},
    "Content-Disposition": {
        "description": "`attachment` with the file name to save.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds until a new attempt may be made.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}},
    "Allow": {"description": "The methods the path supports.", "schema": {"type": "string"}},
}

PROBLEM_HEADERS = {401: ("WWW-Authenticate",), 405: ("Allow",), 429: ("Retry-After",)}
EXAMPLES = Path(__file__).with_name("examples.json")

IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag (version) you last read; a stale one is refused instead of "
    'overwriting a change you have not seen. `"3"`, `W/"3"` and `3` are read alike.',
    "schema": {"type": "string", "pattern": r'^(W/)?"?[0-9]{1,10}"?$'},
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag you hold; when it is still current the answer is 304 without a body.",
    "schema": {"type": "string"},
}

OPERATION_ID = re.compile(r"^[a-z]+(_[a-z]+)+$")
# Operations every authenticated user may call: no role or visibility check.
OPEN_TO_EVERY_USER = frozenset({"get_me"})


def problem_ref(status: int) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{PROBLEMS[status][0]}"}


def header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


class ContractPlugin(BasePlugin):
    """Completes each operation as flask-smorest registers it (see the module docstring)."""

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        rule = kwargs.get("rule")
        if rule is None or not path or not path.startswith("/api/v1/"):
            return
        for method, operation in (operations or {}).items():
            if method in HTTP_METHODS:
                complete_operation(rule, method, operation)


def complete_operation(rule: Any, method: str, operation: dict[str, Any]) -> None:
    facts = operation.pop("x-contract", {})
    operation.setdefault("operationId", derived_operation_id(rule.endpoint, method))
    responses = operation.setdefault("responses", {})
    responses.pop("default", None)  # every status is listed: no catch-all
    success_status, success = next(
        ((s, r) for s, r in responses.items() if str(s).startswith("2")), (None, None)
    )
    if success is not None:
        _complete_success(operation, method, success_status, success, facts)
    for status in sorted(possible_problems(rule, method, operation, facts)):
        responses.setdefault(str(status), problem_ref(status))
    if facts.get("etag") and method == "get":
        operation.setdefault("parameters", []).append(IF_NONE_MATCH)
        responses.setdefault(
            "304",
            {
                "description": "Not modified: your `If-None-Match` is the current ETag.",
                "headers": {"ETag": header_ref("ETag"), "X-Request-ID": header_ref("X-Request-ID")},
            },
        )
    if facts.get("if_match"):
        operation.setdefault("parameters", []).append(IF_MATCH)


def possible_problems(
    rule: Any, method: str, operation: dict[str, Any], facts: dict[str, Any]
) -> set[int]:
    """The error statuses this operation can answer, by what it takes and does."""
    # Any operation refuses a query parameter it does not read (service.http.blueprint).
    statuses = {400, 401, 422, 429}
    if operation["operationId"] not in OPEN_TO_EVERY_USER:
        statuses.add(403)
    if rule.arguments:
        statuses.add(404)
    if method in ("post", "put", "patch", "delete"):
        # Any body is checked for size and media type (service/__init__.py); a use case's
        # own conflict, or a constraint or row version a concurrent request changed
        # first, is a 409 (service.http.errors).
        statuses |= {409, 413, 415}
    statuses |= set(facts.get("if_match", ()))
    return statuses


def _complete_success(
    operation: dict[str, Any],
    method: str,
    status: Any,
    success: dict[str, Any],
    facts: dict[str, Any],
) -> None:
    headers = success.setdefault("headers", {})
    headers["X-Request-ID"] = header_ref("X-Request-ID")
    if facts.get("etag"):
        headers["ETag"] = header_ref("ETag")
    content = success.setdefault("content", {})
    if media := facts.get("file"):
        schema = {"type": "string", "contentMediaType": media}
        content[media] = {"schema": schema}
    if facts.get("csv"):
        content["text/csv"] = {
            "schema": {"type": "string"},
            "example": "stage,group,applicants\r\n",
        }
        success["description"] += (
            f" With `Accept: text/csv`, the same rows as a CSV attachment ({facts['csv']})."
        )
    if any(media != "application/json" for media in content):
        headers["Content-Disposition"] = header_ref("Content-Disposition")
        for media, body in content.items():
            body.setdefault("schema", {"type": "string", "contentMediaType": media})
    if not content:
        del success["content"]
    links = dict(facts.get("links", {}))
    if location := facts.get("location"):
        headers["Location"] = header_ref("Location")
        links[location["operationId"]] = {location["parameter"]: "$response.body#/id"}
    if links:
        success["links"] = {
            link_name(target): {"operationId": target, "parameters": parameters}
            for target, parameters in links.items()
        }


def link_name(operation_id: str) -> str:
    return "".join(word.capitalize() for word in operation_id.split("_"))


def derived_operation_id(endpoint: str, method: str) -> str:
    """`list_applications`, `get_application`, `create_candidate`, `update_interview` from
    the view class and method; a view doing something else says `@blp.doc(operationId=...)`."""
    noun = re.sub(r"(?<!^)(?=[A-Z])", "_", endpoint.rsplit(".", 1)[-1]).lower()
    if method == "get":
        return f"{'list' if noun.endswith('s') else 'get'}_{noun}"
    verb = {"post": "create", "put": "replace", "patch": "update", "delete": "delete"}[method]
    return f"{verb}_{noun.removesuffix('s')}"


def components(spec: Any) -> None:
    """The shared headers and problem responses, registered once on the spec."""
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    for status, (name, description) in PROBLEMS.items():
        headers = {"X-Request-ID": header_ref("X-Request-ID")}
        headers |= {h: header_ref(h) for h in PROBLEM_HEADERS.get(status, ())}
        spec.components.response(
            name,
            {
                "description": description,
                "headers": headers,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document as served: every field of a response-only schema marked required
    (marshmallow dumps every declared field; a nullable one says so in its type), but
    those marked `OPTIONAL`; and a 404 where the request names a record by id."""
    document = deepcopy(document)
    schemas = document.get("components", {}).get("schemas", {})
    requests: set[str] = set()
    answers: set[str] = set()
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            _collect_refs(operation.get("requestBody"), requests)
            _collect_refs(operation.get("parameters"), requests)
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    _collect_refs(response, answers)
            _add_not_found_for_named_ids(operation, schemas)
            _add_examples(operation)
            _body_required_when_a_field_is(operation, schemas)
    requests = _closure(requests, schemas)
    response_only = _closure(answers, schemas) - requests
    for name, schema in schemas.items():
        properties = schema.get("properties", {})
        optional = {key for key, prop in properties.items() if prop.pop(OPTIONAL_MARK, False)}
        if name in response_only and properties:
            schema["required"] = sorted(set(properties) - optional)
    return document


def _body_required_when_a_field_is(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A body whose every field has a default may be left out (`{}` is read alike)."""
    body = operation.get("requestBody")
    if body is None:
        return
    ref = body["content"]["application/json"]["schema"].get("$ref", "")
    schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    body["required"] = bool(schema.get("required"))


@cache
def recorded_examples() -> dict[str, dict[str, Any]]:
    """Per operationId, a request body sent and the response received, from real calls."""
    examples: dict[str, dict[str, Any]] = json.loads(EXAMPLES.read_text())
    return examples


def _add_examples(operation: dict[str, Any]) -> None:
    example = recorded_examples().get(operation["operationId"])
    if example is None:
        return
    if "request" in example:
        operation["requestBody"]["content"]["application/json"]["example"] = example["request"]
    status = next(s for s in operation["responses"] if s.startswith("2"))
    operation["responses"][status]["content"]["application/json"]["example"] = example["response"]


def _add_not_found_for_named_ids(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A request naming a record by id (`requisition_id` in the body or the query) is a
    404 when it does not exist or is not the caller's to see, as a path id is."""
    named = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
    body: set[str] = set()
    _collect_refs(operation.get("requestBody"), body)
    for name in body:
        named.extend(schemas.get(name, {}).get("properties", {}))
    if any(re.fullmatch(r"\w+_ids?", name) for name in named):
        operation["responses"].setdefault("404", problem_ref(404))
        operation["responses"] = dict(sorted(operation["responses"].items()))


def _collect_refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _collect_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_refs(value, found)


def _closure(names: set[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        nested: set[str] = set()
        _collect_refs(schemas[name], nested)
        todo.extend(nested)
    return seen
