"""The hiring manager's pages: decisions waiting, the assessment, the packet, the decision.

Each view calls the same use cases as the API (`tasks.decisions_waiting`,
`packets.assessment_view`, `packets.request_packet`, `decisions.record_decision`, ...),
so the same rules apply: an application that is not yours is a 404, and the blind
rule (`open_panel_feedback`) shows a panelist who still owes a scorecard its message
instead of the panel's feedback. The assessment page renders the packet's own view
model (`domain/packet.py: build_packet`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from service.domain.access import PERMISSIONS
from service.domain.errors import (
    ConflictError,
    DomainError,
    PermissionDeniedError,
    PreconditionFailedError,
    PreconditionRequiredError,
    RuleViolationError,
)
from service.domain.packet import PacketStatus
from service.extensions import db, packet_storage
from service.http.errors import flatten_messages
from service.http.packets.schemas import DecisionCreateSchema
from service.pdf.labels import FLAG_TITLES, RECOMMENDATION_LABELS
from service.usecases import access, decisions, packets, tasks
from service.usecases.assessments import application_assessment
from service.web import add_nav_item, web, whole_number
from service.web.charts import competency_profile_svg
from service.web.session import web_actor

add_nav_item("Decisions waiting", "web.decisions_waiting", ("hiring_manager",), order=20)

OUTCOME_LABELS = {"hire": "Hire", "no_hire": "No hire"}


@web.get("/decisions")
def decisions_waiting() -> ResponseReturnValue:
    """Applications whose loop is complete and that wait for my decision."""
    waiting = tasks.decisions_waiting(db.session, web_actor())
    return render_template("decisions/waiting.html", waiting=waiting)


@web.get("/applications/<int:application_id>/assessment")
def assessment(application_id: int) -> ResponseReturnValue:
    """The application's assessment: the packet's view model, as a page."""
    actor = web_actor()
    try:
        content = packets.assessment_view(db.session, actor, application_id)
    except PermissionDeniedError as error:
        return _blind(error)
    may_read_packets = actor.role in PERMISSIONS["packets:read"]
    return render_template(
        "decisions/assessment.html",
        c=content,
        application_id=application_id,
        profile=competency_profile_svg(content["assessment"]["competencies"]),
        packets=packets.list_packets(db.session, actor, application_id) if may_read_packets else [],
        may_request=actor.role in PERMISSIONS["packets:write"],
        may_decide=actor.role in PERMISSIONS["decisions:write"],
        labels=RECOMMENDATION_LABELS,
        flag_titles=FLAG_TITLES,
        outcome_labels=OUTCOME_LABELS,
    )


@web.post("/applications/<int:application_id>/packets")
def request_packet(application_id: int) -> ResponseReturnValue:
    """Ask for a packet (named or anonymized); then watch it render on its page."""
    anonymized = request.form.get("anonymized") == "yes"
    try:
        packet = packets.request_packet(db.session, web_actor(), application_id, anonymized)
    except PermissionDeniedError as error:
        return _blind(error)
    return redirect(url_for("web.packet", packet_id=packet.id), 303)


@web.get("/packets/<int:packet_id>")
def packet(packet_id: int) -> ResponseReturnValue:
    """One packet: its state while it renders (the page polls `packet_state`), then the download."""
    try:
        found = access.get_packet(db.session, web_actor(), packet_id)
    except PermissionDeniedError as error:
        return _blind(error)
    return render_template("decisions/packet.html", packet=found, **_packet_facts(found))


@web.post("/packets/<int:packet_id>/render")
def rerender_packet(packet_id: int) -> ResponseReturnValue:
    """Render again a packet that failed or whose file is missing or corrupt."""
    try:
        packets.rerender_packet(db.session, web_actor(), packet_storage(), packet_id)
    except PermissionDeniedError as error:
        return _blind(error)
    return redirect(url_for("web.packet", packet_id=packet_id), 303)


@web.get("/packets/<int:packet_id>/state")
def packet_state(packet_id: int) -> ResponseReturnValue:
    """The packet's state as JSON, for the packet page's script while it renders."""
    found = access.get_packet(db.session, web_actor(), packet_id)
    return jsonify({"status": found.status, **_packet_facts(found)})


@web.get("/packets/<int:packet_id>/pdf")
def packet_pdf(packet_id: int) -> ResponseReturnValue:
    """The packet's PDF, checked against its sha256, as a download."""
    try:
        found, data = packets.read_packet_pdf(db.session, web_actor(), packet_storage(), packet_id)
    except PermissionDeniedError as error:
        return _blind(error)
    except ConflictError as error:
        # Not ready, or its file is missing or corrupt: the packet's page offers a re-render.
        flash(error.detail.split(";")[0].rstrip(".") + ".", "error")
        return redirect(url_for("web.packet", packet_id=packet_id), 303)
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{packets.download_name(found)}"'},
    )


