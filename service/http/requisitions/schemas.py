import marshmallow as ma

from service.domain.pipeline import REQUISITION_STATUSES
from service.http.schemas import (
    Id,
    NonBlankString,
    PageQueryArgsSchema,
    StrictSchema,
    UserRefSchema,
    one_of,
    page_of,
)


class RequisitionCreateSchema(StrictSchema):
    title = NonBlankString(required=True, validate=ma.validate.Length(max=200))
    team = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    hiring_manager_id = Id(required=True)
    recruiter_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "The recruiter who runs the pipeline (recruiter or admin)."},
    )
    template_key = NonBlankString(required=True, validate=ma.validate.Length(max=100))
    headcount = ma.fields.Integer(
        load_default=1, strict=True, validate=ma.validate.Range(min=1, max=1000)
    )


class RequisitionPatchSchema(StrictSchema):
    title = NonBlankString(validate=ma.validate.Length(max=200))
    team = ma.fields.String(validate=ma.validate.Length(max=200))
    hiring_manager_id = Id()
    recruiter_id = Id(allow_none=True, metadata={"description": "`null` unassigns the recruiter."})
    headcount = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=1000))
    status = ma.fields.String(validate=ma.validate.OneOf(REQUISITION_STATUSES))

    @ma.validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_body")


class RequisitionQueryArgsSchema(PageQueryArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(REQUISITION_STATUSES))
    recruiter_id = Id(strict=False, metadata={"description": "Requisitions this recruiter runs."})


class UserContactSchema(UserRefSchema):
    """A user named with the address to reach them at."""

    email = ma.fields.String()


class RequisitionSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    team = ma.fields.String()
    status = one_of(REQUISITION_STATUSES)
    headcount = ma.fields.Integer()
    hiring_manager = ma.fields.Nested(UserContactSchema)
    recruiter = ma.fields.Nested(UserContactSchema, allow_none=True)
    template_key = ma.fields.String(attribute="template_version.key")
    template_version = ma.fields.String(attribute="template_version.version")
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


RequisitionPageSchema = page_of(RequisitionSchema)
