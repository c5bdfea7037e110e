"""The checks behind `/readyz`: the database answers, Redis answers, migrations are at head.

A failing check's detail says what is wrong without internals (the endpoint is
public); the log line has the error.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from service.extensions import db
from service.persistence import migrate

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 1.0
Check = dict[str, Any]


def run_checks(redis_url: str | None) -> dict[str, Check]:
    """Every check's result: `{"status": "ok" | "failing" | "skipped", "detail": ...}`."""
    return {**_database_and_migrations(), "redis": _redis(redis_url)}


def failing(checks: dict[str, Check]) -> dict[str, Check]:
    return {name: check for name, check in checks.items() if check["status"] == "failing"}


def _database_and_migrations() -> dict[str, Check]:
    try:
        # The request's session (closed at teardown), not a connection of its own: the
        # tests bind the session to one connection for their rolled-back transaction.
        current, heads = migrate.pending_heads(db.session.connection())
    except SQLAlchemyError as error:
        log.warning("readiness: the database is unreachable: %s", error)
        return {
            "database": {
                "status": "failing",
                "detail": f"The database is unreachable ({type(error).__name__}).",
            },
            "migrations": {"status": "skipped", "detail": "The database is unreachable."},
        }
    if current == heads:
        migrations = {"status": "ok", "revision": ", ".join(sorted(heads))}
    else:
        migrations = {
            "status": "failing",
            "detail": (
                f"The database is at revision {', '.join(sorted(current)) or 'none'}, the "
                f"code expects {', '.join(sorted(heads))}; run `hiring db upgrade`."
            ),
        }
    return {"database": {"status": "ok"}, "migrations": migrations}


def _redis(redis_url: str | None) -> Check:
    if not redis_url:
        return {"status": "skipped", "detail": "REDIS_URL is not set: jobs run in-process."}
    connection = Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    try:
        connection.ping()
    except RedisError as error:
        log.warning("readiness: Redis is unreachable: %s", error)
        return {"status": "failing", "detail": f"Redis is unreachable ({type(error).__name__})."}
    finally:
        connection.close()
    return {"status": "ok"}