@web.get("/applications/<int:application_id>/decision")
def decision(application_id: int) -> ResponseReturnValue:
    """The decision form: hire or no hire, on a ready packet, with the rationale."""
    return _decision_page(application_id, form={"packet_id": request.args.get("packet", "")})


@web.post("/applications/<int:application_id>/decision")
def record_decision(application_id: int) -> ResponseReturnValue:
    """Record the decision; a refusal comes back as the form with the reason beside it."""
    form = request.form
    fields: dict[str, Any] = {k: form.get(k, "") for k in ("outcome", "rationale", "reason")}
    # The schema wants a JSON integer; a form sends text.
    fields["packet_id"] = whole_number(form.get("packet_id")) or form.get("packet_id", "")
    try:
        data = DecisionCreateSchema().load(fields)
    except ValidationError as invalid:
        error = RuleViolationError(
            "Some answers need fixing; see the messages beside them.",
            errors={e["field"]: e["message"] for e in flatten_messages(invalid.messages)},
        )
        return _decision_page(application_id, form=form, error=error, status=422)
    try:
        decisions.record_decision(
            db.session,
            web_actor(),
            application_id,
            if_match=whole_number(form.get("decision_version")),
            packet_content=packets.packet_content,
            **data,
        )
    except PermissionDeniedError as error:
        if "pending_interview_ids" in error.extra:
            return _blind(error)
        return _decision_page(application_id, form=form, error=error, status=403)
    except DomainError as error:
        return _decision_page(application_id, form=form, error=error, status=_status(error))
    flash("Decision recorded.", "success")
    return redirect(url_for("web.decision", application_id=application_id), 303)


def _decision_page(
    application_id: int,
    *,
    form: Any,
    error: DomainError | None = None,
    status: int = 200,
) -> tuple[str, int] | Response:
    actor = web_actor()
    if actor.role not in PERMISSIONS["decisions:write"]:
        abort(404)
    try:
        history = decisions.decision_history(db.session, actor, application_id)
    except PermissionDeniedError as error_:
        return _blind(error_)
    application = access.get_application(db.session, actor, application_id)
    recommendations = application_assessment(db.session, actor, application_id)["recommendations"]
    ready = packets.ready_packets(db.session, actor, application_id)
    # Re-shown after a refusal, the form keeps the version it was read at, so a decision
    # recorded meanwhile is still caught; after a version refusal it offers the current one.
    version = form.get("decision_version") or history.version
    if isinstance(error, (PreconditionFailedError, PreconditionRequiredError)):
        version = history.version
    page = render_template(
        "decisions/decision.html",
        version=version,
        application=application,
        rec=recommendations,
        history=history,
        current_packets=[p for p, current in ready if current],
        outdated_packets=[p for p, current in ready if not current],
        majority=decisions.panel_majority(
            recommendations["recommend_hire"], recommendations["panel_size"]
        ),
        form=form,
        error=error,
        field_errors=error.errors if error else {},
        outcome_labels=OUTCOME_LABELS,
        newest_packet_id=error.extra.get("newest_packet_id") if error else None,
    )
    return page, status


def _packet_facts(packet: Any) -> dict[str, Any]:
    status = packet.status
    return {
        "done": status in (PacketStatus.READY, PacketStatus.FAILED),
        "message": {
            PacketStatus.QUEUED: "Waiting for a worker to render it…",
            PacketStatus.RENDERING: "Rendering the PDF…",
            PacketStatus.READY: f"{packet.page_count} pages, ready to download.",
            PacketStatus.FAILED: f"Rendering failed: {packet.error}",
        }[PacketStatus(status)],
        "download_url": url_for("web.packet_pdf", packet_id=packet.id)
        if status == PacketStatus.READY
        else None,
    }


def _blind(error: PermissionDeniedError) -> tuple[str, int]:
    """The blind rule's page: the panel's feedback opens once you have given yours."""
    if "pending_interview_ids" not in error.extra:
        abort(404)  # any other refusal reads as missing
    return (
        render_template(
            "decisions/blind.html",
            detail=error.detail,
            pending=error.extra["pending_interview_ids"],
        ),
        403,
    )


def _status(error: DomainError) -> int:
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, PreconditionFailedError):
        return 412
    if isinstance(error, PreconditionRequiredError):
        return 428
    return 422
