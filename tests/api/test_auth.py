"""Authentication (401), role checks (403) and object-level access on every route."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from service.persistence.applications import Application
from service.persistence.users import ApiToken
from service.persistence.visibility import visible_applications_to_role
from service.usecases.users import change_role, deactivate_user, revoke_tokens, rotate_token
from tests.api.conftest import auth
from tests.factories import ApplicationFactory, InterviewFactory, RequisitionFactory, UserFactory


def test_me_returns_the_token_owner(client, recruiter):
    response = client.get("/api/v1/me", headers=auth(recruiter))
    assert response.status_code == 200
    assert response.json == {
        "id": recruiter.id,
        "email": recruiter.email,
        "name": recruiter.name,
        "role": "recruiter",
        "active": True,
    }


def test_missing_token_is_401_problem_with_challenge(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json["detail"]


@pytest.mark.parametrize("header", ["Bearer hp_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_bad_token_is_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401


def test_deactivated_user_is_401(client, session, recruiter):
    deactivate_user(session, None, recruiter.id)
    response = client.get("/api/v1/me", headers=auth(recruiter))
    assert response.status_code == 401


def test_unknown_revoked_and_deactivated_tokens_get_the_same_401(client, session):
    revoked, deactivated = UserFactory(), UserFactory()
    rotate_token(session, None, revoked.id)
    deactivated.active = False  # as before deactivation revoked tokens: the check still holds
    session.flush()
    answers = [
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        for token in ("hp_never-issued", revoked.token, deactivated.token)
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.data for r in answers}) == 1, [r.json["detail"] for r in answers]


def test_a_token_revoked_between_two_requests_is_refused_on_the_second(client, session, recruiter):
    """The token's holder is read on every request, never kept from an earlier one."""
    assert client.get("/api/v1/me", headers=auth(recruiter)).status_code == 200
    revoke_tokens(session, None, recruiter.id)
    assert client.get("/api/v1/me", headers=auth(recruiter)).status_code == 401


def test_a_new_role_applies_from_the_next_request(client, session, recruiter):
    assert client.get("/api/v1/me", headers=auth(recruiter)).json["role"] == "recruiter"
    change_role(session, None, recruiter.id, "interviewer")
    assert client.get("/api/v1/me", headers=auth(recruiter)).json["role"] == "interviewer"
    assert client.get("/api/v1/audit", headers=auth(recruiter)).status_code == 403


def test_deactivating_a_user_revokes_their_tokens(session, recruiter):
    deactivate_user(session, None, recruiter.id)
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == recruiter.id)).all()
    assert tokens
    assert all(t.revoked_at is not None for t in tokens)


def test_rotated_token_replaces_the_old_one(client, session, recruiter):
    new = rotate_token(session, None, recruiter.id)
    assert client.get("/api/v1/me", headers=auth(recruiter)).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_tokens_are_stored_only_as_hashes(session, recruiter):
    stored = [t.token_hash for t in recruiter.tokens]
    assert recruiter.token not in stored
    assert len(recruiter.token) >= 43  # 32 random bytes, base64url


def test_openapi_document_needs_no_token(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "post",
            "/api/v1/requisitions",
            {"title": "x", "hiring_manager_id": 1, "template_key": "backend_engineer"},
        ),
        ("post", "/api/v1/candidates", {"name": "x", "email": "x@example.org"}),
        ("post", "/api/v1/applications", {"candidate_id": 1, "requisition_id": 1}),
        ("get", "/api/v1/audit", None),
    ],
)
@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_roles_that_may_not_act_get_403(client, session, method, path, body, role):
    from tests.factories import UserFactory

    user = UserFactory(role=role)
    response = getattr(client, method)(path, json=body, headers=auth(user))
    assert response.status_code == 403
    assert role in response.json["detail"]


def test_interviewer_sees_only_applications_they_interview_on(client, session, interviewer):
    mine = InterviewFactory(interviewer=interviewer).application
    other = ApplicationFactory()
    listed = client.get("/api/v1/applications", headers=auth(interviewer)).json["items"]
    assert [a["id"] for a in listed] == [mine.id]
    assert (
        client.get(f"/api/v1/applications/{mine.id}", headers=auth(interviewer)).status_code == 200
    )
    assert (
        client.get(f"/api/v1/applications/{other.id}", headers=auth(interviewer)).status_code == 404
    )
    assert (
        client.get(
            f"/api/v1/candidates/{other.candidate_id}", headers=auth(interviewer)
        ).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/candidates/{mine.candidate_id}", headers=auth(interviewer)).status_code
        == 200
    )


@pytest.mark.parametrize("role", ["interviewer", "hiring_manager"])
def test_one_application_is_shown_to_each_viewer_of_a_role_by_their_own_rule(client, session, role):
    """The lookup's statement is built once per role (`access._one_application`); each
    request must still filter by its own viewer, not by the first one's."""
    first, second = UserFactory(role=role), UserFactory(role=role)
    if role == "interviewer":
        theirs = {u.id: InterviewFactory(interviewer=u).application for u in (first, second)}
    else:
        theirs = {
            u.id: ApplicationFactory(requisition=RequisitionFactory(hiring_manager=u))
            for u in (first, second)
        }
    for viewer, other in ((first, second), (second, first), (first, second)):
        mine, not_mine = theirs[viewer.id], theirs[other.id]
        headers = auth(viewer)
        assert client.get(f"/api/v1/applications/{mine.id}", headers=headers).status_code == 200
        assert client.get(f"/api/v1/applications/{not_mine.id}", headers=headers).status_code == 404


def test_a_role_statement_refuses_to_run_without_its_viewer(session):
    """`visible_applications_to_role` leaves the viewer as a required parameter: run
    without it, the statement fails rather than filtering by nobody (or by anyone)."""
    stmt = visible_applications_to_role(select(Application.id), "hiring_manager")
    with pytest.raises(StatementError, match="viewer_id"):
        session.execute(stmt)


def test_hiring_manager_sees_only_their_requisitions(client, session, hiring_manager):
    mine = RequisitionFactory(hiring_manager=hiring_manager)
    other = RequisitionFactory()
    mine_app, other_app = (
        ApplicationFactory(requisition=mine),
        ApplicationFactory(requisition=other),
    )
    headers = auth(hiring_manager)
    assert [r["id"] for r in client.get("/api/v1/requisitions", headers=headers).json["items"]] == [
        mine.id
    ]
    assert client.get(f"/api/v1/requisitions/{other.id}", headers=headers).status_code == 404
    listed = client.get("/api/v1/applications", headers=headers).json["items"]
    assert [a["id"] for a in listed] == [mine_app.id]
    assert client.get(f"/api/v1/applications/{other_app.id}", headers=headers).status_code == 404
