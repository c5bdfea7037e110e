"""The admin's template pages: every stored version of each role's interview template,
the requisitions pinned to each, and what changed between two versions in words
(`domain/template_diff.py`, through `usecases/templates.py`).

For admins only (`templates:history`); anyone else gets the 404 of a page that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import render_template, request
from flask.typing import ResponseReturnValue

from service.domain.access import ADMIN, require
from service.domain.errors import NotFoundError, RuleViolationError
from service.domain.template_diff import by_section
from service.extensions import db
from service.usecases import templates
from service.web import add_nav_item, render_error, web, whole_number
from service.web.session import web_actor

if TYPE_CHECKING:  # pages query nothing themselves; the type is for annotations
    from service.persistence.users import User

add_nav_item("Templates", "web.admin_templates", (ADMIN,), order=61)


@web.get("/admin/templates")
def admin_templates() -> ResponseReturnValue:
    """Each template's stored versions, oldest first, with the requisitions pinned to each."""
    history = templates.template_history(db.session, _admin())
    return render_template("admin/templates.html", history=history)


@web.get("/admin/templates/<template_key>/changes")
def admin_template_changes(template_key: str) -> ResponseReturnValue:
    """What changed from version `from` to version `to` (default: the last two)."""
    actor = _admin()
    history = templates.template_history(db.session, actor).get(template_key)
    if not history:
        raise NotFoundError(f"No interview template with key '{template_key}'.")
    latest = len(history)
    try:
        old = _number("from", max(latest - 1, 1))
        new = _number("to", latest)
        comparison = templates.compare_versions(db.session, actor, template_key, old, new)
    except RuleViolationError as error:
        named = "; ".join(f"{k}: {v}" for k, v in error.errors.items())
        return render_error(422, "Cannot compare these versions", f"{error.detail} ({named})")
    return render_template(
        "admin/template_changes.html",
        comparison=comparison,
        sections=by_section(comparison.changes),
        history=history,
    )


def _number(name: str, default: int) -> int:
    value = request.args.get(name, "").strip()
    if not value:
        return default
    number = whole_number(value)
    if number is None:
        raise RuleViolationError(
            f"Give the version's number as '{name}'.", errors={name: "a whole number"}
        )
    return number


def _admin() -> User:
    actor = web_actor()
    require(actor.role, "templates:history")
    return actor
