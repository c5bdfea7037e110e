"""Domain exceptions. Business code raises these; `service.http.errors` maps them to HTTP.

Each carries a human `detail`, optional field-level `errors` (field -> message)
and optional `extra` facts a client can act on (e.g. the current stage).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    title = "Request refused"

    def __init__(self, detail: str, *, errors: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.extra = extra


class NotFoundError(DomainError):
    title = "Not found"


class AuthenticationError(DomainError):
    title = "Authentication required"


class PermissionDeniedError(DomainError):
    title = "Forbidden"


class ConflictError(DomainError):
    """The request is well-formed but conflicts with the current state (409)."""

    title = "Conflict"


class PreconditionFailedError(DomainError):
    """The client's `If-Match` names a version that is no longer current (412)."""

    title = "Precondition failed"


class PreconditionRequiredError(DomainError):
    """A change that can race was sent without `If-Match` (428)."""

    title = "Precondition required"


class RuleViolationError(DomainError):
    """The request breaks a business rule (422)."""

    title = "Unprocessable request"
