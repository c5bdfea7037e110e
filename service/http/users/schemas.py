import marshmallow as ma

from service.domain.access import ROLES
from service.http.schemas import (
    ListEnvelopeSchema,
    NonBlankString,
    PageQueryArgsSchema,
    StrictSchema,
    one_of,
    page_of,
)


class UserQueryArgsSchema(PageQueryArgsSchema):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    active = ma.fields.Boolean(metadata={"description": "true or false; both when absent."})
    q = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Part of the name or email, any case."},
    )


class UserCreateSchema(StrictSchema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    name = NonBlankString(required=True, validate=ma.validate.Length(max=200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String()
    role = one_of(ROLES)
    active = ma.fields.Boolean()


UserPageSchema = page_of(UserSchema)


class CreatedUserSchema(UserSchema):
    token = ma.fields.String(
        metadata={"description": "The user's first API token. Shown once; only its hash is kept."},
    )


class TokenSchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)


class TokenListSchema(ListEnvelopeSchema):
    items = ma.fields.List(ma.fields.Nested(TokenSchema))


class IssuedTokenSchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    token = ma.fields.String(
        attribute="plain",
        metadata={"description": "The API token. Shown once; only its hash is kept."},
    )


class RevokedTokensSchema(ma.Schema):
    revoked_token_ids = ma.fields.List(
        ma.fields.Integer(),
        metadata={"description": "The tokens this call revoked; empty if none was still valid."},
    )
