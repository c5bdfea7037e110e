"""Shared schema pieces: a strict base schema, the field types every request uses,
pagination and problem documents."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from service.persistence.base import MAX_ID

# For every id a client sends: an out-of-range id is a 422, not a database error.
ID_RANGE = ma.validate.Range(min=1, max=MAX_ID)

# PostgreSQL refuses NUL in text, and a lone surrogate cannot be encoded as UTF-8:
# either would be a 500 when the row is written or the query is sent.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# A year of headroom on each side, so `starts_at + duration` and similar
# arithmetic can never overflow Python's datetime range (years 1 to 9999).
EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)


def unstorable_character(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL or a lone surrogate, and where), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    what = "a NUL character (U+0000)" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X})"
    return f"Contains {what} at position {found.start()}; send valid Unicode text without it."


def unstorable_text_errors(data: Any) -> dict[Any, Any]:
    """Messages for every string in `data`, keys included, at any depth, that cannot be stored.

    Iterative, so deeply nested input cannot exhaust the stack; list positions
    are int keys, which `flatten_messages` writes as `[i]`.
    """
    errors: dict[Any, Any] = {}
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            message = unstorable_character(value)
            if message and path:
                _put(errors, path, message)
        elif isinstance(value, Mapping):
            for key in value:  # a webargs MultiDictProxy yields the values the schema reads
                if isinstance(key, str) and (message := unstorable_character(key)):
                    _put(errors, (*path, key), f"Field name: {message}")
                else:
                    stack.append((value[key], (*path, key)))
        elif isinstance(value, list | tuple):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return errors


def _put(errors: dict[Any, Any], path: tuple[Any, ...], message: str) -> None:
    for key in path[:-1]:
        errors = errors.setdefault(key, {})
    errors[path[-1]] = [message]


class JsonBoolean(ma.fields.Boolean):
    """A JSON `true` or `false` in a body: not "yes", 1 or "false", which marshmallow's
    Boolean would read as a choice the client may not have meant."""

    default_error_messages: ma.types.ErrorMessages = {  # noqa: RUF012
        "invalid": "Not a boolean; send true or false (JSON, without quotes).",
        "null": "Must not be null; send true or false.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class NonBlankString(ma.fields.String):
    """Text that must say something: empty or whitespace-only values are refused."""

    # marshmallow declares this an instance attribute (so no ClassVar); it reads it per class.
    default_error_messages: ma.types.ErrorMessages = {  # noqa: RUF012
        "blank": "Must not be blank (empty or only whitespace)."
    }

    def __init__(self, **kwargs: Any) -> None:
        # Documented in the OpenAPI schema too: at least one non-whitespace character.
        kwargs["metadata"] = {"minLength": 1, "pattern": r"\S", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise self.make_error("blank")
        return text


class Id(ma.fields.Integer):
    """A row id within the database's integer range.

    In a JSON body it must be a JSON integer; in a query string (`strict=False`)
    only ASCII decimal digits without a sign or leading zeros, so `?x=٧`,
    `?x=007` or `?x=1_0` do not silently name another row.
    """

    # marshmallow declares this an instance attribute (so no ClassVar); it reads it per class.
    default_error_messages: ma.types.ErrorMessages = {  # noqa: RUF012
        "invalid": "Not a valid id; send a positive integer written in ASCII digits "
        "without leading zeros."
    }
    _DIGITS = re.compile("[1-9][0-9]*")

    def __init__(self, *, strict: bool = True, validate: Any = None, **kwargs: Any) -> None:
        validators = [ID_RANGE, *([] if validate is None else [validate])]
        super().__init__(strict=strict, validate=validators, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, str) and not self._DIGITS.fullmatch(value):
            raise self.make_error("invalid")
        return super()._validated(value)


class UtcDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 date-time, read as UTC without an offset, returned in UTC.

    Refuses values near the ends of the calendar, whose conversion to UTC or
    later arithmetic would overflow (`9999-12-31T23:59:59-05:00`).
    """

    # marshmallow declares this an instance attribute (so no ClassVar); it reads it per class.
    default_error_messages: ma.types.ErrorMessages = {  # noqa: RUF012
        "range": f"Must be between {EARLIEST.isoformat()} and {LATEST.isoformat()} (in UTC)."
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata", {"description": "ISO 8601; without an offset it is read as UTC."}
        )
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise self.make_error("range") from None
        if not EARLIEST <= moment <= LATEST:
            raise self.make_error("range")
        return moment


