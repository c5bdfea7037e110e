import marshmallow as ma
from flask import current_app

from service.domain.access import ROLES
from service.domain.events import EVENT_TYPES
from service.http.schemas import (
    Id,
    ListEnvelopeSchema,
    PageQueryArgsSchema,
    StrictSchema,
    one_of,
    page_of,
)
from service.persistence.notifications import EMAIL_PREFERENCES, Notification
from service.usecases.tasks import TASK_KINDS


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = one_of(ROLES)
    active = ma.fields.Boolean()


class TaskQueryArgsSchema(StrictSchema):
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=200),
        metadata={"description": "At most this many tasks of each kind (at most 200)."},
    )


class TaskSchema(ma.Schema):
    kind = one_of(TASK_KINDS)
    summary = ma.fields.String()
    application_id = ma.fields.Integer()
    interview_id = ma.fields.Integer(allow_none=True)
    requisition_id = ma.fields.Integer()
    requisition_title = ma.fields.String()
    candidate_id = ma.fields.Integer()
    candidate_name = ma.fields.String()
    stage = ma.fields.String(allow_none=True)
    scorecard_state = one_of(
        ("missing", "draft"),
        allow_none=True,
        metadata={"description": "missing or draft (scorecard tasks)"},
    )
    due_at = ma.fields.DateTime(
        allow_none=True,
        metadata={
            "description": "Scorecard: the interview's end plus the template's "
            "late_feedback_hours; otherwise when the stage's target days run out."
        },
    )
    overdue = ma.fields.Boolean()
    link = ma.fields.String(metadata={"description": "The API path of what to act on."})


class TaskTotalsSchema(ma.Schema):
    scorecard = ma.fields.Integer()
    decision = ma.fields.Integer()
    overdue_application = ma.fields.Integer()


class TaskListSchema(ListEnvelopeSchema):
    items = ma.fields.List(ma.fields.Nested(TaskSchema))
    totals = ma.fields.Nested(
        TaskTotalsSchema, metadata={"description": "How many of each kind, beyond `limit` too."}
    )


class NotificationQueryArgsSchema(PageQueryArgsSchema):
    unread = ma.fields.Boolean(
        metadata={"description": "true: only those not marked read; false: only read ones."}
    )


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    type = one_of(EVENT_TYPES)
    title = ma.fields.String()
    body = ma.fields.String()
    link = ma.fields.Method(
        "absolute_link", metadata={"description": "The page it is about (PUBLIC_BASE_URL)."}
    )
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)

    def absolute_link(self, notification: Notification) -> str:
        base: str = current_app.config["SETTINGS"].public_base_url
        return base + notification.path


NotificationPageSchema = page_of(NotificationSchema)


class MarkReadSchema(StrictSchema):
    notification_ids = ma.fields.List(
        Id(),
        required=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "Which of your notifications to mark read."},
    )


class MarkedReadSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "How many changed from unread to read."})


class PreferencesSchema(StrictSchema):
    email = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(EMAIL_PREFERENCES),
        metadata={
            "description": "immediately, daily_digest or off. Reminders of owed scorecards "
            "cannot be turned off: with `off` they come in the daily digest."
        },
    )
