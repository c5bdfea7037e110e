"""Reading the audit log (admins and recruiters)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.access import Viewer, require
from service.persistence.audit import AuditEvent
from service.persistence.paging import Page, paginate


def list_audit_events(
    session: Session,
    actor: Viewer,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    action: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    require(actor.role, "audit:read")
    stmt = select(AuditEvent)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return paginate(session, stmt, AuditEvent.id, cursor, limit)
