import marshmallow as ma

from service.domain.webhooks import SUBSCRIBABLE
from service.http.schemas import NonBlankString, StrictSchema, one_of, page_of
from service.persistence.webhooks import DELIVERY_STATUSES

EVENT_CHOICES = ("*", *SUBSCRIBABLE)


def _events(**kwargs):
    return ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(EVENT_CHOICES)),
        validate=ma.validate.Length(min=1, max=len(EVENT_CHOICES)),
        metadata={"description": 'Event types to receive; `"*"` for every one.'},
        **kwargs,
    )


def _secret(**kwargs):
    return NonBlankString(
        validate=ma.validate.Length(min=16, max=200),
        metadata={
            "description": "The signing secret; generated (`whsec_…`) when absent. Shown once."
        },
        **kwargs,
    )


class WebhookCreateSchema(StrictSchema):
    url = NonBlankString(required=True, validate=ma.validate.Length(max=2000))
    events = _events(required=True)
    secret = _secret()
    description = ma.fields.String(validate=ma.validate.Length(max=500))


class WebhookPatchSchema(StrictSchema):
    url = NonBlankString(validate=ma.validate.Length(max=2000))
    events = _events()
    secret = _secret()
    description = ma.fields.String(validate=ma.validate.Length(max=500))
    active = ma.fields.Boolean(
        metadata={"description": "true re-enables a disabled endpoint (its failures reset)."}
    )


class WebhookSchema(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.String()
    events = ma.fields.List(one_of(EVENT_CHOICES))
    description = ma.fields.String()
    active = ma.fields.Boolean()
    disabled_reason = ma.fields.String()
    consecutive_failures = ma.fields.Integer()
    created_at = ma.fields.DateTime()


WebhookPageSchema = page_of(WebhookSchema)


class CreatedWebhookSchema(WebhookSchema):
    secret = ma.fields.String(metadata={"description": "The signing secret. Shown once, when set."})


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    delivery_id = ma.fields.String(
        attribute="public_id", metadata={"description": "The `Hiring-Delivery` header."}
    )
    event_id = ma.fields.Function(lambda d: d.event.public_id)
    event_type = ma.fields.Function(lambda d: d.event.type)
    status = one_of(DELIVERY_STATUSES)
    attempts = ma.fields.Integer()
    response_code = ma.fields.Integer(allow_none=True)
    error = ma.fields.String()
    duration_ms = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)


DeliveryPageSchema = page_of(DeliverySchema)
