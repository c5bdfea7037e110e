"""Object-level access as query filters: which rows a user may see.

Admins and recruiters see everything; a hiring manager sees their own
requisitions and what hangs off them; an interviewer sees the applications
they have an interview on (and those applications' candidates and requisitions).
"""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Exists, Select, exists, false, select

from service.domain.access import HIRING_MANAGER, INTERVIEWER, SEES_EVERYTHING
from service.persistence.applications import Application
from service.persistence.candidates import Candidate
from service.persistence.interviews import Interview
from service.persistence.requisitions import Requisition
from service.persistence.users import User

_Ts = TypeVarTuple("_Ts")


def _on_panel(user: User) -> Exists:
    return exists().where(
        Interview.application_id == Application.id, Interview.interviewer_id == user.id
    )


def visible_applications(stmt: Select[*_Ts], user: User) -> Select[*_Ts]:
    """Restrict a select over Application to what `user` may see."""
    if user.role in SEES_EVERYTHING:
        return stmt
    if user.role == HIRING_MANAGER:
        return stmt.where(
            Application.requisition_id.in_(
                select(Requisition.id).where(Requisition.hiring_manager_id == user.id)
            )
        )
    if user.role == INTERVIEWER:
        return stmt.where(_on_panel(user))
    return stmt.where(false())


def visible_requisitions(stmt: Select[*_Ts], user: User) -> Select[*_Ts]:
    if user.role in SEES_EVERYTHING:
        return stmt
    if user.role == HIRING_MANAGER:
        return stmt.where(Requisition.hiring_manager_id == user.id)
    if user.role == INTERVIEWER:
        return stmt.where(
            Requisition.id.in_(visible_applications(select(Application.requisition_id), user))
        )
    return stmt.where(false())


def visible_candidates(stmt: Select[*_Ts], user: User) -> Select[*_Ts]:
    if user.role in SEES_EVERYTHING:
        return stmt
    return stmt.where(
        Candidate.id.in_(visible_applications(select(Application.candidate_id), user))
    )
