"""One id per request, so a user can quote it and an operator can find its log record.

The caller's `X-Request-ID` is kept when it is sane (a proxy or client may have
logged it already); anything else is replaced, because the id goes into log
lines and response headers, where spaces, newlines or a kilobyte of text do not
belong.
"""

from __future__ import annotations

import re
import uuid

from flask import g, request

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id() -> str:
    """This request's id: the incoming `X-Request-ID` if sane, else a new random one."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    rid: str = g.request_id
    return rid
