import marshmallow as ma

from service.domain.packet import DECISION_OUTCOMES, PACKET_STATUSES
from service.http.schemas import (
    Id,
    JsonBoolean,
    ListEnvelopeSchema,
    StrictSchema,
    UserRefSchema,
    one_of,
)


class PacketRequestSchema(StrictSchema):
    anonymized = JsonBoolean(
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
    status = one_of(PACKET_STATUSES)
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


class PacketListSchema(ListEnvelopeSchema):
    items = ma.fields.List(ma.fields.Nested(PacketSchema))


class DecisionCreateSchema(StrictSchema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(DECISION_OUTCOMES))
    rationale = ma.fields.String(load_default="", validate=ma.validate.Length(max=10_000))
    packet_id = Id(
        required=True,
        metadata={
            "description": "The packet the decision was made on; it must show the "
            "application's current data."
        },
    )
    reason = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Why the current decision changes; required on a change."},
    )


class RevisionAfterDecisionSchema(ma.Schema):
    scorecard_id = ma.fields.Integer()
    interview_id = ma.fields.Integer()
    interviewer_name = ma.fields.String()
    revision = ma.fields.Integer(metadata={"description": "1 is a first submission"})
    amended_at = ma.fields.DateTime()


class DecisionSchema(ma.Schema):
    id = ma.fields.Integer(attribute="decision.id")
    application_id = ma.fields.Integer(attribute="decision.application_id")
    version = ma.fields.Integer(
        attribute="decision.version",
        metadata={"description": "1 for the application's first decision, then 2, 3, ..."},
    )
    outcome = one_of(DECISION_OUTCOMES, attribute="decision.outcome")
    rationale = ma.fields.String(attribute="decision.rationale")
    reason = ma.fields.String(
        attribute="decision.reason", metadata={"description": "Why it replaced the previous one"}
    )
    against_majority = ma.fields.Boolean(attribute="decision.against_majority")
    packet_id = ma.fields.Integer(attribute="decision.packet_id")
    packet_version = ma.fields.Integer(attribute="decision.packet.version")
    decided_by = ma.fields.Nested(UserRefSchema, attribute="decision.decided_by")
    created_at = ma.fields.DateTime(attribute="decision.created_at")
    current = ma.fields.Function(
        lambda r: r.decision.superseded_at is None, metadata={"type": "boolean"}
    )
    supersedes_id = ma.fields.Integer(attribute="decision.supersedes_id", allow_none=True)
    superseded_at = ma.fields.DateTime(attribute="decision.superseded_at", allow_none=True)
    superseded_by_id = ma.fields.Function(
        lambda r: r.decision.superseded_by.id if r.decision.superseded_by else None,
        metadata={"type": ["integer", "null"]},
    )
    changed_after_decision = ma.fields.List(
        ma.fields.Nested(RevisionAfterDecisionSchema),
        metadata={
            "description": "Scorecard revisions submitted after this decision (and before it "
            "was superseded): the decision could not have read them."
        },
    )


class DecisionHistorySchema(ListEnvelopeSchema):
    version = ma.fields.Integer(
        metadata={"description": "The current decision's version, 0 before the first; the ETag"}
    )
    current = ma.fields.Nested(DecisionSchema, allow_none=True)
    items = ma.fields.List(
        ma.fields.Nested(DecisionSchema), metadata={"description": "Oldest first"}
    )
