"""Report queries: counts and durations aggregated in SQL, never one ORM object per row.

Stage order and targets differ per template version, so callers pass them as
plain mappings `(template_version_id, stage key) -> value`; they become a SQL
CASE, and every GROUP BY runs in the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVarTuple

from sqlalchemy import (
    Float,
    Integer,
    Row,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from service.domain.pipeline import APPLICATION_STATUSES, ApplicationStatus
from service.domain.self_identification import QUESTIONS
from service.persistence.applications import Application, StageChange
from service.persistence.candidates import Candidate
from service.persistence.data_protection import SelfIdentificationCount
from service.persistence.requisitions import Requisition
from service.persistence.self_identification import SelfIdentification
from service.persistence.templates import TemplateVersion

ENTRY_KINDS = ("applied", "moved")  # a change that puts an application into `to_stage`
# A stay in a stage starts with these and ends at the application's next timeline event.
STAY_KINDS = ("applied", "moved", "reopened")

_Ts = TypeVarTuple("_Ts")

StageMap = Mapping[tuple[int, str], int]


class seconds_between(FunctionElement[float]):
    """`end - start` in seconds, on PostgreSQL and SQLite."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


class bit_or(FunctionElement[int]):
    """Bitwise OR of a group's integers. SQLite has no such aggregate: there it is the
    sum of the distinct values, the same thing for the single bits (or 0) given here."""

    type = Integer()
    inherit_cache = True


@compiles(bit_or)
def _bit_or(element, compiler, **kw):
    return f"bit_or({compiler.process(element.clauses, **kw)})"


@compiles(bit_or, "sqlite")
def _bit_or_sqlite(element, compiler, **kw):
    return f"sum(DISTINCT {compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class ApplicationFilters:
    requisition_id: int | None = None
    template_key: str | None = None
    # A recruiter's own: the requisitions they run, and those nobody has been assigned to.
    recruiter_or_unassigned: int | None = None
    applied_from: datetime | None = None
    applied_to: datetime | None = None

    def apply(self, stmt: Select[*_Ts]) -> Select[*_Ts]:
        """Restrict a select that already joins Application, Requisition and TemplateVersion."""
        if self.template_key:
            stmt = stmt.where(TemplateVersion.key == self.template_key)
        return stmt.where(*self._on_application())

    def on_applications(self) -> list[ColumnElement[bool]]:
        """The same restriction as conditions on Application alone (the template key
        through a subquery), for a select that does not join the requisition."""
        conditions = self._on_application()
        if self.template_key:
            conditions.append(
                Application.requisition_id.in_(
                    select(Requisition.id)
                    .join(TemplateVersion, TemplateVersion.id == Requisition.template_version_id)
                    .where(TemplateVersion.key == self.template_key)
                )
            )
        return conditions

    def _on_application(self) -> list[ColumnElement[bool]]:
        conditions = []
        if self.requisition_id is not None:
            conditions.append(Application.requisition_id == self.requisition_id)
        if self.recruiter_or_unassigned is not None:
            conditions.append(
                Application.requisition_id.in_(
                    select(Requisition.id).where(
                        or_(
                            Requisition.recruiter_id == self.recruiter_or_unassigned,
                            Requisition.recruiter_id.is_(None),
                        )
                    )
                )
            )
        if self.applied_from:
            conditions.append(Application.created_at >= self.applied_from)
        if self.applied_to:
            conditions.append(Application.created_at < self.applied_to)
        return conditions


def template_versions(session: Session) -> list[TemplateVersion]:
    """Every stored template version (a handful of rows: the stage maps come from them)."""
    return list(session.scalars(select(TemplateVersion).order_by(TemplateVersion.id)))


def by_stage(
    template_version_id: Any, stage: Any, values: StageMap, else_: int = -1
) -> ColumnElement[int]:
    """A CASE giving each (template version, stage) its value, e.g. its position."""
    if not values:
        return literal(else_)
    return case(
        *(
            (and_(template_version_id == tv, stage == key), value)
            for (tv, key), value in values.items()
        ),
        else_=else_,
    )


def _joined(stmt: Select[*_Ts]) -> Select[*_Ts]:
    return stmt.join(Requisition, Requisition.id == Application.requisition_id).join(
        TemplateVersion, TemplateVersion.id == Requisition.template_version_id
    )


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


# Stage-entry flags are packed into integer columns of this many bits (an OR
# that stays a 32-bit integer on every database).
_MASK_BITS = 30


