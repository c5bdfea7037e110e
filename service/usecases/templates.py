"""Interview templates: store new versions from the YAML folder; find the current one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.errors import RuleViolationError
from service.domain.templates import InterviewTemplate
from service.persistence.audit import record_event
from service.persistence.templates import TemplateVersion


@dataclass(frozen=True)
class SyncResult:
    key: str
    version: str
    created: bool


def sync_templates(session: Session, templates: list[InterviewTemplate]) -> list[SyncResult]:
    """Store every template version not stored yet. Stored versions are never changed,
    so a requisition's pinned version stays exactly as it was."""
    results = []
    for template in templates:
        exists = session.scalar(
            select(TemplateVersion.id).where(
                TemplateVersion.key == template.key, TemplateVersion.version == template.version
            )
        )
        if exists is None:
            row = TemplateVersion(
                key=template.key,
                version=template.version,
                title=template.title,
                content=template.to_dict(),
            )
            session.add(row)
            session.flush()
            record_event(
                session,
                None,
                "template.version_stored",
                "template_version",
                row.id,
                after={"key": row.key, "version": row.version},
            )
        results.append(SyncResult(template.key, template.version, exists is None))
    session.commit()
    return results


def current_template_version(session: Session, key: str) -> TemplateVersion:
    """The most recently stored version of template `key`. Raises RuleViolationError."""
    row = session.scalar(
        select(TemplateVersion)
        .where(TemplateVersion.key == key)
        .order_by(TemplateVersion.id.desc())
        .limit(1)
    )
    if row is None:
        known = ", ".join(session.scalars(select(TemplateVersion.key).distinct())) or "none"
        raise RuleViolationError(
            f"No interview template with key '{key}'. Known templates: {known}.",
            errors={"template_key": f"unknown template '{key}'; known: {known}"},
        )
    return row