class StrictSchema(ma.Schema):
    """Rejects unknown fields and says which fields are allowed, and refuses text that
    cannot be stored in any field, query parameter or nested list or object."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        errors = unstorable_text_errors(data)
        if errors:
            raise ma.ValidationError(errors)
        return data

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
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Opaque cursor from `next_cursor`."},
    )
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=200),
        metadata={"description": "Page size (at most 200)."},
    )


class ListEnvelopeSchema(ma.Schema):
    """Every list answers `{"items": [...], "next_cursor": ...}`; a whole (unpaginated) list
    has no next page, so its `next_cursor` is always null. Subclasses declare `items`."""

    next_cursor = ma.fields.String(
        allow_none=True,
        dump_default=None,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
    )


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The schema of one page of a list: its items and the cursor to the next page."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name, (ListEnvelopeSchema,), {"items": ma.fields.List(ma.fields.Nested(item_schema))}
    )


def list_of(item_schema: type[ma.Schema], name: str | None = None) -> type[ma.Schema]:
    """The schema of a whole (unpaginated) list: `{"items": [...], "next_cursor": null}`."""
    name = name or item_schema.__name__.removesuffix("Schema") + "ListSchema"
    return type(
        name, (ListEnvelopeSchema,), {"items": ma.fields.List(ma.fields.Nested(item_schema))}
    )


# Every field of a response schema is documented as required (service.http.openapi);
# one a response may leave out says `metadata=OPTIONAL`.
OPTIONAL_MARK = "x-optional"
OPTIONAL: dict[str, Any] = {OPTIONAL_MARK: True}


def one_of(values: Sequence[str], **kwargs: Any) -> ma.fields.String:
    """A string that is one of `values`: checked on input, an `enum` in the document."""
    return ma.fields.String(validate=ma.validate.OneOf(values), **kwargs)


class UserRefSchema(ma.Schema):
    """A user named in another resource (an author, an owner): id and name only."""

    id = ma.fields.Integer()
    name = ma.fields.String()


class ProblemFieldSchema(ma.Schema):
    field = ma.fields.String()
    message = ma.fields.String()


def _fact(field: ma.fields.Field[Any], description: str) -> ma.fields.Field[Any]:
    field.metadata = {**field.metadata, "description": description}
    return field


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with field-level `errors` for validation, and the
    extension members a use case adds (`DomainError(..., **extra)`) when they apply."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: a member may be added

    type = ma.fields.String(
        required=True, metadata={"example": "urn:hiring-pipeline:problem:conflict"}
    )
    title = ma.fields.String(required=True, metadata={"example": "Conflict"})
    status = ma.fields.Integer(required=True, metadata={"example": 409})
    detail = ma.fields.String(required=True)
    instance = ma.fields.String(required=True, metadata={"example": "/api/v1/applications/7/moves"})
    errors = ma.fields.List(ma.fields.Nested(ProblemFieldSchema))
    # Extension members, each sent only with the problems that name it.
    request_id = _fact(ma.fields.String(), "500: the request id to quote when reporting it.")
    current_stage = _fact(ma.fields.String(), "409 on an application: the stage it is in now.")
    current_version = _fact(
        ma.fields.Integer(), "409/412/428: the record's current version (its ETag)."
    )
    allowed_stages = _fact(
        ma.fields.List(ma.fields.String()), "422 on a move: the stages it may move to."
    )
    application_status = _fact(ma.fields.String(), "The application's status that refused it.")
    requisition_status = _fact(ma.fields.String(), "The requisition's status that refused it.")
    interview_status = _fact(ma.fields.String(), "The interview's status that refused it.")
    existing_candidate_id = _fact(ma.fields.Integer(), "409: the candidate with that email.")
    existing_application_id = _fact(
        ma.fields.Integer(), "409: the candidate's application to that requisition."
    )
    existing_interview_id = _fact(ma.fields.Integer(), "409: the interview already scheduled.")
    conflicting_interview_id = _fact(
        ma.fields.Integer(), "409: the interviewer's overlapping interview."
    )
    pending_interview_ids = _fact(
        ma.fields.List(ma.fields.Integer()), "403: the interviews whose scorecards are owed first."
    )
    packet_id = _fact(ma.fields.Integer(), "The packet the request named.")
    packet_status = _fact(
        ma.fields.String(), "409: the packet's status (or missing/corrupt file, or erased)."
    )
    erased_at = _fact(ma.fields.String(), "409: when the candidate's data was erased.")
    active_application_ids = _fact(
        ma.fields.List(ma.fields.Integer()), "409 on an erasure: applications to close first."
    )
    newest_packet_id = _fact(
        ma.fields.Integer(allow_none=True), "409 on a decision: the application's newest packet."
    )
    newest_packet_status = _fact(
        ma.fields.String(allow_none=True), "409 on a decision: that packet's status."
    )


# --- plain dumps of large reports -------------------------------------------------------

_Convert = Callable[[Any], Any]


class PlainDumpSchema(ma.Schema):
    """A schema whose `dump` of one mapping runs `plain_dumper`'s conversion, built once
    per class: marshmallow's per-field work on the thousands of nested dicts of a whole
    organisation's report was 14-22 ms of CPU per request at 100k applications on
    PostgreSQL (adverse impact, interviewers; measured in-process). The schema stays
    the contract (the document, the field types); tests hold the two dumps to the
    same output."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        if many or self.many or self.only or self.exclude:
            return super().dump(obj, many=many)
        return _plain_dumper_of(type(self))(obj)


