"""Candidates: create, search, read, update. Email is unique, case-insensitively; a new
candidate whose email an erased one had is recognised as returning (`returning_from_id`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain.access import Viewer, require
from service.domain.data_protection import refuse_erased
from service.domain.errors import ConflictError
from service.persistence.audit import record_event
from service.persistence.base import name_or_email_contains, snapshot
from service.persistence.candidates import Candidate, returning_from
from service.persistence.paging import Page, paginate
from service.persistence.visibility import visible_candidates
from service.usecases.access import get_candidate


def create_candidate(session: Session, actor: Viewer, data: dict[str, Any]) -> Candidate:
    """Raises PermissionDeniedError, ConflictError (email already used)."""
    require(actor.role, "candidates:write")
    data["email"] = data["email"].strip().lower()
    _refuse_duplicate_email(session, data["email"])
    candidate = Candidate(**data, returning_from_id=returning_from(session, data["email"]))
    session.add(candidate)
    try:
        session.flush()
    except IntegrityError:
        # Another request created the same email between our check and insert.
        session.rollback()
        _refuse_duplicate_email(session, data["email"])
        raise
    record_event(
        session, actor.id, "candidate.created", "candidate", candidate.id, after=snapshot(candidate)
    )
    session.commit()
    return candidate


def list_candidates(
    session: Session,
    actor: Viewer,
    *,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    require(actor.role, "candidates:read")
    stmt = visible_candidates(select(Candidate), actor)
    if q:
        stmt = stmt.where(name_or_email_contains(Candidate.name, Candidate.email, q))
    return paginate(session, stmt, Candidate.id, cursor, limit)


def update_candidate(
    session: Session, actor: Viewer, candidate_id: int, changes: dict[str, Any]
) -> Candidate:
    require(actor.role, "candidates:write")
    candidate = get_candidate(session, actor, candidate_id)
    refuse_erased(candidate.id, candidate.erased_at)
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
        if changes["email"] != candidate.email:
            _refuse_duplicate_email(session, changes["email"])
    before = snapshot(candidate)
    for name, value in changes.items():
        setattr(candidate, name, value)
    session.flush()
    record_event(
        session,
        actor.id,
        "candidate.updated",
        "candidate",
        candidate.id,
        before=before,
        after=snapshot(candidate),
    )
    session.commit()
    return candidate


def _refuse_duplicate_email(session: Session, email: str) -> None:
    existing = session.scalar(select(Candidate.id).where(Candidate.email == email))
    if existing is not None:
        raise ConflictError(
            f"A candidate with email {email} already exists (candidate {existing}).",
            errors={"email": f"already used by candidate {existing}"},
            existing_candidate_id=existing,
        )
