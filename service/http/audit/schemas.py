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
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)
    reason = ma.fields.String()


AuditPageSchema = page_of(AuditEventSchema)
