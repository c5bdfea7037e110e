"""Signing in and out of the pages: passwords, throttling, expiry, CSRF and cookie flags."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from service.persistence.audit import AuditEvent
from service.usecases.users import deactivate_user, set_password
from tests.web.conftest import PASSWORD, csrf_token, post_form, sign_in, with_password


def test_signed_out_visitor_is_sent_to_sign_in_with_the_page_to_return_to(web_client):
    response = web_client.get("/interviews")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/interviews"


def test_good_password_signs_in_and_returns_to_the_page_asked_for(web_client, interviewer):
    token = csrf_token(web_client.get("/sign-in?next=/interviews"))
    response = web_client.post(
        "/sign-in",
        data={
            "email": interviewer.email.upper(),
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/interviews",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/interviews"
    page = web_client.get("/interviews")
    assert page.status_code == 200
    assert interviewer.name in page.get_data(as_text=True)


def test_sign_in_never_redirects_to_another_site(app, web_client, interviewer):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        browser = app.test_client()  # each sign-in starts a new session, with a new token
        token = csrf_token(browser.get("/sign-in"))
        response = browser.post(
            "/sign-in",
            data={
                "email": interviewer.email,
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["Location"] == "/", target


def test_wrong_password_and_unknown_email_read_the_same(web_client, interviewer):
    wrong = sign_in(web_client, interviewer, "not the password")
    unknown = web_client.post(
        "/sign-in",
        data={
            "email": "nobody@example.com",
            "password": PASSWORD,
            "csrf_token": csrf_token(web_client.get("/sign-in")),
        },
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or password is not right" in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("not right") == unknown.get_data(as_text=True).count(
        "not right"
    )
    assert web_client.get("/interviews").status_code == 302


def test_deactivated_user_cannot_sign_in_and_their_session_ends(web_client, session, interviewer):
    assert sign_in(web_client, interviewer).status_code == 302
    deactivate_user(session, None, interviewer.id)
    assert web_client.get("/interviews").status_code == 302
    refused = sign_in(web_client, interviewer)
    assert refused.status_code == 401
    assert "The email or password is not right" in refused.get_data(as_text=True)


def test_user_without_a_password_cannot_sign_in(web_client, session):
    from tests.factories import UserFactory

    user = UserFactory(role="interviewer")
    assert sign_in(web_client, user, "").status_code == 401


def test_repeated_failures_are_throttled_even_with_the_right_password(app, web_client, interviewer):
    limit = app.extensions["sign_in_throttle"].limit.amount
    for _ in range(limit):
        assert sign_in(web_client, interviewer, "guess").status_code == 401
    throttled = sign_in(web_client, interviewer)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in throttled.get_data(as_text=True)


def test_sign_out_ends_the_session(web_client, interviewer):
    sign_in(web_client, interviewer)
    response = post_form(web_client, "/sign-out", {}, page_path="/interviews")
    assert response.status_code == 302
    assert web_client.get("/interviews").status_code == 302


def test_session_ends_after_its_lifetime_however_active(app, web_client, interviewer):
    sign_in(web_client, interviewer)
    hours = app.config["SETTINGS"].web_session_hours
    with time_machine.travel(timedelta(hours=hours - 1)):
        assert web_client.get("/interviews").status_code == 200
    with time_machine.travel(timedelta(hours=hours, minutes=1)):
        response = web_client.get("/interviews")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in")


def test_password_reset_ends_sessions_begun_before_it(web_client, session, interviewer):
    sign_in(web_client, interviewer)
    with time_machine.travel(timedelta(seconds=2)):
        set_password(session, None, interviewer.id, "a brand new passphrase")
        assert web_client.get("/interviews").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(web_client, interviewer):
    refused = web_client.post("/sign-in", data={"email": interviewer.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert "The form has expired" in refused.get_data(as_text=True)
    forged = web_client.post(
        "/sign-in",
        data={"email": interviewer.email, "password": PASSWORD, "csrf_token": "forged"},
    )
    assert forged.status_code == 400
    assert web_client.get("/interviews").status_code == 302


def test_sign_out_needs_the_csrf_token_too(web_client, interviewer):
    sign_in(web_client, interviewer)
    assert web_client.post("/sign-out").status_code == 400
    assert web_client.get("/interviews").status_code == 200


def test_session_cookie_is_http_only_and_same_site_lax(web_client, interviewer):
    cookie = sign_in(web_client, interviewer).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on localhost (the test client's host)


def test_session_cookie_is_secure_off_loopback(web_client, interviewer):
    token = csrf_token(web_client.get("/sign-in", base_url="http://hiring.example.com"))
    response = web_client.post(
        "/sign-in",
        data={"email": interviewer.email, "password": PASSWORD, "csrf_token": token},
        base_url="http://hiring.example.com",
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_pages_allow_no_inline_script_or_style_and_are_not_cached(web_client):
    page = web_client.get("/sign-in")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and "<style" not in html


def test_password_set_and_reset_are_audited_without_the_secret(session, interviewer):
    set_password(session, None, interviewer.id, "another long passphrase")
    events = (
        session.query(AuditEvent)
        .filter(AuditEvent.entity_id == interviewer.id)
        .order_by(AuditEvent.id)  # without it PostgreSQL may return them in any order
        .all()
    )
    actions = [e.action for e in events if e.entity_type == "user"]
    assert actions[:2] == ["user.password_set", "user.password_reset"]
    for event in events:
        assert "argon2" not in str(event.after) and "passphrase" not in str(event.after)


def test_short_password_is_refused_naming_the_field(session, interviewer):
    import pytest

    from service.domain.errors import RuleViolationError

    with pytest.raises(RuleViolationError) as refused:
        set_password(session, None, interviewer.id, "short")
    assert "password" in refused.value.errors


def test_unknown_page_is_an_html_404(web_client, session):
    user = with_password(session, role="recruiter")
    sign_in(web_client, user)
    response = web_client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "not yours to see" in response.get_data(as_text=True)


def test_the_navigation_shows_only_what_the_role_may_use(web_client, session, interviewer):
    sign_in(web_client, interviewer)
    assert 'href="/interviews"' in web_client.get("/interviews").get_data(as_text=True)
    recruiter_client = web_client.application.test_client()
    recruiter = with_password(session, role="recruiter")
    sign_in(recruiter_client, recruiter)
    home = recruiter_client.get("/", follow_redirects=True)  # to their first page
    assert home.status_code == 200
    assert 'href="/interviews"' not in home.get_data(as_text=True)
