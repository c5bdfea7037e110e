import marshmallow as ma

from service.http.schemas import Id, NonBlankString, PageQueryArgsSchema, page_of


class AuditQueryArgsSchema(PageQueryArgsSchema):
    entity_type = NonBlankString(validate=ma.validate.Length(max=50))
    entity_id = Id(strict=False)
    action = NonBlankString(validate=ma.validate.Length(max=100))


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer()
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    entity_type = ma.fields.String()
    entity_id = ma.fields.Integer()
    at = ma.fields.DateTime()
    # The only free-form objects of the API: their columns are the audited record's.
    before = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": "The record's columns before the change (null for a creation); "
            "the keys are those of `entity_type`'s record.",
            "x-free-form": True,
        },
    )
    after = ma.fields.Dict(
        allow_none=True,
        metadata={
            "description": "The record's columns after the change (null for a deletion).",
            "x-free-form": True,
        },
    )
    reason = ma.fields.String()


AuditPageSchema = page_of(AuditEventSchema)