@functools.cache
def _plain_dumper_of(schema_class: type[ma.Schema]) -> Callable[[Mapping[str, Any]], Any]:
    return plain_dumper(schema_class())


def plain_dumper(schema: ma.Schema) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function that dumps a mapping exactly as `schema.dump` does, for the field kinds
    a report uses (integers, floats, strings, booleans, ISO date-times, lists, dicts and
    nested schemas of those): a key missing from the mapping is left out, None stays
    None. Raises TypeError, when built, for anything else (another field kind, hooks,
    dotted attributes, defaults)."""
    if schema._hooks and any(schema._hooks.values()):
        raise TypeError(f"{type(schema).__name__} has hooks")
    fields = []
    for name, field in schema.dump_fields.items():
        attribute = field.attribute or name
        if "." in attribute or field.dump_default is not ma.missing:
            raise TypeError(f"{type(schema).__name__}.{name}: attribute or default")
        fields.append((attribute, field.data_key or name, _converter(field)))

    def dump(obj: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for attribute, key, convert in fields:
            value = obj.get(attribute, ma.missing)
            if value is not ma.missing:
                out[key] = convert(value)
        return out

    return dump


# Exactly these kinds (not their subclasses, which may serialize otherwise).
_PLAIN_KINDS = (
    ma.fields.Nested,
    ma.fields.List,
    ma.fields.Dict,
    ma.fields.Integer,
    ma.fields.Float,
    ma.fields.String,
    ma.fields.Boolean,
    ma.fields.DateTime,
)


def _converter(field: ma.fields.Field[Any]) -> _Convert:
    """What `field._serialize` does to a value, for the plain field kinds."""
    if type(field) not in _PLAIN_KINDS:
        raise TypeError(f"no plain dump for {type(field).__name__}")
    if isinstance(field, ma.fields.Nested):
        nested = plain_dumper(field.schema)
        if field.many or field.schema.many:
            return _none_or(lambda value: [nested(item) for item in value])
        return _none_or(nested)
    if isinstance(field, ma.fields.List):
        inner = _converter(field.inner)
        return _none_or(lambda value: [inner(item) for item in value])
    if isinstance(field, ma.fields.Dict):
        keys = _converter(field.key_field) if field.key_field else _same
        values = _converter(field.value_field) if field.value_field else _same
        return _none_or(lambda value: {keys(k): values(v) for k, v in value.items()})
    if isinstance(field, ma.fields.Integer | ma.fields.Float) and not field.as_string:
        return _none_or(int if isinstance(field, ma.fields.Integer) else float)
    if isinstance(field, ma.fields.String):
        return _none_or(ma.utils.ensure_text_type)
    if isinstance(field, ma.fields.Boolean):
        return _same
    if isinstance(field, ma.fields.DateTime) and field.format in (None, "iso"):
        return _none_or(datetime.isoformat)
    raise TypeError(f"no plain dump for {type(field).__name__} as configured")


def _none_or(convert: _Convert) -> _Convert:
    return lambda value: None if value is None else convert(value)


def _same(value: Any) -> Any:
    return value
