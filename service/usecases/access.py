"""The doors every use case goes through: access-checked loaders and the blind rule.

Each loader checks the role's permission, then loads the row only if the actor may
see it (object-level filters in `persistence.visibility`), so a row someone may not
see is a 404 that never tells whether it exists.

`open_panel_feedback` is the one answer to "may this person read others' feedback
on this application?". Every use case that returns other panelists' scores,
evidence, recommendations, or anything derived from them (the assessment, packets,
decisions) calls it first; it also records the first such read, so the packet can
prove each scorecard was written independently. `open_application_feedback` is
the same two doors (`get_application_row`, then `open_panel_feedback`) read in one
statement, for a reader that fetches a stored result beside them (the assessment).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, Row, Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, contains_eager

from service.domain.access import INTERVIEWER, Viewer, require
from service.domain.errors import NotFoundError, PermissionDeniedError
from service.domain.templates import InterviewTemplate
from service.persistence import scorecards as scorecard_queries
from service.persistence.applications import Application, application_rows
from service.persistence.audit import record_event
from service.persistence.base import persistent_from_row, plain_rows, transaction
from service.persistence.candidates import Candidate
from service.persistence.interviews import Interview
from service.persistence.packets import Packet
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import ScorecardView
from service.persistence.templates import TemplateVersion, parsed_template
from service.persistence.visibility import (
    VIEWER_ID,
    visibility_of,
    visible_applications,
    visible_applications_to_role,
    visible_candidates,
    visible_requisitions,
)


def get_requisition(session: Session, actor: Viewer, requisition_id: int) -> Requisition:
    """Raises NotFoundError when missing or not visible to `actor` (no existence leak)."""
    require(actor.role, "requisitions:read")
    stmt = visible_requisitions(select(Requisition).where(Requisition.id == requisition_id), actor)
    requisition = session.scalar(stmt)
    if requisition is None:
        raise NotFoundError(f"Requisition {requisition_id} does not exist or is not yours to see.")
    return requisition


def get_candidate(session: Session, actor: Viewer, candidate_id: int) -> Candidate:
    require(actor.role, "candidates:read")
    candidate = session.scalar(
        visible_candidates(select(Candidate).where(Candidate.id == candidate_id), actor)
    )
    if candidate is None:
        raise NotFoundError(f"Candidate {candidate_id} does not exist or is not yours to see.")
    return candidate


def get_application(session: Session, actor: Viewer, application_id: int) -> Application:
    """Raises NotFoundError when missing or not visible to `actor`."""
    require(actor.role, "applications:read")
    application = session.scalar(
        visible_applications(select(Application).where(Application.id == application_id), actor)
    )
    if application is None:
        raise NotFoundError(f"Application {application_id} does not exist or is not yours to see.")
    return application


def get_application_row(
    session: Session, actor: Viewer, application_id: int, rows: Select[Any] | None = None
) -> Row[Any]:
    """The application as a plain row of `rows` (a select over applications, by default
    `application_rows`), under the same rule as `get_application`. Raises NotFoundError
    when missing or not visible to `actor`."""
    require(actor.role, "applications:read")
    stmt = _one_application(application_rows() if rows is None else rows, visibility_of(actor.role))
    row = plain_rows(
        session, stmt, {"application_id": application_id, VIEWER_ID: actor.id}
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"Application {application_id} does not exist or is not yours to see.")
    return row


@functools.lru_cache(maxsize=64)
def _one_application(rows: Select[Any], role: str) -> Select[Any]:
    """One application of `rows` (parameter `application_id`) as `role` may see it, built
    once per select and role (`visible_applications_to_role`): building and keying it
    per request was a sixth of a lookup's CPU."""
    stmt = rows.where(Application.id == bindparam("application_id", required=True))
    return visible_applications_to_role(stmt, role)


# The interview as `get_interview` selects it: aliased, so the visibility filter's own
# subquery over interviews (an interviewer's panel) is not correlated to it.
_INTERVIEW = aliased(Interview, name="interview")


def get_interview(session: Session, actor: Viewer, interview_id: int) -> Interview:
    """The interview, if its application is visible to `actor`. Raises NotFoundError.

    One statement: the interview joined to its application (loaded with it), under the
    same visibility filter as `get_application`.
    """
    require(actor.role, "applications:read")
    found: Interview | None = session.scalar(
        _one_interview(visibility_of(actor.role)),
        {"interview_id": interview_id, VIEWER_ID: actor.id},
    )
    if found is None:
        raise NotFoundError(f"Interview {interview_id} does not exist or is not yours to see.")
    return found


@functools.lru_cache(maxsize=8)
def _one_interview(role: str) -> Select[Any]:
    """`get_interview`'s statement (parameters `interview_id` and `VIEWER_ID`) for `role`,
    built once per role like `_one_application`: building it per request was about a
    third of `get_interview`'s CPU time in a scorecard submission (BENCHMARKS.md)."""
    stmt = (
        select(_INTERVIEW)
        .join(_INTERVIEW.application)
        .options(contains_eager(_INTERVIEW.application))
        .where(_INTERVIEW.id == bindparam("interview_id", required=True))
    )
    return visible_applications_to_role(stmt, role)


def get_interview_and_template(
    session: Session, actor: Viewer, interview_id: int
) -> tuple[Interview, InterviewTemplate]:
    """`get_interview`'s interview, under the same rule with the same refusal, and its
    application's parsed template, without loading the application: for a writer that
    needs only these (a scorecard's submission). Raises NotFoundError.

    The application joined with its candidate, requisition, two users and template
    version as ORM objects was most of `get_interview`'s CPU time in a submission
    (BENCHMARKS.md, "Issue 18: the submission, second pass")."""
    require(actor.role, "applications:read")
    params = {"interview_id": interview_id, VIEWER_ID: actor.id}
    row = plain_rows(
        session, _interview_and_template(visibility_of(actor.role)), params
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"Interview {interview_id} does not exist or is not yours to see.")
    values = dict(row._mapping)
    template = parsed_template(session, values.pop(_VERSION_ID), values.pop(_VERSION))
    return persistent_from_row(session, Interview, values), template


