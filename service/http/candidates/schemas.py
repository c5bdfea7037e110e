import marshmallow as ma

from service.http.applications.schemas import ApplicationSchema, StageChangeSchema
from service.http.audit.schemas import AuditEventSchema
from service.http.interviews.schemas import InterviewSchema
from service.http.packets.schemas import DecisionSchema, PacketSchema
from service.http.schemas import (
    NonBlankString,
    PageQueryArgsSchema,
    StrictSchema,
    UtcDateTime,
    page_of,
)
from service.http.scorecards.schemas import ScorecardSchema
from service.http.self_identification.schemas import SelfIdentificationPutSchema


class CandidateWriteSchema(StrictSchema):
    name = NonBlankString(required=True, validate=ma.validate.Length(max=200))
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    phone = ma.fields.String(load_default="", validate=ma.validate.Length(max=50))
    source = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    links = ma.fields.List(
        ma.fields.Url(schemes={"http", "https"}, validate=ma.validate.Length(max=2000)),
        load_default=list,
        validate=ma.validate.Length(max=20),
    )
    resume_text = ma.fields.String(load_default="", validate=ma.validate.Length(max=200_000))
    keep_until = UtcDateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The candidate agreed to be kept for other roles until then; "
            "retention does not erase them before."
        },
    )


class CandidatePatchSchema(CandidateWriteSchema):
    """Same fields, none required."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)

    @ma.validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_body")


class CandidateQueryArgsSchema(PageQueryArgsSchema):
    q = NonBlankString(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Case-insensitive search in name and email."},
    )


class CandidateSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(metadata={"description": "`Erased candidate` once erased."})
    email = ma.fields.String(allow_none=True, metadata={"description": "Null once erased."})
    phone = ma.fields.String()
    source = ma.fields.String()
    links = ma.fields.List(ma.fields.String())
    resume_text = ma.fields.String()
    keep_until = ma.fields.DateTime(allow_none=True)
    erased_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "When the person's data was erased."}
    )
    returning_from_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The erased record of the same person (same email)."},
    )
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


CandidatePageSchema = page_of(CandidateSchema)


class ErasureSchema(StrictSchema):
    reason = NonBlankString(
        required=True,
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Why (e.g. the candidate's request and how it reached you)."},
    )


class ErasureResultSchema(ma.Schema):
    candidate_id = ma.fields.Integer()
    erased_at = ma.fields.DateTime()
    already_erased = ma.fields.Boolean(
        metadata={"description": "True when it had been erased before: nothing changed."}
    )
    applications = ma.fields.Integer()
    packets_deleted = ma.fields.Integer()
    audit_events_scrubbed = ma.fields.Integer()
    self_identification_counted = ma.fields.Integer(
        metadata={"description": "Answers moved from the applications into counts."}
    )


class ExportedSelfIdentificationSchema(SelfIdentificationPutSchema):
    recorded_at = ma.fields.DateTime()


class ExportedApplicationSchema(ma.Schema):
    application = ma.fields.Nested(ApplicationSchema)
    timeline = ma.fields.List(ma.fields.Nested(StageChangeSchema))
    interviews = ma.fields.List(ma.fields.Nested(InterviewSchema))
    scorecards = ma.fields.List(
        ma.fields.Nested(ScorecardSchema),
        metadata={"description": "Submitted scorecards with every revision and its evidence."},
    )
    decisions = ma.fields.List(ma.fields.Nested(DecisionSchema))
    packets = ma.fields.List(ma.fields.Nested(PacketSchema))
    self_identification = ma.fields.Nested(ExportedSelfIdentificationSchema, allow_none=True)


class CandidateExportSchema(ma.Schema):
    exported_at = ma.fields.DateTime()
    candidate = ma.fields.Nested(CandidateSchema)
    applications = ma.fields.List(ma.fields.Nested(ExportedApplicationSchema))
    audit = ma.fields.List(
        ma.fields.Nested(AuditEventSchema),
        metadata={"description": "Who changed their data, and when."},
    )
