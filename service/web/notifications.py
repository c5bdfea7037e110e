"""Everyone's notifications page: what the outbox told me (`usecases.notifications`),
the same list as `GET /api/v1/me/notifications`, and marking it read."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.domain.access import ROLES
from service.extensions import db
from service.usecases import notifications
from service.web import add_nav_item, web, whole_number
from service.web.session import web_actor

add_nav_item("Notifications", "web.notifications_page", ROLES, order=90)


@web.get("/notifications")
def notifications_page() -> ResponseReturnValue:
    """My unread notifications, each linking to the page it is about."""
    unread = notifications.list_notifications(db.session, web_actor(), unread=True, limit=50)
    return render_template("notifications/list.html", unread=unread)


@web.post("/notifications/read")
def mark_notifications_read() -> ResponseReturnValue:
    """Mark the notifications on the page read (only mine change)."""
    ids = [n for value in request.form.getlist("id") if (n := whole_number(value)) is not None]
    changed = notifications.mark_read(db.session, web_actor(), ids)
    flash(f"{changed} notification{'s' if changed != 1 else ''} marked read.", "success")
    return redirect(url_for("web.notifications_page"))
