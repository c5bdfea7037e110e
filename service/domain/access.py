"""Who may do what. Object-level visibility (which rows) lives in persistence queries;
this module answers the role-level question and names the rule when it refuses."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from service.domain.errors import PermissionDeniedError

ADMIN, RECRUITER, INTERVIEWER, HIRING_MANAGER = ROLES = (
    "admin",
    "recruiter",
    "interviewer",
    "hiring_manager",
)
EVERYONE = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "requisitions:read": EVERYONE,
    "requisitions:write": frozenset({ADMIN, RECRUITER}),
    "candidates:read": EVERYONE,
    "candidates:write": frozenset({ADMIN, RECRUITER}),
    "applications:read": EVERYONE,
    "applications:write": frozenset({ADMIN, RECRUITER}),
    "audit:read": frozenset({ADMIN, RECRUITER}),
    # Interviewers never fetch packets: a packet shows the whole panel's feedback.
    "packets:read": frozenset({ADMIN, RECRUITER, HIRING_MANAGER}),
    "packets:write": frozenset({ADMIN, RECRUITER, HIRING_MANAGER}),
    "decisions:write": frozenset({HIRING_MANAGER, ADMIN}),
    "templates:read": EVERYONE,
    # Every stored version side by side, with the requisitions pinned to each.
    "templates:history": frozenset({ADMIN}),
    # The directory (names, emails, roles) is for scheduling and managing people;
    # interviewers and hiring managers see panelists' names on interviews instead.
    "users:read": frozenset({ADMIN, RECRUITER}),
    "users:manage": frozenset({ADMIN}),
    "webhooks:manage": frozenset({ADMIN}),
    "self_identification:write": frozenset({ADMIN, RECRUITER}),
    "self_identification:export": frozenset({ADMIN}),
    # A candidate's data rights: everything about them, and its erasure.
    "candidates:export": frozenset({ADMIN}),
    "candidates:erase": frozenset({ADMIN}),
    "reports:read": frozenset({ADMIN}),
    "reports:pipeline": frozenset({ADMIN, RECRUITER, HIRING_MANAGER}),
}

# Roles that see every requisition, candidate and application; the others see
# only what they are assigned to (their requisitions, their interviews).
SEES_EVERYTHING = frozenset({ADMIN, RECRUITER})


class Actor(NamedTuple):
    """Who makes an API request: the holder of its token, read afresh on every request
    (`usecases.users.authenticate`), so a revoked token or a deactivated user is refused
    on the next one. A plain value, not the ORM `User`: use cases read an actor's `id`
    and `role` only (they take a `Viewer`, so mypy holds them to it), and loading a
    `User` through the ORM took about twice the CPU of reading the plain row (issue 18,
    measured on the 100k bench database)."""

    id: int
    email: str
    name: str
    role: str
    active: bool


class Viewer(Protocol):
    """Whom a use case acts for: the API's `Actor`, or the ORM `User` the web pages sign
    in. A use case reads only these of its actor, so either will do."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


def require(role: str, permission: str) -> None:
    """Raise PermissionDeniedError unless `role` holds `permission`."""
    allowed = PERMISSIONS[permission]
    if role not in allowed:
        names = ", ".join(sorted(allowed))
        raise PermissionDeniedError(
            f"The {role} role may not do this ({permission}); it needs one of: {names}."
        )
