"""`http.json_body`: orjson's bytes, or the standard library's where they would differ,
always what Flask's `jsonify` sends for the same content."""

from datetime import UTC, datetime

from flask import Flask, jsonify
from hypothesis import given
from hypothesis import strategies as st

from service.http.json_body import encode, json_response


def isoformatted(value):
    """`value` as Flask would be given it: every datetime as its `isoformat()`."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: isoformatted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [isoformatted(item) for item in value]
    return value


FLASK = Flask(__name__)


def flask_body(payload) -> bytes:
    return FLASK.json.response(isoformatted(payload)).get_data()


# The values the list sends (floats as its days in stage, rounded, under 4 million) and
# the adverse-impact report's (p-values of any finite size: orjson writes some of them
# otherwise than Python).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(min_value=-4e6, max_value=4e6).map(lambda days: round(days, 2))
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.datetimes(timezones=st.just(UTC))
)
payloads = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(payloads)
def test_encode_writes_what_flask_writes(payload):
    assert encode(payload) == flask_body(payload)


# The list's payloads: its floats are days in stage, rounded to two places.
rounded_payloads = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.floats(min_value=-4e6, max_value=4e6).map(lambda days: round(days, 2))
    | st.datetimes(timezones=st.just(UTC)),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(rounded_payloads)
def test_without_small_floats_encode_still_writes_what_flask_writes(payload):
    """`small_floats=False` (no body search for floats orjson writes otherwise) is right
    for every payload whose floats are rounded to two places."""
    assert encode(payload, small_floats=False) == flask_body(payload)


def test_what_orjson_writes_otherwise_is_written_the_standard_way():
    for payload in (
        {"name": "Zoë 中村 😀"},  # UTF-8 from orjson, \u escapes from Flask
        {"note": "DEL \x7f"},  # raw from orjson, escaped by Flask
        {"big": 2**70},  # refused by orjson
        {"lone": "\ud800"},  # refused by orjson
        {1: "a key that is not a string"},  # refused by orjson
        {"p": [1.5e-05, 2e-07, 1e-09, -3.25e-06]},  # 0.000015, 2e-7, ... from orjson
        {"p": 1e16, "q": 2.5e300, "r": 5e-324},  # the same both ways
    ):
        assert encode(payload) == flask_body(payload), payload
    assert encode({"z": 1, "a": [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)]}) == (
        b'{"a":["2026-01-02T03:04:05+00:00"],"z":1}\n'
    )


def test_json_response_in_debug_mode_indents_as_flask_does():
    app = Flask(__name__)
    payload = {"b": [1, {"at": datetime(2026, 1, 2, tzinfo=UTC)}], "a": "Zoë"}
    for debug in (False, True):
        app.debug = debug
        with app.app_context():
            response = json_response(payload)
            assert response.get_data() == jsonify(isoformatted(payload)).get_data()
            assert response.mimetype == "application/json"
