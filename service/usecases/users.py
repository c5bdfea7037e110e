"""Users, API tokens and web passwords: authenticate, list, create, deactivate and
reactivate, issue and revoke tokens, set passwords and sign in.

`actor` is the user making the change over HTTP, whose permission is checked; the
`hiring users ...` command passes None: whoever runs it on the server already holds
the database, and the audit log records the change without an actor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from service.domain.access import ROLES, Actor, Viewer, require
from service.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RuleViolationError,
)
from service.domain.passwords import check_password, hash_password, needs_rehash, verify_password
from service.domain.tokens import hash_token, new_token
from service.persistence.audit import record_event
from service.persistence.base import name_or_email_contains, plain_rows, snapshot, utcnow
from service.persistence.paging import Page, paginate
from service.persistence.users import ApiToken, User

# One answer for an unknown, a revoked and a deactivated user's token: a different
# message would tell someone holding a stolen or guessed token that it exists.
INVALID_TOKEN = "The API token is not valid. Ask an admin for a new one."
# Likewise for sign-in: unknown email, wrong password, no password set and a
# deactivated user all read the same.
INVALID_SIGN_IN = "The email or password is not right. Check both, or ask an admin to reset it."
# Never in an audit event's snapshot.
_SECRET_COLUMNS = frozenset({"password_hash"})
# Built once: every API request runs it, and building and keying the statement anew
# was a third of its cost (BENCHMARKS.md, "Issue 18: the request path"). `Actor`'s
# columns, in its order.
_TOKEN_HOLDER = (
    select(User.id, User.email, User.name, User.role, User.active)
    .join(ApiToken)
    .where(
        ApiToken.token_hash == bindparam("token_hash", required=True),
        ApiToken.revoked_at.is_(None),
        User.active.is_(True),
    )
)


def authenticate(session: Session, token: str) -> Actor:
    """The active user holding the unrevoked `token`, as read now. Raises AuthenticationError.

    A plain row (`plain_rows`), not an ORM `User`: making one cost more than the lookup.
    """
    row = plain_rows(session, _TOKEN_HOLDER, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise AuthenticationError(INVALID_TOKEN)
    return Actor._make(row)


def sign_in_with_password(session: Session, email: str, password: str) -> User:
    """The active user with this email and password. Raises AuthenticationError.

    A hash made with weaker parameters than today's is replaced on success.
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches or not user.active:
        raise AuthenticationError(INVALID_SIGN_IN)
    assert user.password_hash is not None  # verify_password is False without one
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record_event(session, user.id, "user.signed_in", "user", user.id, after={"method": "password"})
    session.commit()
    return user


def signed_in_user(session: Session, user_id: int, signed_in_at: datetime) -> User | None:
    """The user a web session names, if they are still active and the session began after
    their password last changed (a reset ends every session); otherwise None."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    if user.password_changed_at is not None and signed_in_at < user.password_changed_at:
        return None
    return user


def set_password(session: Session, actor: Viewer | None, user_id: int, password: str) -> User:
    """Set or reset a user's web password; their open sessions end. The event records
    that it changed, never the password or its hash.

    Raises PermissionDeniedError, NotFoundError, RuleViolationError (too short or long).
    """
    _require_manager(actor)
    user = _get(session, user_id)
    check_password(password)
    had_password = user.password_hash is not None
    user.password_hash = hash_password(password)
    # Whole seconds: a session's sign-in time is kept to the second, and a session begun
    # in the same second as the change stays valid.
    user.password_changed_at = utcnow().replace(microsecond=0)
    record_event(
        session,
        _id(actor),
        "user.password_reset" if had_password else "user.password_set",
        "user",
        user.id,
        after={"password_changed_at": user.password_changed_at.isoformat()},
    )
    session.commit()
    return user


def list_users(
    session: Session,
    actor: Viewer,
    *,
    role: str | None = None,
    active: bool | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """The user directory (admins, recruiters), filtered. Raises PermissionDeniedError."""
    require(actor.role, "users:read")
    stmt = select(User)
    if role:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if q and q.strip():
        stmt = stmt.where(name_or_email_contains(User.name, User.email, q))
    return paginate(session, stmt, User.id, cursor, limit)


def get_user(session: Session, actor: Viewer, user_id: int) -> User:
    """One user of the directory. Raises PermissionDeniedError, NotFoundError."""
    require(actor.role, "users:read")
    return _get(session, user_id)


def find_user(session: Session, email: str) -> User:
    """The user with this email (for the command line). Raises NotFoundError."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"No user with email {email}.")
    return user


def create_user(
    session: Session, email: str, name: str, role: str, actor: Viewer | None = None
) -> tuple[User, str]:
    """Create a user and their first token; returns (user, token).

    Raises PermissionDeniedError, ConflictError (email taken), RuleViolationError.
    """
    _require_manager(actor)
    if role not in ROLES:
        raise RuleViolationError(
            f"Unknown role '{role}'.", errors={"role": f"one of: {', '.join(ROLES)}"}
        )
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)):
        raise ConflictError(f"A user with email {email} already exists.")
    user = User(email=email, name=name.strip(), role=role)
    session.add(user)
    session.flush()
    token = _issue_token(session, user)
    record_event(session, _id(actor), "user.created", "user", user.id, after=_snapshot(user))
    session.commit()
    return user, token.plain


