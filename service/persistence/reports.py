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
    Row,
    Select,
    String,
    and_,
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

from service.domain.pipeline import ApplicationStatus, split_stages
from service.domain.self_identification import ANSWER_SETS, QUESTIONS
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


# One group of applications: template version, status, current stage, answers (in
# QUESTIONS order; () when not asked), the stages entered (as stored), how many.
Pattern = tuple[int, str, str, tuple[str | None, ...], str, int]


class Outcomes(NamedTuple):
    stages: list[StageOutcome]
    overall: list[OverallOutcome]


def outcomes(
    session: Session, position: StageMap, filters: ApplicationFilters, *, by_answers: bool
) -> Outcomes:
    """Per template key, stage (and, if asked, self-identification answers): how many
    entered the stage, advanced past it, left it (rejected / withdrawn / hired there)
    or are still in it; and per template key (and answers) the applications by status.

    Advanced past a stage = later entered a stage further on, or was hired.

    One pass: the database counts the applications per pattern (template version,
    status, current stage, answers, the stages it ever entered) and the few thousand
    patterns are spread over the stages here; the furthest stage follows from the
    entered ones. Which stages an application entered is kept on it
    (`Application.entered_stages`): grouping its timeline entries on every read was
    about a third of the query at 100k applications on PostgreSQL; with the patterns
    grouped in a hash table (`_hashed_groups`), ~0.55x the time of the query that
    grouped the timeline (EXPLAIN ANALYZE, alternated on one 100k database). The
    answers are grouped as the one number the database keeps for them
    (`SelfIdentification.answers_code`): 0.76x the query grouping the four strings.
    Stages that no template version has are not counted (moves are checked against
    the template, so there are none).
    """
    conditions = filters.on_applications()
    pattern = [
        Requisition.template_version_id,
        type_coerce(Application.status, String),
        Application.stage,
        Application.entered_stages,
        *([SelfIdentification.answers_code] if by_answers else []),
    ]
    counted = (
        select(*pattern, func.count())
        .select_from(Application)
        .join(Requisition, Requisition.id == Application.requisition_id)
        .where(*conditions)
        .group_by(*pattern)
    )
    if by_answers:
        # Erased applicants' answers are no longer linked: they are counted from
        # `self_identification_counts` below instead of as applicants who did not answer.
        # NOT EXISTS, not NOT IN: the planner estimates an anti join to keep nearly every
        # application (NOT IN: half), so it hashes the smaller self-identifications rather
        # than the applications (which spilled to disk at the default work_mem): ~0.93x
        # the query at 100k (alternated). The same rows: `candidate_id` is never null.
        counted = counted.outerjoin(
            SelfIdentification, SelfIdentification.application_id == Application.id
        ).where(
            ~select(Candidate.id)
            .where(Candidate.id == Application.candidate_id, Candidate.erased_at.is_not(None))
            .exists()
        )
    with _hashed_groups(session):
        counts: list[Any] = list(session.execute(counted))
    patterns: list[Pattern]
    if by_answers:
        patterns = [
            (version, status, stage, _ANSWERS_OF_CODE[code], entered, n)
            for version, status, stage, entered, code, n in counts
        ]
        patterns += _erased_patterns(session, filters)
    else:
        patterns = [
            (version, status, stage, (), entered, n)
            for version, status, stage, entered, n in counts
        ]
    version_keys = dict(session.execute(select(TemplateVersion.id, TemplateVersion.key)).all())
    return _spread(patterns, position, version_keys)


# `SelfIdentification.answers_code` -> the answers; None (no self-identification, the
# outer join's NULL) -> no answer to any question.
_ANSWERS_OF_CODE: dict[int | None, tuple[str | None, ...]] = {
    **dict(enumerate(ANSWER_SETS)),
    None: (None,) * len(QUESTIONS),
}


