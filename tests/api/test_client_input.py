"""No client input is ever a 500: every request schema and query parameter of every
registered route refuses what the database or Python cannot take, with a 4xx naming
the field.

The routes and their schemas are read from the app itself (the `@blp.arguments`
that flask-smorest records on each view), so a new route or field is covered
without editing this file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import pytest
from sqlalchemy import select

from service.http.schemas import Id, NonBlankString, UtcDateTime
from service.persistence.candidates import Candidate
from tests.api.conftest import auth
from tests.api.test_errors import assert_problem, fields
from tests.api.test_scorecards import held_interview
from tests.factories import ApplicationFactory, InterviewFactory

BODY_LIMIT = 64 * 1024  # tests/conftest.py
NUL = "a\x00b"
LONE_SURROGATE = "a\ud800b"  # JSON "\ud800": valid JSON, not encodable as UTF-8
# The first two overflow when converted to UTC; the last when an hour is added to it.
OVERFLOWING_DATES = (
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:00:00Z",
)


@dataclass(frozen=True)
class Operation:
    method: str
    url: str
    location: str  # "json" or "query"
    schema: ma.Schema

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url} ({self.location})"


@dataclass(frozen=True)
class Leaf:
    """A field of a request schema and where it sits in the request."""

    path: tuple[str | int, ...]
    field: ma.fields.Field

    @property
    def name(self) -> str:
        """The name an error gives it: `ratings[0].evidence`, `query.limit`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


def view_methods(app) -> Iterator[tuple[str, str, Any]]:
    """(method, url with every id set to 1, view function) of every /api/v1 route."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        if not rule.rule.startswith("/api/v1/") or view_class is None:
            continue
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method.lower(), url, getattr(view_class, method.lower())


def operations(app) -> Iterator[Operation]:
    for method, url, function in view_methods(app):
        for parameter in function._apidoc.get("arguments", {}).get("parameters", []):
            schema = parameter["schema"]
            schema = schema() if isinstance(schema, type) else schema
            yield Operation(method, url, parameter["in"], schema)


def leaves(schema: ma.Schema, prefix: tuple[str | int, ...] = ()) -> Iterator[Leaf]:
    for name, field in schema.load_fields.items():
        yield from _field_leaves(field, (*prefix, field.data_key or name))


def _field_leaves(field: ma.fields.Field, path: tuple[str | int, ...]) -> Iterator[Leaf]:
    if isinstance(field, ma.fields.Nested):
        nested = field.schema
        yield from leaves(nested, (*path, 0) if nested.many else path)
    elif isinstance(field, ma.fields.List):
        yield from _field_leaves(field.inner, (*path, 0))
    else:
        yield Leaf(path, field)


def request_fields(app, location: str | None = None) -> Iterator[tuple[Operation, Leaf]]:
    for operation in operations(app):
        if location is None or operation.location == location:
            for leaf in leaves(operation.schema):
                yield operation, leaf


def send(client, headers, operation: Operation, leaf: Leaf, value: Any):
    """The request with `value` in `leaf`'s place and nothing else."""
    if operation.location == "query":
        return client.open(
            operation.url,
            method=operation.method,
            query_string={leaf.path[0]: value},
            headers=headers,
        )
    return getattr(client, operation.method)(
        operation.url, json=_body(leaf.path, value), headers=headers
    )


def _body(path: tuple[str | int, ...], value: Any) -> Any:
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return value


def error_name(operation: Operation, leaf: Leaf) -> str:
    return f"query.{leaf.name}" if operation.location == "query" else leaf.name


def refusal(response, operation: Operation, leaf: Leaf, statuses=(422,)) -> str | None:
    """Why `response` is not a problem document naming the field, or None if it is."""
    name = error_name(operation, leaf)
    if response.status_code not in statuses:
        return f"{operation} {name}: {response.status_code} {response.get_data(as_text=True)[:200]}"
    if response.mimetype != "application/problem+json" or name not in fields(response.json):
        return f"{operation} {name}: the problem does not name it: {response.json}"
    return None


def is_text(field: ma.fields.Field) -> bool:
    return isinstance(field, ma.fields.String)


def max_length(field: ma.fields.Field) -> int | None:
    return next(
        (v.max for v in field.validators if isinstance(v, ma.validate.Length) and v.max), None
    )