def change_role(session: Session, actor: Viewer | None, user_id: int, role: str) -> User:
    """Give the user another role; the same role is a no-op. Audited with before and after.

    Raises PermissionDeniedError, NotFoundError, RuleViolationError (unknown role).
    """
    _require_manager(actor)
    if role not in ROLES:
        raise RuleViolationError(
            f"Unknown role '{role}'.", errors={"role": f"one of: {', '.join(ROLES)}"}
        )
    user = _get(session, user_id)
    if user.role == role:
        return user
    before = _snapshot(user)
    user.role = role
    record_event(
        session,
        _id(actor),
        "user.role_changed",
        "user",
        user.id,
        before=before,
        after=_snapshot(user),
    )
    session.commit()
    return user


def deactivate_user(session: Session, actor: Viewer | None, user_id: int) -> User:
    """Deactivate the user and revoke every token they hold; already inactive is a no-op.

    Raises PermissionDeniedError, NotFoundError, ConflictError (deactivating yourself).
    """
    _require_manager(actor)
    user = _get(session, user_id)
    if actor is not None and actor.id == user.id:
        raise ConflictError(
            "You cannot deactivate yourself; ask another admin, so that someone can still "
            "manage users."
        )
    if not user.active:
        return user
    before = _snapshot(user)
    user.active = False
    revoked = _revoke_tokens(session, user)
    record_event(
        session,
        _id(actor),
        "user.deactivated",
        "user",
        user.id,
        before=before,
        after={**_snapshot(user), "revoked_token_ids": revoked},
    )
    session.commit()
    return user


def reactivate_user(session: Session, actor: Viewer | None, user_id: int) -> User:
    """Let a deactivated user back in; already active is a no-op. Their old tokens stay
    revoked: issue a new one. Raises PermissionDeniedError, NotFoundError."""
    _require_manager(actor)
    user = _get(session, user_id)
    if user.active:
        return user
    before = _snapshot(user)
    user.active = True
    record_event(
        session,
        _id(actor),
        "user.reactivated",
        "user",
        user.id,
        before=before,
        after=_snapshot(user),
    )
    session.commit()
    return user


def list_tokens(session: Session, actor: Viewer, user_id: int) -> list[ApiToken]:
    """The user's tokens (ids and dates, never a secret or its hash), newest first."""
    require(actor.role, "users:manage")
    user = _get(session, user_id)
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def issue_token(session: Session, actor: Viewer | None, user_id: int) -> IssuedToken:
    """A new token for an active user, shown once; their other tokens keep working.

    Raises PermissionDeniedError, NotFoundError, ConflictError (user deactivated).
    """
    _require_manager(actor)
    user = _get(session, user_id)
    if not user.active:
        raise ConflictError(
            f"User {user.id} is deactivated, so a token would not work; reactivate them first."
        )
    issued = _issue_token(session, user)
    record_event(
        session, _id(actor), "user.token_issued", "user", user.id, after={"token_id": issued.id}
    )
    session.commit()
    return issued


def revoke_tokens(
    session: Session, actor: Viewer | None, user_id: int, token_id: int | None = None
) -> list[int]:
    """Revoke one token of the user, or all of them; returns the ids revoked now.

    Revoking a token already revoked changes nothing. Raises PermissionDeniedError,
    NotFoundError (no such user, or no such token of theirs).
    """
    _require_manager(actor)
    user = _get(session, user_id)
    if (
        token_id is not None
        and session.scalar(
            select(ApiToken.id).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
        )
        is None
    ):
        raise NotFoundError(f"User {user.id} has no token {token_id}.")
    revoked = _revoke_tokens(session, user, token_id)
    if revoked:
        record_event(
            session,
            _id(actor),
            "user.tokens_revoked",
            "user",
            user.id,
            after={"revoked_token_ids": revoked},
        )
    session.commit()
    return revoked


def rotate_token(session: Session, actor: Viewer | None, user_id: int) -> str:
    """Revoke every token of the user and issue a new one, shown once."""
    _require_manager(actor)
    user = _get(session, user_id)
    revoked = _revoke_tokens(session, user)
    issued = _issue_token(session, user)
    record_event(
        session,
        _id(actor),
        "user.token_rotated",
        "user",
        user.id,
        after={"token_id": issued.id, "revoked_token_ids": revoked},
    )
    session.commit()
    return issued.plain


class IssuedToken:
    """A token just issued: its row's id and dates, and the secret, which is never stored."""

    def __init__(self, row: ApiToken, plain: str) -> None:
        self.id = row.id
        self.user_id = row.user_id
        self.created_at = row.created_at
        self.plain = plain


def _require_manager(actor: Viewer | None) -> None:
    if actor is not None:
        require(actor.role, "users:manage")


def _snapshot(user: User) -> dict[str, Any]:
    return snapshot(user, exclude=_SECRET_COLUMNS)


def _id(actor: Viewer | None) -> int | None:
    return actor.id if actor is not None else None


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"User {user_id} does not exist.")
    return user


def _revoke_tokens(session: Session, user: User, token_id: int | None = None) -> list[int]:
    stmt = select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        stmt = stmt.where(ApiToken.id == token_id)
    ids = sorted(session.scalars(stmt))
    if ids:
        session.execute(
            update(ApiToken).where(ApiToken.id.in_(ids)).values(revoked_at=utcnow()),
            execution_options={"synchronize_session": "fetch"},
        )
    return ids


def _issue_token(session: Session, user: User) -> IssuedToken:
    token, token_hash = new_token()
    row = ApiToken(user_id=user.id, token_hash=token_hash)
    session.add(row)
    session.flush()
    return IssuedToken(row, token)
