"""Bearer-token authentication for every /api/v1 route but the OpenAPI document.

A client address that presents too many bad tokens (`AUTH_FAILURE_LIMIT`) is
answered 429 until its oldest failure leaves the window, whatever it sends:
guessing tokens must not pay off.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError
from werkzeug.exceptions import TooManyRequests

from service.domain.access import Actor
from service.domain.errors import AuthenticationError
from service.extensions import db
from service.usecases.users import authenticate

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})
PUBLIC_PREFIXES = ("/api/v1/docs/",)  # the docs page's assets
FAILURES = "failed-token"  # the namespace of the counters in the storage
REDIS_TIMEOUT_SECONDS = 1.0
T = TypeVar("T")


def current_user() -> Actor:
    """Who this request is from: the `Actor` that `usecases.users.authenticate` read for
    its token (a use case takes any `Viewer`: this, or the pages' ORM `User`)."""
    user: Actor = g.user
    return user


class FailedTokenThrottle:
    """Counts failed token checks (or, in its own `namespace`, web sign-ins) per client
    address in a moving window.

    The counters are in Redis when REDIS_URL is set, so every gunicorn worker
    and host shares them, and in this process otherwise. When Redis cannot be
    reached, this process's own counters stand in: an outage neither lifts the
    limit nor locks everyone out. The storage is made on first use (start-up
    opens nothing), and again in a forked process.

    Every API request asks Redis once, so the client keeps one connection of its
    own (`single_connection_client`) rather than taking one from a pool and checking
    it (a poll of its socket) on each call: a third of the check's CPU.
    """

    def __init__(self, limit: str, redis_url: str | None, namespace: str = FAILURES) -> None:
        self.limit = parse(limit)
        self.namespace = namespace
        self._storage_url = redis_url or "memory://"
        self._shared: MovingWindowRateLimiter | None = None
        self._shared_pid: int | None = None  # the process that made `_shared`
        self._local: MovingWindowRateLimiter | None = None
        self._degraded = False

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it is not throttled."""

        def check(limiter: MovingWindowRateLimiter) -> int | None:
            if limiter.test(self.limit, self.namespace, client):
                return None
            reset_at = limiter.get_window_stats(self.limit, self.namespace, client).reset_time
            return max(1, math.ceil(reset_at - time.time()))

        return self._run(check)

    def record_failure(self, client: str) -> None:
        self._run(lambda limiter: limiter.hit(self.limit, self.namespace, client))

    def reset(self) -> None:
        """Forget every counter (tests)."""
        for limiter in (self._shared, self._local):
            if limiter is not None:
                limiter.storage.reset()

    def _run(self, operation: Callable[[MovingWindowRateLimiter], T]) -> T:
        try:
            result = operation(self._shared_limiter())
        except (StorageError, RedisError) as error:
            if not self._degraded:
                log.warning("auth throttle: Redis unavailable (%s); counting in-process", error)
                self._degraded = True
            if self._local is None:
                self._local = MovingWindowRateLimiter(MemoryStorage())
            return operation(self._local)
        self._degraded = False
        return result

    def _shared_limiter(self) -> MovingWindowRateLimiter:
        """The limiter on the shared storage, made by this process (a client inherited
        through a fork would share its parent's socket). Connects to Redis when made:
        raises redis's RedisError when it cannot."""
        if self._shared is None or self._shared_pid != os.getpid():
            redis_options: dict[str, Any] = {
                "key_prefix": "hiring-auth-throttle",
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "single_connection_client": True,
            }
            storage = storage_from_string(
                self._storage_url,
                wrap_exceptions=True,
                **(redis_options if self._storage_url != "memory://" else {}),
            )
            self._shared, self._shared_pid = MovingWindowRateLimiter(storage), os.getpid()
        return self._shared


def is_public(path: str) -> bool:
    """The OpenAPI document and the docs page need no token."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _authenticate_request() -> None:
    if not request.path.startswith("/api/v1/") or is_public(request.path):
        return
    if request.method == "OPTIONS":
        # A CORS preflight never carries credentials; Flask answers it with `Allow` only.
        return
    throttle: FailedTokenThrottle = current_app.extensions["auth_throttle"]
    client = request.remote_addr or "unknown"
    retry_after = throttle.retry_after(client)
    if retry_after is not None:
        raise TooManyRequests(
            f"Too many failed authentication attempts from your address; "
            f"try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # No guess was made, so nothing is counted.
        raise AuthenticationError("Send your API token as 'Authorization: Bearer <token>'.")
    try:
        g.user = authenticate(db.session, token.strip())
    except AuthenticationError:
        throttle.record_failure(client)
        raise


def init_auth(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.extensions["auth_throttle"] = FailedTokenThrottle(
        settings.auth_failure_limit, settings.redis_url
    )
    app.before_request(_authenticate_request)
