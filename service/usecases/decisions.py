"""The hiring manager's decision: hire or no hire, with a rationale, on a packet version."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.domain.access import require
from service.domain.errors import PermissionDeniedError, RuleViolationError
from service.persistence.audit import record_event
from service.persistence.base import snapshot
from service.persistence.packets import Decision, Packet
from service.persistence.users import User
from service.usecases.access import get_application, open_panel_feedback
from service.usecases.assessments import assess_application


def record_decision(
    session: Session,
    actor: User,
    application_id: int,
    *,
    outcome: str,
    rationale: str,
    packet_id: int,
) -> Decision:
    """Record the call. The rationale is required when it goes against the panel's majority.

    Raises PermissionDeniedError (not this requisition's hiring manager), RuleViolationError.
    """
    require(actor.role, "decisions:write")
    application = get_application(session, actor, application_id)
    if actor.role != "admin" and application.requisition.hiring_manager_id != actor.id:
        raise PermissionDeniedError("Only the requisition's hiring manager records the decision.")
    packet = session.get(Packet, packet_id)
    if packet is None or packet.application_id != application.id or packet.status != "ready":
        raise RuleViolationError(
            "Name the packet the decision was made on: a ready packet of this application.",
            errors={"packet_id": "must be a ready packet of this application"},
        )
    recommendations = assess_application(session, application).recommendations
    majority = _majority(recommendations.recommend_hire, recommendations.panel_size)
    against = majority is None or majority != outcome
    if against and not rationale.strip():
        panel = f"{recommendations.recommend_hire} of {recommendations.panel_size} recommend hiring"
        raise RuleViolationError(
            f"This decision goes against the panel's majority ({panel}) or there is none; "
            "write the rationale.",
            errors={"rationale": "required when the decision goes against the panel's majority"},
        )
    decision = Decision(
        application_id=application.id,
        decided_by_id=actor.id,
        outcome=outcome,
        rationale=rationale,
        against_majority=against,
        packet_id=packet.id,
    )
    session.add(decision)
    session.flush()
    record_event(
        session,
        actor.id,
        "decision.recorded",
        "application",
        application.id,
        after=snapshot(decision),
        reason=rationale,
    )
    session.commit()
    return decision


def list_decisions(session: Session, actor: User, application_id: int) -> list[Decision]:
    """Decisions are visible to the hiring team; panelists once they have submitted."""
    application = get_application(session, actor, application_id)
    open_panel_feedback(session, actor, application.id)
    return list(
        session.scalars(
            select(Decision).where(Decision.application_id == application.id).order_by(Decision.id)
        )
    )


def _majority(recommend_hire: int, panel_size: int) -> str | None:
    if panel_size == 0 or recommend_hire * 2 == panel_size:
        return None
    return "hire" if recommend_hire * 2 > panel_size else "no_hire"
