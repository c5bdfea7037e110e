from flask.views import MethodView

from service.extensions import db
from service.http.assessments.schemas import AssessmentSchema
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.usecases.assessments import application_assessment

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
        return application_assessment(db.session, current_user(), application_id)
