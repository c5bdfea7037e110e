"""Requisitions: open a role on a pinned template version; list, read, update."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.access import ADMIN, HIRING_MANAGER, RECRUITER, Viewer, require
from service.domain.errors import RuleViolationError
from service.persistence.audit import record_event
from service.persistence.base import snapshot
from service.persistence.paging import Page, paginate
from service.persistence.requisitions import Requisition
from service.persistence.users import User
from service.persistence.visibility import visible_requisitions
from service.usecases.access import get_requisition
from service.usecases.templates import current_template_version


def create_requisition(session: Session, actor: Viewer, data: dict[str, Any]) -> Requisition:
    """Open a requisition pinned to the template's current version.

    Raises PermissionDeniedError, RuleViolationError (unknown template, unfit hiring manager).
    """
    require(actor.role, "requisitions:write")
    _check_hiring_manager(session, data["hiring_manager_id"])
    if data.get("recruiter_id") is not None:
        _check_recruiter(session, data["recruiter_id"])
    template_version = current_template_version(session, data.pop("template_key"))
    requisition = Requisition(**data, template_version_id=template_version.id)
    session.add(requisition)
    session.flush()
    record_event(
        session,
        actor.id,
        "requisition.created",
        "requisition",
        requisition.id,
        after=snapshot(requisition),
    )
    session.commit()
    return requisition


def list_requisitions(
    session: Session,
    actor: Viewer,
    *,
    status: str | None = None,
    recruiter_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    require(actor.role, "requisitions:read")
    stmt = visible_requisitions(select(Requisition), actor)
    if status:
        stmt = stmt.where(Requisition.status == status)
    if recruiter_id is not None:
        stmt = stmt.where(Requisition.recruiter_id == recruiter_id)
    return paginate(session, stmt, Requisition.id, cursor, limit)


def requisition_titles(session: Session, actor: Viewer) -> list[tuple[int, str, str]]:
    """(id, title, status) of every requisition `actor` may see, oldest first: a page's
    chooser, without loading each requisition's people and template."""
    require(actor.role, "requisitions:read")
    stmt = visible_requisitions(
        select(Requisition.id, Requisition.title, Requisition.status), actor
    ).order_by(Requisition.id)
    return [(i, title, status) for i, title, status in session.execute(stmt)]


def update_requisition(
    session: Session, actor: Viewer, requisition_id: int, changes: dict[str, Any]
) -> Requisition:
    require(actor.role, "requisitions:write")
    requisition = get_requisition(session, actor, requisition_id)
    if "hiring_manager_id" in changes:
        _check_hiring_manager(session, changes["hiring_manager_id"])
    if changes.get("recruiter_id") is not None:
        _check_recruiter(session, changes["recruiter_id"])
    before = snapshot(requisition)
    for name, value in changes.items():
        setattr(requisition, name, value)
    session.flush()
    session.refresh(
        requisition
    )  # the hiring manager and recruiter the new ids name manager and recruiter the new ids name
    record_event(
        session,
        actor.id,
        "requisition.updated",
        "requisition",
        requisition.id,
        before=before,
        after=snapshot(requisition),
    )
    session.commit()
    return requisition


def _check_hiring_manager(session: Session, user_id: int) -> None:
    manager = session.get(User, user_id)
    if manager is None or not manager.active or manager.role not in (HIRING_MANAGER, ADMIN):
        raise RuleViolationError(
            f"User {user_id} cannot be the hiring manager.",
            errors={"hiring_manager_id": "must be an active user with the hiring_manager role"},
        )


def _check_recruiter(session: Session, user_id: int) -> None:
    recruiter = session.get(User, user_id)
    if recruiter is None or not recruiter.active or recruiter.role not in (RECRUITER, ADMIN):
        raise RuleViolationError(
            f"User {user_id} cannot be the recruiter.",
            errors={"recruiter_id": "must be an active user with the recruiter or admin role"},
        )