def outcomes(
    session: Session, position: StageMap, filters: ApplicationFilters, *, by_answers: bool
) -> Outcomes:
    """Per template key, stage (and, if asked, self-identification answers): how many
    entered the stage, advanced past it, left it (rejected / withdrawn / hired there)
    or are still in it; and per template key (and answers) the applications by status.

    Advanced past a stage = later entered a stage further on, or was hired.

    One pass: the database reduces each application to a pattern of small
    integers (template version, status, current stage, answers, which stages it
    ever entered, as bits) and counts applications per pattern; the few thousand
    patterns are then decoded and spread over the stages here. Integer codes
    instead of the text columns, and one OR per application instead of a
    CASE per (template version, stage), took the query from about 360 ms to
    180 ms at 100k applications on PostgreSQL; the furthest stage follows from
    the entered ones. The entries are read from a partial index holding just
    them (migration 0006), in application order.
    Stages that no template version has cannot be counted (moves are checked
    against the template, so there are none).
    """
    keys = sorted({stage for _, stage in position})
    masks = [
        _coded(StageChange.to_stage, {key: 1 << bit for bit, key in enumerate(chunk)}, 0)
        for chunk in _chunks(keys, _MASK_BITS)
    ]
    conditions = filters.on_applications()
    # Which stages each application entered. Over all applications, grouping the
    # entries on their own index first spares joining each entry; a filter keeps a
    # fraction of them, so there the applications pick their entries, per application.
    entered = [bit_or(mask).label(f"entered_{n}") for n, mask in enumerate(masks)]
    # Inline, so that even a cached generic plan can prove the partial index applies.
    is_entry = StageChange.kind.in_(
        bindparam("entry_kinds", ENTRY_KINDS, expanding=True, literal_execute=True)
    )
    if conditions:
        entries = (
            select(Application.id.label("application_id"), *entered)
            .select_from(Application)
            .join(StageChange, and_(StageChange.application_id == Application.id, is_entry))
            .where(*conditions)
            .group_by(Application.id)
        ).subquery()
    else:
        entries = (
            select(StageChange.application_id, *entered)
            .where(is_entry)
            .group_by(StageChange.application_id)
        ).subquery()
    answers = (
        [_coded(getattr(SelfIdentification, q), _indexes(QUESTIONS[q])).label(q) for q in QUESTIONS]
        if by_answers
        else []
    )
    coded = (
        select(
            Requisition.template_version_id.label("version_id"),
            _coded(Application.status, _indexes(APPLICATION_STATUSES)).label("status"),
            _coded(Application.stage, _indexes(keys), -1).label("stage"),
            *answers,
            *(c for c in entries.c if c.name.startswith("entered_")),
        )
        .select_from(Application)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .outerjoin(entries, entries.c.application_id == Application.id)
        .where(*conditions)
    )
    if by_answers:
        # Erased applicants' answers are no longer linked: they are counted from
        # `self_identification_counts` below instead of as applicants who did not answer.
        coded = coded.outerjoin(
            SelfIdentification, SelfIdentification.application_id == Application.id
        ).where(
            Application.candidate_id.not_in(
                select(Candidate.id).where(Candidate.erased_at.is_not(None))
            )
        )
    columns = list(coded.subquery().c)
    counted = select(*columns, func.count().label("n")).group_by(*columns)
    # Over every application, each input comes in application order from an index.
    with _merge_joins(session, wanted=not conditions):
        patterns: list[Any] = list(session.execute(counted).all())
    if by_answers:
        patterns += _erased_patterns(session, filters, keys)
    version_keys = dict(session.execute(select(TemplateVersion.id, TemplateVersion.key)).all())
    return _spread(patterns, keys, position, version_keys, by_answers=by_answers)


@contextmanager
def _merge_joins(session: Session, *, wanted: bool) -> Iterator[None]:
    """PostgreSQL joins by merging, not hashing, for the statements run inside (and the
    setting as it was after them); elsewhere, or unless `wanted`, nothing changes.

    For `outcomes` over every application: the entries grouped per application (from
    their index), the applications (primary key) and the self-identifications (unique
    application id) all come in application order, so merge joins need neither a sort
    nor a hash table of 100k rows. The planner hashes instead (its estimates of the
    grouped entries are low), which took ~1.35x as long at 100k applications
    (EXPLAIN ANALYZE, alternated). Transaction-local: an autocommit session runs the
    planner's own plan."""
    if not wanted or session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = session.scalar(
        text(
            "SELECT current_setting('enable_hashjoin'), set_config('enable_hashjoin', 'off', true)"
        )
    )
    try:
        yield
    finally:
        session.execute(
            text("SELECT set_config('enable_hashjoin', :previous, true)"), {"previous": previous}
        )


