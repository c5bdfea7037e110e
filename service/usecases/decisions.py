"""The hiring manager's decision: hire or no hire, with a rationale, on a packet.

One decision is current per application. Changing it records a new decision
that supersedes the current one, with a reason; both stay on record. The
application's decision version (the current decision's `version`, 0 before
the first) is its ETag: a change must send it back in `If-Match`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import jobs
from service.domain.access import Viewer, require
from service.domain.errors import (
    ConflictError,
    PermissionDeniedError,
    PreconditionFailedError,
    PreconditionRequiredError,
    RuleViolationError,
)
from service.domain.packet import DecisionOutcome, PacketStatus
from service.pdf.content import content_digest
from service.persistence.applications import Application
from service.persistence.audit import record_event
from service.persistence.base import snapshot, utcnow
from service.persistence.packets import (
    Decision,
    DecisionRecord,
    Packet,
    current_decision,
    decisions_of,
    load_outcome,
    outcome_of,
    packet_with_digest,
    revisions_after,
)
from service.usecases.access import get_application, open_panel_feedback
from service.usecases.assessments import assess_application
from service.usecases.outbox import emit_event

# `packets.packet_content`, passed in by the caller: importing the packets use case
# here would make the use-case graph three deep (tests/test_layering.py).
PacketContent = Callable[[Session, Application, bool], dict[str, Any]]


@dataclass(frozen=True)
class DecisionHistory:
    version: int
    current: DecisionRecord | None
    items: list[DecisionRecord]


@dataclass(frozen=True)
class ApplicationOutcome:
    """What the application's own page shows of its end: the current decision and
    the latest packet, or None for each when there is none or the blind rule hides it."""

    decision: DecisionRecord | None
    latest_packet: Packet | None


def record_decision(
    session: Session,
    actor: Viewer,
    application_id: int,
    *,
    outcome: str,
    rationale: str,
    packet_id: int,
    reason: str = "",
    if_match: int | None,
    packet_content: PacketContent,
) -> DecisionRecord:
    """Record the call on a packet that shows the current data; a change supersedes
    the current decision and needs a reason. The rationale is required when the call
    goes against the panel's majority.

    Raises PermissionDeniedError (not this requisition's hiring manager),
    PreconditionRequiredError (a change without If-Match), PreconditionFailedError
    (If-Match is not the current version), RuleViolationError (no reason for a change,
    no rationale against the majority, not a ready packet of this application),
    ConflictError (the packet's inputs have changed since; a concurrent decision).
    """
    require(actor.role, "decisions:write")
    application = get_application(session, actor, application_id)
    if actor.role != "admin" and application.requisition.hiring_manager_id != actor.id:
        raise PermissionDeniedError("Only the requisition's hiring manager records the decision.")
    open_panel_feedback(session, actor, application.id)  # the call rests on the panel's feedback
    current = current_decision(session, application.id)
    _check_version(application.id, current, if_match)
    if current is not None and not reason.strip():
        raise RuleViolationError(
            f"Application {application.id} already has a decision "
            f"({_label(current.outcome)}, version {current.version}); "
            "say why it changes in `reason`.",
            errors={"reason": "required when a decision replaces the current one"},
        )
    packet = _packet_decided_on(session, application, packet_id, packet_content)
    recommendations = assess_application(session, application).recommendations
    majority = panel_majority(recommendations.recommend_hire, recommendations.panel_size)
    against = majority is None or majority != outcome
    if against and not rationale.strip():
        panel = f"{recommendations.recommend_hire} of {recommendations.panel_size} recommend hiring"
        raise RuleViolationError(
            f"This decision goes against the panel's majority ({panel}) or there is none; "
            "write the rationale.",
            errors={"rationale": "required when the decision goes against the panel's majority"},
        )
    now = utcnow()
    before = snapshot(current) if current is not None else None
    decision = Decision(
        application_id=application.id,
        version=current.version + 1 if current is not None else 1,
        decided_by_id=actor.id,
        outcome=outcome,
        rationale=rationale,
        reason=reason if current is not None else "",
        against_majority=against,
        packet_id=packet.id,
        supersedes_id=current.id if current is not None else None,
        created_at=now,
    )
    try:
        if current is not None:
            # Out of the current slot first: the partial unique index allows one at a time.
            current.superseded_at = now
            session.flush()
        session.add(decision)
        session.flush()
    except IntegrityError:
        # Another decision was recorded between our read and our write.
        session.rollback()
        raise _concurrent_decision(session, application.id) from None
    record_event(
        session,
        actor.id,
        "decision.recorded",
        "application",
        application.id,
        after=snapshot(decision),
        reason=rationale,
    )
    if current is not None:
        record_event(
            session,
            actor.id,
            "decision.superseded",
            "application",
            application.id,
            before=before,
            after={**snapshot(current), "superseded_by_id": decision.id},
            reason=reason,
        )
    jobs.prepare_packets_after_commit(session, application.id)  # the packet shows the decision
    emit_event(
        session,
        "decision.changed" if current is not None else "decision.recorded",
        {"application_id": application.id, "decision_id": decision.id, "outcome": outcome},
    )
    session.commit()
    return DecisionRecord(decision, [])


def decision_history(session: Session, actor: Viewer, application_id: int) -> DecisionHistory:
    """The current decision and every one before it; behind the blind rule, since a
    decision is made on the panel's feedback (`open_panel_feedback`)."""
    application = get_application(session, actor, application_id)
    open_panel_feedback(session, actor, application.id)
    items = [_with_changes(session, d) for d in decisions_of(session, application.id)]
    current = next((r for r in items if r.decision.superseded_at is None), None)
    return DecisionHistory(current.decision.version if current else 0, current, items)


def application_outcome(
    session: Session,
    actor: Viewer,
    application_id: int,
    *,
    ids: tuple[int | None, int | None] | None = None,
) -> ApplicationOutcome:
    """The current decision and latest packet of an application `actor` may see.

    Both derive from the panel's feedback, so a panelist who still owes a scorecard
    gets neither (None, as if there were none: the blind rule tells nothing); a
    panelist shown them is recorded as having read the panel (`open_panel_feedback`).
    Interviewers never see packets. `ids`: their ids (decision, packet), when the
    caller already read them with the application (`applications.read_application`).
    """
    if ids is None:
        decision, packet = outcome_of(session, application_id)
    else:
        decision, packet = load_outcome(session, *ids)
    if decision is None and packet is None:
        return ApplicationOutcome(None, None)
    try:
        open_panel_feedback(session, actor, application_id)
    except PermissionDeniedError:
        return ApplicationOutcome(None, None)
    try:
        require(actor.role, "packets:read")
    except PermissionDeniedError:
        packet = None
    return ApplicationOutcome(
        _with_changes(session, decision) if decision is not None else None, packet
    )


def _check_version(application_id: int, current: Decision | None, if_match: int | None) -> None:
    version = current.version if current is not None else 0
    if if_match is None:
        if current is None:
            return  # the first decision races only with another first one: the index decides
        raise PreconditionRequiredError(
            f"Application {application_id} already has a decision (version {version}); "
            "changing it needs `If-Match` with the decision version you read "
            f"(the ETag of GET /api/v1/applications/{application_id}/decision).",
            current_version=version,
        )
    if if_match != version:
        raise PreconditionFailedError(
            f"The application's decision is at version {version}, not {if_match}"
            + (f" ({_label(current.outcome)})" if current is not None else " (none yet)")
            + "; reload it and decide again.",
            current_version=version,
        )


def _packet_decided_on(
    session: Session, application: Application, packet_id: int, packet_content: PacketContent
) -> Packet:
    """The cited packet, if it is ready and shows the application's data as it is now."""
    packet = session.get(Packet, packet_id)
    if (
        packet is None
        or packet.application_id != application.id
        or packet.status != PacketStatus.READY
    ):
        raise RuleViolationError(
            "Name the packet the decision was made on: a ready packet of this application.",
            errors={"packet_id": "must be a ready packet of this application"},
        )
    digest = content_digest(packet_content(session, application, packet.anonymized))
    if digest == packet.input_digest:
        return packet
    newest = packet_with_digest(session, application.id, digest, packet.anonymized)
    request = f"POST /api/v1/applications/{application.id}/packets"
    if newest is None:
        advice = f"no packet shows the current data yet: request one ({request}) and read it"
    elif newest.status == PacketStatus.READY:
        advice = f"decide on packet {newest.id} (version {newest.version}) instead"
    else:
        advice = f"packet {newest.id} (version {newest.version}) shows it and is {newest.status}"
    raise ConflictError(
        f"Packet {packet.id} (version {packet.version}) no longer shows the application's "
        f"data (a scorecard, the calibration, the stage or the decision changed since); {advice}.",
        packet_id=packet.id,
        newest_packet_id=newest.id if newest is not None else None,
        newest_packet_status=newest.status if newest is not None else None,
    )


def _concurrent_decision(session: Session, application_id: int) -> ConflictError:
    current = current_decision(session, application_id)
    version = current.version if current is not None else 0
    return ConflictError(
        "Another decision was recorded for this application at the same time "
        f"(now at version {version}); reload it and decide again.",
        current_version=version,
    )


def _with_changes(session: Session, decision: Decision) -> DecisionRecord:
    return DecisionRecord(decision, revisions_after(session, decision))


def _label(outcome: str) -> str:
    return "hire" if outcome == DecisionOutcome.HIRE else "no hire"


def panel_majority(recommend_hire: int, panel_size: int) -> str | None:
    """The outcome most of the panel recommends, or None on a tie or with no panel."""
    if panel_size == 0 or recommend_hire * 2 == panel_size:
        return None
    if recommend_hire * 2 > panel_size:
        return DecisionOutcome.HIRE.value
    return DecisionOutcome.NO_HIRE.value