# The interview's table, aliased so the visibility filter's own subquery over interviews
# (an interviewer's panel) is not correlated to it, and the requisition joined for the
# template, aliased for the same reason (a hiring manager's filter is a subquery over
# requisitions).
_INTERVIEW_ROW = Interview.__table__.alias("interview")
_TEMPLATE_REQUISITION = Requisition.__table__.alias("template_requisition")
_VERSION_ID, _VERSION = "template_version_id", "template_version"


@functools.lru_cache(maxsize=8)
def _interview_and_template(role: str) -> Select[Any]:
    """`get_interview_and_template`'s statement for `role` (parameters `interview_id` and
    `VIEWER_ID`), built once per role: the interview's columns and its template version's
    id and name, as a Core row."""
    interview, requisition = _INTERVIEW_ROW.c, _TEMPLATE_REQUISITION.c
    stmt = (
        select(*_INTERVIEW_ROW.columns)
        .join(Application, Application.id == interview.application_id)
        .join(_TEMPLATE_REQUISITION, requisition.id == Application.requisition_id)
        .join(TemplateVersion, TemplateVersion.id == requisition.template_version_id)
        .where(interview.id == bindparam("interview_id", required=True))
    )
    return visible_applications_to_role(stmt, role).add_columns(
        TemplateVersion.id.label(_VERSION_ID), TemplateVersion.version.label(_VERSION)
    )


def get_packet(session: Session, actor: Viewer, packet_id: int) -> Packet:
    """A packet shows the whole panel's feedback: the blind rule applies to every read of it."""
    require(actor.role, "packets:read")
    packet = session.get(Packet, packet_id)
    if packet is None:
        raise NotFoundError(f"Packet {packet_id} does not exist or is not yours to see.")
    get_application(session, actor, packet.application_id)
    open_panel_feedback(session, actor, packet.application_id)
    return packet


def open_application_feedback(
    session: Session,
    actor: Viewer,
    application_id: int,
    beside: Callable[[Select[Any]], Select[Any]],
) -> Row[Any]:
    """`get_application_row` then `open_panel_feedback`, the same refusals in the same
    order, from one statement: the application row, the actor's panelist states, and
    what `beside` adds to the statement (a stored result of the caller's), which reaches
    the caller only once both doors have let the actor through."""
    require(actor.role, "applications:read")
    stmt = _application_feedback(beside, visibility_of(actor.role))
    rows = plain_rows(session, stmt, {"application_id": application_id, VIEWER_ID: actor.id}).all()
    if not rows:
        raise NotFoundError(f"Application {application_id} does not exist or is not yours to see.")
    _give_before_reading(session, actor, application_id, scorecard_queries.panelist_states_of(rows))
    return rows[0]


@functools.lru_cache(maxsize=16)
def _application_feedback(beside: Callable[[Select[Any]], Select[Any]], role: str) -> Select[Any]:
    """`open_application_feedback`'s statement (parameters `application_id` and
    `VIEWER_ID`, the viewer's id for both the visibility filter and their panelist
    states), built once per `beside` and role like `_one_application`."""
    stmt = beside(
        application_rows().where(Application.id == bindparam("application_id", required=True))
    )
    viewer = bindparam(VIEWER_ID, type_=Integer, required=True)
    return visible_applications_to_role(scorecard_queries.with_panelist_states(stmt, viewer), role)


def open_panel_feedback(session: Session, actor: Viewer, application_id: int) -> None:
    """The blind rule: a panelist reads the panel's feedback only after giving their own.

    Raises PermissionDeniedError while `actor` owes a scorecard on this application
    (an interviewer must also have submitted at least one). Otherwise, when there is
    feedback by someone else to see, the first such read is recorded and audited.
    """
    mine = scorecard_queries.panelist_states(session, application_id, actor.id)
    _give_before_reading(session, actor, application_id, mine)


def _give_before_reading(
    session: Session, actor: Viewer, application_id: int, mine: list[tuple[int, bool, bool]]
) -> None:
    """`open_panel_feedback` on the actor's panelist states (`panelist_states`)."""
    pending = [interview_id for interview_id, owed, _ in mine if owed]
    submitted = [interview_id for interview_id, _, done in mine if done]
    if pending or (actor.role == INTERVIEWER and not submitted):
        raise PermissionDeniedError(
            "Submit your own scorecard for this application first "
            f"(interview {', '.join(map(str, pending)) or 'none submitted'}): "
            "the panel's feedback opens once you have given yours independently.",
            pending_interview_ids=pending,
        )
    if mine and scorecard_queries.others_submitted(session, application_id, actor.id):
        _record_first_view(session, actor, application_id)


def _record_first_view(session: Session, actor: Viewer, application_id: int) -> None:
    """The view and its audit event commit together, also from a read-only request."""
    if scorecard_queries.has_seen_others(session, application_id, actor.id):
        return
    with transaction(session) as writer:
        view = ScorecardView(application_id=application_id, user_id=actor.id)
        try:
            with writer.begin_nested():
                writer.add(view)
        except IntegrityError:
            return  # a parallel read of the same person recorded it first
        record_event(
            writer,
            actor.id,
            "scorecards.first_viewed",
            "application",
            application_id,
            after={"first_seen_at": view.first_seen_at.isoformat()},
        )
        writer.commit()
