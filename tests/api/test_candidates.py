"""Candidates over HTTP: create, unique email, search, update, validation."""

import pytest
from sqlalchemy import func, select

from service.persistence.candidates import Candidate
from tests.api.conftest import auth
from tests.factories import CandidateFactory


def fields(problem) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem.get("errors", [])}


def candidate_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Candidate))


def search(client, user, q) -> list[int]:
    response = client.get("/api/v1/candidates", query_string={"q": q}, headers=auth(user))
    assert response.status_code == 200
    return [c["id"] for c in response.json["items"]]


def test_create_answers_201_with_location_and_the_candidate(client, session, recruiter):
    body = {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "phone": "+44 1",
        "source": "referral",
        "links": ["https://github.com/ada"],
        "resume_text": "Notes",
    }
    response = client.post("/api/v1/candidates", json=body, headers=auth(recruiter))
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/candidates/{response.json['id']}")
    assert {k: response.json[k] for k in body} == body
    assert session.get(Candidate, response.json["id"]).email == "ada@example.org"


def test_create_stores_the_email_lower_cased(client, recruiter):
    response = client.post(
        "/api/v1/candidates",
        json={"name": "Ada", "email": "Ada@Example.ORG"},
        headers=auth(recruiter),
    )
    assert response.json["email"] == "ada@example.org"


def test_duplicate_email_is_409_naming_the_existing_candidate(client, session, recruiter):
    existing = CandidateFactory(email="taken@example.org")
    response = client.post(
        "/api/v1/candidates",
        json={"name": "Other", "email": "taken@example.org"},
        headers=auth(recruiter),
    )
    assert response.status_code == 409
    assert response.json["existing_candidate_id"] == existing.id
    assert f"candidate {existing.id}" in response.json["detail"]
    assert "email" in fields(response.json)
    assert candidate_count(session) == 1


@pytest.mark.parametrize(("first", "second"), [("A@x.org", "a@x.org"), ("a@x.org", "A@X.ORG")])
def test_duplicate_email_check_ignores_case(client, session, recruiter, first, second):
    created = client.post(
        "/api/v1/candidates", json={"name": "One", "email": first}, headers=auth(recruiter)
    )
    response = client.post(
        "/api/v1/candidates", json={"name": "Two", "email": second}, headers=auth(recruiter)
    )
    assert response.status_code == 409
    assert response.json["existing_candidate_id"] == created.json["id"]


def test_search_matches_name_case_insensitively(client, session, recruiter):
    grace = CandidateFactory(name="Grace Hopper")
    CandidateFactory(name="Alan Turing")
    assert search(client, recruiter, "hOPPer") == [grace.id]


def test_search_matches_email_case_insensitively(client, session, recruiter):
    grace = CandidateFactory(email="grace@navy.example")
    CandidateFactory(email="alan@bletchley.example")
    assert search(client, recruiter, "NAVY") == [grace.id]


def test_search_treats_percent_as_a_literal(client, session, recruiter):
    literal = CandidateFactory(name="100% Remote")
    CandidateFactory(name="100 Remote")
    assert search(client, recruiter, "100%") == [literal.id]
    assert search(client, recruiter, "%") == [literal.id]


def test_search_treats_underscore_as_a_literal(client, session, recruiter):
    literal = CandidateFactory(email="a_b@example.org")
    CandidateFactory(email="axb@example.org")
    assert search(client, recruiter, "a_b") == [literal.id]


def test_search_treats_backslash_as_a_literal(client, session, recruiter):
    literal = CandidateFactory(name="Back\\slash")
    CandidateFactory(name="Backslash")
    assert search(client, recruiter, "k\\s") == [literal.id]


def test_list_without_q_pages_through_every_candidate(client, session, recruiter):
    created = [CandidateFactory().id for _ in range(3)]
    first = client.get(
        "/api/v1/candidates", query_string={"limit": 2}, headers=auth(recruiter)
    ).json
    second = client.get(
        "/api/v1/candidates",
        query_string={"limit": 2, "cursor": first["next_cursor"]},
        headers=auth(recruiter),
    ).json
    assert [c["id"] for c in first["items"] + second["items"]] == created
    assert second["next_cursor"] is None


def test_get_returns_the_candidate(client, session, recruiter):
    candidate = CandidateFactory(name="Katherine Johnson")
    response = client.get(f"/api/v1/candidates/{candidate.id}", headers=auth(recruiter))
    assert response.status_code == 200
    assert response.json["name"] == "Katherine Johnson"


def test_update_changes_only_the_given_fields(client, session, recruiter):
    candidate = CandidateFactory(name="Old Name", phone="+1 555")
    response = client.patch(
        f"/api/v1/candidates/{candidate.id}", json={"name": "New Name"}, headers=auth(recruiter)
    )
    assert response.status_code == 200
    session.refresh(candidate)
    assert (candidate.name, candidate.phone) == ("New Name", "+1 555")


def test_update_to_a_taken_email_is_409_naming_the_owner(client, session, recruiter):
    owner = CandidateFactory(email="owner@example.org")
    candidate = CandidateFactory(email="mine@example.org")
    response = client.patch(
        f"/api/v1/candidates/{candidate.id}",
        json={"email": "OWNER@example.org"},
        headers=auth(recruiter),
    )
    assert response.status_code == 409
    assert response.json["existing_candidate_id"] == owner.id
    session.refresh(candidate)
    assert candidate.email == "mine@example.org"


def test_update_to_own_email_in_other_case_is_allowed(client, session, recruiter):
    candidate = CandidateFactory(email="mine@example.org")
    response = client.patch(
        f"/api/v1/candidates/{candidate.id}",
        json={"email": "Mine@Example.org"},
        headers=auth(recruiter),
    )
    assert response.status_code == 200
    assert response.json["email"] == "mine@example.org"


def test_update_with_empty_body_is_422(client, session, recruiter):
    candidate = CandidateFactory()
    response = client.patch(f"/api/v1/candidates/{candidate.id}", json={}, headers=auth(recruiter))
    assert response.status_code == 422
    assert "at least one field" in response.json["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ada", "email": "not-an-email"}, "email"),
        ({"name": "Ada", "email": "ada@example.org", "links": ["javascript:alert(1)"]}, "links[0]"),
        (
            {"name": "Ada", "email": "ada@example.org", "links": ["https://ok.example", "nope"]},
            "links[1]",
        ),
        ({"name": "Ada", "email": "ada@example.org", "links": "https://one.example"}, "links"),
        ({"name": 42, "email": "ada@example.org"}, "name"),
        ({"name": "Ada", "email": ["ada@example.org"]}, "email"),
        ({"name": "Ada", "email": "ada@example.org", "phone": None}, "phone"),
        ({"email": "ada@example.org"}, "name"),
        ({"name": "", "email": "ada@example.org"}, "name"),
        ({"name": "Ada"}, "email"),
    ],
)
def test_create_with_invalid_field_is_422_naming_it(client, session, recruiter, body, field):
    response = client.post("/api/v1/candidates", json=body, headers=auth(recruiter))
    assert response.status_code == 422
    assert field in fields(response.json)
    assert field in response.json["detail"]
    assert candidate_count(session) == 0
