"""Users and API tokens: authenticate, create, deactivate, rotate."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.domain.access import ROLES
from service.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RuleViolationError,
)
from service.domain.tokens import hash_token, new_token
from service.persistence.audit import record_event
from service.persistence.base import snapshot, utcnow
from service.persistence.users import ApiToken, User

# One answer for an unknown, a revoked and a deactivated user's token: a different
# message would tell someone holding a stolen or guessed token that it exists.
INVALID_TOKEN = "The API token is not valid. Ask an admin for a new one."


def authenticate(session: Session, token: str) -> User:
    """The active user holding the unrevoked `token`. Raises AuthenticationError."""
    user = session.scalar(
        select(User)
        .join(ApiToken)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
    if user is None:
        raise AuthenticationError(INVALID_TOKEN)
    return user


def create_user(
    session: Session, email: str, name: str, role: str, actor_id: int | None = None
) -> tuple[User, str]:
    """Create a user and their first token; returns (user, token). Raises ConflictError."""
    if role not in ROLES:
        raise RuleViolationError(
            f"Unknown role '{role}'.", errors={"role": f"one of: {', '.join(ROLES)}"}
        )
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)):
        raise ConflictError(f"A user with email {email} already exists.")
    user = User(email=email, name=name, role=role)
    session.add(user)
    session.flush()
    token = _issue_token(session, user)
    record_event(session, actor_id, "user.created", "user", user.id, after=snapshot(user))
    session.commit()
    return user, token


def deactivate_user(session: Session, email: str, actor_id: int | None = None) -> User:
    """Deactivate the user and revoke every token they hold. Raises NotFoundError."""
    user = _get_by_email(session, email)
    before = snapshot(user)
    user.active = False
    _revoke_tokens(session, user)
    record_event(
        session, actor_id, "user.deactivated", "user", user.id, before=before, after=snapshot(user)
    )
    session.commit()
    return user


def rotate_token(session: Session, email: str, actor_id: int | None = None) -> str:
    """Revoke every token of the user and issue a new one, shown once."""
    user = _get_by_email(session, email)
    _revoke_tokens(session, user)
    token = _issue_token(session, user)
    record_event(session, actor_id, "user.token_rotated", "user", user.id)
    session.commit()
    return token


def _revoke_tokens(session: Session, user: User) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _issue_token(session: Session, user: User) -> str:
    token, token_hash = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=token_hash))
    return token


def _get_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"No user with email {email}.")
    return user
