"""Hiring-committee packets: request (deduplicated), render in a job, serve verified files."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import jobs
from service.domain.access import Viewer, require
from service.domain.data_protection import refuse_erased
from service.domain.errors import ConflictError, NotFoundError
from service.domain.loops import loop_complete
from service.domain.packet import PacketStatus, anonymous_code, build_packet, packet_file_name
from service.domain.packet_inputs import (
    ApplicationIn,
    CalibrationRunIn,
    CandidateIn,
    PacketInputs,
    RoleIn,
    StageChangeIn,
)
from service.domain.pipeline import ApplicationStatus
from service.pdf.content import content_digest
from service.persistence.applications import Application, timeline_of
from service.persistence.audit import record_event
from service.persistence.base import pseudonym_key, utcnow
from service.persistence.calibration import latest_run
from service.persistence.loops import deviations_of, interview_facts
from service.persistence.packets import (
    Packet,
    current_decision,
    packet_with_digest,
    packets_of,
    packets_past_lease,
    revisions_after,
)
from service.storage import ChecksumMismatchError, FileMissingError, PacketStorage
from service.usecases.access import get_application, get_packet, open_panel_feedback
from service.usecases.assessments import assessment_inputs, scorecard_histories
from service.usecases.outbox import emit_event

if TYPE_CHECKING:
    from service.pdf.render import RenderedPdf

log = logging.getLogger(__name__)

RENDER_JOB = "workers.jobs.render_packet"
RENDER_TIMEOUT_SECONDS = 120
MAX_ATTEMPTS = 3


def request_packet(
    session: Session, actor: Viewer, application_id: int, anonymized: bool
) -> Packet:
    """Queue a packet for the application's current data, or return the one already made
    from the same data and options. Raises PermissionDeniedError, NotFoundError."""
    require(actor.role, "packets:write")
    application = get_application(session, actor, application_id)
    refuse_erased(application.candidate_id, application.candidate.erased_at)
    open_panel_feedback(session, actor, application.id)
    content = packet_content(session, application, anonymized)
    digest = content_digest(content)
    existing = packet_with_digest(session, application.id, digest, anonymized)
    if existing is not None:
        if existing.status == PacketStatus.FAILED:
            _requeue(session, actor, existing, "requested again after failing")
            session.commit()
            session.refresh(existing)
        elif existing.status == PacketStatus.QUEUED:
            # Asking again heals a lost job; one still waiting in the queue is not duplicated.
            _enqueue_render(session, existing, next_attempt=False)
            session.commit()
        return existing
    packet = _add_packet(session, application, anonymized, content, digest, actor)
    if packet is None:
        # A concurrent request for the same inputs won the race: answer with its packet.
        winner = packet_with_digest(session, application_id, digest, anonymized)
        assert winner is not None  # the committed row the unique index refused ours for
        return winner
    session.commit()
    session.refresh(packet)  # without Redis the render has already run
    return packet


def prepare_packets(session: Session, application_id: int) -> list[Packet]:
    """The background job's work, after a scorecard, amendment, decision or refit: once the
    application's loop is complete, make its packet for the current data and render it, so
    the hiring manager's request finds it ready. The named packet, and the anonymized one
    too once one was asked for. Inputs already made into a packet make nothing new (the
    unique digest): the same digest is never rendered twice. Returns the packets made."""
    application = session.get(Application, application_id)
    if application is None or application.status != ApplicationStatus.ACTIVE:
        return []
    skipped = [
        d.interview_key for d in deviations_of(session, application.id) if d.kind == "skipped"
    ]
    if not loop_complete(application.template, interview_facts(session, application.id), skipped):
        return []
    made = []
    variants = [False]
    if any(p.anonymized for p in packets_of(session, application.id)):
        variants.append(True)
    for anonymized in variants:
        content = packet_content(session, application, anonymized)
        digest = content_digest(content)
        if packet_with_digest(session, application.id, digest, anonymized) is not None:
            continue
        packet = _add_packet(session, application, anonymized, content, digest, None)
        if packet is not None:
            session.commit()
            made.append(packet)
    return made


def _add_packet(
    session: Session,
    application: Application,
    anonymized: bool,
    content: dict[str, Any],
    digest: str,
    actor: Viewer | None,
) -> Packet | None:
    """A queued packet for these inputs, audited, its render enqueued after the commit;
    None (rolled back) when a concurrent writer stored the same inputs first."""
    version = (
        session.scalar(
            select(func.max(Packet.version)).where(Packet.application_id == application.id)
        )
        or 0
    ) + 1
    packet = Packet(
        application_id=application.id,
        version=version,
        anonymized=anonymized,
        input_digest=digest,
        content=content,
        requested_by_id=actor.id if actor else None,
    )
    session.add(packet)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    record_event(
        session,
        actor.id if actor else None,
        "packet.requested" if actor else "packet.prepared",
        "packet",
        packet.id,
        after={
            "application_id": application.id,
            "version": version,
            "anonymized": anonymized,
            "input_digest": digest,
        },
    )
    _enqueue_render(session, packet)
    return packet


def assessment_view(session: Session, actor: Viewer, application_id: int) -> dict[str, Any]:
    """The assessment page's data: the packet's view model (named) of the application's data
    now, for whoever may read its assessment. Raises NotFoundError, and PermissionDeniedError
    while `actor` owes a scorecard on it (`open_panel_feedback`, as GET .../assessment)."""
    application = get_application(session, actor, application_id)
    open_panel_feedback(session, actor, application.id)
    return packet_content(session, application, anonymized=False)


def packet_content(session: Session, application: Application, anonymized: bool) -> dict[str, Any]:
    """The document's data now. Anonymized: no name, contact details or links, and
    names and gendered pronouns redacted from everything interviewers wrote."""
    return build_packet(packet_inputs(session, application), anonymized)


def packet_inputs(session: Session, application: Application) -> PacketInputs:
    """The application's facts as stored now, as plain frozen data."""
    template, scorecards, interviews, deviations, leniencies = assessment_inputs(
        session, application.id, application.template
    )
    candidate, requisition = application.candidate, application.requisition
    return PacketInputs(
        template=template,
        role=RoleIn(requisition.title, requisition.team, requisition.hiring_manager.name),
        candidate=CandidateIn(
            candidate.name,
            candidate.email or "",
            candidate.phone,
            tuple(candidate.links),
            candidate.source,
        ),
        application=ApplicationIn(
            application.id,
            application.stage,
            application.status,
            anonymous_code(application.id, pseudonym_key(session)),
        ),
        scorecards=tuple(scorecards),
        interviews=tuple(interviews),
        deviations=tuple(deviations),
        leniencies=leniencies,
        calibration=_calibration_run(session),
        histories=scorecard_histories(session, application.id),
        timeline=tuple(
            StageChangeIn(
                c.kind, c.from_stage, c.to_stage, c.at, c.actor.name if c.actor else None, c.reason
            )
            for c in timeline_of(session, application.id)
        ),
        decision=_latest_decision(session, application.id),
        now=utcnow(),
    )


