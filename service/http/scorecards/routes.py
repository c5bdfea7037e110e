from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.scorecards.schemas import (
    AmendmentSchema,
    ScorecardListSchema,
    ScorecardSchema,
    ScorecardWriteSchema,
)
from service.usecases import scorecards

blp = Blueprint(
    "scorecards",
    __name__,
    url_prefix="/api/v1",
    description="Evidence-backed scorecards, given independently.",
)


@blp.route("/interviews/<int:interview_id>/scorecard")
class Scorecard(MethodView):
    @blp.response(200, ScorecardSchema)
    def get(self, interview_id):
        """Your own scorecard (draft or submitted), or a submitted one you may read

        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        return scorecards.get_scorecard(db.session, current_user(), interview_id)

    @blp.doc(operationId="save_scorecard_draft")
    @blp.arguments(ScorecardWriteSchema)
    @blp.response(200, ScorecardSchema)
    def put(self, data, interview_id):
        """Save a draft (assigned interviewer); wording warnings come back in `warnings`

        A draft may be incomplete; it is replaced whole.
        """
        return scorecards.save_draft(db.session, current_user(), interview_id, data)


@blp.route("/interviews/<int:interview_id>/scorecard/submit")
class Submit(MethodView):
    @blp.doc(operationId="submit_scorecard")
    @blp.arguments(ScorecardWriteSchema)
    @blp.response(200, ScorecardSchema)
    def post(self, data, interview_id):
        """Submit: every competency rated (or null), evidence for each score, a recommendation

        Once submitted it changes only by amendment.
        """
        return scorecards.submit_scorecard(db.session, current_user(), interview_id, data)


@blp.route("/interviews/<int:interview_id>/scorecard/amendments")
class Amendments(MethodView):
    @blp.doc(operationId="amend_scorecard")
    @blp.arguments(AmendmentSchema)
    @blp.response(201, ScorecardSchema)
    def post(self, data, interview_id):
        """Amend a submitted scorecard with a reason; a new revision, earlier ones kept

        The earlier revisions stay readable in the audit log.
        """
        return scorecards.amend_scorecard(db.session, current_user(), interview_id, data)


@blp.route("/applications/<int:application_id>/scorecards")
class ApplicationScorecards(MethodView):
    @blp.doc(operationId="list_application_scorecards")
    @blp.response(200, ScorecardListSchema)
    def get(self, application_id):
        """Submitted scorecards; a panelist sees them only after submitting their own (403)

        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        return {"items": scorecards.list_scorecards(db.session, current_user(), application_id)}
