"""Settings from environment variables, with embedded defaults for a laptop.

Defaults: a SQLite file under `instance/`, no Redis (jobs run in-process),
packets stored under `instance/packets`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from limits import parse
from sqlalchemy.engine import make_url

from service.domain.calibration_scale import MODELS as CALIBRATION_MODELS
from service.domain.calibration_scale import CalibrationModel
from service.storage import parse_s3_url

DEFAULT_SECRET_KEY = "dev-insecure-change-me"
LOG_FORMATS = ("auto", "json", "text")
COOKIE_SECURE_CHOICES = ("auto", "true", "false")
# The rater model of the calibration fit (docs/scoring.md, "Which model").
DEFAULT_CALIBRATION_MODEL: CalibrationModel = "ordinal"


class SettingsError(ValueError):
    """A setting that the service refuses to start with; the message names the variable."""


def _on_off(variable: str, value: str | None) -> bool:
    """A switch written on/off (or true/false, 1/0); unset is on."""
    word = (value or "on").strip().lower()
    if word in ("on", "true", "1", "yes"):
        return True
    if word in ("off", "false", "0", "no"):
        return False
    raise SettingsError(f"{variable} '{value}' is neither on nor off.")


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    packet_storage_dir: str
    secret_key: str
    log_level: str
    max_body_bytes: int
    packet_render_lease_seconds: int
    packet_reap_interval_seconds: int
    auth_failure_limit: str
    sqlite_busy_timeout_ms: int = 30_000
    adverse_impact_min_applicants: int = 10
    adverse_impact_min_selections: int = 5
    # How old (seconds) an organisation-wide report's snapshot may be before a page view
    # has it refreshed in the background (service/usecases/report_snapshots.py).
    report_snapshot_max_age_seconds: int = 300
    # "auto": JSON lines unless stderr is a terminal.
    log_format: str = "auto"
    # When set, `GET /metrics` needs `Authorization: Bearer <token>`.
    metrics_token: str | None = None
    # Browser origins allowed to call /api/v1 (CORS); none by default.
    cors_allowed_origins: tuple[str, ...] = ()
    # Days after a candidate's last application ended before retention erases their data
    # (a template's `retention_days` overrides it for its role); 0 turns retention off.
    retention_days: int = 365
    # Failed web sign-ins one client address may make in a moving window; more waits.
    sign_in_failure_limit: str = "10/minute"
    # A web session ends this long after sign-in, however active it is.
    web_session_hours: int = 12
    # The session cookie's Secure flag: "auto" sets it except on plain http to a
    # loopback host (a laptop's `make run`).
    web_cookie_secure: str = "auto"
    # "linear" (REML mixed model on the scores) or "ordinal" (cumulative-logit mixed model).
    calibration_model: str = DEFAULT_CALIBRATION_MODEL

    # Email: SMTP when set (smtp://user:pass@host:port, smtps://…); otherwise the log and
    # instance/outbox/.
    smtp_url: str | None = None
    email_from: str = "hiring@localhost"
    # Links in emails and notifications point at pages under this address.
    public_base_url: str = "http://127.0.0.1:8000"
    # Webhooks to http:// and to loopback or private addresses (tests, on-premises).
    webhook_allow_private: bool = False
    # Back-off between webhook attempts (RQ's Retry); after the last, the delivery fails.
    webhook_retry_seconds: tuple[int, ...] = (30, 120, 600, 3600, 14400)
    # Deliveries that fail for good in a row before the endpoint is disabled.
    webhook_disable_after: int = 5
    webhook_timeout_seconds: int = 10
    # How often the workers sweep the outbox (events Redis lost) and look for reminders.
    outbox_sweep_interval_seconds: int = 30
    reminder_interval_seconds: int = 300
    # When the daily digests go out (RQ cron syntax, UTC).
    digest_cron: str = "0 7 * * *"
    # Packets in an S3-compatible bucket (s3://bucket[/prefix]) instead of the folder
    # above; S3_ENDPOINT_URL for a server other than AWS. Credentials: boto3's own chain.
    packet_storage_url: str | None = None
    s3_endpoint_url: str | None = None
    # "off" behind PgBouncer in transaction mode: no server-side prepared statements,
    # which belong to one server connection that the next transaction may not get.
    database_prepared_statements: bool = True

    @classmethod
    def from_env(cls, instance_path: str | Path, env: Mapping[str, str] = os.environ) -> Settings:
        instance = Path(instance_path)
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{instance / 'hiring.db'}",
            redis_url=env.get("REDIS_URL") or None,
            packet_storage_dir=env.get("PACKET_STORAGE_DIR") or str(instance / "packets"),
            secret_key=env.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            max_body_bytes=int(env.get("MAX_BODY_BYTES") or 1_048_576),
            # A packet still "rendering" after this long lost its worker: retry or fail it.
            packet_render_lease_seconds=int(env.get("PACKET_RENDER_LEASE_SECONDS") or 150),
            # How often the workers look for packets past their lease.
            packet_reap_interval_seconds=int(env.get("PACKET_REAP_INTERVAL_SECONDS") or 30),
            # Failed token checks one client address may make in a moving window; more is 429.
            auth_failure_limit=env.get("AUTH_FAILURE_LIMIT") or "10/minute",
            # How long a SQLite writer waits for the lock before "database is locked".
            sqlite_busy_timeout_ms=int(env.get("SQLITE_BUSY_TIMEOUT_MS") or 30_000),
            # Adverse-impact cells smaller than these show only their label (never a query
            # parameter: a client must not be able to lower them).
            adverse_impact_min_applicants=int(env.get("ADVERSE_IMPACT_MIN_APPLICANTS") or 10),
            adverse_impact_min_selections=int(env.get("ADVERSE_IMPACT_MIN_SELECTIONS") or 5),
            report_snapshot_max_age_seconds=int(env.get("REPORT_SNAPSHOT_MAX_AGE") or 300),
            retention_days=int(env.get("RETENTION_DAYS") or 365),
            log_format=(env.get("LOG_FORMAT") or "auto").lower(),
            metrics_token=env.get("METRICS_TOKEN") or None,
            cors_allowed_origins=tuple(
                origin.strip().rstrip("/")
                for origin in (env.get("CORS_ALLOWED_ORIGINS") or "").split(",")
                if origin.strip()
            ),
            sign_in_failure_limit=env.get("SIGN_IN_FAILURE_LIMIT") or "10/minute",
            web_session_hours=int(env.get("WEB_SESSION_HOURS") or 12),
            web_cookie_secure=(env.get("WEB_COOKIE_SECURE") or "auto").lower(),
            calibration_model=(env.get("CALIBRATION_MODEL") or DEFAULT_CALIBRATION_MODEL).lower(),
            smtp_url=env.get("SMTP_URL") or None,
            email_from=env.get("EMAIL_FROM") or "hiring@localhost",
            public_base_url=(env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            webhook_allow_private=env.get("WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
            webhook_retry_seconds=tuple(
                int(seconds)
                for seconds in (env.get("WEBHOOK_RETRY_SECONDS") or "30,120,600,3600,14400").split(
                    ","
                )
            ),
            webhook_disable_after=int(env.get("WEBHOOK_DISABLE_AFTER") or 5),
            webhook_timeout_seconds=int(env.get("WEBHOOK_TIMEOUT_SECONDS") or 10),
            outbox_sweep_interval_seconds=int(env.get("OUTBOX_SWEEP_INTERVAL_SECONDS") or 30),
            reminder_interval_seconds=int(env.get("REMINDER_INTERVAL_SECONDS") or 300),
            digest_cron=env.get("DIGEST_CRON") or "0 7 * * *",
            packet_storage_url=env.get("PACKET_STORAGE_URL") or None,
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
            database_prepared_statements=_on_off(
                "DATABASE_PREPARED_STATEMENTS", env.get("DATABASE_PREPARED_STATEMENTS")
            ),
        )

    def check(self) -> None:
        """Refuse settings that are unsafe or unreadable. Raises SettingsError."""
        if self.database_url.startswith("postgresql") and self.secret_key == DEFAULT_SECRET_KEY:
            # PostgreSQL means a shared, production-like deployment; the default key is public.
            raise SettingsError(
                "SECRET_KEY is the insecure development default, and DATABASE_URL points at "
                "PostgreSQL (a production configuration). Set SECRET_KEY to a long random "
                "value, e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
            )
        for variable, limit in (
            ("AUTH_FAILURE_LIMIT", self.auth_failure_limit),
            ("SIGN_IN_FAILURE_LIMIT", self.sign_in_failure_limit),
        ):
            try:
                parse(limit)
            except ValueError:
                raise SettingsError(
                    f"{variable} '{limit}' is not a rate limit; "
                    "write it like '10/minute' or '20 per 5 minutes'."
                ) from None
        if self.web_cookie_secure not in COOKIE_SECURE_CHOICES:
            raise SettingsError(
                f"WEB_COOKIE_SECURE '{self.web_cookie_secure}' is not one of "
                f"{', '.join(COOKIE_SECURE_CHOICES)}."
            )
        if self.web_session_hours < 1:
            raise SettingsError("WEB_SESSION_HOURS must be a whole number of hours, at least 1.")
        if self.report_snapshot_max_age_seconds < 0:
            raise SettingsError(
                "REPORT_SNAPSHOT_MAX_AGE must be a whole number of seconds, 0 or more."
            )
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(
                f"LOG_FORMAT '{self.log_format}' is not one of {', '.join(LOG_FORMATS)}."
            )
        if self.calibration_model not in CALIBRATION_MODELS:
            raise SettingsError(
                f"CALIBRATION_MODEL '{self.calibration_model}' is not one of "
                f"{', '.join(CALIBRATION_MODELS)}."
            )
        for origin in self.cors_allowed_origins:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                # A wildcard would let any site's scripts read API answers with a stolen token.
                raise SettingsError(
                    f"CORS_ALLOWED_ORIGINS entry '{origin}' is not an origin; list each one "
                    "as 'https://host[:port]', comma-separated (no '*')."
                )

        if self.packet_storage_url:
            try:
                parse_s3_url(self.packet_storage_url)
            except ValueError:
                raise SettingsError(
                    f"PACKET_STORAGE_URL '{self.packet_storage_url}' is not an "
                    "s3://bucket[/prefix] URL; leave it empty to store packets under "
                    "PACKET_STORAGE_DIR."
                ) from None
        if self.s3_endpoint_url and not self.s3_endpoint_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"S3_ENDPOINT_URL '{self.s3_endpoint_url}' must start with http:// or https://."
            )

        if self.smtp_url and not self.smtp_url.startswith(("smtp://", "smtps://")):
            raise SettingsError(
                "SMTP_URL must look like smtp://[user:password@]host[:port] or smtps://…"
            )

    def masked(self) -> dict[str, object]:
        """The effective settings with secrets (key, passwords in URLs) hidden."""
        shown = asdict(self)
        if self.metrics_token:
            shown["metrics_token"] = "***"
        shown["secret_key"] = (
            "***" if self.secret_key != DEFAULT_SECRET_KEY else "(insecure default)"
        )
        for name in ("database_url", "redis_url", "smtp_url"):
            if shown[name]:
                shown[name] = make_url(shown[name]).render_as_string(hide_password=True)
        return shown