def has_choices(field: ma.fields.Field) -> bool:
    return any(isinstance(v, ma.validate.OneOf) for v in field.validators)


def test_the_walk_finds_the_routes_and_fields_it_must_cover(app):
    found = {(op.method, op.url, leaf.name) for op, leaf in request_fields(app)}
    assert ("post", "/api/v1/candidates", "name") in found
    assert ("put", "/api/v1/interviews/1/scorecard", "ratings[0].evidence") in found
    assert ("get", "/api/v1/candidates", "q") in found
    assert ("get", "/api/v1/interviews", "application_id") in found
    assert len(found) > 60


@pytest.mark.parametrize(
    ("value", "words"),
    [(NUL, "NUL character (U+0000)"), (LONE_SURROGATE, "lone surrogate (U+D800)")],
)
def test_unstorable_character_in_any_body_text_is_422_naming_the_field(client, admin, value, words):
    failures = []
    for operation, leaf in request_fields(client.application, "json"):
        if is_text(leaf.field):
            response = send(client, auth(admin), operation, leaf, value)
            failures.append(refusal(response, operation, leaf))
            if not failures[-1] and words not in fields(response.json)[leaf.name]:
                failures[-1] = f"{operation} {leaf.name}: {fields(response.json)}"
    assert [f for f in failures if f] == []


def test_nul_in_any_query_parameter_is_422_naming_it(client, admin):
    # A lone surrogate cannot arrive in a URL: werkzeug decodes invalid UTF-8 as U+FFFD.
    failures = [
        refusal(send(client, auth(admin), operation, leaf, NUL), operation, leaf)
        for operation, leaf in request_fields(client.application, "query")
    ]
    assert [f for f in failures if f] == []


def test_unstorable_character_in_a_field_name_is_refused(client, recruiter):
    response = client.post(
        "/api/v1/candidates",
        json={"name": "Ada", "email": "ada@example.org", "x\x00": 1},
        headers=auth(recruiter),
    )
    assert_problem(response, 422)
    assert "Field name: Contains a NUL character" in fields(response.json)["x\x00"]


def test_every_request_text_field_has_a_maximum_length(app):
    unbounded = [
        f"{operation} {leaf.name}"
        for operation, leaf in request_fields(app)
        if is_text(leaf.field) and not (max_length(leaf.field) or has_choices(leaf.field))
    ]
    assert unbounded == []


def test_oversized_text_in_any_field_is_4xx_naming_it(client, admin):
    failures = []
    for operation, leaf in request_fields(client.application):
        if not is_text(leaf.field):
            continue
        size = (max_length(leaf.field) or 100) + 1
        if size > BODY_LIMIT - 1024:  # can only be sent over the body limit: a 413
            response = send(client, auth(admin), operation, leaf, "x" * size)
            if response.status_code != 413:
                failures.append(f"{operation} {leaf.name}: {response.status_code}")
            continue
        response = send(client, auth(admin), operation, leaf, "x" * size)
        failures.append(refusal(response, operation, leaf))
    assert [f for f in failures if f] == []


def test_every_id_field_of_a_request_is_an_id_with_the_database_range(app):
    plain = [
        f"{operation} {leaf.name}"
        for operation, leaf in request_fields(app)
        if (leaf.path[-1] == "id" or str(leaf.path[-1]).endswith("_id"))
        and not isinstance(leaf.field, Id)
    ]
    assert plain == []


def test_id_beyond_the_database_range_in_any_field_is_422_naming_it(client, admin):
    failures = []
    for operation, leaf in request_fields(client.application):
        if isinstance(leaf.field, Id):
            value = 2**31 if operation.location == "json" else str(2**31)
            response = send(client, auth(admin), operation, leaf, value)
            failures.append(refusal(response, operation, leaf))
    assert [f for f in failures if f] == []


@pytest.mark.parametrize("value", ["\u0661", "007", "+7", "1_0", " 7"])
def test_id_in_a_query_written_other_than_in_plain_ascii_digits_is_422(client, admin, value):
    response = client.get(f"/api/v1/interviews?application_id={value}", headers=auth(admin))
    assert_problem(response, 422)
    assert "ASCII digits" in fields(response.json)["query.application_id"]


