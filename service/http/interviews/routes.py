from flask import Response, current_app, url_for
from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.interviews.schemas import (
    CompleteSchema,
    InterviewCreateSchema,
    InterviewPageSchema,
    InterviewPatchSchema,
    InterviewQueryArgsSchema,
    InterviewSchema,
    KitSchema,
    LoopSchema,
    OptionalReasonSchema,
    ReasonSchema,
)
from service.usecases import access, interviews, notifications

blp = Blueprint(
    "interviews",
    __name__,
    url_prefix="/api/v1",
    description="The interview loop: scheduling, kits and the template's plan.",
)


@blp.route("/applications/<int:application_id>/interviews")
class ApplicationInterviews(MethodView):
    @blp.doc(operationId="schedule_interview")
    @blp.returns_location("get_interview", "interview_id")
    @blp.arguments(InterviewCreateSchema)
    @blp.response(201, InterviewSchema)
    def post(self, data, application_id):
        """Schedule one of the template's interviews (recruiter); 409 if the interviewer is booked

        The interview must be one the template plans and not yet scheduled (409 with `existing_interview_id`); the interviewer must be free (409 with `conflicting_interview_id`).
        """
        interview = interviews.schedule_interview(
            db.session, current_user(), application_id, **data
        )
        return interview, {"Location": url_for(".Interview", interview_id=interview.id)}


@blp.route("/applications/<int:application_id>/loop")
class Loop(MethodView):
    @blp.doc(operationId="get_interview_loop")
    @blp.response(200, LoopSchema)
    def get(self, application_id):
        """Every planned interview, what happened to it, and recorded deviations

        One row per planned interview of the template, scheduled or not.
        """
        return interviews.get_loop(db.session, current_user(), application_id)


@blp.route("/interviews")
class Interviews(MethodView):
    @blp.arguments(InterviewQueryArgsSchema, location="query")
    @blp.response(200, InterviewPageSchema)
    def get(self, args):
        """List interviews; an interviewer gets their own slots

        Filtered by the query; `next_cursor` continues the list.
        """
        return interviews.list_interviews(db.session, current_user(), **args)


@blp.route("/interviews/<int:interview_id>")
class Interview(MethodView):
    @blp.response(200, InterviewSchema)
    def get(self, interview_id):
        """Get one interview

        An interview you may not see is a 404.
        """
        return access.get_interview(db.session, current_user(), interview_id)

    @blp.arguments(InterviewPatchSchema)
    @blp.response(200, InterviewSchema)
    def patch(self, changes, interview_id):
        """Reschedule or reassign a scheduled interview

        Only a scheduled interview (409 with `interview_status`); the interviewer must be free.
        """
        return interviews.update_interview(db.session, current_user(), interview_id, changes)


@blp.route("/interviews/<int:interview_id>/cancel")
class Cancel(MethodView):
    @blp.doc(operationId="cancel_interview")
    @blp.arguments(ReasonSchema)
    @blp.response(200, InterviewSchema)
    def post(self, data, interview_id):
        """Cancel a scheduled interview, with a reason

        Only a scheduled interview (409 with `interview_status`).
        """
        return interviews.cancel_interview(db.session, current_user(), interview_id, data["reason"])


@blp.route("/interviews/<int:interview_id>/complete")
class Complete(MethodView):
    @blp.doc(operationId="complete_interview")
    @blp.arguments(CompleteSchema)
    @blp.response(200, InterviewSchema)
    def post(self, data, interview_id):
        """Mark held; running past the time-box is recorded as a deviation

        Only a scheduled interview; `actual_minutes` over the time-box needs a reason.
        """
        return interviews.complete_interview(
            db.session, current_user(), interview_id, data.get("actual_minutes"), data["reason"]
        )


@blp.route("/interviews/<int:interview_id>/no-show")
class NoShow(MethodView):
    @blp.doc(operationId="mark_no_show")
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, InterviewSchema)
    def post(self, data, interview_id):
        """Record that the candidate did not attend

        Only a scheduled interview (409 with `interview_status`).
        """
        return interviews.mark_no_show(db.session, current_user(), interview_id, data["reason"])


@blp.route("/interviews/<int:interview_id>/kit")
class Kit(MethodView):
    @blp.doc(operationId="get_interview_kit")
    @blp.response(200, KitSchema)
    def get(self, interview_id):
        """Questions, competencies with their anchors, the time-box and evidence guidance

        For the assigned interviewer and the recruiting team.
        """
        return interviews.get_kit(db.session, current_user(), interview_id)


@blp.route("/interviews/<int:interview_id>/calendar.ics")
class Calendar(MethodView):
    @blp.doc(operationId="get_interview_calendar")
    @blp.response(200, content_type="text/calendar")
    def get(self, interview_id):
        """The interview as an iCalendar event, the same one its invitation email carries

        One UID per interview; SEQUENCE rises with each reschedule or reassignment, and a
        cancelled interview is `METHOD:CANCEL`. For whoever may see the interview.
        """
        text = notifications.interview_calendar(
            db.session, current_user(), interview_id, current_app.config["SETTINGS"]
        )
        return Response(text, mimetype="text/calendar")
