"""The failed-token counters live in Redis when REDIS_URL is set: shared by every process."""

import multiprocessing
import os
from dataclasses import replace

import pytest
from redis import Redis

from service import create_app, jobs
from service.http.auth import FailedTokenThrottle

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


def _connections(redis_url):
    """Clients connected to the Redis database of `redis_url` (this call's own included)."""
    database = Redis.from_url(redis_url).connection_pool.connection_kwargs.get("db", 0)
    with Redis.from_url(redis_url) as admin:
        return sum(1 for client in admin.client_list() if int(client["db"]) == database)


def _count_in_a_forked_child(throttle, redis_url, results):
    throttle.retry_after(ATTACKER["REMOTE_ADDR"])
    results.send(_connections(redis_url))
    os._exit(0)  # the parent's pytest must not run again in the child


def test_a_forked_process_asks_redis_on_a_connection_of_its_own(redis_url):
    """A gunicorn worker forked from a master that used the throttle must not share the
    master's socket to Redis (replies to two processes' commands would interleave)."""
    throttle = FailedTokenThrottle("3/minute", redis_url)
    assert throttle.retry_after(ATTACKER["REMOTE_ADDR"]) is None
    before = _connections(redis_url)  # the throttle's connection and this count's
    receiving, sending = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_count_in_a_forked_child, args=(throttle, redis_url, sending)
    )
    child.start()
    in_child = receiving.recv()
    child.join(10)
    # The child's own: its throttle's connection, beside the inherited one (still the
    # parent's), and its count's.
    assert in_child == before + 1
    assert throttle.retry_after(ATTACKER["REMOTE_ADDR"]) is None
