from flask import current_app, url_for
from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.schemas import PageQueryArgsSchema
from service.http.webhooks.schemas import (
    CreatedWebhookSchema,
    DeliveryPageSchema,
    DeliverySchema,
    WebhookCreateSchema,
    WebhookPageSchema,
    WebhookPatchSchema,
    WebhookSchema,
)
from service.usecases import webhooks

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Signed webhooks (admin): endpoints, their delivery log, redelivery and ping.",
)


def _policy():
    return webhooks.policy_of(current_app.config["SETTINGS"])


@blp.route("")
class Webhooks(MethodView):
    @blp.arguments(PageQueryArgsSchema, location="query")
    @blp.response(200, WebhookPageSchema)
    def get(self, args):
        """List webhook endpoints (admin)

        Each endpoint's URL, subscribed events, whether it is active and, when disabled,
        why. Secrets are never listed.
        """
        return webhooks.list_endpoints(db.session, current_user(), **args)

    @blp.doc(operationId="create_webhook")
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, CreatedWebhookSchema)
    def post(self, data):
        """Register a webhook endpoint (admin); the signing secret is shown once

        Only `https` URLs of public addresses, unless `WEBHOOK_ALLOW_PRIVATE=1`.
        Deliveries are signed with the secret (`Hiring-Signature`, see the README).
        """
        endpoint = webhooks.create_endpoint(db.session, current_user(), _policy(), **data)
        return endpoint, {"Location": url_for(".Webhook", webhook_id=endpoint.id)}


@blp.route("/<int:webhook_id>")
class Webhook(MethodView):
    @blp.response(200, WebhookSchema)
    def get(self, webhook_id):
        """Get one webhook endpoint (admin)

        Its URL, events, state and consecutive failures; not its secret.
        """
        return webhooks.get_endpoint(db.session, current_user(), webhook_id)

    @blp.arguments(WebhookPatchSchema)
    @blp.response(200, WebhookSchema)
    def patch(self, data, webhook_id):
        """Change a webhook endpoint (admin); `active: true` re-enables a disabled one

        Change its URL, events, description or secret (rotate it); audited without the secret.
        """
        return webhooks.update_endpoint(db.session, current_user(), _policy(), webhook_id, data)

    @blp.response(204)
    def delete(self, webhook_id):
        """Delete a webhook endpoint and its delivery log (admin)

        Nothing more is sent to it; audited.
        """
        webhooks.delete_endpoint(db.session, current_user(), webhook_id)


@blp.route("/<int:webhook_id>/ping")
class Ping(MethodView):
    @blp.doc(operationId="ping_webhook")
    @blp.response(202, DeliverySchema)
    def post(self, webhook_id):
        """Send a signed `webhook.ping` to the endpoint (admin)

        Through the same delivery path as every event; follow it in the delivery log.
        """
        return webhooks.ping(db.session, current_user(), _policy(), webhook_id)


@blp.route("/<int:webhook_id>/deliveries")
class Deliveries(MethodView):
    @blp.arguments(PageQueryArgsSchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, args, webhook_id):
        """The endpoint's delivery log (admin), oldest first

        Per delivery: status, attempts, the last response code, error and duration.
        """
        return webhooks.list_deliveries(db.session, current_user(), webhook_id, **args)


@blp.route("/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
class Redeliver(MethodView):
    @blp.doc(operationId="redeliver_webhook")
    @blp.response(202, DeliverySchema)
    def post(self, webhook_id, delivery_id):
        """Send a delivery again (admin), with the same delivery id

        Its attempts start again; receivers that already have it can drop it by its id.
        """
        return webhooks.redeliver(db.session, current_user(), _policy(), webhook_id, delivery_id)
