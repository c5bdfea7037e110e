"""The admin's users page through the test client: only admins, secrets shown once,
every change audited through the use cases."""

from __future__ import annotations

import pytest

from service.persistence.audit import AuditEvent
from service.persistence.users import User
from service.usecases.users import authenticate, sign_in_with_password
from tests.web.conftest import post_form, sign_in, with_password

USERS = "/admin/users"


@pytest.fixture
def admin(session):
    return with_password(session, role="admin")


def events(session, user_id):
    return [
        e.action for e in session.query(AuditEvent).filter_by(entity_type="user", entity_id=user_id)
    ]


@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_only_admins_see_the_users_page(web_client, session, role):
    sign_in(web_client, with_password(session, role=role))
    assert web_client.get(USERS).status_code == 404
    page = "/pipeline" if role == "recruiter" else "/interviews"
    created = post_form(
        web_client, USERS, {"name": "Eve", "email": "eve@example.com", "role": "admin"}, page
    )
    assert created.status_code == 404
    assert session.query(User).filter_by(email="eve@example.com").count() == 0


def test_create_a_user_shows_their_token_once_and_it_works(web_client, session, admin):
    sign_in(web_client, admin)
    response = post_form(
        web_client, USERS, {"name": "Nia New", "email": "nia@example.com", "role": "interviewer"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = html.split('id="secret-value">')[1].split("<")[0]
    user = session.query(User).filter_by(email="nia@example.com").one()
    assert authenticate(session, token).id == user.id
    assert token not in web_client.get(USERS).get_data(as_text=True)  # never again
    assert "user.created" in events(session, user.id)


def test_role_deactivate_reactivate_reset_and_tokens_are_audited(web_client, session, admin):
    person = with_password(session, role="interviewer")
    sign_in(web_client, admin)
    path = f"{USERS}/{person.id}"
    assert (
        post_form(web_client, path, {"action": "role", "role": "hiring_manager"}, USERS).status_code
        == 302
    )
    session.refresh(person)
    assert person.role == "hiring_manager"
    reset = post_form(web_client, path, {"action": "reset_password"}, USERS)
    password = reset.get_data(as_text=True).split('id="secret-value">')[1].split("<")[0]
    session.expire_all()
    assert sign_in_with_password(session, person.email, password).id == person.id
    issued = post_form(web_client, path, {"action": "issue_token"}, USERS)
    token = issued.get_data(as_text=True).split('id="secret-value">')[1].split("<")[0]
    assert authenticate(session, token).id == person.id
    assert post_form(web_client, path, {"action": "revoke_tokens"}, USERS).status_code == 302
    assert post_form(web_client, path, {"action": "deactivate"}, USERS).status_code == 302
    session.refresh(person)
    assert person.active is False
    assert post_form(web_client, path, {"action": "reactivate"}, USERS).status_code == 302
    session.refresh(person)
    assert person.active is True
    assert {
        "user.role_changed",
        "user.password_reset",
        "user.deactivated",
        "user.reactivated",
    } <= set(events(session, person.id))


def test_a_taken_email_and_an_unknown_role_are_refused_naming_the_problem(
    web_client, session, admin
):
    sign_in(web_client, admin)
    taken = post_form(web_client, USERS, {"name": "Dup", "email": admin.email, "role": "admin"})
    assert taken.status_code == 409 and "already exists" in taken.get_data(as_text=True)
    unknown = post_form(web_client, USERS, {"name": "X", "email": "x@example.com", "role": "boss"})
    assert unknown.status_code == 422 and "Unknown role" in unknown.get_data(as_text=True)


def test_a_change_without_its_csrf_token_is_refused(web_client, session, admin):
    person = with_password(session, role="interviewer")
    sign_in(web_client, admin)
    response = web_client.post(f"{USERS}/{person.id}", data={"action": "deactivate"})
    assert response.status_code == 400
    session.refresh(person)
    assert person.active is True