def render_packet(
    session: Session,
    storage: PacketStorage,
    packet_id: int,
    render: Callable[[dict[str, Any], str, int], RenderedPdf],
    *,
    lease_seconds: int,
) -> Packet:
    """The job's work: mark rendering, render the stored content, write the file, mark ready.

    `render(content, digest, version) -> RenderedPdf`. Errors propagate after the
    packet is marked failed with a message saying what went wrong.

    The packet's row is locked while it is claimed, and one another job has been
    rendering for less than `lease_seconds` is left to it: a second job for the same
    packet (asking again for a queued packet enqueues its job again once the first has
    started) would otherwise render it twice and announce it ready twice. Past the
    lease that render is taken to be lost, as `reap_abandoned` takes it.
    """
    packet = session.get(Packet, packet_id, with_for_update=True)
    if packet is None:
        raise NotFoundError(f"Packet {packet_id} does not exist.")
    rendering_elsewhere = (
        packet.status == PacketStatus.RENDERING
        and packet.started_at is not None
        and packet.started_at > utcnow() - timedelta(seconds=lease_seconds)
    )
    if packet.status == PacketStatus.READY or packet.erased_at is not None or rendering_elsewhere:
        session.commit()  # nothing to do: the row's lock goes
        return packet
    packet.status, packet.started_at, packet.error = PacketStatus.RENDERING.value, utcnow(), None
    packet.attempts += 1
    session.commit()
    try:
        rendered = render(packet.content, packet.input_digest, packet.version)
        key = f"applications/{packet.application_id}/packet-{packet.version}-{packet.input_digest[:12]}.pdf"
        sha256 = hashlib.sha256(rendered.data).hexdigest()
        storage.put(key, rendered.data, sha256)  # durable before the packet says ready
    except Exception as error:
        session.rollback()
        mark_failed(session, packet_id, f"{type(error).__name__}: {error}")
        raise
    packet.storage_key, packet.size_bytes, packet.page_count = (
        key,
        len(rendered.data),
        rendered.page_count,
    )
    packet.sha256 = sha256
    packet.status, packet.finished_at = PacketStatus.READY.value, utcnow()
    record_event(
        session,
        None,
        "packet.rendered",
        "packet",
        packet.id,
        after={"sha256": packet.sha256, "pages": packet.page_count},
    )
    emit_event(
        session,
        "packet.ready",
        {
            "packet_id": packet.id,
            "application_id": packet.application_id,
            "anonymized": packet.anonymized,
        },
    )
    session.commit()
    return packet