@contextmanager
def _hashed_groups(session: Session) -> Iterator[None]:
    """PostgreSQL groups in a hash table, not by sorting, for the statements run inside
    (and the setting as it was after them); elsewhere nothing changes.

    `outcomes` groups ~100k applications (at 100k) into a few thousand patterns. The
    planner multiplies the columns' distinct counts, expects about as many groups as
    rows, and sorts them on eight columns (spilling to disk at the default work_mem):
    ~3x as long as the hash table (EXPLAIN ANALYZE, alternated). The patterns are few
    whatever the filters, so the hash table is always small. Transaction-local: an
    autocommit session runs the planner's own plan."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    previous = session.scalar(
        text("SELECT current_setting('enable_sort'), set_config('enable_sort', 'off', true)")
    )
    try:
        yield
    finally:
        session.execute(
            text("SELECT set_config('enable_sort', :previous, true)"), {"previous": previous}
        )


def _erased_patterns(session: Session, filters: ApplicationFilters) -> list[Pattern]:
    """Erased applicants' answer counts, as `outcomes`' patterns (their entered stages
    are kept as `Application.entered_stages` is). Filtered like the applications, but
    by the day of application (the time is not kept)."""
    # Columns, not entities, and the answers as plain strings: loading ~2k count
    # objects, and validating each answer on load, cost ~35 ms of the report at 100k.
    count = SelfIdentificationCount
    stmt = select(
        Requisition.template_version_id,
        count.status,
        count.stage,
        *(type_coerce(getattr(count, q), String) for q in QUESTIONS),
        count.entered,
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
    return [
        (version, status, stage, tuple(answers), entered, n)
        for version, status, stage, *answers, entered, n in session.execute(stmt)
    ]


def stage_outcomes(
    session: Session, position: StageMap, filters: ApplicationFilters, *, by_answers: bool
) -> list[StageOutcome]:
    """The per-stage half of `outcomes`."""
    return outcomes(session, position, filters, by_answers=by_answers).stages


def _spread(
    patterns: Sequence[Pattern], position: StageMap, version_keys: Mapping[int, str]
) -> Outcomes:
    """Application patterns -> counts per (template key, stage, answers) and per status."""
    known = {stage for _, stage in position}
    steps: dict[tuple[Any, ...], list[tuple[str, int | None]]] = {}
    # Per (template key, answers), per stage: [entered, advanced, active, withdrawn, rejected].
    # Keyed in two levels, so that a pattern's answers are hashed once, not once per stage.
    tallies: dict[tuple[str, tuple[str | None, ...]], dict[str, list[int]]] = {}
    overall: dict[tuple[str, tuple[str | None, ...], str], int] = {}
    for version_id, status, current, answers, entered, n in patterns:
        template_key = version_keys[version_id]
        overall[(template_key, answers, status)] = (
            overall.get((template_key, answers, status), 0) + n
        )
        pattern = (version_id, status, current, entered)
        reached = steps.get(pattern)
        if reached is None:
            reached = steps[pattern] = _steps(pattern, known, position)
        group = tallies.get((template_key, answers))
        if group is None:
            group = tallies[(template_key, answers)] = {}
        for stage, outcome in reached:
            tally = group.get(stage)
            if tally is None:
                tally = group[stage] = [0, 0, 0, 0, 0]
            tally[0] += n
            if outcome is not None:
                tally[outcome] += n
    return Outcomes(
        [
            StageOutcome(key, stage, answers, *tally)
            for (key, answers), group in tallies.items()
            for stage, tally in group.items()
        ],
        [OverallOutcome(key, answers, status, n) for (key, answers, status), n in overall.items()],
    )


def _steps(
    pattern: tuple[Any, ...], known: set[str], position: StageMap
) -> list[tuple[str, int | None]]:
    """Per stage an application of this pattern entered (of those `known` to a template
    version, in sorted order): which tally besides `entered` it adds to (advanced past
    it: 1; still there, withdrawn or rejected there: 2-4; else None).

    Advanced = entered a stage further on in its template version (stages the version
    does not have are at position -1), or hired.
    """
    version_id, status, current, entered = pattern
    reached = [stage for stage in split_stages(entered) if stage in known]
    furthest = max((position.get((version_id, stage), -1) for stage in reached), default=-1)
    steps: list[tuple[str, int | None]] = []
    for stage in reached:
        if furthest > position.get((version_id, stage), -1) or status == ApplicationStatus.HIRED:
            steps.append((stage, 1))
        else:
            steps.append((stage, _STILL_THERE.get(status) if stage == current else None))
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
