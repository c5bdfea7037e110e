"""Repeated failed token checks from one client address are throttled (429, Retry-After).

These run on the in-process counters (the app fixture has no Redis); the Redis
storage is tested in tests/integration/test_auth_throttle_redis.py.
"""

import logging
from dataclasses import replace

import pytest

from service import create_app, jobs
from service.config import SettingsError
from tests.api.conftest import auth

LIMIT = 10  # the default AUTH_FAILURE_LIMIT, 10/minute
ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
NEIGHBOUR = {"REMOTE_ADDR": "198.51.100.20"}
BAD_TOKEN = {"Authorization": "Bearer hp_guessed-token"}


def fail(client, times, environ=ATTACKER):
    for _ in range(times):
        response = client.get("/api/v1/me", headers=BAD_TOKEN, environ_base=environ)
        assert response.status_code == 401


def test_failures_up_to_the_limit_are_401(client):
    fail(client, LIMIT)


def test_one_failure_more_than_the_limit_is_429_problem_with_retry_after(client):
    fail(client, LIMIT)
    response = client.get("/api/v1/me", headers=BAD_TOKEN, environ_base=ATTACKER)
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["Retry-After"] in response.json["detail"]


def test_a_throttled_address_is_refused_even_with_a_valid_token(client, recruiter):
    fail(client, LIMIT)
    response = client.get("/api/v1/me", headers=auth(recruiter), environ_base=ATTACKER)
    assert response.status_code == 429


def test_another_address_is_not_throttled_by_their_failures(client, recruiter):
    fail(client, LIMIT)
    assert client.get("/api/v1/me", headers=BAD_TOKEN, environ_base=ATTACKER).status_code == 429
    response = client.get("/api/v1/me", headers=auth(recruiter), environ_base=NEIGHBOUR)
    assert response.status_code == 200


def test_requests_without_a_token_are_not_counted(client, recruiter):
    for _ in range(LIMIT + 5):
        assert client.get("/api/v1/me", environ_base=ATTACKER).status_code == 401
    response = client.get("/api/v1/me", headers=auth(recruiter), environ_base=ATTACKER)
    assert response.status_code == 200


def test_the_openapi_document_is_never_throttled(client):
    fail(client, LIMIT)
    assert client.get("/api/v1/openapi.json", environ_base=ATTACKER).status_code == 200


@pytest.fixture
def app_with(app, session_factory):
    """Another app on the test's transaction, with some settings changed."""

    def make(**changes):
        other = create_app(
            {"SETTINGS": replace(app.config["SETTINGS"], **changes), "TESTING": True}
        )
        other.extensions["db"] = session_factory
        return other

    yield make
    jobs.configure(app.config["SETTINGS"].redis_url)  # create_app configured the queues


def test_the_limit_is_a_setting(app_with, session):
    client = app_with(auth_failure_limit="2/hour").test_client()
    fail(client, 2)
    response = client.get("/api/v1/me", headers=BAD_TOKEN, environ_base=ATTACKER)
    assert response.status_code == 429
    assert 3500 < int(response.headers["Retry-After"]) <= 3600


def test_unreachable_redis_falls_back_to_counting_in_process(app_with, session, caplog):
    client = app_with(redis_url="redis://127.0.0.1:1/0").test_client()
    with caplog.at_level(logging.WARNING, logger="service.http.auth"):
        fail(client, LIMIT)
        response = client.get("/api/v1/me", headers=BAD_TOKEN, environ_base=ATTACKER)
    assert response.status_code == 429
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize("limit", ["ten a minute", ""])
def test_an_unreadable_limit_refuses_to_start(app_with, limit):
    with pytest.raises(SettingsError, match="AUTH_FAILURE_LIMIT"):
        app_with(auth_failure_limit=limit)