def mark_failed(session: Session, packet_id: int, message: str) -> None:
    packet = session.get(Packet, packet_id)
    assert packet is not None  # the job that failed was rendering it
    _fail(session, packet, message)
    session.commit()


def _fail(session: Session, packet: Packet, message: str) -> None:
    packet.status, packet.error, packet.finished_at = (
        PacketStatus.FAILED.value,
        message[:2000],
        utcnow(),
    )
    record_event(session, None, "packet.failed", "packet", packet.id, after={"error": packet.error})


def list_packets(session: Session, actor: Viewer, application_id: int) -> list[Packet]:
    """Every packet version of the application, behind the blind rule (`open_panel_feedback`)."""
    require(actor.role, "packets:read")
    application = get_application(session, actor, application_id)
    open_panel_feedback(session, actor, application.id)
    return packets_of(session, application.id)


def ready_packets(
    session: Session, actor: Viewer, application_id: int
) -> list[tuple[Packet, bool]]:
    """The application's ready packets, newest first, each with whether it still shows the
    application's data (only those can carry a decision), behind the blind rule."""
    application = get_application(session, actor, application_id)
    ready = [
        p for p in list_packets(session, actor, application.id) if p.status == PacketStatus.READY
    ]
    digests = {
        anonymized: content_digest(packet_content(session, application, anonymized))
        for anonymized in {p.anonymized for p in ready}
    }
    return [(p, p.input_digest == digests[p.anonymized]) for p in reversed(ready)]


def read_packet_pdf(
    session: Session, actor: Viewer, storage: PacketStorage, packet_id: int
) -> tuple[Packet, bytes]:
    """The PDF, verified against its checksum, behind the blind rule (`get_packet` calls
    `open_panel_feedback`). Raises ConflictError when it is not ready, missing or corrupt
    (re-render it with POST /packets/{id}/render)."""
    packet = get_packet(session, actor, packet_id)
    _refuse_erased_packet(packet)
    if packet.status != PacketStatus.READY:
        raise ConflictError(
            f"Packet {packet.id} is {packet.status}, not ready.", packet_status=packet.status
        )
    assert packet.storage_key is not None  # a ready packet has its file
    try:
        data = storage.get(packet.storage_key)
    except FileMissingError:
        raise ConflictError(
            f"Packet {packet.id}'s file is missing from storage; re-render it with "
            f"POST /api/v1/packets/{packet.id}/render.",
            packet_status="missing_file",
        ) from None
    except ChecksumMismatchError:  # the object storage's own checksum refused the body
        data = b""
    if hashlib.sha256(data).hexdigest() != packet.sha256:
        raise ConflictError(
            f"Packet {packet.id}'s file does not match its checksum (corrupt); re-render it "
            f"with POST /api/v1/packets/{packet.id}/render.",
            packet_status="corrupt_file",
        )
    return packet, data


def download_name(packet: Packet) -> str:
    """The PDF's file name; an anonymized packet's carries only its anonymous code."""
    return packet_file_name(packet.application_id, packet.version, packet.content)


