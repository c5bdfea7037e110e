"""Applications: apply, list, read, move through stages, change status, timeline."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain import pipeline
from service.domain.access import Viewer, require
from service.domain.data_protection import refuse_erased
from service.domain.errors import ConflictError, RuleViolationError
from service.domain.templates import InterviewTemplate
from service.persistence.applications import (
    Application,
    StageChange,
    application_rows,
    timeline_of,
)
from service.persistence.audit import record_event
from service.persistence.base import plain_rows, snapshot, utcnow
from service.persistence.packets import application_rows_with_outcome
from service.persistence.paging import keyset_page, keyset_parameters, keyset_statement
from service.persistence.reports import template_versions
from service.persistence.requisitions import Requisition
from service.persistence.templates import parsed_template
from service.persistence.visibility import (
    VIEWER_ID,
    visibility_of,
    visible_applications_to_role,
    visible_requisitions,
)
from service.usecases.access import (
    get_application,
    get_application_row,
    get_candidate,
    get_requisition,
)
from service.usecases.deviations import record_skipped_interviews
from service.usecases.outbox import emit_event


def create_application(
    session: Session, actor: Viewer, candidate_id: int, requisition_id: int
) -> Application:
    """Start an application in the template's first stage.

    Raises PermissionDeniedError, NotFoundError, ConflictError (requisition not
    open, or the candidate already has an active application for it).
    """
    require(actor.role, "applications:write")
    candidate = get_candidate(session, actor, candidate_id)
    refuse_erased(candidate.id, candidate.erased_at)
    requisition = get_requisition(session, actor, requisition_id)
    if requisition.status != pipeline.RequisitionStatus.OPEN:
        raise ConflictError(
            f"Requisition {requisition.id} is {requisition.status}; "
            "applications can only be added to open requisitions.",
            requisition_status=requisition.status,
        )
    _refuse_second_active(session, candidate.id, requisition.id)
    first_stage = requisition.template.first_stage.key
    application = Application(candidate=candidate, requisition=requisition, stage=first_stage)
    session.add(application)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        _refuse_second_active(session, candidate_id, requisition_id)
        raise
    _add_timeline(session, application, actor, "applied", None, None, "")
    record_event(
        session,
        actor.id,
        "application.created",
        "application",
        application.id,
        after=snapshot(application),
    )
    session.commit()
    return application


# The orders a list may come in: "-" for newest first. Each pages by (column, id).
APPLICATION_SORTS = {
    "id": None,
    "updated_at": Application.updated_at,
    "-updated_at": Application.updated_at,
    "stage_entered_at": Application.stage_entered_at,
    "-stage_entered_at": Application.stage_entered_at,
    "created_at": Application.created_at,
    "-created_at": Application.created_at,
}


def list_applications(
    session: Session,
    actor: Viewer,
    *,
    requisition_id: int | None = None,
    candidate_id: int | None = None,
    recruiter_id: int | None = None,
    stage: str | None = None,
    status: str | None = None,
    updated_after: datetime | None = None,
    sort: str = "id",
    cursor: str | None = None,
    limit: int = 50,
) -> ListedPage:
    """Applications you may see, filtered and sorted, a page at a time.

    Raises RuleViolationError for a stage no template has (listing the stages of the
    requisition's template, or of every template when no requisition is given).
    """
    require(actor.role, "applications:read")
    filters: dict[str, Any] = {
        name: value
        for name, value in (
            ("requisition_id", requisition_id),
            ("candidate_id", candidate_id),
            ("recruiter_id", recruiter_id),
            ("stage", stage or None),
            ("status", status or None),
            ("updated_after", updated_after or None),
        )
        if value is not None
    }
    if stage:
        _check_stage(session, actor, stage, requisition_id)
    key = APPLICATION_SORTS[sort]
    keyed_sort = None if key is None else sort
    stmt = _listing(visibility_of(actor.role), tuple(filters), keyed_sort, bool(cursor))
    parameters = {**filters, **keyset_parameters(cursor, keyed_sort, limit), VIEWER_ID: actor.id}
    rows = plain_rows(session, stmt, parameters).all()
    page = keyset_page(rows, limit, keyed_sort, None if key is None else key.key)
    return ListedPage(page.items, _templates_of(session, page.items), page.next_cursor)


# Each filter of the list as a condition on its bind parameter of the same name.
_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "requisition_id": lambda: Application.requisition_id == bindparam("requisition_id"),
    "candidate_id": lambda: Application.candidate_id == bindparam("candidate_id"),
    "recruiter_id": lambda: Application.requisition_id.in_(
        select(Requisition.id).where(Requisition.recruiter_id == bindparam("recruiter_id"))
    ),
    "stage": lambda: Application.stage == bindparam("stage"),
    "status": lambda: Application.status == bindparam("status"),
    "updated_after": lambda: Application.updated_at > bindparam("updated_after"),
}


@functools.lru_cache(maxsize=256)
def _listing(role: str, filters: tuple[str, ...], sort: str | None, after: bool) -> Select[Any]:
    """The list's statement for one role, set of filters, order and first-or-later page,
    every value a bind parameter (the viewer's id a required one, through
    `visible_applications_to_role`): building and keying it on every request was
    nearly a tenth of a list request's CPU (BENCHMARKS.md, "Issue 18: the list"). The
    256 most recent shapes are kept; clients use a few dozen."""
    stmt = visible_applications_to_role(application_rows(), role)
    for name in filters:
        stmt = stmt.where(_FILTERS[name]())
    key = None if sort is None else APPLICATION_SORTS[sort]
    descending = sort is not None and sort.startswith("-")
    return keyset_statement(stmt, Application.id, key, descending=descending, after=after)


@dataclass(frozen=True, slots=True)
class ListedPage:
    """A page of the list: `application_rows` rows, the parsed template of each template
    version among them (by id), and the cursor to the next page."""

    rows: list[Any]
    templates: dict[int, InterviewTemplate]
    next_cursor: str | None


def _templates_of(session: Session, rows: list[Any]) -> dict[int, InterviewTemplate]:
    """The parsed template of each template version among `rows` (by id)."""
    if not rows:
        return {}
    columns = rows[0]._fields
    # One call per row: reading a SQLAlchemy row's attributes one by one costs more.
    version_of = operator.itemgetter(
        columns.index("template_version_id"), columns.index("template_version")
    )
    return {
        version_id: parsed_template(session, version_id, version)
        for version_id, version in set(map(version_of, rows))
    }


@dataclass(frozen=True, slots=True)
class ListedApplication:
    """An application as a listing shows it: a row of `application_rows` and its template."""

    row: Any
    template: InterviewTemplate


def listed(session: Session, row: Any) -> ListedApplication:
    return ListedApplication(
        row, parsed_template(session, row.template_version_id, row.template_version)
    )


def read_application(session: Session, actor: Viewer, application_id: int) -> ListedApplication:
    """One application as a listing shows it; its row also carries the ids of its current
    decision and latest packet (`decision_id`, `packet_id`) for
    `decisions.application_outcome`, found in the same round trip. Raises NotFoundError
    when missing or not visible to `actor`."""
    row = get_application_row(session, actor, application_id, application_rows_with_outcome())
    return listed(session, row)


def _check_stage(session: Session, actor: Viewer, stage: str, requisition_id: int | None) -> None:
    """An unknown stage is a mistake to name, not an empty list."""
    requisition = None
    if requisition_id is not None:
        requisition = session.scalar(
            visible_requisitions(select(Requisition), actor).where(Requisition.id == requisition_id)
        )
    if requisition is not None:
        templates = [requisition.template_version.template()]
    else:
        templates = [v.template() for v in template_versions(session)]
    known = list(dict.fromkeys(s.key for t in templates for s in t.stages))
    if stage not in known:
        where = "this requisition's template" if requisition else "any template"
        raise RuleViolationError(
            f"'{stage}' is not a stage of {where}.",
            errors={"query.stage": f"unknown stage; the stages are: {', '.join(known)}"},
        )


def move_application(
    session: Session,
    actor: Viewer,
    application_id: int,
    *,
    from_stage: str,
    to_stage: str,
    reason: str,
    if_match: int | None = None,
) -> Application:
    """Move to the next stage. Raises ConflictError (stale stage or version, not
    active), RuleViolationError (the template does not allow the move)."""
    application = _load_for_write(session, actor, application_id, if_match)
    template = application.template
    pipeline.check_move(template, application.status, application.stage, from_stage, to_stage)
    record_skipped_interviews(session, actor, application, template, from_stage, to_stage, reason)
    before = snapshot(application)
    application.stage = to_stage
    application.stage_entered_at = utcnow()
    _finish_change(session, actor, application, "moved", before, from_stage, reason)
    return application


def change_status(
    session: Session,
    actor: Viewer,
    application_id: int,
    action: str,
    *,
    reason: str = "",
    rejection_reason: str | None = None,
    if_match: int | None = None,
) -> Application:
    """Reject, withdraw, hire or reopen. Raises ConflictError when the status does not allow it."""
    application = _load_for_write(session, actor, application_id, if_match)
    template = application.template
    new_status = pipeline.check_status_action(
        template, action, application.status, application.stage
    )
    if action == "reopen":
        refuse_erased(application.candidate_id, application.candidate.erased_at)
        _refuse_second_active(session, application.candidate_id, application.requisition_id)
    before = snapshot(application)
    application.status = new_status
    if action == "reject":
        application.rejection_reason = rejection_reason
        application.rejection_note = reason
    elif action == "reopen":
        application.rejection_reason = application.rejection_note = None
    _finish_change(
        session, actor, application, pipeline.PAST_TENSE[action], before, application.stage, reason
    )
    return application


def application_timeline(session: Session, actor: Viewer, application_id: int) -> list[StageChange]:
    application = get_application(session, actor, application_id)
    return timeline_of(session, application.id)


def _load_for_write(
    session: Session, actor: Viewer, application_id: int, if_match: int | None
) -> Application:
    require(actor.role, "applications:write")
    application = get_application(session, actor, application_id)
    if if_match is not None and if_match != application.version:
        raise ConflictError(
            f"The application is at version {application.version}, not {if_match}, and is "
            f"in stage '{application.stage}'; reload it and try again.",
            current_version=application.version,
            current_stage=application.stage,
        )
    return application


def _finish_change(
    session: Session,
    actor: Viewer,
    application: Application,
    kind: str,
    before: dict[str, Any],
    from_stage: str,
    reason: str,
) -> None:
    # The UPDATE carries `WHERE version = <loaded>`: a concurrent change makes it
    # match nothing, SQLAlchemy raises StaleDataError and the client gets 409.
    session.flush()
    _add_timeline(session, application, actor, kind, from_stage, before["status"], reason)
    record_event(
        session,
        actor.id,
        f"application.{kind}",
        "application",
        application.id,
        before=before,
        after=snapshot(application),
        reason=reason,
    )
    emit_event(
        session,
        f"application.{kind}",
        {
            "application_id": application.id,
            "requisition_id": application.requisition_id,
            "candidate_id": application.candidate_id,
            "from_stage": from_stage,
            "stage": application.stage,
            "status": application.status,
        },
    )
    session.commit()


def _add_timeline(
    session: Session,
    application: Application,
    actor: Viewer,
    kind: str,
    from_stage: str | None,
    from_status: str | None,
    reason: str,
) -> None:
    session.add(
        StageChange(
            application_id=application.id,
            kind=kind,
            from_stage=from_stage,
            to_stage=application.stage,
            from_status=from_status,
            to_status=application.status,
            actor_id=actor.id,
            reason=reason,
        )
    )


def _refuse_second_active(session: Session, candidate_id: int, requisition_id: int) -> None:
    existing = session.scalar(
        select(Application.id).where(
            Application.candidate_id == candidate_id,
            Application.requisition_id == requisition_id,
            Application.status == pipeline.ApplicationStatus.ACTIVE,
        )
    )
    if existing is not None:
        raise ConflictError(
            f"Candidate {candidate_id} already has an active application "
            f"(application {existing}) for requisition {requisition_id}.",
            existing_application_id=existing,
        )
