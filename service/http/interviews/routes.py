from flask import url_for
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
from service.usecases import access, interviews

blp = Blueprint(
    "interviews",
    __name__,
    url_prefix="/api/v1",
    description="The interview loop: scheduling, kits and the template's plan.",
)


@blp.route("/applications/<int:application_id>/interviews")
class ApplicationInterviews(MethodView):
    @blp.arguments(InterviewCreateSchema)
    @blp.response(201, InterviewSchema)
    def post(self, data, application_id):
        """Schedule one of the template's interviews (recruiter); 409 if the interviewer is booked"""
        interview = interviews.schedule_interview(
            db.session, current_user(), application_id, **data
        )
        return interview, {"Location": url_for(".Interview", interview_id=interview.id)}


@blp.route("/applications/<int:application_id>/loop")
class Loop(MethodView):
    @blp.response(200, LoopSchema)
    def get(self, application_id):
        """Every planned interview, what happened to it, and recorded deviations"""
        return interviews.get_loop(db.session, current_user(), application_id)


@blp.route("/interviews")
class Interviews(MethodView):
    @blp.arguments(InterviewQueryArgsSchema, location="query")
    @blp.response(200, InterviewPageSchema)
    def get(self, args):
        """List interviews; an interviewer gets their own slots"""
        return interviews.list_interviews(db.session, current_user(), **args)


@blp.route("/interviews/<int:interview_id>")
class Interview(MethodView):
    @blp.response(200, InterviewSchema)
    def get(self, interview_id):
        """Get one interview"""
        return access.get_interview(db.session, current_user(), interview_id)

    @blp.arguments(InterviewPatchSchema)
    @blp.response(200, InterviewSchema)
    def patch(self, changes, interview_id):
        """Reschedule or reassign a scheduled interview"""
        return interviews.update_interview(db.session, current_user(), interview_id, changes)


@blp.route("/interviews/<int:interview_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, InterviewSchema)
    def post(self, data, interview_id):
        """Cancel a scheduled interview, with a reason"""
        return interviews.cancel_interview(db.session, current_user(), interview_id, data["reason"])


@blp.route("/interviews/<int:interview_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompleteSchema)
    @blp.response(200, InterviewSchema)
    def post(self, data, interview_id):
        """Mark held; running past the time-box is recorded as a deviation"""
        return interviews.complete_interview(
            db.session, current_user(), interview_id, data.get("actual_minutes"), data["reason"]
        )


@blp.route("/interviews/<int:interview_id>/no-show")
class NoShow(MethodView):
    @blp.arguments(OptionalReasonSchema)
    @blp.response(200, InterviewSchema)
    def post(self, data, interview_id):
        """Record that the candidate did not attend"""
        return interviews.mark_no_show(db.session, current_user(), interview_id, data["reason"])


@blp.route("/interviews/<int:interview_id>/kit")
class Kit(MethodView):
    @blp.response(200, KitSchema)
    def get(self, interview_id):
        """Questions, competencies with their anchors, the time-box and evidence guidance"""
        return interviews.get_kit(db.session, current_user(), interview_id)
