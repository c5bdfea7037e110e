"""Report queries: counts and durations aggregated in SQL, never one ORM object per row.

Stage order and targets differ per template version, so callers pass them as
plain mappings `(template_version_id, stage key) -> value`; they become a SQL
CASE, and every GROUP BY runs in the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, and_, case, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from service.domain.self_identification import QUESTIONS
from service.persistence.applications import Application, StageChange
from service.persistence.requisitions import Requisition
from service.persistence.self_identification import SelfIdentification
from service.persistence.templates import TemplateVersion

ENTRY_KINDS = ("applied", "moved")  # a change that puts an application into `to_stage`
# A stay in a stage starts with these and ends at the application's next timeline event.
STAY_KINDS = ("applied", "moved", "reopened")

StageMap = Mapping[tuple[int, str], int]


class seconds_between(FunctionElement):  # noqa: N801 - a SQL function
    """`end - start` in seconds, on PostgreSQL and SQLite."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_postgresql(element, compiler, **kw):  # noqa: ANN001, ANN202
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):  # noqa: ANN001, ANN202
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@dataclass(frozen=True)
class ApplicationFilters:
    requisition_id: int | None = None
    template_key: str | None = None
    applied_from: datetime | None = None
    applied_to: datetime | None = None

    def apply(self, stmt: Select) -> Select:
        """Restrict a select that already joins Application, Requisition and TemplateVersion."""
        if self.requisition_id is not None:
            stmt = stmt.where(Application.requisition_id == self.requisition_id)
        if self.template_key:
            stmt = stmt.where(TemplateVersion.key == self.template_key)
        if self.applied_from:
            stmt = stmt.where(Application.created_at >= self.applied_from)
        if self.applied_to:
            stmt = stmt.where(Application.created_at < self.applied_to)
        return stmt


def template_versions(session: Session) -> list[TemplateVersion]:
    """Every stored template version (a handful of rows: the stage maps come from them)."""
    return list(session.scalars(select(TemplateVersion).order_by(TemplateVersion.id)))


def by_stage(template_version_id: Any, stage: Any, values: StageMap, else_: int = -1) -> ColumnElement:
    """A CASE giving each (template version, stage) its value, e.g. its position."""
    if not values:
        return literal(else_)
    return case(*((and_(template_version_id == tv, stage == key), value)
                  for (tv, key), value in values.items()), else_=else_)


def _joined(stmt: Select) -> Select:
    return (stmt.join(Requisition, Requisition.id == Application.requisition_id)
            .join(TemplateVersion, TemplateVersion.id == Requisition.template_version_id))


def _furthest(position: StageMap, filters: ApplicationFilters):  # noqa: ANN202 - a subquery
    """Per application: the furthest stage position it ever entered."""
    reached = by_stage(Requisition.template_version_id, StageChange.to_stage, position)
    stmt = _joined(select(StageChange.application_id, func.max(reached).label("furthest"))
                   .join(Application, Application.id == StageChange.application_id))
    stmt = filters.apply(stmt.where(StageChange.kind.in_(ENTRY_KINDS)))
    return stmt.group_by(StageChange.application_id).subquery()


def stage_outcomes(session: Session, position: StageMap, filters: ApplicationFilters,
                   *, by_answers: bool) -> list[Any]:
    """Per template key, stage (and, if asked, self-identification answers): how many
    entered the stage, advanced past it, left it (rejected / withdrawn / hired there)
    or are still in it.

    Advanced past a stage = later entered a stage further on, or was hired.
    """
    furthest = _furthest(position, filters)
    entered = (select(StageChange.application_id, StageChange.to_stage.label("stage"))
               .where(StageChange.kind.in_(ENTRY_KINDS)).distinct().subquery())
    here = by_stage(Requisition.template_version_id, entered.c.stage, position)
    advanced = or_(furthest.c.furthest > here, Application.status == "hired")
    still_here = and_(~advanced, Application.stage == entered.c.stage)
    answers = [getattr(SelfIdentification, q) for q in QUESTIONS] if by_answers else []
    stmt = _joined(
        select(TemplateVersion.key, entered.c.stage, *answers,
               func.count().label("entered"),
               _count(advanced).label("advanced"),
               _count(and_(still_here, Application.status == "active")).label("active"),
               _count(and_(still_here, Application.status == "withdrawn")).label("withdrawn"),
               _count(and_(still_here, Application.status == "rejected")).label("rejected"))
        .select_from(entered)
        .join(Application, Application.id == entered.c.application_id)
        .join(furthest, furthest.c.application_id == Application.id)
    )
    if by_answers:
        stmt = stmt.outerjoin(SelfIdentification,
                              SelfIdentification.application_id == Application.id)
    stmt = filters.apply(stmt)
    return session.execute(stmt.group_by(TemplateVersion.key, entered.c.stage, *answers)).all()


def overall_outcomes(session: Session, filters: ApplicationFilters) -> list[Any]:
    """Per template key and answers: applications by status (applied -> hired)."""
    answers = [getattr(SelfIdentification, q) for q in QUESTIONS]
    stmt = _joined(select(TemplateVersion.key, *answers, Application.status,
                          func.count().label("n")).select_from(Application))
    stmt = stmt.outerjoin(SelfIdentification, SelfIdentification.application_id == Application.id)
    stmt = filters.apply(stmt)
    return session.execute(stmt.group_by(TemplateVersion.key, *answers, Application.status)).all()


def rejections_by_reason(session: Session, filters: ApplicationFilters) -> list[Any]:
    """(stage, rejection reason, count) for applications rejected there."""
    stmt = _joined(select(Application.stage, Application.rejection_reason, func.count())
                   .select_from(Application).where(Application.status == "rejected"))
    stmt = filters.apply(stmt)
    return session.execute(stmt.group_by(Application.stage, Application.rejection_reason)).all()


def stage_stays(session: Session, filters: ApplicationFilters) -> list[tuple[str, float]]:
    """(stage, seconds) for every finished stay in a stage: from entering it to the
    application's next timeline event (a move, rejection, withdrawal or hire)."""
    following = func.lead(StageChange.at).over(
        partition_by=StageChange.application_id, order_by=(StageChange.at, StageChange.id))
    events = _joined(select(StageChange.kind, StageChange.to_stage, StageChange.at,
                            following.label("next_at"))
                     .join(Application, Application.id == StageChange.application_id))
    events = filters.apply(events).subquery()
    stmt = (select(events.c.to_stage, seconds_between(events.c.at, events.c.next_at))
            .where(events.c.kind.in_(STAY_KINDS), events.c.next_at.is_not(None)))
    return [tuple(row) for row in session.execute(stmt)]


def overdue_applications(session: Session, sla_days: StageMap, filters: ApplicationFilters,
                         now: datetime, limit: int) -> tuple[int, list[Any]]:
    """Active applications longer in their stage than its target, oldest first, and how many."""
    target = by_stage(Requisition.template_version_id, Application.stage, sla_days)
    waited = seconds_between(Application.stage_entered_at, literal(now, Application.stage_entered_at.type))
    condition = and_(Application.status == "active", target >= 0, waited > target * 86400.0)
    base = filters.apply(_joined(select(Application.id).select_from(Application)).where(condition))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(filters.apply(_joined(
        select(Application.id, Application.requisition_id, Application.stage,
               Application.stage_entered_at, Requisition.template_version_id,
               Requisition.hiring_manager_id, Requisition.title)
        .select_from(Application)).where(condition))
        .order_by(Application.stage_entered_at, Application.id).limit(limit)).all()
    return total or 0, rows


def _count(condition: ColumnElement) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
