"""Shared schema pieces: a strict base schema, pagination and problem documents."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from service.persistence.base import MAX_ID

# For every id a client sends: an out-of-range id is a 422, not a database error.
ID_RANGE = ma.validate.Range(min=1, max=MAX_ID)


class StrictSchema(ma.Schema):
    """Rejects unknown fields and says which fields are allowed."""

    class Meta:
        unknown = ma.RAISE

    def handle_error(self, error: ma.ValidationError, data: Any, **kwargs: Any) -> None:
        if isinstance(error.messages, dict):
            allowed = ", ".join(sorted(f.data_key or n for n, f in self.load_fields.items()))
            messages = {
                key: (
                    [f"Unknown field. Allowed fields: {allowed}."]
                    if value == ["Unknown field."]
                    else value
                )
                for key, value in error.messages.items()
            }
            raise ma.ValidationError(messages) from error
        raise error


class PageQueryArgsSchema(StrictSchema):
    cursor = ma.fields.String(metadata={"description": "Opaque cursor from `next_cursor`."})
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=200),
        metadata={"description": "Page size (at most 200)."},
    )


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The schema of one page of a list: its items and the cursor to the next page."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "next_cursor": ma.fields.String(
                allow_none=True, metadata={"description": "Pass as `cursor` for the next page."}
            ),
        },
    )


class ProblemFieldSchema(ma.Schema):
    field = ma.fields.String()
    message = ma.fields.String()


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with field-level `errors` for validation."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(ProblemFieldSchema))
