"""Signing in and out of the web pages, and who is signed in.

The session lives in Flask's signed cookie (HttpOnly, SameSite=Lax, Secure off
loopback) and holds only a user id, how they signed in and when
(`SESSION_KEYS`). Every request resolves it through `current_web_user`, which
asks `usecases.users.signed_in_user`: a deactivated user, a password reset since
sign-in, or a session older than `WEB_SESSION_HOURS` ends it. Another way in
(OIDC, say) is one more view that checks the person and calls
`start_web_session(user, "oidc")`; nothing else changes.

Every page is signed-in only unless its view is marked `@public`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from service.domain.errors import AuthenticationError
from service.extensions import db
from service.http.auth import FailedTokenThrottle
from service.usecases.users import sign_in_with_password, signed_in_user
from service.web import wants_json, web

if TYPE_CHECKING:
    from service.persistence.users import User

SESSION_KEYS = ("user_id", "auth_method", "signed_in_at")
F = TypeVar("F", bound=Callable[..., object])


def public(view: F) -> F:
    """A page anyone may open, signed in or not."""
    view.public = True  # type: ignore[attr-defined]
    return view


def start_web_session(user: User, method: str) -> None:
    """Begin a session for `user`, who just proved who they are by `method`."""
    session.clear()  # a fresh session: nothing from before sign-in carries over
    session.permanent = True
    session.update(user_id=user.id, auth_method=method, signed_in_at=int(time.time()))


def end_web_session() -> None:
    session.clear()


def current_web_user() -> User | None:
    """The signed-in user, or None (no session, or one that has ended)."""
    if "web_user" not in g:
        g.web_user = _resolve_session()
    user: User | None = g.web_user
    return user


def web_actor() -> User:
    """The signed-in user, in a view that `_require_sign_in` let through."""
    user = current_web_user()
    assert user is not None, "a signed-in page ran without a signed-in user"
    return user


def _resolve_session() -> User | None:
    if not all(key in session for key in SESSION_KEYS):
        return None
    signed_in_at = datetime.fromtimestamp(session["signed_in_at"], UTC)
    age = datetime.now(UTC) - signed_in_at
    if age > current_app.permanent_session_lifetime:
        return None
    return signed_in_user(db.session, session["user_id"], signed_in_at)


@web.before_request
def _require_sign_in() -> Response | None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "public", False) or request.endpoint == "web.static":
        return None
    if current_web_user() is not None:
        return None
    ended = session.get("user_id") is not None
    if ended:
        end_web_session()
    if wants_json():
        detail = "Your session has ended; sign in again in another tab, then save."
        return Response(json.dumps({"detail": detail}), 401, mimetype="application/json")
    if ended:
        flash("Your session has ended; sign in again.", "info")
    return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))


@web.context_processor
def _signed_in_user() -> dict[str, object]:
    from service.web import nav_for

    user = current_web_user()
    return {"web_user": user, "nav": nav_for(user.role) if user else []}


@web.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    """The sign-in form; a good email and password start a session."""
    next_page = _safe_next(request.values.get("next", ""))
    if current_web_user() is not None and request.method == "GET":
        return redirect(next_page)
    email = request.form.get("email", "")
    if request.method == "POST":
        retry_after = _throttle().retry_after(_client())
        if retry_after is not None:
            message = (
                f"Too many failed sign-ins from your address; try again in {retry_after} seconds."
            )
            return _sign_in_page(email, next_page, message, 429, {"Retry-After": str(retry_after)})
        try:
            user = sign_in_with_password(db.session, email, request.form.get("password", ""))
        except AuthenticationError as error:
            _throttle().record_failure(_client())
            return _sign_in_page(email, next_page, error.detail, 401)
        start_web_session(user, "password")
        return redirect(next_page)
    return _sign_in_page(email, next_page, None, 200)


@web.post("/sign-out")
@public
def sign_out() -> ResponseReturnValue:
    """End the session."""
    end_web_session()
    flash("You are signed out.", "info")
    return redirect(url_for("web.sign_in"))


@web.get("/")
def home() -> ResponseReturnValue:
    """Each role's first page."""
    from service.web import nav_for

    items = nav_for(web_actor().role)
    if items:
        return redirect(url_for(items[0].endpoint))
    return render_template("home.html")


def _sign_in_page(
    email: str,
    next_page: str,
    error: str | None,
    status: int,
    headers: dict[str, str] | None = None,
) -> ResponseReturnValue:
    body = render_template("sign_in.html", email=email, next_page=next_page, error=error)
    return body, status, headers or {}


def _safe_next(target: str) -> str:
    """Only a path on this site: never `//evil.example` or `https://…`."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return url_for("web.home")
    if "\\" in target:
        return url_for("web.home")
    return target


def _throttle() -> FailedTokenThrottle:
    throttle: FailedTokenThrottle = current_app.extensions["sign_in_throttle"]
    return throttle


def _client() -> str:
    return request.remote_addr or "unknown"
