"""Fixtures for the pages through Flask's test client: users with passwords, signing in,
and the CSRF token a page's form carries."""

from __future__ import annotations

import re
import time

import pytest

from service.usecases.users import set_password
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def csrf_token(page) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


CSRF_FIELD = re.compile(r'name="csrf_token" value="[^"]+"')


def without_csrf_tokens(html: str) -> str:
    """The page with its forms' CSRF tokens blanked (each render masks the token anew)."""
    return CSRF_FIELD.sub('name="csrf_token" value=""', html)


def signed_in_page_session(client, user) -> None:
    """The web session `start_web_session` makes, set directly (no password needed)."""
    with client.session_transaction() as web_session:
        web_session.update(user_id=user.id, auth_method="password", signed_in_at=int(time.time()))


def sign_in(client, user, password: str = PASSWORD):
    token = csrf_token(client.get("/sign-in"))
    return client.post(
        "/sign-in", data={"email": user.email, "password": password, "csrf_token": token}
    )


def post_form(client, path: str, data: dict, page_path: str | None = None, **kwargs):
    """POST a form with the CSRF token of the page it is on (`page_path`, else `path`)."""
    token = csrf_token(client.get(page_path or path))
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def with_password(session, **kwargs):
    user = UserFactory(**kwargs)
    set_password(session, None, user.id, PASSWORD)
    return user


@pytest.fixture
def web_client(client, app):
    app.extensions["sign_in_throttle"].reset()
    return client


@pytest.fixture
def interviewer(session):
    return with_password(session, role="interviewer")