def rerender_packet(
    session: Session, actor: Viewer, storage: PacketStorage, packet_id: int
) -> Packet:
    """Render again a packet that failed or whose file is missing or corrupt."""
    require(actor.role, "packets:write")
    packet = get_packet(session, actor, packet_id)
    _refuse_erased_packet(packet)
    if packet.status in (PacketStatus.QUEUED, PacketStatus.RENDERING):
        return packet
    if packet.status == PacketStatus.READY:
        try:
            read_packet_pdf(session, actor, storage, packet_id)
            return packet  # the file is fine: nothing to do
        except ConflictError:
            pass
    _requeue(session, actor, packet, "re-render requested")
    session.commit()
    session.refresh(packet)  # without Redis the render has already run
    return packet


def reap_abandoned(session: Session, lease_seconds: int) -> int:
    """The periodic job's work (and the worker's check at start): every packet still
    queued or rendering past its lease is handled once. Returns how many it handled.

    A packet left 'rendering' lost its worker (killed, crashed): it is retried, or failed
    after MAX_ATTEMPTS, so no packet stays 'rendering' forever. One still 'queued' may
    have lost its job (Redis was down when it was enqueued): it is enqueued again; a job
    that is still waiting is not enqueued twice. On PostgreSQL the rows are locked and
    ones another reaper holds are skipped, so two reapers never handle the same packet."""
    stale = packets_past_lease(session, utcnow() - timedelta(seconds=lease_seconds))
    for packet in stale:
        if packet.status == PacketStatus.QUEUED:
            _enqueue_render(session, packet, next_attempt=False)
        elif packet.attempts >= MAX_ATTEMPTS:
            _fail(
                session,
                packet,
                f"the worker stopped during rendering {packet.attempts} "
                "times; request the packet again or check the workers",
            )
        else:
            log.warning("packet %s abandoned while rendering; retrying", packet.id)
            _requeue(session, None, packet, f"worker lost after {lease_seconds} s; retrying")
    session.commit()
    return len(stale)


def _refuse_erased_packet(packet: Packet) -> None:
    if packet.erased_at is not None:
        raise ConflictError(
            f"Packet {packet.id} was erased with its candidate's data on "
            f"{packet.erased_at.date().isoformat()}: its content and file are gone.",
            packet_status="erased",
        )


def _requeue(session: Session, actor: Viewer | None, packet: Packet, reason: str) -> None:
    packet.status, packet.error, packet.finished_at = PacketStatus.QUEUED.value, None, None
    record_event(
        session, actor.id if actor else None, "packet.requeued", "packet", packet.id, reason=reason
    )
    _enqueue_render(session, packet)


def _enqueue_render(session: Session, packet: Packet, next_attempt: bool = True) -> None:
    if next_attempt or packet.job_id is None:
        packet.job_id = f"packet-{packet.id}-{packet.attempts + 1}"
    jobs.enqueue_after_commit(
        session,
        RENDER_JOB,
        packet.id,
        queue_name="packets",
        job_id=packet.job_id,
        job_timeout=RENDER_TIMEOUT_SECONDS,
        retry=jobs.transient_retry(),
    )


def _calibration_run(session: Session) -> CalibrationRunIn | None:
    run = latest_run(session)
    return None if run is None else CalibrationRunIn(run.id, run.fitted_at)


def _latest_decision(session: Session, application_id: int) -> dict[str, Any] | None:
    """The current decision, what it replaced, and the scorecards changed since it was made."""
    decision = current_decision(session, application_id)
    if decision is None:
        return None
    return {
        "version": decision.version,
        "outcome": decision.outcome,
        "rationale": decision.rationale,
        "decided_by": decision.decided_by.name,
        "created_at": decision.created_at.isoformat(),
        "against_majority": decision.against_majority,
        "packet_version": decision.packet.version if decision.packet else None,
        "supersedes": (
            {"outcome": decision.supersedes.outcome, "reason": decision.reason}
            if decision.supersedes
            else None
        ),
        "changed_after_decision": [
            {
                "scorecard_id": change.scorecard_id,
                "interview_id": change.interview_id,
                "interviewer_name": change.interviewer_name,
                "revision": change.revision,
                "amended_at": change.amended_at.isoformat(),
            }
            for change in revisions_after(session, decision)
        ],
    }
