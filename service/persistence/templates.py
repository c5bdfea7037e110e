"""Stored interview-template versions. A version row is never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.domain.templates import InterviewTemplate
from service.persistence.base import Base, utcnow


class TemplateVersion(Base):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    # Deferred: requisitions join their version eagerly, and decoding this JSON for every
    # row of a page cost a fifth of a list request (bench/, BENCHMARKS.md). `template()`
    # loads it once per version and process.
    content: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def template(self) -> InterviewTemplate:
        """The parsed template. Versions are immutable, so parsing once is safe."""
        parsed = _parsed.get(self.version)
        if parsed is None:
            parsed = _parsed[self.version] = InterviewTemplate.from_dict(self.content)
        return parsed


_parsed: dict[str, InterviewTemplate] = {}


def parsed_template(session: Session, version_id: int, version: str) -> InterviewTemplate:
    """The parsed template of a version read as a plain row (id and `version`), from
    the same per-process cache as `TemplateVersion.template()`; the content is read
    only on the first use of a version."""
    parsed = _parsed.get(version)
    if parsed is None:
        content = session.execute(
            select(TemplateVersion.content).where(TemplateVersion.id == version_id)
        ).scalar_one()
        parsed = _parsed[version] = InterviewTemplate.from_dict(content)
    return parsed
