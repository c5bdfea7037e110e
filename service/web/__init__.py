"""The web pages: server-rendered HTML under `/`, on the same use cases as the API.

A page is a view on the one `web` blueprint, in a module of this package named
for whose work it serves (`interviews.py`: the interviewer's pages). Views are
short like the API's: read the form, call a use case with `db.session` and
`current_web_user()`, render a template or redirect. Everything is signed-in
only (`session.py`) unless marked `@public`; every form carries a CSRF token;
a page you may not see is the same 404 as one that does not exist.

A page module adds its entry to the navigation with `add_nav_item`; the layout
shows the entries the signed-in user's role may use, in `order`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from flask import Blueprint, Flask, Request, Response, current_app, render_template, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, NotFound

from service.domain import errors as domain
from service.http.auth import FailedTokenThrottle

web = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
csrf = CSRFProtect()

# The page modules; each attaches its views to `web` and its entries to the navigation.
PAGE_MODULES = (
    "service.web.session",
    "service.web.interviews",
    "service.web.decisions",
    "service.web.recruiter",
    "service.web.scheduling",
    "service.web.admin",
    "service.web.admin_templates",
    "service.web.fairness",
    "service.web.notifications",
)

# Pages allow only this origin's scripts, styles and images: no inline script or
# style, no other host, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]
    order: int


NAV: list[NavItem] = []


def add_nav_item(label: str, endpoint: str, roles: tuple[str, ...], order: int = 50) -> None:
    """Show a link to `endpoint` in the layout's navigation to users with one of `roles`."""
    if not any(item.endpoint == endpoint for item in NAV):
        NAV.append(NavItem(label, endpoint, frozenset(roles), order))


def nav_for(role: str) -> list[NavItem]:
    return sorted((i for i in NAV if role in i.roles), key=lambda i: (i.order, i.label))


def init_web(app: Flask) -> None:
    """Register the pages, the session cookie's settings and CSRF protection.

    After the API's error handlers, whose HTTP-error handler it wraps: a page
    path gets an HTML error page, an API path its problem document.
    """
    settings = app.config["SETTINGS"]
    app.config.update(
        SESSION_COOKIE_NAME="hiring_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=settings.web_session_hours * 3600,
        # The bearer-token API needs no CSRF token; the pages check it in `_protect_forms`.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=settings.web_session_hours * 3600,
    )
    app.session_interface = SessionCookies(settings.web_cookie_secure)
    app.extensions["sign_in_throttle"] = FailedTokenThrottle(
        settings.sign_in_failure_limit, settings.redis_url, namespace="failed-sign-in"
    )
    csrf.init_app(app)
    for module in PAGE_MODULES:
        import_module(module)
    app.register_blueprint(web)
    _wrap_http_error_handler(app)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, whose Secure flag can depend on the request."""

    def __init__(self, secure: str) -> None:
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's answer, without first making the cookie's signing serializer when the
        request sends no session cookie (no API request does): a new, empty session."""
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        if self.secure != "auto":
            return self.secure == "true"
        return request.is_secure or not _is_loopback(request.host)


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@web.before_request
def _protect_forms() -> None:
    # WTF_CSRF_ENABLED is Flask-WTF's own switch, off only in a test that sweeps every route.
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()


@web.after_request
def _page_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.endpoint != "web.static":
        # Pages show personal data: never kept by a cache.
        response.headers["Cache-Control"] = "no-store"
    return response


@web.app_template_filter("when")
def when(moment: datetime | None) -> str:
    """A UTC time as people read it: `Tue 1 Dec 2026, 09:30 UTC`."""
    if moment is None:
        return "—"
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} UTC"


def whole_number(value: str | None) -> int | None:
    """`value` (a page, an id, a version, a score from a form or a query) as a number when
    it is 1 to 9 ASCII digits, else None. `str.isdigit` alone also accepts '²', which
    int() refuses, and the digits of other scripts; more digits would overflow the
    database's integers."""
    if value and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def number_or_text(value: str) -> int | str:
    """A form's number as a number, anything else as the text sent: the API's schema
    then refuses the text, naming the field."""
    number = whole_number(value)
    return value if number is None else number


def render_error(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("error.html", title=title, detail=detail), status


NOT_FOUND_DETAIL = "There is no such page, or it is not yours to see."


@web.errorhandler(domain.NotFoundError)
@web.errorhandler(domain.PermissionDeniedError)
def _not_yours(error: domain.DomainError) -> ResponseReturnValue:
    # Forbidden reads the same as missing: a page never tells what exists.
    return render_error(404, "Page not found", NOT_FOUND_DETAIL)


def wants_json() -> bool:
    """A page's script asking (autosave), rather than a person's browser."""
    return request.accept_mimetypes.best == "application/json"


@web.errorhandler(CSRFError)
def _stale_form(error: CSRFError) -> ResponseReturnValue:
    if wants_json():
        return {"detail": "The page has expired; reload it (copy your text first)."}, 400
    return render_error(
        400,
        "The form has expired",
        "The page was open too long or was sent from elsewhere. Go back, reload it, and "
        "send it again.",
    )


def _wrap_http_error_handler(app: Flask) -> None:
    from service.http.errors import handle_http_exception as api_handler

    def handle(error: HTTPException) -> Response:
        if request.blueprint == "web" or (
            request.url_rule is None and not request.path.startswith("/api/")
        ):
            response = _html_error(error)
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["Cache-Control"] = "no-store"
            return response
        return api_handler(error)

    app.register_error_handler(HTTPException, handle)


def _html_error(error: HTTPException) -> Response:
    if isinstance(error, NotFound):
        body, status = render_error(404, "Page not found", NOT_FOUND_DETAIL)
    else:
        status = error.code or 500
        body, status = render_error(status, error.name, error.description or error.name)
    response = Response(body, status=status, mimetype="text/html")
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            response.headers[key] = value
    return response
