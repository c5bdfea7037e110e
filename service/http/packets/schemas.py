import marshmallow as ma

from service.http.schemas import ID_RANGE, StrictSchema
from service.persistence.packets import DECISION_OUTCOMES


class PacketRequestSchema(StrictSchema):
    anonymized = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Blind review: no name, contact details or links; names and "
            "gendered pronouns redacted from the feedback."
        },
    )


class PacketSchema(ma.Schema):
    id = ma.fields.Integer()
    application_id = ma.fields.Integer()
    version = ma.fields.Integer()
    anonymized = ma.fields.Boolean()
    status = ma.fields.String(metadata={"description": "queued, rendering, ready or failed"})
    input_digest = ma.fields.String()
    calibration_run_id = ma.fields.Function(
        lambda p: p.content.get("calibration", {}).get("run_id"),
        allow_none=True,
        metadata={"type": "integer", "description": "The calibration run its scores use"},
    )
    calibration_pending = ma.fields.Function(
        lambda p: p.content.get("calibration", {}).get("pending", False),
        metadata={
            "type": "boolean",
            "description": "A refit that includes this application's latest feedback had "
            "not landed when the packet was made; request it again once it has",
        },
    )
    size_bytes = ma.fields.Integer(allow_none=True)
    page_count = ma.fields.Integer(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)
    error = ma.fields.String(allow_none=True)
    attempts = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)


class PacketListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PacketSchema))


class DecisionCreateSchema(StrictSchema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(DECISION_OUTCOMES))
    rationale = ma.fields.String(load_default="", validate=ma.validate.Length(max=10_000))
    packet_id = ma.fields.Integer(required=True, strict=True, validate=ID_RANGE)


class DecisionSchema(ma.Schema):
    id = ma.fields.Integer()
    application_id = ma.fields.Integer()
    outcome = ma.fields.String()
    rationale = ma.fields.String()
    against_majority = ma.fields.Boolean()
    packet_id = ma.fields.Integer()
    packet_version = ma.fields.Integer(attribute="packet.version")
    decided_by = ma.fields.Function(
        lambda d: {"id": d.decided_by.id, "name": d.decided_by.name}, metadata={"type": "object"}
    )
    created_at = ma.fields.DateTime()


class DecisionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DecisionSchema))
