import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import marshmallow as ma

from service.domain.access import ROLES
from service.domain.packet import DECISION_OUTCOMES, PACKET_STATUSES
from service.domain.pipeline import (
    APPLICATION_STATUSES,
    REJECTION_REASONS,
    TIMELINE_KINDS,
    time_in_stage,
    time_in_stage_fields,
)
from service.domain.templates import InterviewTemplate
from service.http.schemas import (
    Id,
    ListEnvelopeSchema,
    NonBlankString,
    PageQueryArgsSchema,
    StrictSchema,
    UserRefSchema,
    UtcDateTime,
    one_of,
    page_of,
)
from service.persistence.base import utcnow
from service.usecases.applications import APPLICATION_SORTS, ListedApplication, ListedPage


class ApplicationCreateSchema(StrictSchema):
    candidate_id = Id(required=True)
    requisition_id = Id(required=True)


class ApplicationQueryArgsSchema(PageQueryArgsSchema):
    requisition_id = Id(strict=False)
    candidate_id = Id(strict=False)
    recruiter_id = Id(
        strict=False, metadata={"description": "Applications to requisitions this recruiter runs."}
    )
    stage = NonBlankString(
        validate=ma.validate.Length(max=100),
        metadata={"description": "A stage key; an unknown one is a 422 listing the stages."},
    )
    status = ma.fields.String(validate=ma.validate.OneOf(APPLICATION_STATUSES))
    updated_after = UtcDateTime()
    sort = ma.fields.String(
        load_default="id",
        validate=ma.validate.OneOf(tuple(APPLICATION_SORTS)),
        metadata={"description": "Order of the list; `-` for newest first. Default: id."},
    )


