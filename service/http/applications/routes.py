from flask import request, url_for
from flask.views import MethodView

from service.extensions import db
from service.http.applications.schemas import (
    ApplicationCreateSchema,
    ApplicationDetailSchema,
    ApplicationPageSchema,
    ApplicationQueryArgsSchema,
    ApplicationSchema,
    MoveSchema,
    RejectSchema,
    StatusChangeSchema,
    TimelineSchema,
    application_page,
)
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.errors import InvalidHeaderError
from service.http.json_body import json_response
from service.usecases import applications, decisions

blp = Blueprint(
    "applications",
    __name__,
    url_prefix="/api/v1/applications",
    description="A candidate's application to a requisition, moving through its stages.",
)


def if_match_version(what: str = "an application version") -> int | None:
    """The version in an `If-Match` header ("3", W/"3" or 3), if one was sent."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    # ASCII only: `"١".isdigit()` is true and int() reads it as 1.
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        raise InvalidHeaderError("If-Match", f"'{raw}' is not {what}; send the ETag you received")
    return int(value)


def with_etag(application):
    return application, {"ETag": f'"{application.version}"'}


@blp.route("")
class Applications(MethodView):
    @blp.reads_only
    @blp.arguments(ApplicationQueryArgsSchema, location="query")
    @blp.response(200, ApplicationPageSchema)
    def get(self, args):
        """List applications you may see, filtered, a page at a time

        Filtered by the query; ordered by id; `next_cursor` continues the list.
        """
        page = applications.list_applications(db.session, current_user(), **args)
        # Its only floats are the days in stage, rounded to two places.
        return json_response(application_page(page), small_floats=False)

    @blp.versioned()
    @blp.returns_location("get_application", "application_id")
    @blp.arguments(ApplicationCreateSchema)
    @blp.response(201, ApplicationSchema)
    def post(self, data):
        """Apply a candidate to an open requisition; starts in the first stage

        A candidate applies at most once to a requisition (409 naming the existing application); the requisition must be open (422).
        """
        application = applications.create_application(db.session, current_user(), **data)
        application, headers = with_etag(application)
        headers["Location"] = url_for(".Application", application_id=application.id)
        return application, headers


@blp.route("/<int:application_id>")
class Application(MethodView):
    @blp.reads_only
    @blp.versioned()
    @blp.response(200, ApplicationDetailSchema)
    def get(self, application_id):
        """One application: time in stage, current decision, latest packet; ETag: its version

        The ETag is the application's version: send it as `If-Match` on a move or status change.
        """
        application = applications.read_application(db.session, current_user(), application_id)
        outcome = decisions.application_outcome(
            db.session,
            current_user(),
            application_id,
            ids=(application.row.decision_id, application.row.packet_id),
        )
        return (application, outcome), {"ETag": f'"{application.row.version}"'}


@blp.route("/<int:application_id>/moves")
class Moves(MethodView):
    @blp.doc(operationId="move_application")
    @blp.versioned(if_match=(409,))
    @blp.links_to("get_application", application_id="$request.path.application_id")
    @blp.links_to("get_application_timeline", application_id="$request.path.application_id")
    @blp.arguments(MoveSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, move, application_id):
        """Move to another stage; 409 if `from_stage` or If-Match is stale, 422 if not allowed

        `from_stage` must be the current stage and `If-Match` (when sent) the current version, else 409 with `current_stage` and `current_version`; a stage the template does not allow from here is a 422 listing `allowed_stages`.
        """
        application = applications.move_application(
            db.session, current_user(), application_id, if_match=if_match_version(), **move
        )
        return with_etag(application)


@blp.route("/<int:application_id>/reject")
class Reject(MethodView):
    @blp.doc(operationId="reject_application")
    @blp.versioned(if_match=(409,))
    @blp.links_to("get_application", application_id="$request.path.application_id")
    @blp.arguments(RejectSchema)
    @blp.response(200, ApplicationSchema)
    def post(self, data, application_id):
        """Reject an active application with a reason code and a note

        A stale `If-Match` is a 409 with `current_version`; an application that is not active is a 422.
        """
        application = applications.change_status(
            db.session,
            current_user(),
            application_id,
            "reject",
            rejection_reason=data["reason_code"],
            reason=data["note"],
            if_match=if_match_version(),
        )
        return with_etag(application)


def _status_view(action: str, summary: str) -> type[MethodView]:
    class StatusChange(MethodView):
        @blp.doc(operationId=f"{action}_application")
        @blp.versioned(if_match=(409,))
        @blp.links_to("get_application", application_id="$request.path.application_id")
        @blp.arguments(StatusChangeSchema)
        @blp.response(200, ApplicationSchema)
        def post(self, data, application_id):
            application = applications.change_status(
                db.session,
                current_user(),
                application_id,
                action,
                reason=data["reason"],
                if_match=if_match_version(),
            )
            return with_etag(application)

    StatusChange.post.__doc__ = (
        f"{summary}\n\nA stale `If-Match` is a 409 with `current_version`; a status "
        "the application cannot leave for this one is a 422."
    )
    StatusChange.__name__ = action.capitalize()
    return StatusChange


blp.route("/<int:application_id>/withdraw")(
    _status_view("withdraw", "Record that the candidate withdrew")
)
blp.route("/<int:application_id>/hire")(
    _status_view("hire", "Mark hired (from the template's final stage)")
)
blp.route("/<int:application_id>/reopen")(_status_view("reopen", "Reopen a rejected application"))


@blp.route("/<int:application_id>/timeline")
class Timeline(MethodView):
    @blp.doc(operationId="get_application_timeline")
    @blp.response(200, TimelineSchema)
    def get(self, application_id):
        """Every stage and status change with actor, reason and time

        Oldest first; each entry names its actor and reason.
        """
        changes = applications.application_timeline(db.session, current_user(), application_id)
        return {"items": changes}
