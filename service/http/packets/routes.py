from flask import Response, url_for
from flask.views import MethodView

from service.extensions import db, packet_storage
from service.http.applications.routes import if_match_version
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.packets.schemas import (
    DecisionCreateSchema,
    DecisionHistorySchema,
    DecisionSchema,
    PacketListSchema,
    PacketRequestSchema,
    PacketSchema,
)
from service.usecases import access, decisions, packets

blp = Blueprint(
    "packets",
    __name__,
    url_prefix="/api/v1",
    description="Hiring-committee packets (PDF, rendered in the background) and decisions.",
)


def with_location(packet):
    return packet, {"Location": url_for("packets.Packet", packet_id=packet.id)}


@blp.route("/applications/<int:application_id>/packets")
class ApplicationPackets(MethodView):
    @blp.doc(operationId="request_packet")
    @blp.returns_location("get_packet", "packet_id")
    @blp.links_to("get_packet_pdf", packet_id="$response.body#/id")
    @blp.arguments(PacketRequestSchema)
    @blp.response(202, PacketSchema)
    def post(self, data, application_id):
        """Request a packet; the same inputs and options return the existing one

        Rendering happens in the background: poll the packet (`Location`, or the `GetPacket` link) until `status` is `ready`, then download its PDF.
        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        return with_location(
            packets.request_packet(db.session, current_user(), application_id, data["anonymized"])
        )

    @blp.doc(operationId="list_packets")
    @blp.response(200, PacketListSchema)
    def get(self, application_id):
        """Every packet version of the application

        Oldest first; each names its status and the inputs' digest.
        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        return {"items": packets.list_packets(db.session, current_user(), application_id)}


@blp.route("/packets/<int:packet_id>")
class Packet(MethodView):
    @blp.response(200, PacketSchema)
    def get(self, packet_id):
        """Status, digest, size, pages, checksum, error

        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        return access.get_packet(db.session, current_user(), packet_id)


@blp.route("/packets/<int:packet_id>/render")
class Render(MethodView):
    @blp.doc(operationId="rerender_packet")
    @blp.returns_location("get_packet", "packet_id")
    @blp.response(202, PacketSchema)
    def post(self, packet_id):
        """Render again a packet that failed or whose file is missing or corrupt

        Only a failed packet, or one whose file is missing or corrupt (else 409 with `packet_status`).
        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        return with_location(
            packets.rerender_packet(db.session, current_user(), packet_storage(), packet_id)
        )


@blp.route("/packets/<int:packet_id>/pdf")
class Pdf(MethodView):
    @blp.doc(operationId="get_packet_pdf")
    @blp.versioned()
    @blp.serves_file("application/pdf")
    @blp.response(200, content_type="application/pdf")
    def get(self, packet_id):
        """The PDF, checked against its sha256 (the ETag)

        A packet that is not ready, or whose file is missing or corrupt, is a 409 with `packet_status`.
        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        packet, data = packets.read_packet_pdf(
            db.session, current_user(), packet_storage(), packet_id
        )
        name = packets.download_name(packet)
        return Response(
            data,
            mimetype="application/pdf",
            headers={
                "ETag": f'"{packet.sha256}"',
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )


def with_decision_version(body, version):
    return body, {"ETag": f'"{version}"'}


@blp.route("/applications/<int:application_id>/decision")
class Decision(MethodView):
    @blp.doc(operationId="record_decision")
    @blp.versioned(if_match=(412, 428))
    @blp.links_to("get_decision_history", application_id="$request.path.application_id")
    @blp.arguments(DecisionCreateSchema)
    @blp.response(201, DecisionSchema)
    def post(self, data, application_id):
        """Record hire / no hire on a current packet; a change needs If-Match and a reason

        The first decision needs no `If-Match`; changing one needs `If-Match` with the decision version (428 without, 412 when stale, each with `current_version`). A packet that is not the newest ready one is a 409 naming `newest_packet_id`.
        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        record = decisions.record_decision(
            db.session,
            current_user(),
            application_id,
            if_match=if_match_version("a decision version"),
            packet_content=packets.packet_content,
            **data,
        )
        return with_decision_version(record, record.decision.version)

    @blp.doc(operationId="get_decision_history")
    @blp.versioned()
    @blp.response(200, DecisionHistorySchema)
    def get(self, application_id):
        """The current decision and every one it superseded; ETag is the decision version

        Send its ETag as `If-Match` to change the decision.
        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        history = decisions.decision_history(db.session, current_user(), application_id)
        return with_decision_version(history, history.version)
