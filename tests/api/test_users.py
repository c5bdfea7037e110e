"""The user directory and user management over HTTP: who may, what is audited, tokens once."""

import pytest
from sqlalchemy import select

from service.persistence.audit import AuditEvent
from service.persistence.users import ApiToken, User
from tests.api.conftest import auth
from tests.factories import UserFactory


def events(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_directory_lists_active_interviewers_matching_the_search(client, session, recruiter):
    wanted = UserFactory(role="interviewer", name="Ada Lovelace", email="ada@example.com")
    UserFactory(role="interviewer", name="Adam Inactive", active=False)
    UserFactory(role="hiring_manager", name="Ada Manager")
    UserFactory(role="interviewer", name="Grace Hopper")
    response = client.get(
        "/api/v1/users",
        query_string={"role": "interviewer", "active": "true", "q": "ADA"},
        headers=auth(recruiter),
    )
    assert response.status_code == 200, response.json
    assert response.json == {
        "items": [
            {
                "id": wanted.id,
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "role": "interviewer",
                "active": True,
            }
        ],
        "next_cursor": None,
    }


def test_directory_search_matches_the_email_and_treats_wildcards_literally(client, session, admin):
    UserFactory(name="Percent", email="per%cent@example.com")
    UserFactory(name="Other", email="perxcent@example.com")
    response = client.get("/api/v1/users", query_string={"q": "per%c"}, headers=auth(admin))
    assert [u["name"] for u in response.json["items"]] == ["Percent"]


def test_directory_pages_with_next_cursor(client, session, admin):
    for _ in range(3):
        UserFactory(role="interviewer")
    seen, cursor = [], None
    while True:
        query = {"role": "interviewer", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/users", query_string=query, headers=auth(admin)).json
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = session.scalars(select(User.id).where(User.role == "interviewer").order_by(User.id))
    assert seen == list(expected)


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_directory_is_403_for_interviewers_and_hiring_managers(client, session, role):
    user = UserFactory(role=role)
    assert client.get("/api/v1/users", headers=auth(user)).status_code == 403
    assert client.get(f"/api/v1/users/{user.id}", headers=auth(user)).status_code == 403


def test_admin_creates_a_user_whose_token_works_and_is_shown_once(client, session, admin):
    response = client.post(
        "/api/v1/users",
        json={"email": "New@Example.com", "name": "New Person", "role": "interviewer"},
        headers=auth(admin),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["email"] == "new@example.com" and body["active"] is True
    assert body["token"].startswith("hp_")
    assert response.headers["Location"].endswith(f"/api/v1/users/{body['id']}")
    assert client.get("/api/v1/me", headers=bearer(body["token"])).json["id"] == body["id"]
    again = client.get(f"/api/v1/users/{body['id']}", headers=auth(admin)).json
    assert "token" not in again
    [event] = events(session, "user.created")
    assert event.actor_id == admin.id and event.entity_id == body["id"]
    assert body["token"] not in str(event.after)


def test_creating_a_user_with_a_taken_email_is_409(client, session, admin):
    UserFactory(email="taken@example.com")
    response = client.post(
        "/api/v1/users",
        json={"email": "TAKEN@example.com", "name": "Someone", "role": "recruiter"},
        headers=auth(admin),
    )
    assert response.status_code == 409


def test_creating_a_user_with_an_unknown_role_is_422_naming_it(client, admin):
    response = client.post(
        "/api/v1/users",
        json={"email": "x@example.com", "name": "X", "role": "owner"},
        headers=auth(admin),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["role"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/users"),
        ("post", "/api/v1/users/{id}/deactivate"),
        ("post", "/api/v1/users/{id}/reactivate"),
        ("get", "/api/v1/users/{id}/tokens"),
        ("post", "/api/v1/users/{id}/tokens"),
        ("delete", "/api/v1/users/{id}/tokens"),
        ("delete", "/api/v1/users/{id}/tokens/{token_id}"),
    ],
)
@pytest.mark.parametrize("role", ["recruiter", "interviewer", "hiring_manager"])
def test_only_admins_manage_users(client, session, role, method, path):
    actor, target = UserFactory(role=role), UserFactory(role="interviewer")
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == target.id))
    body = (
        {"email": "x@example.com", "name": "X", "role": "admin"}
        if path == "/api/v1/users"
        else None
    )
    response = client.open(
        path.format(id=target.id, token_id=token_id),
        method=method.upper(),
        json=body,
        headers=auth(actor),
    )
    assert response.status_code == 403
    assert session.get(User, target.id).active
    assert client.get("/api/v1/me", headers=auth(target)).status_code == 200


def test_deactivating_revokes_tokens_and_is_audited(client, session, admin):
    target = UserFactory(role="interviewer")
    response = client.post(f"/api/v1/users/{target.id}/deactivate", headers=auth(admin))
    assert response.status_code == 200
    assert response.json["active"] is False
    assert client.get("/api/v1/me", headers=auth(target)).status_code == 401
    [event] = events(session, "user.deactivated")
    assert event.actor_id == admin.id
    assert event.before["active"] is True and event.after["active"] is False
    assert event.after["revoked_token_ids"]


def test_deactivating_twice_changes_nothing_the_second_time(client, session, admin):
    target = UserFactory()
    client.post(f"/api/v1/users/{target.id}/deactivate", headers=auth(admin))
    again = client.post(f"/api/v1/users/{target.id}/deactivate", headers=auth(admin))
    assert again.status_code == 200
    assert len(events(session, "user.deactivated")) == 1


def test_an_admin_cannot_deactivate_themselves(client, session, admin):
    response = client.post(f"/api/v1/users/{admin.id}/deactivate", headers=auth(admin))
    assert response.status_code == 409
    assert client.get("/api/v1/me", headers=auth(admin)).status_code == 200


def test_unknown_user_is_404(client, admin):
    assert client.post("/api/v1/users/999999/deactivate", headers=auth(admin)).status_code == 404
    assert client.post("/api/v1/users/999999/tokens", headers=auth(admin)).status_code == 404


def test_reactivated_user_needs_a_new_token(client, session, admin):
    target = UserFactory()
    client.post(f"/api/v1/users/{target.id}/deactivate", headers=auth(admin))
    response = client.post(f"/api/v1/users/{target.id}/reactivate", headers=auth(admin))
    assert response.status_code == 200 and response.json["active"] is True
    assert client.get("/api/v1/me", headers=auth(target)).status_code == 401
    issued = client.post(f"/api/v1/users/{target.id}/tokens", headers=auth(admin))
    assert issued.status_code == 201
    assert client.get("/api/v1/me", headers=bearer(issued.json["token"])).status_code == 200
    [event] = events(session, "user.reactivated")
    assert event.actor_id == admin.id and event.after["active"] is True


def test_issuing_a_token_keeps_the_others_and_audits_without_the_secret(client, session, admin):
    target = UserFactory()
    response = client.post(f"/api/v1/users/{target.id}/tokens", headers=auth(admin))
    assert response.status_code == 201
    assert set(response.json) == {"id", "user_id", "created_at", "token"}
    assert client.get("/api/v1/me", headers=auth(target)).status_code == 200
    [event] = events(session, "user.token_issued")
    assert event.after == {"token_id": response.json["id"]}


def test_issuing_a_token_to_a_deactivated_user_is_409(client, session, admin):
    target = UserFactory(active=False)
    assert client.post(f"/api/v1/users/{target.id}/tokens", headers=auth(admin)).status_code == 409


def test_token_list_shows_ids_and_dates_never_hashes(client, session, admin):
    target = UserFactory()
    client.post(f"/api/v1/users/{target.id}/tokens", headers=auth(admin))
    response = client.get(f"/api/v1/users/{target.id}/tokens", headers=auth(admin))
    assert response.status_code == 200
    assert len(response.json["items"]) == 2
    hashes = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == target.id))
    assert all(h not in response.get_data(as_text=True) for h in hashes)
    assert all(
        set(t) == {"id", "user_id", "created_at", "revoked_at"} for t in response.json["items"]
    )


