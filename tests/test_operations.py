"""Operating the service without the shared test database: health and readiness on
broken configurations, JSON logs with the request id, and CORS."""

import json
import logging
import socket
from dataclasses import replace

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from service import create_app, jobs
from service.config import Settings, SettingsError
from service.persistence import migrate
from tests.conftest import REDIS_URL

UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:{port}/hiring?connect_timeout=2"
ORIGIN = "https://hiring.example.com"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def migrated_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def make_app(tmp_path):
    def make(**changes):
        settings = replace(
            Settings.from_env(tmp_path, env={}), secret_key="test-secret-key", **changes
        )
        return create_app({"SETTINGS": settings, "TESTING": True, "INSTANCE_PATH": str(tmp_path)})

    yield make
    jobs.configure(None)


def test_healthz_answers_without_a_token_or_a_database(make_app):
    app = make_app(database_url=UNREACHABLE_POSTGRES.format(port=closed_port()))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_names_an_unreachable_database(make_app):
    app = make_app(database_url=UNREACHABLE_POSTGRES.format(port=closed_port()))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["checks"]["database"]["status"] == "failing"
    assert "database: The database is unreachable" in response.json["detail"]
    assert "127.0.0.1" not in response.json["detail"]  # public endpoint: no internals


def test_readyz_is_ready_on_a_migrated_database_without_redis(make_app, migrated_url):
    response = make_app(database_url=migrated_url).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["checks"]["migrations"]["status"] == "ok"
    assert response.json["checks"]["redis"]["status"] == "skipped"


def test_readyz_names_migrations_behind_head(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0008_no_double_booking")
    response = make_app(database_url=url).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"]["status"] == "ok"
    assert response.json["checks"]["migrations"]["status"] == "failing"
    assert "migrations:" in response.json["detail"]
    assert "0008_no_double_booking" in response.json["detail"]
    assert "hiring db upgrade" in response.json["detail"]


def test_readyz_names_redis_on_a_closed_port(make_app, migrated_url):
    app = make_app(database_url=migrated_url, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["status"] == "failing"
    assert "redis: Redis is unreachable" in response.json["detail"]
    assert "database" not in response.json["detail"]


@pytest.mark.integration
def test_readyz_is_ready_with_a_real_redis(make_app, migrated_url):
    try:
        Redis.from_url(REDIS_URL).ping()
    except RedisConnectionError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}).", pytrace=False)
    response = make_app(database_url=migrated_url, redis_url=REDIS_URL).test_client().get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"]["redis"] == {"status": "ok"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_operations_endpoints_carry_the_security_headers_and_are_never_cached(
    make_app, migrated_url, path
):
    response = make_app(database_url=migrated_url).test_client().get(path)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Request-ID"]


def test_metrics_need_the_token_when_one_is_set(make_app, migrated_url):
    client = make_app(database_url=migrated_url, metrics_token="scrape-me").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200


def test_json_log_lines_parse_and_carry_the_request_id(make_app, migrated_url, capsys):
    app = make_app(database_url=migrated_url, log_format="json")

    @app.get("/say")
    def say():
        logging.getLogger("tests").warning("said something")
        return {}

    app.test_client().get("/say", headers={"X-Request-ID": "req-json-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    said = next(line for line in lines if line["message"] == "said something")
    assert said["request_id"] == "req-json-1"
    assert said["level"] == "WARNING"
    assert said["logger"] == "tests"
    assert "time" in said


def test_text_logs_carry_the_request_id(make_app, migrated_url, capsys):
    app = make_app(database_url=migrated_url, log_format="text")

    @app.get("/say")
    def say():
        logging.getLogger("tests").warning("said something")
        return {}

    app.test_client().get("/say", headers={"X-Request-ID": "req-text-1"})
    line = next(x for x in capsys.readouterr().err.splitlines() if "said something" in x)
    assert "[req-text-1]" in line
    assert "WARNING tests" in line


def test_an_unknown_log_format_refuses_to_start(make_app):
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        make_app(log_format="xml")


def test_a_wildcard_cors_origin_refuses_to_start(make_app):
    with pytest.raises(SettingsError, match="CORS_ALLOWED_ORIGINS"):
        make_app(cors_allowed_origins=("*",))


def test_settings_read_cors_origins_comma_separated(tmp_path):
    settings = Settings.from_env(
        tmp_path, env={"CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example/"}
    )
    assert settings.cors_allowed_origins == ("https://a.example", "https://b.example")


def preflight(client, origin):
    return client.options(
        "/api/v1/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )


def test_a_preflight_from_an_allowed_origin_is_answered(make_app, migrated_url):
    client = make_app(database_url=migrated_url, cors_allowed_origins=(ORIGIN,)).test_client()
    response = preflight(client, ORIGIN)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_a_preflight_from_another_origin_gets_no_cors_headers(make_app, migrated_url):
    client = make_app(database_url=migrated_url, cors_allowed_origins=(ORIGIN,)).test_client()
    response = preflight(client, "https://evil.example")
    assert not [h for h, _ in response.headers if h.startswith("Access-Control-")]


def test_cors_is_off_by_default(make_app, migrated_url):
    response = preflight(make_app(database_url=migrated_url).test_client(), ORIGIN)
    assert not [h for h, _ in response.headers if h.startswith("Access-Control-")]


def test_an_allowed_origin_may_read_api_answers_and_their_request_id(make_app, migrated_url):
    client = make_app(database_url=migrated_url, cors_allowed_origins=(ORIGIN,)).test_client()
    response = client.get("/api/v1/me", headers={"Origin": ORIGIN})  # 401: no token
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
