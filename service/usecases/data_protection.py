"""A candidate's data rights: export everything held about them, erase it, and
retention (erase who is due, on a schedule).

Erasure is one transaction (then the packet files go), final and idempotent:
- the candidate's row keeps its id with the personal columns emptied, the time of
  erasure, and a keyed fingerprint of the email (HMAC under the server's key) so a
  returning candidate is recognised without keeping the address;
- every text staff wrote about them (evidence, summaries, drafts, reasons, notes,
  rationales) has their name, contact details and links redacted;
- packets become tombstones: no content, no file;
- self-identification answers leave the application and are kept only as counts
  (`persistence.data_protection`), so the adverse-impact figures stay the same;
- audit events about them are scrubbed the same way (the audit log's one allowed
  change, listed in `audit_scrubs`), and the erasure itself is audited with who and why.
Stage history, scores, recommendations and decisions stay, pseudonymous, so
calibration and the reports do not change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.domain.access import Viewer, require
from service.domain.anonymize import IdentifyingTerms, identifying_terms
from service.domain.data_protection import ENDED_STATUSES, ApplicationEnd, retention_due, scrub
from service.domain.errors import ConflictError
from service.persistence.applications import Application, StageChange, timeline_of
from service.persistence.audit import AuditEvent, record_event
from service.persistence.base import utcnow
from service.persistence.candidates import (
    ERASED_NAME,
    PERSONAL_FIELDS,
    Candidate,
    email_fingerprint,
)
from service.persistence.data_protection import (
    candidate_audit_events,
    count_self_identification,
    scrub_audit_event,
)
from service.persistence.interviews import Interview, ProcessDeviation
from service.persistence.notifications import EmailMessage, Notification
from service.persistence.outbox import OutboxEvent
from service.persistence.packets import (
    Decision,
    DecisionRecord,
    Packet,
    decision_records,
    packets_of,
)
from service.persistence.report_snapshots import invalidate_snapshots
from service.persistence.reports import ENTRY_KINDS
from service.persistence.requisitions import Requisition
from service.persistence.scorecards import Scorecard, submitted_scorecards
from service.persistence.self_identification import SelfIdentification
from service.persistence.templates import TemplateVersion
from service.storage import PacketStorage
from service.usecases.access import get_candidate, open_panel_feedback

log = logging.getLogger(__name__)


# -- export --------------------------------------------------------------------


@dataclass
class ApplicationRecord:
    application: Application
    timeline: list[StageChange]
    interviews: list[Interview]
    scorecards: list[Scorecard]
    decisions: list[DecisionRecord]
    packets: list[Packet]
    self_identification: SelfIdentification | None


@dataclass
class CandidateExport:
    exported_at: datetime
    candidate: Candidate
    applications: list[ApplicationRecord] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)


def export_candidate(session: Session, actor: Viewer, candidate_id: int) -> CandidateExport:
    """Everything held about the person, in one document (admin). Reading the panel's
    feedback goes through the blind rule like every other reader. The export is audited.

    Raises PermissionDeniedError, NotFoundError.
    """
    require(actor.role, "candidates:export")
    candidate = get_candidate(session, actor, candidate_id)
    export = CandidateExport(exported_at=utcnow(), candidate=candidate)
    applications = _applications_of(session, candidate.id)
    for application in applications:
        open_panel_feedback(session, actor, application.id)
        export.applications.append(
            ApplicationRecord(
                application=application,
                timeline=timeline_of(session, application.id),
                interviews=list(
                    session.scalars(
                        select(Interview)
                        .where(Interview.application_id == application.id)
                        .order_by(Interview.starts_at, Interview.id)
                    )
                ),
                scorecards=submitted_scorecards(session, application.id),
                decisions=decision_records(session, application.id),
                packets=packets_of(session, application.id),
                self_identification=session.scalar(
                    select(SelfIdentification).where(
                        SelfIdentification.application_id == application.id
                    )
                ),
            )
        )
    export.audit = candidate_audit_events(session, candidate.id, [a.id for a in applications])
    record_event(session, actor.id, "candidate.exported", "candidate", candidate.id)
    session.commit()
    return export


# -- erasure -------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureResult:
    candidate_id: int
    erased_at: datetime
    already_erased: bool
    applications: int = 0
    packets_deleted: int = 0
    audit_events_scrubbed: int = 0
    self_identification_counted: int = 0


def erase_candidate(
    session: Session,
    actor: Viewer | None,
    candidate_id: int,
    reason: str,
    storage: PacketStorage,
) -> ErasureResult:
    """Erase the person's data (module docstring); `actor` None is the retention job.

    Raises PermissionDeniedError, NotFoundError, ConflictError (an application is
    still active: withdraw or reject it first, with the candidate's reason).
    """
    if actor is not None:
        require(actor.role, "candidates:erase")
        candidate = get_candidate(session, actor, candidate_id)
    else:
        candidate = session.get_one(Candidate, candidate_id)
    if candidate.erased_at is not None:
        _delete_packet_files(session, storage, candidate.id)  # finish one a crash interrupted
        return ErasureResult(candidate.id, candidate.erased_at, already_erased=True)
    applications = _applications_of(session, candidate.id)
    active = [a.id for a in applications if a.status == "active"]
    if active:
        raise ConflictError(
            f"Candidate {candidate.id} has active applications ({', '.join(map(str, active))}); "
            "withdraw or reject them first (with the candidate's request as the reason), "
            "then erase.",
            errors={"candidate_id": "has active applications"},
            active_application_ids=active,
        )
    terms = identifying_terms(
        candidate.name, candidate.email or "", candidate.phone, candidate.links
    )
    now = utcnow()
    ids = [a.id for a in applications]
    counted = sum(
        count_self_identification(
            session, a, [c.to_stage for c in timeline_of(session, a.id) if c.kind in ENTRY_KINDS]
        )
        for a in applications
    )
    _redact_texts(session, ids, terms)
    _redact_messages(session, candidate, ids, terms)
    packets = list(session.scalars(select(Packet).where(Packet.application_id.in_(ids))))
    for packet in packets:
        packet.content, packet.erased_at = {}, now
        if packet.status in ("queued", "rendering"):  # never rendered now: not by the reaper
            packet.status, packet.error = "failed", "erased with the candidate's data"
    events = candidate_audit_events(session, candidate.id, ids)
    scrubbed = 0
    for event in events:
        personal = frozenset(PERSONAL_FIELDS) if event.entity_type == "candidate" else frozenset()
        before, after = scrub(event.before, terms, personal), scrub(event.after, terms, personal)
        reason_text = scrub(event.reason, terms)
        if (before, after, reason_text) != (event.before, event.after, event.reason):
            scrub_audit_event(session, event, candidate.id, before, after, reason_text)
            scrubbed += 1
    if candidate.email:
        candidate.email_fingerprint = email_fingerprint(session, candidate.email)
    candidate.name, candidate.email, candidate.phone = ERASED_NAME, None, ""
    candidate.links, candidate.resume_text, candidate.keep_until = [], "", None
    candidate.erased_at = now
    result = ErasureResult(
        candidate.id,
        now,
        already_erased=False,
        applications=len(applications),
        packets_deleted=sum(1 for p in packets if p.storage_key),
        audit_events_scrubbed=scrubbed,
        self_identification_counted=counted,
    )
    record_event(
        session,
        actor.id if actor else None,
        "candidate.erased",
        "candidate",
        candidate.id,
        after={
            "erased_at": now.isoformat(),
            "applications": result.applications,
            "packets_deleted": result.packets_deleted,
            "audit_events_scrubbed": scrubbed,
            "self_identification_counted": counted,
        },
        reason=reason,
    )
    # The organisation-wide report snapshots were counted with the person's data.
    invalidate_snapshots(session)
    session.commit()
    _delete_packet_files(session, storage, candidate.id)
    log.info("candidate %s erased (%s audit events scrubbed)", candidate.id, scrubbed)
    return result


def _applications_of(session: Session, candidate_id: int) -> list[Application]:
    return list(
        session.scalars(
            select(Application)
            .where(Application.candidate_id == candidate_id)
            .order_by(Application.id)
        )
    )


def _redact_texts(session: Session, application_ids: list[int], terms: IdentifyingTerms) -> None:
    """Every text written about the person, through the ORM (so nothing is missed)."""
    rows: list[tuple[Any, tuple[str, ...]]] = []
    rows += [(a, ("rejection_note",)) for a in _by_ids(session, Application, application_ids)]
    texts: tuple[tuple[Any, tuple[str, ...]], ...] = (
        (StageChange, ("reason",)),
        (Interview, ("status_reason",)),
        (ProcessDeviation, ("reason",)),
        (Decision, ("rationale", "reason")),
    )
    for model, names in texts:
        rows += [(r, names) for r in _of_applications(session, model, application_ids)]
    for scorecard in _of_applications(session, Scorecard, application_ids):
        rows.append((scorecard, ("draft",)))
        for revision in scorecard.revisions:
            rows.append((revision, ("summary", "reason")))
            rows += [(rating, ("evidence",)) for rating in revision.ratings]
    for row, columns in rows:
        for column in columns:
            value = getattr(row, column)
            if value:
                setattr(row, column, scrub(value, terms))
    session.flush()


def _redact_messages(
    session: Session, candidate: Candidate, application_ids: list[int], terms: IdentifyingTerms
) -> None:
    """The outbox's events about their applications, and the notifications and emails
    that named them (by full name or address: a digest names several people)."""
    events = list(
        session.scalars(
            select(OutboxEvent).where(
                or_(
                    OutboxEvent.data["application_id"].as_integer().in_(application_ids),
                    OutboxEvent.data["candidate_id"].as_integer() == candidate.id,
                )
            )
        )
    )
    for event in events:
        event.data = scrub(event.data, terms)
    needles = [n.lower() for n in (candidate.name, candidate.email) if n]

    def names_them(*columns: Any) -> Any:
        return or_(*(func.lower(c).contains(n, autoescape=True) for c in columns for n in needles))

    notifications = session.scalars(
        select(Notification).where(
            or_(
                Notification.event_id.in_([e.id for e in events]),
                names_them(Notification.title, Notification.body),
            )
        )
    )
    for notification in notifications:
        notification.title = scrub(notification.title, terms)
        notification.body = scrub(notification.body, terms)
    emails = session.scalars(
        select(EmailMessage).where(
            names_them(EmailMessage.subject, EmailMessage.text_body, EmailMessage.html_body)
        )
    )
    for email in emails:
        email.subject, email.text_body = scrub(email.subject, terms), scrub(email.text_body, terms)
        email.html_body = scrub(email.html_body, terms)
        if email.calendar:
            email.calendar = scrub(email.calendar, terms)
    session.flush()


def _by_ids(session: Session, model: Any, ids: list[int]) -> list[Any]:
    return list(session.scalars(select(model).where(model.id.in_(ids))))


def _of_applications(session: Session, model: Any, ids: list[int]) -> list[Any]:
    return list(session.scalars(select(model).where(model.application_id.in_(ids))))


def _delete_packet_files(session: Session, storage: PacketStorage, candidate_id: int) -> None:
    """After the commit: remove the erased packets' files, then forget their keys."""
    packets = session.scalars(
        select(Packet)
        .join(Application, Application.id == Packet.application_id)
        .where(
            Application.candidate_id == candidate_id,
            Packet.erased_at.is_not(None),
            Packet.storage_key.is_not(None),
        )
    ).all()
    for packet in packets:
        assert packet.storage_key is not None
        storage.delete(packet.storage_key)
        packet.storage_key = None
    if packets:
        session.commit()


# -- retention -----------------------------------------------------------------


@dataclass(frozen=True)
class RetentionCandidate:
    candidate_id: int
    why: str


def due_for_erasure(session: Session, default_days: int) -> list[RetentionCandidate]:
    """Who the retention policy erases now, and why (the global policy, or the
    template's `retention_days` where it sets one)."""
    now = utcnow()
    days_by_version = {
        v.id: v.template().retention_days or default_days
        for v in session.scalars(select(TemplateVersion))
    }
    ended_at = dict(
        session.execute(
            select(StageChange.application_id, StageChange.at)
            .where(StageChange.to_status.in_(ENDED_STATUSES))
            .order_by(StageChange.at)  # the latest end of a reopened application wins
        ).all()
    )
    by_candidate: dict[int, list[ApplicationEnd]] = {}
    rows = session.execute(
        select(
            Application.id,
            Application.candidate_id,
            Application.status,
            Requisition.template_version_id,
        ).join(Requisition, Requisition.id == Application.requisition_id)
    )
    for application_id, candidate_id, status, version_id in rows:
        by_candidate.setdefault(candidate_id, []).append(
            ApplicationEnd(status, ended_at.get(application_id), days_by_version[version_id])
        )
    due = []
    for candidate in session.scalars(
        select(Candidate).where(Candidate.erased_at.is_(None)).order_by(Candidate.id)
    ):
        why = retention_due(
            by_candidate.get(candidate.id, []),
            created_at=candidate.created_at,
            keep_until=candidate.keep_until,
            now=now,
            default_days=default_days,
        )
        if why:
            due.append(RetentionCandidate(candidate.id, why))
    return due


def run_retention(
    session: Session, storage: PacketStorage, default_days: int
) -> list[RetentionCandidate]:
    """Erase everyone `due_for_erasure` names, each in its own transaction."""
    due = due_for_erasure(session, default_days)
    for item in due:
        erase_candidate(session, None, item.candidate_id, f"retention: {item.why}", storage)
    return due
