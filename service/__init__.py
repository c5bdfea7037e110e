"""hiring-pipeline: structured hiring as a Flask service."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from flask import Flask, Response, json, request
from flask_smorest import Api
from sqlalchemy.orm import configure_mappers
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.routing import IntegerConverter, Map

from service import jobs
from service.config import Settings
from service.extensions import db, init_storage
from service.http.ops import init_operations
from service.http.schemas import ProblemSchema
from service.persistence.base import MAX_ID

API_SPEC = {
    "API_TITLE": "hiring-pipeline",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints. Opens no connection.

    Every model is imported by then, and the ORM's mappers are configured here rather
    than by the first query, and the OpenAPI document is rendered here rather than by
    its first request: in a gunicorn worker forked from a preloaded master, each did
    that work itself and the pages it wrote to stopped being shared (BENCHMARKS.md,
    "Issue 18: the request path").
    """
    overrides = dict(overrides or {})
    instance_path = overrides.pop("INSTANCE_PATH", None)  # tests keep their files in a tmp dir
    app = ServiceFlask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.url_map.converters["int"] = IdConverter
    settings = _configure(app, overrides)
    init_operations(
        app
    )  # logs, request metrics, health and metrics routes, CORS: first, so the steps below log
    _init_extensions(app, settings)
    api = _init_api(app)
    _register_blueprints(api)
    _register_docs_page(app)
    _register_error_handlers(app)  # after the Api, whose own handlers they replace
    _register_pages(app)  # after the error handlers: pages get HTML errors
    _register_hooks(app)
    _register_commands(app)
    configure_mappers()
    api.render_document()
    return app


def _configure(app: Flask, overrides: Mapping[str, Any]) -> Settings:
    """Settings from the environment (or `overrides["SETTINGS"]`), checked, into `app.config`;
    the other overrides are plain config keys. Raises SettingsError."""
    settings = overrides.get("SETTINGS") or Settings.from_env(app.instance_path)
    settings.check()
    app.config.update(
        API_SPEC,
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    app.config.update({k: v for k, v in overrides.items() if k != "SETTINGS"})
    return settings


def _init_extensions(app: Flask, settings: Settings) -> None:
    """The database sessions, the packet storage and the job queues, held by `app`."""
    db.init_app(app)
    init_storage(app, settings)
    jobs.init_app(app, settings.redis_url)


def _init_api(app: Flask) -> Api:
    from service.http import openapi

    api = ServiceApi(
        app,
        spec_kwargs={
            "security": [{"bearer": []}],
            "info": {"description": openapi.DESCRIPTION},
            "servers": [{"url": "/", "description": "This server"}],
            "extra_plugins": [openapi.ContractPlugin()],
        },
    )
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "opaque API token"}
    )
    openapi.components(api.spec)
    return api


def _register_docs_page(app: Flask) -> None:
    """/api/v1/docs: Swagger UI on the document, served from our own files (no CDN)."""
    from service.http.docs import blp

    app.register_blueprint(blp)


def _register_pages(app: Flask) -> None:
    """The web pages under `/` (sign-in, the interviewer's kit and scorecard, …)."""
    from service.web import init_web

    init_web(app)


def _register_error_handlers(app: Flask) -> None:
    from service.http.errors import register_error_handlers

    register_error_handlers(app)


def _register_hooks(app: Flask) -> None:
    """Before a request: which session it needs, authentication, then the body checks;
    after: the common headers."""
    from service.http.auth import init_auth
    from service.http.blueprint import note_reads_only

    app.before_request(note_reads_only)
    init_auth(app)
    app.before_request(_require_json_body)
    app.before_request(_refuse_streamed_body_over_the_limit)
    app.after_request(_add_security_headers)
    app.after_request(_answer_conditional_get)


def _register_commands(app: Flask) -> None:
    from service.cli import register_commands

    register_commands(app)


