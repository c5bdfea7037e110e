import marshmallow as ma

from service.http.schemas import NonBlankString, PageQueryArgsSchema, StrictSchema, page_of


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
    name = ma.fields.String()
    email = ma.fields.String()
    phone = ma.fields.String()
    source = ma.fields.String()
    links = ma.fields.List(ma.fields.String())
    resume_text = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


CandidatePageSchema = page_of(CandidateSchema)
