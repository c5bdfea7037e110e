"""The failed-token counters live in Redis when REDIS_URL is set: shared by every process."""

from dataclasses import replace

import pytest

from service import create_app, jobs

pytestmark = pytest.mark.integration

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
BAD_TOKEN = {"Authorization": "Bearer hp_guessed-token"}


def test_failures_counted_by_one_process_throttle_another(live_app, redis_url):
    """Two apps stand for two gunicorn workers (or hosts) on one Redis."""
    settings = replace(live_app.config["SETTINGS"], auth_failure_limit="3/minute")
    first = create_app({"SETTINGS": settings, "TESTING": True})
    second = create_app({"SETTINGS": settings, "TESTING": True})
    try:
        for _ in range(3):
            response = first.test_client().get(
                "/api/v1/me", headers=BAD_TOKEN, environ_base=ATTACKER
            )
            assert response.status_code == 401
        response = second.test_client().get("/api/v1/me", headers=BAD_TOKEN, environ_base=ATTACKER)
        assert response.status_code == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
    finally:
        for app in (first, second):
            app.extensions["db"].kw["bind"].dispose()
        jobs.configure(live_app.config["SETTINGS"].redis_url)
