"""The one place where errors become HTTP: `application/problem+json` (RFC 9457)."""

from __future__ import annotations

import logging
import sqlite3
import traceback
from typing import Any

from flask import Flask, Response, json, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from service.domain import errors as domain
from service.domain.messages import flatten_messages as _flatten
from service.http.request_ids import request_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: list[tuple[type[domain.DomainError], int]] = [
    (domain.AuthenticationError, 401),
    (domain.PermissionDeniedError, 403),
    (domain.NotFoundError, 404),
    (domain.ConflictError, 409),
    (domain.PreconditionFailedError, 412),
    (domain.PreconditionRequiredError, 428),
    (domain.RuleViolationError, 422),
]


class InvalidHeaderError(Exception):
    """A request header the client must fix (400)."""

    def __init__(self, header: str, message: str) -> None:
        super().__init__(message)
        self.header = header
        self.message = message


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:hiring-pipeline:problem:{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    # Extra members (e.g. `current_stage`) never replace the standard ones.
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def flatten_messages(messages: Any) -> list[dict[str, str]]:
    """Turn marshmallow's nested messages into `[{"field": "links[0]", "message": ...}]`;
    a message about the whole body is on `_body`."""
    return [{"field": path or "_body", "message": text} for path, text in _flatten(messages)]


def handle_domain_error(error: domain.DomainError) -> Response:
    status = next(code for cls, code in STATUS_BY_ERROR if isinstance(error, cls))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    errors = [{"field": f, "message": m} for f, m in error.errors.items()]
    return problem(
        status, error.title, error.detail, errors=errors, headers=headers, extra=error.extra
    )


def handle_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if messages:
        # Body fields are named plainly ("email"); others keep their location
        # ("query.limit") so clients know where to look.
        if isinstance(messages, dict) and isinstance(messages.get("json"), dict):
            messages = {**{k: v for k, v in messages.items() if k != "json"}, **messages["json"]}
        errors = flatten_messages(messages)
        detail = "The request has invalid fields: " + "; ".join(
            f"{e['field']}: {e['message']}" for e in errors
        )
        return problem(error.code or 400, "Invalid request", detail, errors=errors)
    if error.code == 413:
        detail = f"The request body is larger than the limit of {request.max_content_length} bytes."
    else:
        detail = data.get("message") or error.description or error.name
    extra = None
    if isinstance(error, InternalServerError):
        # Logged once, by `log_unhandled_error` (Flask calls it before this handler).
        detail = (
            f"An unexpected error occurred; it has been logged. Quote request id {request_id()} "
            "when you report it."
        )
        extra = {"request_id": request_id()}
    # Keep the exception's own headers, e.g. `Allow` on a 405 (RFC 9110 requires it).
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return problem(error.code or 500, error.name, detail, headers=headers, extra=extra)


def log_unhandled_error(error: BaseException) -> None:
    """The one log record of an unhandled error: method, path, request id and traceback.

    No body, no query string and no values from the database: SQL parameters are
    hidden by the engine, and a database error is shown by its class, SQLSTATE,
    constraint and the part of its message that names the schema, never the row
    (PostgreSQL's DETAIL quotes it, e.g. `Key (email)=(ada@example.org)`).
    """
    log.error(
        "unhandled error on %s %s (request id %s)\n%s",
        request.method,
        request.path,
        request_id(),
        redacted_traceback(error),
        extra={"request_id": request_id()},
    )


def redacted_traceback(error: BaseException) -> str:
    """`error`'s traceback with its causes, oldest first, database messages left out."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    database_errors = {id(e.orig) for e in chain if isinstance(e, DBAPIError)}
    parts = []
    for exc in reversed(chain):
        frames = "".join(traceback.format_tb(exc.__traceback__))
        if isinstance(exc, DBAPIError):
            summary = (
                f"{_qualified_name(exc)}: {_qualified_name(exc.orig)} "
                f"({_database_facts(exc.orig)})\n[SQL: {exc.statement}]"
            )
        elif id(exc) in database_errors:
            summary = f"{_qualified_name(exc)} ({_database_facts(exc)})"
        else:
            summary = "".join(traceback.format_exception_only(exc)).rstrip()
        parts.append(f"Traceback (most recent call last):\n{frames}{summary}")
    return "\n\nwhich led to:\n\n".join(parts)


def _database_facts(error: BaseException | None) -> str:
    """What kind of database error it was, without the parts of its message that quote values."""
    diag = getattr(error, "diag", None)  # psycopg
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "sqlite_errorname", None)
    if diag is not None:
        # The primary message names tables and constraints; DETAIL (left out) quotes the
        # row. Data exceptions (class 22: "invalid input syntax for type integer: "…"")
        # quote the value in the primary message too.
        message = None if (sqlstate or "").startswith("22") else diag.message_primary
    elif isinstance(error, sqlite3.Error):
        message = str(error)  # SQLite names the schema ("no such table: users"), never values
    else:
        message = None
    facts = {
        "sqlstate": sqlstate,
        "constraint": getattr(diag, "constraint_name", None),
        "message": message,
    }
    return ", ".join(f"{k} {v}" for k, v in facts.items() if v) or "message withheld"


def _qualified_name(error: BaseException | None) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"


def handle_stale_data(error: StaleDataError) -> Response:
    return problem(
        409,
        "Conflict",
        "The record was changed by another request at the same time; reload it and try again.",
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    """A constraint refused a write no use case expected to race: most likely a parallel
    request got there first. Logged without the statement's parameters or the driver's
    DETAIL line, which carry user data."""
    first_line = (str(error.orig).splitlines() or [type(error.orig).__name__])[0]
    diag = getattr(error.orig, "diag", None)
    log.warning(
        "integrity error on %s %s: %s (constraint %s)",
        request.method,
        request.path,
        first_line,
        getattr(diag, "constraint_name", None) or "unknown",
    )
    return problem(
        409,
        "Conflict",
        "The change conflicts with a concurrent change; reload and retry.",
    )


def handle_invalid_header(error: InvalidHeaderError) -> Response:
    return problem(
        400,
        "Invalid header",
        f"{error.header}: {error.message}.",
        errors=[{"field": f"header.{error.header}", "message": error.message}],
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(InvalidHeaderError, handle_invalid_header)
    app.register_error_handler(domain.DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(IntegrityError, handle_integrity_error)
