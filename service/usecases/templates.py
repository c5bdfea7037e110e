"""Interview templates: store new versions from the YAML folder; find the current one;
list every stored version with the requisitions pinned to it, and compare two."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from service.domain.access import Viewer, require
from service.domain.errors import NotFoundError, RuleViolationError
from service.domain.template_diff import Change, template_changes
from service.domain.templates import InterviewTemplate
from service.persistence.audit import record_event
from service.persistence.requisitions import Requisition
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


@dataclass(frozen=True)
class PinnedRequisition:
    id: int
    title: str
    status: str


@dataclass(frozen=True)
class StoredVersion:
    """A stored version; `number` counts a key's versions in the order they were stored."""

    number: int
    row: TemplateVersion
    requisitions: list[PinnedRequisition] = field(default_factory=list)


def template_history(session: Session, actor: Viewer) -> dict[str, list[StoredVersion]]:
    """Per template key (sorted), its stored versions, oldest first, each with the
    requisitions pinned to it. Admin only. Raises PermissionDeniedError."""
    require(actor.role, "templates:history")
    pinned: dict[int, list[PinnedRequisition]] = defaultdict(list)
    for version_id, requisition_id, title, status in session.execute(
        select(
            Requisition.template_version_id, Requisition.id, Requisition.title, Requisition.status
        ).order_by(Requisition.id)
    ):
        pinned[version_id].append(PinnedRequisition(requisition_id, title, status))
    history: dict[str, list[StoredVersion]] = defaultdict(list)
    for row in session.scalars(select(TemplateVersion).order_by(TemplateVersion.id)):
        versions = history[row.key]
        versions.append(StoredVersion(len(versions) + 1, row, pinned.get(row.id, [])))
    return dict(sorted(history.items()))


@dataclass(frozen=True)
class Comparison:
    key: str
    old: StoredVersion
    new: StoredVersion
    changes: list[Change]


def compare_versions(
    session: Session, actor: Viewer, key: str, old_number: int, new_number: int
) -> Comparison:
    """What changed from version `old_number` of template `key` to `new_number` (numbers
    as in `template_history`). Admin only. Raises PermissionDeniedError, NotFoundError,
    RuleViolationError (a number the key has no version for, naming `from` or `to`)."""
    require(actor.role, "templates:history")
    rows = session.scalars(
        select(TemplateVersion)
        .options(undefer(TemplateVersion.content))
        .where(TemplateVersion.key == key)
        .order_by(TemplateVersion.id)
    ).all()
    if not rows:
        raise NotFoundError(f"No interview template with key '{key}'.")
    for name, number in (("from", old_number), ("to", new_number)):
        if not 1 <= number <= len(rows):
            raise RuleViolationError(
                f"Template '{key}' has versions 1 to {len(rows)}; there is no version {number}.",
                errors={name: f"a version from 1 to {len(rows)}"},
            )
    old, new = rows[old_number - 1], rows[new_number - 1]
    return Comparison(
        key,
        StoredVersion(old_number, old),
        StoredVersion(new_number, new),
        template_changes(old.template(), new.template()),
    )
