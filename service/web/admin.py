"""The admin's pages: users. Create one (with their first API token, shown once), change
a role, deactivate and reactivate, reset the web password (a new one, shown once),
issue and revoke API tokens (a new one shown once). Every change goes through
`usecases/users.py`, which audits it; secrets are shown on the page that made them and
never again (the page is `no-store`).

For admins only (`users:manage`); anyone else gets the 404 of a page that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.domain.access import ADMIN, ROLES, require
from service.domain.errors import ConflictError, RuleViolationError
from service.domain.passwords import new_password
from service.extensions import db
from service.usecases import users
from service.web import add_nav_item, web
from service.web.session import web_actor

if TYPE_CHECKING:  # pages query nothing themselves; the type is for annotations
    from service.persistence.users import User

add_nav_item("Users", "web.admin_users", (ADMIN,), order=60)


@web.get("/admin/users")
def admin_users() -> ResponseReturnValue:
    """Every user, searchable by name or email, with their tokens."""
    return _users_page()


@web.post("/admin/users")
def create_user() -> ResponseReturnValue:
    """Create a user; their first API token is shown once."""
    actor = _admin()
    form = request.form
    try:
        if not form.get("name", "").strip() or "@" not in form.get("email", ""):
            raise RuleViolationError(
                "Give the person's name and email address.",
                errors={"name": "required", "email": "an email address"},
            )
        user, token = users.create_user(
            db.session, form["email"], form["name"], form.get("role", ""), actor=actor
        )
    except (ConflictError, RuleViolationError) as error:
        return _users_page(error=error, form=form, status=_status(error))
    return _users_page(
        secret=(user, "API token", token),
        notice=f"{user.name} created. Copy the token now: it is not shown again.",
    )


@web.post("/admin/users/<int:user_id>")
def change_user(user_id: int) -> ResponseReturnValue:
    """Change a role, deactivate, reactivate, reset the password, issue or revoke tokens."""
    actor = _admin()
    action = request.form.get("action", "")
    try:
        if action == "role":
            user = users.change_role(db.session, actor, user_id, request.form.get("role", ""))
            flash(f"{user.name} is now {user.role.replace('_', ' ')}.", "success")
        elif action == "deactivate":
            user = users.deactivate_user(db.session, actor, user_id)
            flash(f"{user.name} deactivated; their tokens and sessions ended.", "success")
        elif action == "reactivate":
            user = users.reactivate_user(db.session, actor, user_id)
            flash(f"{user.name} reactivated. Issue a token or reset the password.", "success")
        elif action == "reset_password":
            password = new_password()
            user = users.set_password(db.session, actor, user_id, password)
            return _users_page(
                secret=(user, "New password", password),
                notice=f"{user.name}'s password reset; their sessions ended. "
                "Give them this one now: it is not shown again.",
            )
        elif action == "issue_token":
            issued = users.issue_token(db.session, actor, user_id)
            user = users.get_user(db.session, actor, user_id)
            return _users_page(
                secret=(user, "API token", issued.plain),
                notice=f"A new token for {user.name}. Copy it now: it is not shown again.",
            )
        elif action == "revoke_tokens":
            revoked = users.revoke_tokens(db.session, actor, user_id)
            flash(f"{len(revoked)} token(s) revoked.", "success")
        else:
            raise RuleViolationError("Choose an action.", errors={"action": "unknown action"})
    except (ConflictError, RuleViolationError) as error:
        return _users_page(error=error, status=_status(error))
    return redirect(url_for("web.admin_users", q=request.form.get("q", "")) + f"#user-{user_id}")


def _users_page(
    *,
    error: RuleViolationError | ConflictError | None = None,
    form: object = None,
    secret: tuple[User, str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    actor = _admin()
    q = request.values.get("q", "")
    people = users.list_users(db.session, actor, q=q or None, limit=200).items
    tokens = {u.id: users.list_tokens(db.session, actor, u.id) for u in people}
    return (
        render_template(
            "admin/users.html",
            people=people,
            tokens=tokens,
            roles=ROLES,
            q=q,
            error=error,
            form=form or {},
            secret=secret,
            notice=notice,
        ),
        status,
    )


def _admin() -> User:
    actor = web_actor()
    require(actor.role, "users:manage")
    return actor


def _status(error: Exception) -> int:
    return 409 if isinstance(error, ConflictError) else 422
