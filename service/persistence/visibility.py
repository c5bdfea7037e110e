"""Object-level access as query filters: which rows a user may see.

Admins and recruiters see everything; a hiring manager sees their own
requisitions and what hangs off them; an interviewer sees the applications
they have an interview on (and those applications' candidates and requisitions).
"""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import BindParameter, Exists, Integer, Select, bindparam, exists, false, select

from service.domain.access import ADMIN, HIRING_MANAGER, INTERVIEWER, SEES_EVERYTHING, Viewer
from service.persistence.applications import Application
from service.persistence.candidates import Candidate
from service.persistence.interviews import Interview
from service.persistence.requisitions import Requisition

_Ts = TypeVarTuple("_Ts")


# The viewer's id in a statement built once per role (`visible_applications_to_role`);
# required, so executing one without the viewer's id fails instead of seeing nothing.
VIEWER_ID = "viewer_id"


def visibility_of(role: str) -> str:
    """The role a statement built once per role is built for: `ADMIN` for every role that
    sees everything, so that admins and recruiters run the very same statement object.
    Two objects that compile alike share SQLAlchemy's cached compilation, but each result
    of the one compiled second is re-keyed to its own columns (`_adapt_to_context`): 14 %
    of a recruiter's list request once the warm-up had listed as an admin first
    (BENCHMARKS.md, "Issue 18: one statement per visibility")."""
    return ADMIN if role in SEES_EVERYTHING else role


def _on_panel(viewer_id: int | BindParameter[int]) -> Exists:
    return exists().where(
        Interview.application_id == Application.id, Interview.interviewer_id == viewer_id
    )


def visible_applications(stmt: Select[*_Ts], user: Viewer) -> Select[*_Ts]:
    """Restrict a select over Application to what `user` may see."""
    return _visible_applications(stmt, user.role, user.id)


def visible_applications_to_role(stmt: Select[*_Ts], role: str) -> Select[*_Ts]:
    """`visible_applications` for any user of `role`, the user's id left as the required
    parameter `VIEWER_ID`: a statement a hot path builds (and SQLAlchemy keys) once per
    role instead of once per request."""
    return _visible_applications(stmt, role, bindparam(VIEWER_ID, type_=Integer, required=True))


def _visible_applications(
    stmt: Select[*_Ts], role: str, viewer_id: int | BindParameter[int]
) -> Select[*_Ts]:
    if role in SEES_EVERYTHING:
        return stmt
    if role == HIRING_MANAGER:
        return stmt.where(
            Application.requisition_id.in_(
                select(Requisition.id).where(Requisition.hiring_manager_id == viewer_id)
            )
        )
    if role == INTERVIEWER:
        return stmt.where(_on_panel(viewer_id))
    return stmt.where(false())


def visible_requisitions(stmt: Select[*_Ts], user: Viewer) -> Select[*_Ts]:
    if user.role in SEES_EVERYTHING:
        return stmt
    if user.role == HIRING_MANAGER:
        return stmt.where(Requisition.hiring_manager_id == user.id)
    if user.role == INTERVIEWER:
        return stmt.where(
            Requisition.id.in_(visible_applications(select(Application.requisition_id), user))
        )
    return stmt.where(false())


def visible_candidates(stmt: Select[*_Ts], user: Viewer) -> Select[*_Ts]:
    if user.role in SEES_EVERYTHING:
        return stmt
    return stmt.where(
        Candidate.id.in_(visible_applications(select(Application.candidate_id), user))
    )
