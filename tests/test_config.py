"""Start-up refuses a production configuration with the public development SECRET_KEY."""

from dataclasses import replace

import pytest

from service import create_app, jobs
from service.config import DEFAULT_SECRET_KEY, Settings, SettingsError

POSTGRES = "postgresql+psycopg://app:pw@db.internal/hiring"


@pytest.fixture
def settings(tmp_path):
    yield Settings.from_env(tmp_path, env={})
    jobs.configure(None)


def test_postgresql_with_the_default_secret_key_refuses_to_start(settings):
    with pytest.raises(SettingsError, match="SECRET_KEY") as refused:
        create_app({"SETTINGS": replace(settings, database_url=POSTGRES)})
    assert "PostgreSQL" in str(refused.value)
    assert "secrets.token_urlsafe" in str(refused.value)


def test_postgresql_with_a_secret_key_of_its_own_starts(settings):
    app = create_app({"SETTINGS": replace(settings, database_url=POSTGRES, secret_key="k" * 32)})
    assert app.config["SECRET_KEY"] == "k" * 32


def test_the_embedded_sqlite_default_starts_with_the_default_key(settings):
    assert settings.secret_key == DEFAULT_SECRET_KEY
    assert create_app({"SETTINGS": settings}).config["SECRET_KEY"] == DEFAULT_SECRET_KEY


def test_the_environment_is_checked_too(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_auth_failure_limit_comes_from_the_environment(tmp_path):
    assert Settings.from_env(tmp_path, env={}).auth_failure_limit == "10/minute"
    env = {"AUTH_FAILURE_LIMIT": "20 per 5 minutes"}
    assert Settings.from_env(tmp_path, env=env).auth_failure_limit == "20 per 5 minutes"


def test_sqlite_busy_timeout_and_adverse_impact_thresholds_come_from_the_environment(tmp_path):
    defaults = Settings.from_env(tmp_path, env={})
    assert defaults.sqlite_busy_timeout_ms == 30_000
    assert (defaults.adverse_impact_min_applicants, defaults.adverse_impact_min_selections) == (
        10,
        5,
    )
    env = {
        "SQLITE_BUSY_TIMEOUT_MS": "300",
        "ADVERSE_IMPACT_MIN_APPLICANTS": "20",
        "ADVERSE_IMPACT_MIN_SELECTIONS": "8",
    }
    settings = Settings.from_env(tmp_path, env=env)
    assert settings.sqlite_busy_timeout_ms == 300
    assert (settings.adverse_impact_min_applicants, settings.adverse_impact_min_selections) == (
        20,
        8,
    )


def test_the_sqlite_busy_timeout_reaches_the_connection(tmp_path):
    from sqlalchemy import text

    from service.extensions import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", sqlite_busy_timeout_ms=1234)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 1234
    engine.dispose()


def test_the_calibration_model_comes_from_the_environment(tmp_path):
    assert Settings.from_env(tmp_path, env={}).calibration_model == "ordinal"
    chosen = Settings.from_env(tmp_path, env={"CALIBRATION_MODEL": "Linear"})
    assert chosen.calibration_model == "linear"


def test_an_unknown_calibration_model_is_refused_by_name(tmp_path):
    with pytest.raises(SettingsError, match=r"CALIBRATION_MODEL 'rasch'.*linear, ordinal"):
        Settings.from_env(tmp_path, env={"CALIBRATION_MODEL": "rasch"}).check()


def test_packets_go_to_the_bucket_of_packet_storage_url(tmp_path):
    from service.storage import LocalStorage, S3Storage

    env = {"PACKET_STORAGE_URL": "s3://hiring-packets/prod", "S3_ENDPOINT_URL": "http://s3:9000"}
    app = create_app({"SETTINGS": Settings.from_env(tmp_path, env=env)})
    storage = app.extensions["storage"]
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.endpoint_url) == (
        "hiring-packets",
        "prod/",
        "http://s3:9000",
    )
    assert isinstance(
        create_app({"SETTINGS": Settings.from_env(tmp_path, env={})}).extensions["storage"],
        LocalStorage,
    )
    jobs.configure(None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PACKET_STORAGE_URL", "https://hiring-packets.s3.amazonaws.com/prod"),
        ("PACKET_STORAGE_URL", "s3:///no-bucket"),
        ("S3_ENDPOINT_URL", "minio:9000"),
    ],
)
def test_an_unreadable_object_storage_setting_is_refused_by_name(tmp_path, variable, value):
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(tmp_path, env={variable: value}).check()


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), ("on", True), ("OFF", False), ("false", False)]
)
def test_database_prepared_statements_is_on_unless_turned_off(tmp_path, value, expected):
    env = {} if value is None else {"DATABASE_PREPARED_STATEMENTS": value}
    assert Settings.from_env(tmp_path, env=env).database_prepared_statements is expected


def test_database_prepared_statements_refuses_a_word_that_is_not_on_or_off(tmp_path):
    with pytest.raises(SettingsError, match="DATABASE_PREPARED_STATEMENTS 'sometimes'"):
        Settings.from_env(tmp_path, env={"DATABASE_PREPARED_STATEMENTS": "sometimes"})


@pytest.mark.parametrize(("prepared", "threshold"), [(True, 5), (False, None)])
def test_prepared_statements_off_reaches_psycopg(prepared, threshold):
    """Off, psycopg never prepares (`prepare_threshold=None`); on, its default of 5."""
    from service.extensions import make_engine
    from tests.conftest import postgres_url

    engine = make_engine(postgres_url(), prepared_statements=prepared)
    with engine.connect() as connection:
        assert connection.connection.driver_connection.prepare_threshold == threshold
    engine.dispose()


def test_postgresql_sessions_are_in_utc_whatever_the_servers_default():
    """Each connection sets its session to UTC: days taken in SQL are UTC days, and
    timestamps come back in `datetime.UTC` itself, which `UTCDateTime` passes on as
    they are (the server here defaults to Etc/UTC, whose values needed a conversion)."""
    from datetime import UTC

    from sqlalchemy import text

    from service.extensions import make_engine
    from tests.conftest import postgres_url

    engine = make_engine(postgres_url())
    with engine.connect() as connection:
        assert connection.execute(text("SHOW TimeZone")).scalar() == "UTC"
        assert connection.execute(text("SELECT now()")).scalar().tzinfo is UTC
        connection.rollback()
        assert connection.execute(text("SHOW TimeZone")).scalar() == "UTC"
    engine.dispose()
