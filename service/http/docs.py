"""The API's docs page: Swagger UI on /api/v1/openapi.json, public and offline.

The Swagger UI files come from the pinned `flask-swagger-ui` package (its
`dist/`, Swagger UI 5, the first to render OpenAPI 3.1); we use only the files,
not its blueprint, whose page starts Swagger UI with an inline script. Ours
loads everything from this origin, so the page's Content-Security-Policy needs
neither `unsafe-inline` scripts nor another host.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, abort, render_template, send_from_directory, url_for

DOCS_PATH = "/api/v1/docs"
SWAGGER_UI_DIR = Path(flask_swagger_ui.__file__).parent / "dist"
OUR_DIR = Path(__file__).parent / "docs_page"
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
# Swagger UI sets style attributes from script (hence 'unsafe-inline' styles only) and
# shows its icons as data: URLs; it fetches the document from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

blp = Blueprint("docs", __name__, url_prefix=DOCS_PATH, template_folder="docs_page")


@blp.get("")
def docs_page():
    """The Swagger UI page."""
    return render_template(
        "docs.html",
        spec_url=url_for("api-docs.openapi_json"),
        assets=url_for("docs.asset", filename=""),
    )


@blp.get("/assets/<filename>")
def asset(filename: str) -> Response:
    """One of Swagger UI's files, or our starter script."""
    if filename == "docs.js":
        return send_from_directory(OUR_DIR, filename, max_age=3600)
    if filename not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(SWAGGER_UI_DIR, filename, max_age=3600)


@blp.after_request
def _content_security_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
