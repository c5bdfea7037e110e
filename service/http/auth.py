"""Bearer-token authentication for every /api/v1 route but the OpenAPI document."""

from __future__ import annotations

from flask import Flask, g, request

from service.domain.errors import AuthenticationError
from service.extensions import db
from service.usecases.users import authenticate

PUBLIC_PATHS = frozenset({"/api/v1/openapi.json"})


def current_user():
    return g.user


def _authenticate_request() -> None:
    if not request.path.startswith("/api/v1/") or request.path in PUBLIC_PATHS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Send your API token as 'Authorization: Bearer <token>'.")
    g.user = authenticate(db.session, token.strip())


def init_auth(app: Flask) -> None:
    app.before_request(_authenticate_request)