class MoveSchema(StrictSchema):
    from_stage = NonBlankString(required=True, validate=ma.validate.Length(max=100))
    to_stage = NonBlankString(required=True, validate=ma.validate.Length(max=100))
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class RejectSchema(StrictSchema):
    reason_code = ma.fields.String(required=True, validate=ma.validate.OneOf(REJECTION_REASONS))
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class StatusChangeSchema(StrictSchema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class CandidateRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String()


class ActorSchema(UserRefSchema):
    role = one_of(ROLES)


class RequisitionRefSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()


class TimeInStageSchema(ma.Schema):
    days = ma.fields.Float()
    target_days = ma.fields.Integer()
    over_target = ma.fields.Boolean()


# Documented inline: the schema is only dumped by hand, so it is not a component.
_TIME_IN_STAGE_DOC = {
    "type": "object",
    "properties": {
        "days": {"type": "number"},
        "target_days": {"type": "integer"},
        "over_target": {"type": "boolean"},
    },
    "required": ["days", "over_target", "target_days"],
    "additionalProperties": False,
}

# One instance: building a schema per row was a fifth of a list request (BENCHMARKS.md).
_TIME_IN_STAGE = TimeInStageSchema()


class ApplicationSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    candidate = ma.fields.Nested(CandidateRefSchema)
    requisition = ma.fields.Nested(RequisitionRefSchema)
    stage = ma.fields.String()
    stage_name = ma.fields.Method("_stage_name", metadata={"type": "string"})
    status = one_of(APPLICATION_STATUSES)
    stage_entered_at = ma.fields.DateTime()
    time_in_stage = ma.fields.Method("_time_in_stage", metadata=_TIME_IN_STAGE_DOC)
    allowed_moves = ma.fields.Method(
        "_allowed_moves",
        metadata={"type": "array", "items": {"type": "string"}, "description": "Stage keys."},
    )
    rejection_reason = ma.fields.String(allow_none=True)
    rejection_note = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()

    @staticmethod
    def _template(application):
        return application.requisition.template_version.template()

    def _stage_name(self, application):
        stage = self._template(application).stage(application.stage)
        return stage.name if stage else application.stage

    def _time_in_stage(self, application):
        stage = self._template(application).stage(application.stage)
        spent = time_in_stage(
            application.stage_entered_at, utcnow(), stage.sla_days if stage else 0
        )
        return _TIME_IN_STAGE.dump(spent)

    def _allowed_moves(self, application):
        if application.status != "active":
            return []
        return list(self._template(application).allowed_moves(application.stage))


def listed_application(item: ListedApplication, now: datetime) -> dict[str, Any]:
    """`ApplicationSchema`'s JSON of a listed row, built directly: marshmallow's per-field
    work on 50 nested rows was a third of a list request (BENCHMARKS.md). The OpenAPI
    examples test holds the two to the same output."""
    row = item.row
    values = _row_fields(row._fields)(row)
    data = _application_json(values, _stage_facts(item.template, row.stage), now)
    for name in _DATETIMES:
        data[name] = data[name].isoformat()
    return data


_DATETIMES = ("stage_entered_at", "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class _StageFacts:
    """What a listing shows of an application's stage, by its template: the same for
    every application in that stage, so a page finds them once per stage."""

    name: str
    target_days: int
    moves: list[str]  # from the stage, while the application is active


def _stage_facts(template: InterviewTemplate, key: str) -> _StageFacts:
    stage = template.stage(key)
    if stage is None:  # a stage the template no longer has
        return _StageFacts(key, 0, [])
    # `template.allowed_moves(key)`, without finding the stage a second time.
    return _StageFacts(stage.name, stage.sla_days, list(stage.next))


# The columns of an `application_rows` row that `_application_json` reads, in its order.
_ROW_FIELDS = (
    "id",
    "version",
    "candidate_id",
    "candidate_name",
    "candidate_email",
    "requisition_id",
    "requisition_title",
    "stage",
    "status",
    "stage_entered_at",
    "rejection_reason",
    "rejection_note",
    "created_at",
    "updated_at",
)


@functools.cache
def _row_fields(columns: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """`_ROW_FIELDS` of a row with these columns, as a plain tuple: one call per row,
    where reading 14 attributes of a SQLAlchemy row was half of a page's dicts."""
    return operator.itemgetter(*(columns.index(name) for name in _ROW_FIELDS))


@functools.cache
def _stage_key(columns: tuple[str, ...]) -> Callable[[Any], tuple[int, str]]:
    """A row's (template version id, stage), in one call: the key of its stage's facts."""
    return operator.itemgetter(columns.index("template_version_id"), columns.index("stage"))


def _application_json(values: tuple[Any, ...], stage: _StageFacts, now: datetime) -> dict[str, Any]:
    """`listed_application`'s content from a row's `_ROW_FIELDS`, its datetimes
    (`_DATETIMES`) left as they are."""
    (
        application_id,
        version,
        candidate_id,
        candidate_name,
        candidate_email,
        requisition_id,
        requisition_title,
        stage_key,
        status,
        stage_entered_at,
        rejection_reason,
        rejection_note,
        created_at,
        updated_at,
    ) = values
    return {
        "id": application_id,
        "version": version,
        "candidate": {"id": candidate_id, "name": candidate_name, "email": candidate_email},
        "requisition": {"id": requisition_id, "title": requisition_title},
        "stage": stage_key,
        "stage_name": stage.name,
        "status": status,
        "stage_entered_at": stage_entered_at,
        "time_in_stage": time_in_stage_fields(stage_entered_at, now, stage.target_days),
        "allowed_moves": list(stage.moves) if status == "active" else [],
        "rejection_reason": rejection_reason,
        "rejection_note": rejection_note,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def application_page(page: ListedPage) -> dict[str, Any]:
    """The list's page as `ApplicationPageSchema` documents it, for `json_body.json_response`
    (which writes its datetimes): `listed_application` of every row, each stage's facts
    found once. The view sends it itself: Flask's encoder and the datetimes' isoformat() of 50
    rows were a tenth of a list request (BENCHMARKS.md, "Issue 18: the list")."""
    if not page.rows:
        return {"items": [], "next_cursor": page.next_cursor}
    now = utcnow()
    facts: dict[tuple[int, str], _StageFacts] = {}
    items = []
    columns = page.rows[0]._fields
    fields, stage_key = _row_fields(columns), _stage_key(columns)
    for row in page.rows:
        key = stage_key(row)
        found = facts.get(key)
        if found is None:
            found = facts[key] = _stage_facts(page.templates[key[0]], key[1])
        items.append(_application_json(fields(row), found, now))
    return {"items": items, "next_cursor": page.next_cursor}


class ApplicationPageSchema(page_of(ApplicationSchema)):  # type: ignore[misc]
    """The list's page, documented; `application_page` makes its content."""


class StageChangeSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = one_of(TIMELINE_KINDS)
    from_stage = ma.fields.String(allow_none=True)
    to_stage = ma.fields.String()
    from_status = one_of(APPLICATION_STATUSES, allow_none=True)
    to_status = one_of(APPLICATION_STATUSES)
    actor = ma.fields.Nested(ActorSchema, allow_none=True)
    reason = ma.fields.String()
    at = ma.fields.DateTime()


class TimelineSchema(ListEnvelopeSchema):
    items = ma.fields.List(ma.fields.Nested(StageChangeSchema))


class CurrentDecisionSchema(ma.Schema):
    id = ma.fields.Integer(attribute="decision.id")
    version = ma.fields.Integer(attribute="decision.version")
    outcome = one_of(DECISION_OUTCOMES, attribute="decision.outcome")
    decided_at = ma.fields.DateTime(attribute="decision.created_at")
    decided_by = ma.fields.Nested(UserRefSchema, attribute="decision.decided_by")
    packet_id = ma.fields.Integer(attribute="decision.packet_id")
    changed_after_decision = ma.fields.Function(
        lambda r: bool(r.changed_after_decision),
        metadata={
            "type": "boolean",
            "description": "A scorecard was submitted or amended after the decision was made.",
        },
    )


class LatestPacketSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    status = one_of(PACKET_STATUSES)
    anonymized = ma.fields.Boolean()


class ApplicationDetailSchema(ApplicationSchema):
    """One application with how it ended so far; dumps a `(ListedApplication, outcome)` pair."""

    decision = ma.fields.Nested(
        CurrentDecisionSchema,
        allow_none=True,
        metadata={
            "description": "The current decision; null when there is none, or while you owe "
            "a scorecard on this application (the blind rule)."
        },
    )
    latest_packet = ma.fields.Nested(
        LatestPacketSchema,
        allow_none=True,
        metadata={
            "description": "The newest packet version; null when there is none or you may "
            "not read packets (interviewers; a panelist who owes a scorecard)."
        },
    )

    def dump(self, obj, *, many=None):
        application, outcome = obj
        data = listed_application(application, utcnow())
        data["decision"] = _CURRENT_DECISION.dump(outcome.decision) if outcome.decision else None
        data["latest_packet"] = (
            _LATEST_PACKET.dump(outcome.latest_packet) if outcome.latest_packet else None
        )
        return data


_CURRENT_DECISION = CurrentDecisionSchema()
_LATEST_PACKET = LatestPacketSchema()
