"""Operating the service: logging, metrics, health endpoints, CORS.

`init_operations` is the one place these hooks are registered from `create_app`.
"""

from __future__ import annotations

from flask import Flask

from service.observability import configure_logging, observe_requests


def init_operations(app: Flask) -> None:
    """Log configuration, request metrics, `/healthz`, `/readyz`, `/metrics`, and CORS."""
    from service.http.ops.cors import init_cors
    from service.http.ops.routes import blp

    settings = app.config["SETTINGS"]
    configure_logging(settings.log_level, settings.log_format)
    observe_requests(app)
    app.register_blueprint(blp)
    init_cors(app, settings.cors_allowed_origins)