class ServiceFlask(Flask):
    """Flask, logging an unhandled error once, with its request id and without personal data."""

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        # Flask's own version logs "Exception on <path>" with the raw traceback, and then
        # our 500 handler ran; this is now the only record of the error.
        from service.http.errors import log_unhandled_error

        # Flask calls this while handling an exception, never with (None, None, None).
        assert exc_info[1] is not None
        log_unhandled_error(exc_info[1])


class ServiceApi(Api):
    """flask-smorest's Api, documenting errors as the problem documents we send
    (each status listed per operation by `service.http.openapi`, so no `default`)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None
    _document: str | None = None

    def render_document(self) -> str:
        """The served document, rendered once (40 ms and some 10 MB of objects each time):
        every blueprint is registered before `create_app` renders it."""
        if self._document is None:
            from service.http.openapi import finish_document

            self._document = json.dumps(finish_document(self.spec.to_dict()), indent=2)
        return self._document

    def _openapi_json(self):
        return Response(self.render_document(), mimetype="application/json")


class IdConverter(IntegerConverter):
    """`<int:...>` matching only ids the database can hold; a larger one is a 404.

    ASCII digits without leading zeros only: werkzeug's `\\d+` also matches `١`
    or `007`, which `int()` would read as another id.
    """

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _register_blueprints(api: Api) -> None:
    from service.http.applications.routes import blp as applications
    from service.http.assessments.routes import blp as assessments
    from service.http.audit.routes import blp as audit
    from service.http.calibration.routes import blp as calibration
    from service.http.candidates.routes import blp as candidates
    from service.http.interviews.routes import blp as interviews
    from service.http.me.routes import blp as me
    from service.http.packets.routes import blp as packets
    from service.http.reports.routes import blp as reports
    from service.http.requisitions.routes import blp as requisitions
    from service.http.scorecards.routes import blp as scorecards
    from service.http.self_identification.routes import blp as self_identification
    from service.http.users.routes import blp as users
    from service.http.webhooks.routes import blp as webhooks

    for blueprint in (
        me,
        users,
        requisitions,
        candidates,
        applications,
        interviews,
        scorecards,
        assessments,
        packets,
        calibration,
        audit,
        self_identification,
        reports,
        webhooks,
    ):
        api.register_blueprint(blueprint)


def _has_body() -> bool:
    return bool(request.content_length) or _is_streamed()


def _is_streamed() -> bool:
    """A chunked body: no Content-Length, its end marked by the server."""
    return request.content_length is None and bool(request.environ.get("wsgi.input_terminated"))


def _require_json_body() -> None:
    """An API body that is not JSON is refused clearly (415) instead of being read as empty.
    (The web pages post forms.)"""
    if (
        request.method in ("POST", "PUT", "PATCH")
        and request.path.startswith("/api/")
        and _has_body()
        and not request.is_json
    ):
        raise UnsupportedMediaType(
            f"The body must be JSON; send 'Content-Type: application/json' "
            f"(got '{request.content_type}')."
        )


def _refuse_streamed_body_over_the_limit() -> None:
    """A chunked body over `MAX_CONTENT_LENGTH` is a 413, as one with a Content-Length is.

    werkzeug stops reading a stream at the limit without saying so, and the cut-off
    JSON would then be answered "invalid" (400). One more byte tells the two apart.
    """
    limit = request.max_content_length
    if limit is None or not _is_streamed():
        return
    if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def _add_security_headers(response: Response) -> Response:
    """Headers every response carries; API responses (personal data) are never cached."""
    from service.http.auth import is_public
    from service.http.request_ids import REQUEST_ID_HEADER, request_id

    response.headers[REQUEST_ID_HEADER] = request_id()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith("/api/v1/") and not is_public(request.path):
        response.headers["Cache-Control"] = "no-store"
    return response


def _answer_conditional_get(response: Response) -> Response:
    """A GET whose `If-None-Match` matches the response's ETag answers 304 without a body."""
    if (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and "ETag" in response.headers
    ):
        response.make_conditional(request)
    return response
