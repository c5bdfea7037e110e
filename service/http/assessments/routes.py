from flask import current_app
from flask.views import MethodView

from service.extensions import db
from service.http.assessments.schemas import AssessmentSchema
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.usecases.assessments import assessment_json

blp = Blueprint(
    "assessments",
    __name__,
    url_prefix="/api/v1",
    description="Every score of an application combined in context.",
)


@blp.route("/applications/<int:application_id>/assessment")
class Assessment(MethodView):
    @blp.reads_only
    @blp.doc(operationId="get_application_assessment")
    @blp.response(200, AssessmentSchema)
    def get(self, application_id):
        """Calibrated scores, dissent, flags and recommendations (panelists after submitting)

        Blind rule (`open_panel_feedback`): 403 with `pending_interview_ids` while you owe a
        scorecard on this application; your first read of others' feedback is recorded.
        """
        # The use case's JSON is already what AssessmentSchema dumps (tests/api/test_assessment.py
        # checks it), stored as text: sent as is, not parsed and dumped again.
        body = assessment_json(db.session, current_user(), application_id)
        return current_app.response_class(body, mimetype="application/json")
