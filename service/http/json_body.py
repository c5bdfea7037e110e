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
  like one inside a string, which is only slower) is encoded the standard library's way;
- it writes NaN or infinity as null: callers send no such floats.

Datetimes must be aware; both ways write them as `isoformat()` does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson
from flask import Response, current_app, jsonify


def json_response(payload: Any, *, small_floats: bool = True) -> Response:
    """`jsonify(payload)`, with the datetimes in `payload` as ISO 8601 strings, faster.
    `small_floats`: as `encode`'s."""
    if current_app.debug:  # Flask indents in debug mode; so does this, through Flask.
        return jsonify(json.loads(encode(payload)))
    body = encode(payload, small_floats=small_floats)
    return Response(body, mimetype=current_app.json.mimetype)  # type: ignore[attr-defined]


def encode(payload: Any, *, small_floats: bool = True) -> bytes:
    """The body `jsonify` would send for `payload` (datetimes as `isoformat()` strings):
    sorted keys, no spaces, ASCII with `\\uXXXX` escapes, a final newline.

    `small_floats=False` is the caller's word that `payload` holds no float of magnitude
    from 1e-10 to 1e-4 (such as one rounded to two places), so the body is not searched
    for one: the two searches took as long as orjson on a page of 50 applications."""
    try:
        body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return _standard(payload)
    if not body.isascii() or b"\x7f" in body or (small_floats and _not_pythons_floats(body)):
        return _standard(payload)
    return body + b"\n"


def _not_pythons_floats(body: bytes) -> bool:
    """Whether orjson may have written a float otherwise than Python: one of magnitude
    from 1e-10 to 1e-4, which Python writes as `1.5e-05` and orjson as `0.000015` or
    `1.5e-7` (Python never writes "0.0000"; a one-digit exponent it pads to two). Plain
    substring searches: a regular expression over a large body cost more than orjson
    itself. What only looks like such a float (inside a string) is only slower."""
    if b"0.0000" in body:
        return True
    at = body.find(b"e-")
    while at != -1:
        digits = body[at - 1 : at] + body[at + 2 : at + 3]
        if digits.isdigit() and len(digits) == 2 and not body[at + 3 : at + 4].isdigit():
            return True
        at = body.find(b"e-", at + 2)
    return False


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