def test_revoking_one_token_leaves_the_others(client, session, admin):
    target = UserFactory()
    issued = client.post(f"/api/v1/users/{target.id}/tokens", headers=auth(admin)).json
    response = client.delete(
        f"/api/v1/users/{target.id}/tokens/{issued['id']}", headers=auth(admin)
    )
    assert response.status_code == 200
    assert response.json == {"revoked_token_ids": [issued["id"]]}
    assert client.get("/api/v1/me", headers=bearer(issued["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=auth(target)).status_code == 200
    [event] = events(session, "user.tokens_revoked")
    assert event.after == {"revoked_token_ids": [issued["id"]]}


def test_revoking_all_tokens_locks_the_user_out_and_a_second_call_revokes_none(
    client, session, admin
):
    target = UserFactory()
    client.post(f"/api/v1/users/{target.id}/tokens", headers=auth(admin))
    first = client.delete(f"/api/v1/users/{target.id}/tokens", headers=auth(admin))
    assert first.status_code == 200 and len(first.json["revoked_token_ids"]) == 2
    assert client.get("/api/v1/me", headers=auth(target)).status_code == 401
    second = client.delete(f"/api/v1/users/{target.id}/tokens", headers=auth(admin))
    assert second.json == {"revoked_token_ids": []}
    assert len(events(session, "user.tokens_revoked")) == 1


def test_revoking_another_users_token_by_id_is_404(client, session, admin):
    target, other = UserFactory(), UserFactory()
    other_token = session.scalar(select(ApiToken.id).where(ApiToken.user_id == other.id))
    response = client.delete(f"/api/v1/users/{target.id}/tokens/{other_token}", headers=auth(admin))
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=auth(other)).status_code == 200
