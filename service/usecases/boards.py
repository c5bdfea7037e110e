"""The recruiter's board: a requisition's applications, a column per stage of its
template, each card with its time in stage against the stage's target, what of its
stage's loop is still to schedule and how many scorecards it is owed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from service.domain.access import HIRING_MANAGER, INTERVIEWER, Viewer, require
from service.domain.loops import ACTIVE_INTERVIEW_STATUSES
from service.domain.pipeline import ApplicationStatus, RequisitionStatus, TimeInStage, time_in_stage
from service.domain.templates import InterviewTemplate
from service.persistence.applications import Application
from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import scorecard_owed
from service.persistence.users import User
from service.persistence.visibility import visible_applications, visible_requisitions
from service.usecases.access import get_requisition

# The board's "needs" filter: cards with part of their stage's loop not yet scheduled,
# or with a scorecard owed (an interview started and nothing submitted).
NEEDS = {"scheduling": "Interviews to schedule", "scorecards": "Scorecards owed"}


@dataclass(frozen=True)
class Card:
    application: Application
    time: TimeInStage
    to_schedule: tuple[str, ...] = ()  # titles of the stage's interviews not on the loop
    scorecards_owed: int = 0


@dataclass
class Column:
    key: str
    name: str
    target_days: int
    allowed_moves: tuple[str, ...]
    cards: list[Card] = field(default_factory=list)

    @property
    def past_target(self) -> int:
        return sum(1 for c in self.cards if c.time.over_target)


@dataclass
class Board:
    requisition: Requisition
    template: InterviewTemplate
    status: str
    columns: list[Column]
    sources: list[str] = field(default_factory=list)  # the candidates' sources, for the filter

    @property
    def total(self) -> int:
        return sum(len(c.cards) for c in self.columns)

    @property
    def past_target(self) -> int:
        return sum(c.past_target for c in self.columns)


def require_board_access(actor: Viewer) -> None:
    """The recruiter's pages are for those who move applications: admins and recruiters."""
    require(actor.role, "applications:write")


def requisition_board(
    session: Session,
    actor: Viewer,
    requisition_id: int,
    *,
    status: str = ApplicationStatus.ACTIVE,
    q: str = "",
    past_target_only: bool = False,
    stage: str = "",
    needs: str = "",
    source: str = "",
) -> Board:
    """Every application of `status` on the requisition, by stage of its template, longest
    in stage first. Filters: `q` in the candidate's name or email, past target, one
    `stage`, `needs` (a key of NEEDS), the candidate's `source`; unknown values filter
    nothing. Admins and recruiters. Raises PermissionDeniedError, NotFoundError."""
    require(actor.role, "applications:write")
    requisition = get_requisition(session, actor, requisition_id)
    template = requisition.template
    columns = {
        s.key: Column(s.key, s.name, s.sla_days, tuple(template.allowed_moves(s.key)))
        for s in template.stages
    }
    now = utcnow()
    needle = q.strip().casefold()
    # Each card's requisition is the one loaded above (found in the session, not joined
    # again per row with its template: that join was most of a 500-card board's time).
    stmt = (
        visible_applications(select(Application), actor)
        .where(Application.requisition_id == requisition.id, Application.status == status)
        .options(lazyload(Application.requisition))
    )
    if stage in columns:
        stmt = stmt.where(Application.stage == stage)
    found = list(
        session.scalars(stmt.order_by(Application.stage_entered_at, Application.id)).unique()
    )
    sources = sorted({a.candidate.source for a in found if a.candidate.source})
    loops = _loop_states(session, requisition.id, now) if status == ApplicationStatus.ACTIVE else {}
    for application in found:
        column = columns.get(application.stage)
        if column is None:
            continue  # a stage the requisition's template no longer has
        candidate = application.candidate
        if needle and needle not in f"{candidate.name} {candidate.email or ''}".casefold():
            continue
        if source in sources and candidate.source != source:
            continue
        spent = time_in_stage(application.stage_entered_at, now, column.target_days)
        if past_target_only and not spent.over_target:
            continue
        on_loop, owed = loops.get(application.id, (set(), 0))
        to_schedule = tuple(
            i.title for i in template.interviews if i.stage == column.key and i.key not in on_loop
        )
        if (needs == "scheduling" and not to_schedule) or (needs == "scorecards" and not owed):
            continue
        column.cards.append(Card(application, spent, to_schedule, owed))
    shown = [c for c in columns.values() if stage not in columns or c.key == stage]
    return Board(requisition, template, status, shown, sources)