def _erased_patterns(
    session: Session, filters: ApplicationFilters, keys: list[str]
) -> list[tuple[Any, ...]]:
    """Erased applicants' answer counts, coded like `outcomes`' patterns. Filtered like
    the applications, but by the day of application (the time is not kept)."""
    # Columns, not entities, and the answers as plain strings (they are checked by
    # their index in QUESTIONS below): loading ~2k count objects, and validating each
    # answer on load, cost ~35 ms of the report at 100k.
    count = SelfIdentificationCount
    stmt = select(
        Requisition.template_version_id,
        count.status,
        count.stage,
        count.entered,
        *(type_coerce(getattr(count, q), String) for q in QUESTIONS),
        count.applicants,
    ).join(Requisition, Requisition.id == count.requisition_id)
    if filters.requisition_id is not None:
        stmt = stmt.where(SelfIdentificationCount.requisition_id == filters.requisition_id)
    if filters.template_key:
        stmt = stmt.join(
            TemplateVersion, TemplateVersion.id == Requisition.template_version_id
        ).where(TemplateVersion.key == filters.template_key)
    if filters.applied_from:
        stmt = stmt.where(SelfIdentificationCount.applied_on >= filters.applied_from.date())
    if filters.applied_to:
        stmt = stmt.where(SelfIdentificationCount.applied_on <= filters.applied_to.date())
    stage_codes = _indexes(keys)
    bits = {key: (n // _MASK_BITS, n % _MASK_BITS) for n, key in enumerate(keys)}
    patterns = []
    for version_id, status, stage, entered_stages, *answered, applicants in session.execute(stmt):
        masks = [0] * len(_chunks(keys, _MASK_BITS))
        for entered in filter(None, entered_stages.split(",")):
            if entered in bits:
                chunk, bit = bits[entered]
                masks[chunk] |= 1 << bit
        answers = [
            options.index(answer)
            for options, answer in zip(QUESTIONS.values(), answered, strict=True)
        ]
        current = stage_codes.get(stage, -1)
        patterns.append(
            (version_id, APPLICATION_STATUSES.index(status), current, *answers, *masks, applicants)
        )
    return patterns


def stage_outcomes(
    session: Session, position: StageMap, filters: ApplicationFilters, *, by_answers: bool
) -> list[StageOutcome]:
    """The per-stage half of `outcomes`."""
    return outcomes(session, position, filters, by_answers=by_answers).stages


def _indexes(values: Sequence[str]) -> dict[str, int]:
    return {value: index for index, value in enumerate(values)}


def _coded(
    column: Any, codes: Mapping[str, int], else_: int | None = None
) -> ColumnElement[int | None]:
    """`CASE column WHEN value THEN code ... END`: a small integer to group on."""
    if not codes:
        return literal(-1 if else_ is None else else_)
    return case(codes, value=column, else_=else_)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _spread(
    patterns: Sequence[Row[*tuple[Any, ...]]],
    keys: list[str],
    position: StageMap,
    version_keys: Mapping[int, str],
    *,
    by_answers: bool,
) -> Outcomes:
    """Coded application patterns -> counts per (template key, stage, answers) and per status."""
    split = 3 + (len(QUESTIONS) if by_answers else 0)
    options = list(QUESTIONS.values())
    answer_labels: dict[tuple[Any, ...], tuple[str | None, ...]] = {}
    steps: dict[tuple[Any, ...], list[tuple[str, int | None]]] = {}
    stages: dict[tuple[str, str, tuple[str | None, ...]], list[int]] = {}
    overall: dict[tuple[str, tuple[str | None, ...], str], int] = {}
    for row in patterns:
        version_id, status_code, current = row[0], row[1], row[2]
        codes, masks, n = row[3:split], row[split:-1], row[-1]
        answers = answer_labels.get(codes)
        if answers is None:
            answers = answer_labels[codes] = tuple(
                None if code is None else options[q][code] for q, code in enumerate(codes)
            )
        status = APPLICATION_STATUSES[status_code]
        template_key = version_keys[version_id]
        overall[(template_key, answers, status)] = (
            overall.get((template_key, answers, status), 0) + n
        )
        pattern = (version_id, status, current, masks)
        entered = steps.get(pattern)
        if entered is None:
            entered = steps[pattern] = _steps(pattern, keys, position)
        for stage, outcome in entered:
            # [entered, advanced, active, withdrawn, rejected]
            tally = stages.setdefault((template_key, stage, answers), [0, 0, 0, 0, 0])
            tally[0] += n
            if outcome is not None:
                tally[outcome] += n
    return Outcomes(
        [
            StageOutcome(key, stage, answers, *tally)
            for (key, stage, answers), tally in stages.items()
        ],
        [OverallOutcome(key, answers, status, n) for (key, answers, status), n in overall.items()],
    )


def _steps(
    pattern: tuple[Any, ...], keys: list[str], position: StageMap
) -> list[tuple[str, int | None]]:
    """Per stage an application of this pattern entered: which tally besides `entered` it
    adds to (advanced past it: 1; still there, withdrawn or rejected there: 2-4; else None).

    Advanced = entered a stage further on in its template version (stages the version
    does not have are at position -1), or hired.
    """
    version_id, status, current, masks = pattern
    indexes = [
        chunk * _MASK_BITS + bit
        for chunk, mask in enumerate(masks)
        for bit in range((mask or 0).bit_length())
        if mask >> bit & 1
    ]
    furthest = max((position.get((version_id, keys[i]), -1) for i in indexes), default=-1)
    steps: list[tuple[str, int | None]] = []
    for i in indexes:
        if furthest > position.get((version_id, keys[i]), -1) or status == ApplicationStatus.HIRED:
            steps.append((keys[i], 1))
        else:
            steps.append((keys[i], _STILL_THERE.get(status) if i == current else None))
    return steps


_STILL_THERE = {"active": 2, "withdrawn": 3, "rejected": 4}


def rejections_by_reason(
    session: Session, filters: ApplicationFilters
) -> Sequence[Row[str, str | None, int]]:
    """(stage, rejection reason, count) for applications rejected there."""
    stmt = _joined(
        select(Application.stage, Application.rejection_reason, func.count())
        .select_from(Application)
        .where(Application.status == ApplicationStatus.REJECTED)
    )
    stmt = filters.apply(stmt)
    return session.execute(stmt.group_by(Application.stage, Application.rejection_reason)).all()


def stage_stays(session: Session, filters: ApplicationFilters) -> list[tuple[str, float]]:
    """(stage, seconds) for every finished stay in a stage: from entering it to the
    application's next timeline event (a move, rejection, withdrawal or hire)."""
    following = func.lead(StageChange.at).over(
        partition_by=StageChange.application_id, order_by=(StageChange.at, StageChange.id)
    )
    events = _joined(
        select(
            StageChange.kind, StageChange.to_stage, StageChange.at, following.label("next_at")
        ).join(Application, Application.id == StageChange.application_id)
    )
    stays = filters.apply(events).subquery()
    stmt = select(stays.c.to_stage, seconds_between(stays.c.at, stays.c.next_at)).where(
        stays.c.kind.in_(STAY_KINDS), stays.c.next_at.is_not(None)
    )
    return [tuple(row) for row in session.execute(stmt)]


def overdue_applications(
    session: Session, sla_days: StageMap, filters: ApplicationFilters, now: datetime, limit: int
) -> tuple[int, Sequence[Row[int, int, str, datetime, int, int, int | None, str]]]:
    """Active applications longer in their stage than its target, oldest first, and how many."""
    target = by_stage(Requisition.template_version_id, Application.stage, sla_days)
    waited = seconds_between(
        Application.stage_entered_at, literal(now, Application.stage_entered_at.type)
    )
    condition = and_(
        Application.status == ApplicationStatus.ACTIVE, target >= 0, waited > target * 86400.0
    )
    base = filters.apply(_joined(select(Application.id).select_from(Application)).where(condition))
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = session.execute(
        filters.apply(
            _joined(
                select(
                    Application.id,
                    Application.requisition_id,
                    Application.stage,
                    Application.stage_entered_at,
                    Requisition.template_version_id,
                    Requisition.hiring_manager_id,
                    Requisition.recruiter_id,
                    Requisition.title,
                ).select_from(Application)
            ).where(condition)
        )
        .order_by(Application.stage_entered_at, Application.id)
        .limit(limit)
    ).all()
    return total or 0, rows
