"""A large JSON response body made by orjson, byte for byte what Flask's `jsonify` makes.

Flask's encoder (the standard library's, with sorted keys and ASCII escapes) and the
`isoformat()` of every datetime were a tenth of a list request's CPU (BENCHMARKS.md,
"Issue 18: the list"); orjson does both in a tenth of their time. It differs from Flask's
output in three ways, each handled here:

- it writes non-ASCII characters (and DEL) as UTF-8, where Flask writes `\\uXXXX`:
  such a body is encoded again the standard library's way;
- it refuses what Flask would encode otherwise (a lone surrogate, an integer past
  64 bits, a key that is not a string): the same;
- it writes floats of magnitude from 1e-10 to 1e-4 otherwise than Python (`0.000015`
  or `1.5e-7`, not `1.5e-05` or `1.5e-07`): a body with such a number (or with what looks
  like one inside a string, which is only slower) is encoded the standard library's
  way, as is one with an exponent without its sign (`1e16`, not `1e+16`);
- it writes NaN or infinity as null: callers send no such floats.

Datetimes must be aware; both ways write them as `isoformat()` does.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import orjson
from flask import Response, current_app, jsonify


def json_response(payload: Any) -> Response:
    """`jsonify(payload)`, with the datetimes in `payload` as ISO 8601 strings, faster."""
    if current_app.debug:  # Flask indents in debug mode; so does this, through Flask.
        return jsonify(json.loads(encode(payload)))
    return Response(encode(payload), mimetype=current_app.json.mimetype)  # type: ignore[attr-defined]


def encode(payload: Any) -> bytes:
    """The body `jsonify` would send for `payload` (datetimes as `isoformat()` strings):
    sorted keys, no spaces, ASCII with `\\uXXXX` escapes, a final newline."""
    try:
        body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return _standard(payload)
    if not body.isascii() or b"\x7f" in body or _NOT_PYTHONS_FLOAT.search(body):
        return _standard(payload)
    return body + b"\n"


# A float that Python writes in exponent form (magnitude under 1e-4) and orjson in
# decimals, or with a one-digit exponent (Python pads it to two), or an exponent without
# its sign. Python never writes "0.0000" (0.0001 is the smallest it writes in decimals).
_NOT_PYTHONS_FLOAT = re.compile(rb"(?<![0-9])0\.0000|[0-9]e(-[0-9](?![0-9])|[0-9])")


def _standard(payload: Any) -> bytes:
    """What Flask's default JSON provider writes (outside debug mode)."""
    text = json.dumps(
        payload, default=_isoformat, ensure_ascii=True, sort_keys=True, separators=(",", ":")
    )
    return (text + "\n").encode()


def _isoformat(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