def _loop_states(
    session: Session, requisition_id: int, now: datetime
) -> dict[int, tuple[set[str], int]]:
    """Per active application of the requisition: the interview keys on its loop (scheduled
    or held) and how many scorecards it is owed, from one query."""
    rows = session.execute(
        select(Interview.application_id, Interview.interview_key, scorecard_owed(now))
        .join(Application, Application.id == Interview.application_id)
        .where(
            Application.requisition_id == requisition_id,
            Application.status == ApplicationStatus.ACTIVE,
            Interview.status.in_(ACTIVE_INTERVIEW_STATUSES),
        )
    )
    keys: dict[int, set[str]] = defaultdict(set)
    owed: dict[int, int] = defaultdict(int)
    for application_id, key, is_owed in rows:
        keys[application_id].add(key)
        owed[application_id] += bool(is_owed)
    return {a: (keys[a], owed[a]) for a in keys}


@dataclass
class StageCount:
    key: str
    name: str
    active: int = 0
    past_target: int = 0


@dataclass
class RequisitionSummary:
    requisition: Requisition
    columns: list[StageCount]

    @property
    def total(self) -> int:
        return sum(c.active for c in self.columns)

    @property
    def past_target(self) -> int:
        return sum(c.past_target for c in self.columns)


@dataclass
class SummaryPage:
    items: list[RequisitionSummary]
    total: int  # open requisitions in all pages
    page: int
    pages: int


def open_requisition_summaries(
    session: Session, actor: Viewer, *, mine_only: bool, page: int = 1, per_page: int = 50
) -> SummaryPage:
    """The open requisitions (those `actor` runs, with `mine_only`), `per_page` at a time,
    with their active applications counted per stage and past the stage's target, from one
    query of (requisition, stage, entered) rows. A page past the last is the last. Admins
    and recruiters. Raises PermissionDeniedError."""
    require(actor.role, "applications:write")
    stmt = visible_requisitions(select(Requisition), actor).where(
        Requisition.status == RequisitionStatus.OPEN
    )
    if mine_only:
        stmt = stmt.where(Requisition.recruiter_id == actor.id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    stmt = stmt.order_by(Requisition.id).limit(per_page).offset((page - 1) * per_page)
    summaries: dict[int, RequisitionSummary] = {}
    for r in session.scalars(stmt).unique():
        stages = [StageCount(s.key, s.name) for s in r.template.stages]
        summaries[r.id] = RequisitionSummary(r, stages)
    targets = {
        rid: {
            c.key: (c, t.sla_days)
            for c, t in zip(s.columns, s.requisition.template.stages, strict=True)
        }
        for rid, s in summaries.items()
    }
    rows = session.execute(
        visible_applications(
            select(Application.requisition_id, Application.stage, Application.stage_entered_at),
            actor,
        ).where(
            Application.requisition_id.in_(list(summaries)),
            Application.status == ApplicationStatus.ACTIVE,
        )
    )
    now = utcnow()
    for requisition_id, stage, entered_at in rows:
        found = targets[requisition_id].get(stage)
        if found is None:
            continue  # a stage the requisition's template no longer has
        column, target_days = found
        column.active += 1
        column.past_target += time_in_stage(entered_at, now, target_days).over_target
    return SummaryPage(list(summaries.values()), total, page, pages)


def eligible_interviewers(session: Session, actor: Viewer) -> list[User]:
    """Who may be put on a loop: active interviewers and hiring managers, by name.
    Raises PermissionDeniedError for those who may not read the user directory."""
    require(actor.role, "users:read")
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_((INTERVIEWER, HIRING_MANAGER)))
            .order_by(User.name, User.id)
        )
    )
