"""Report queries: counts and durations aggregated in SQL, never one ORM object per row.

Stage order and targets differ per template version, so callers pass them as
plain mappings `(template_version_id, stage key) -> value`; they become a SQL
CASE, and every GROUP BY runs in the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Float, Select, and_, case, func, literal, select
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


class StageOutcome(NamedTuple):
    """One step's counts for a template key, stage and (if asked) answers."""

    template_key: str
    stage: str
    answers: tuple[str | None, ...]  # in QUESTIONS order; () when not asked
    entered: int
    advanced: int
    active: int
    withdrawn: int
    rejected: int


class OverallOutcome(NamedTuple):
    """How many applications of a template key and answers have a status."""

    template_key: str
    answers: tuple[str | None, ...]
    status: str
    n: int


class Outcomes(NamedTuple):
    stages: list[StageOutcome]
    overall: list[OverallOutcome]


# Stage-entry flags are packed into integer columns of this many bits (a sum
# that stays a 32-bit integer on every database).
_MASK_BITS = 30


def outcomes(session: Session, position: StageMap, filters: ApplicationFilters,
             *, by_answers: bool) -> Outcomes:
    """Per template key, stage (and, if asked, self-identification answers): how many
    entered the stage, advanced past it, left it (rejected / withdrawn / hired there)
    or are still in it; and per template key (and answers) the applications by status.

    Advanced past a stage = later entered a stage further on, or was hired.

    One pass: the database reduces each application to a pattern (template
    version, status, current stage, answers, furthest stage position, which
    stages it ever entered) and counts applications per pattern, grouping on
    integers and a handful of short labels; the few thousand patterns are then
    spread over the stages here. Grouping the (application, stage) pairs by six
    text columns instead sorted 160k rows on disk at 100k applications.
    Stages that no template version has cannot be counted (moves are checked
    against the template, so there are none).
    """
    keys = sorted({stage for _, stage in position})
    reached = by_stage(Requisition.template_version_id, StageChange.to_stage, position)
    masks = [sum((func.max(case((StageChange.to_stage == key, 1), else_=0)) * (1 << bit)
                  for bit, key in enumerate(chunk)), literal(0)).label(f"entered_{n}")
             for n, chunk in enumerate(_chunks(keys, _MASK_BITS))]
    answers = [getattr(SelfIdentification, q) for q in QUESTIONS] if by_answers else []
    per_application = _joined(
        select(Requisition.template_version_id.label("version_id"), Application.status,
               Application.stage, *answers, func.max(reached).label("furthest"), *masks)
        .select_from(Application)
        .outerjoin(StageChange, and_(StageChange.application_id == Application.id,
                                     StageChange.kind.in_(ENTRY_KINDS))))
    if by_answers:
        per_application = per_application.outerjoin(
            SelfIdentification, SelfIdentification.application_id == Application.id)
    # Grouping by the primary keys lets the database stream the applications in
    # id order (application, stage changes and answers are all indexed by it).
    per_application = filters.apply(per_application).group_by(
        Application.id, Requisition.template_version_id,
        *([SelfIdentification.id] if by_answers else [])).subquery()
    columns = list(per_application.c)
    patterns = session.execute(select(*columns, func.count().label("n")).group_by(*columns)).all()
    version_keys = dict(session.execute(select(TemplateVersion.id, TemplateVersion.key)).all())
    return _spread(patterns, keys, position, version_keys, n_answers=len(answers))


def stage_outcomes(session: Session, position: StageMap, filters: ApplicationFilters,
                   *, by_answers: bool) -> list[StageOutcome]:
    """The per-stage half of `outcomes`."""
    return outcomes(session, position, filters, by_answers=by_answers).stages


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def _spread(patterns: list[Any], keys: list[str], position: StageMap,
            version_keys: Mapping[int, str], n_answers: int) -> Outcomes:
    """Application patterns -> counts per (template key, stage, answers) and per status."""
    stages: dict[tuple, list[int]] = {}
    overall: dict[tuple, int] = {}
    for row in patterns:
        version_id, status, current, *rest = row
        answers = tuple(rest[:n_answers])
        furthest, entered_masks, n = rest[n_answers], rest[n_answers + 1:-1], rest[-1]
        template_key = version_keys[version_id]
        overall[(template_key, answers, status)] = overall.get((template_key, answers, status), 0) + n
        for chunk, mask in enumerate(entered_masks):
            while mask:
                bit = (mask & -mask).bit_length() - 1
                mask &= mask - 1
                stage = keys[chunk * _MASK_BITS + bit]
                # [entered, advanced, active, withdrawn, rejected]
                tally = stages.setdefault((template_key, stage, answers), [0, 0, 0, 0, 0])
                tally[0] += n
                if furthest > position.get((version_id, stage), -1) or status == "hired":
                    tally[1] += n
                elif current == stage and status in _STILL_THERE:
                    tally[_STILL_THERE[status]] += n
    return Outcomes(
        [StageOutcome(key, stage, answers, *tally) for (key, stage, answers), tally in stages.items()],
        [OverallOutcome(key, answers, status, n) for (key, answers, status), n in overall.items()])


_STILL_THERE = {"active": 2, "withdrawn": 3, "rejected": 4}


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
