"""CORS for /api/v1: off unless `CORS_ALLOWED_ORIGINS` lists origins.

flask-cors answers only listed origins; any other origin gets no CORS header, so
the browser keeps the answer from its page. A preflight (`OPTIONS`) carries no
credentials, so authentication lets it through (service/http/auth.py); Flask
answers it with the route's `Allow` and flask-cors adds the CORS headers.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS

ALLOWED_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-ID"]
# Response headers a page's script may read.
EXPOSED_HEADERS = ["ETag", "Location", "Retry-After", "X-Request-ID"]
PREFLIGHT_MAX_AGE_SECONDS = 600


def init_cors(app: Flask, allowed_origins: tuple[str, ...]) -> None:
    if not allowed_origins:
        return
    CORS(
        app,
        resources={r"/api/v1/*": {"origins": list(allowed_origins)}},
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
        # Bearer tokens, not cookies: no credentialed requests.
        supports_credentials=False,
    )