def test_every_date_time_field_of_a_request_is_a_utc_date_time(app):
    others = [
        f"{operation} {leaf.name}"
        for operation, leaf in request_fields(app)
        if isinstance(leaf.field, ma.fields.DateTime) and not isinstance(leaf.field, UtcDateTime)
    ]
    assert others == []


@pytest.mark.parametrize("value", OVERFLOWING_DATES)
def test_date_that_overflows_in_utc_in_any_field_is_422_naming_it(client, admin, value):
    failures = []
    for operation, leaf in request_fields(client.application):
        if isinstance(leaf.field, UtcDateTime):
            response = send(client, auth(admin), operation, leaf, value)
            failures.append(refusal(response, operation, leaf))
    assert [f for f in failures if f] == []


def test_date_with_an_offset_is_read_and_stored_in_utc(client, recruiter):
    interview = InterviewFactory()
    response = client.patch(
        f"/api/v1/interviews/{interview.id}",
        json={"starts_at": "2031-03-04T10:00:00+05:00"},
        headers=auth(recruiter),
    )
    assert response.status_code == 200
    assert response.json["starts_at"] == "2031-03-04T05:00:00+00:00"


def test_every_required_text_field_refuses_blank_text(app):
    plain = [
        f"{operation} {leaf.name}"
        for operation, leaf in request_fields(app)
        if is_text(leaf.field)
        and leaf.field.required
        and not has_choices(leaf.field)
        and not isinstance(leaf.field, NonBlankString | ma.fields.Email)
    ]
    assert plain == []


def test_whitespace_only_text_in_a_non_blank_field_is_422_naming_it(client, admin):
    failures = []
    for operation, leaf in request_fields(client.application):
        if isinstance(leaf.field, NonBlankString):
            response = send(client, auth(admin), operation, leaf, " \t\u3000 ")
            failures.append(refusal(response, operation, leaf))
    assert [f for f in failures if f] == []


def test_candidate_named_only_spaces_is_not_stored(client, session, recruiter):
    response = client.post(
        "/api/v1/candidates",
        json={"name": "   ", "email": "a@example.org"},
        headers=auth(recruiter),
    )
    assert_problem(response, 422)
    assert fields(response.json) == {"name": "Must not be blank (empty or only whitespace)."}
    assert session.scalar(select(Candidate)) is None


def test_text_outside_the_basic_plane_is_accepted(client, recruiter):
    response = client.post(
        "/api/v1/candidates",
        json={"name": "Zoë 😀 李", "email": "zoe@example.org"},
        headers=auth(recruiter),
    )
    assert response.status_code == 201
    assert response.json["name"] == "Zoë 😀 李"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ratings[0].evidence", NUL),
        ("ratings[0].evidence", LONE_SURROGATE),
        ("ratings[0].evidence", "x" * 20_001),
        ("summary", NUL),
        ("summary", LONE_SURROGATE),
    ],
)
def test_scorecard_draft_refuses_the_text_its_submission_would_refuse(client, field, value):
    interview = held_interview()
    rating = {"competency": "coding", "score": 3, "evidence": "Explained the trade-offs."}
    body = {"ratings": [rating], "summary": "Fine."}
    if field == "summary":
        body["summary"] = value
    else:
        rating["evidence"] = value
    headers = auth(interview.interviewer)
    url = f"/api/v1/interviews/{interview.id}/scorecard"
    draft = client.put(url, json=body, headers=headers)
    submission = client.post(f"{url}/submit", json=body, headers=headers)
    assert_problem(draft, 422)
    assert_problem(submission, 422)
    assert field in fields(draft.json)
    assert fields(draft.json)[field] == fields(submission.json)[field]
    assert client.get(url, headers=headers).status_code == 404


def test_query_parameter_on_a_view_without_query_arguments_is_422_naming_it(client, admin):
    failures = []
    for method, url, function in view_methods(client.application):
        parameters = function._apidoc.get("arguments", {}).get("parameters", [])
        if any(p["in"] == "query" for p in parameters):
            continue
        response = client.open(f"{url}?path=../..", method=method, json={}, headers=auth(admin))
        leaf = Leaf(("path",), ma.fields.String())
        failures.append(refusal(response, Operation(method, url, "query", None), leaf))
    assert [f for f in failures if f] == []


def test_query_parameter_on_a_view_without_query_arguments_reads_well(client, admin):
    response = client.get("/api/v1/me?path=../..", headers=auth(admin))
    assert_problem(response, 422)
    assert response.json["detail"] == (
        "The request has invalid fields: query.path: "
        "Unknown field. This endpoint takes no query parameters."
    )


def arabic_indic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize("spelling", [arabic_indic, lambda n: f"0{n}", lambda n: f"00{n}"])
def test_path_id_not_in_plain_ascii_digits_does_not_resolve_to_the_id(client, recruiter, spelling):
    application = ApplicationFactory()
    url = "/api/v1/applications/"
    assert client.get(f"{url}{application.id}", headers=auth(recruiter)).status_code == 200
    response = client.get(f"{url}{spelling(application.id)}", headers=auth(recruiter))
    assert_problem(response, 404)
    assert response.json["title"] == "Not Found"  # the route did not match at all


def test_json_nested_too_deeply_is_400(client, recruiter):
    response = client.post(
        "/api/v1/candidates",
        data="[" * 60_000,
        content_type="application/json",
        headers=auth(recruiter),
    )
    assert_problem(response, 400)
    assert fields(response.json) == {"json": "Invalid JSON body: nested too deeply."}


def test_json_nested_deeply_but_parseable_is_a_4xx(client, recruiter):
    body = '{"name": ' + "[" * 500 + "]" * 500 + ', "email": "a@example.org"}'
    response = client.post(
        "/api/v1/candidates", data=body, content_type="application/json", headers=auth(recruiter)
    )
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_integer_with_thousands_of_digits_is_400(client, recruiter):
    response = client.post(
        "/api/v1/applications",
        data='{"candidate_id": ' + "7" * 5000 + ', "requisition_id": 1}',
        content_type="application/json",
        headers=auth(recruiter),
    )
    assert_problem(response, 400)
    assert "a number has more than 4300 digits" in fields(response.json)["json"]


def chunked(client, user, data: bytes, content_type="application/json"):
    """A body sent with Transfer-Encoding: chunked, as gunicorn hands it over."""
    return client.post(
        "/api/v1/candidates",
        input_stream=io.BytesIO(data),
        headers={**auth(user), "Transfer-Encoding": "chunked", "Content-Type": content_type},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_chunked_body_over_the_limit_is_413(client, session, recruiter):
    body = b'{"name": "Ada", "email": "ada@example.org", "resume_text": "' + b"x" * BODY_LIMIT
    response = chunked(client, recruiter, body + b'"}')
    assert_problem(response, 413)
    assert session.scalar(select(Candidate)) is None


def test_chunked_body_under_the_limit_is_read(client, recruiter):
    response = chunked(client, recruiter, b'{"name": "Ada", "email": "ada@example.org"}')
    assert response.status_code == 201


def test_chunked_body_that_is_not_json_is_415(client, recruiter):
    response = chunked(client, recruiter, b"name=Ada", content_type="text/plain")
    assert_problem(response, 415)


# "²".isdigit() is true but int("²") raises; a header arrives as Latin-1 text.
@pytest.mark.parametrize("value", ['"²"', "9" * 5000])
def test_if_match_not_in_ascii_digits_is_400_naming_the_header(client, recruiter, value):
    application = ApplicationFactory()
    response = client.post(
        f"/api/v1/applications/{application.id}/withdraw",
        json={},
        headers={**auth(recruiter), "If-Match": value},
    )
    assert_problem(response, 400)
    assert "header.If-Match" in fields(response.json)


def test_unstorable_text_problem_names_the_nested_field_and_says_what_to_fix(client):
    interview = held_interview()
    response = client.put(
        f"/api/v1/interviews/{interview.id}/scorecard",
        json={"ratings": [{"competency": "coding", "score": 3, "evidence": "Good\x00"}]},
        headers=auth(interview.interviewer),
    )
    assert_problem(response, 422)
    assert response.json["detail"] == (
        "The request has invalid fields: ratings[0].evidence: Contains a NUL character "
        "(U+0000) at position 4; send valid Unicode text without it."
    )
