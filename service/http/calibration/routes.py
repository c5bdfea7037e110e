from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.calibration.schemas import InterviewerCalibrationSchema, RefreshAcceptedSchema
from service.usecases import calibration

blp = Blueprint(
    "calibration",
    __name__,
    url_prefix="/api/v1",
    description="Interviewer calibration (rater leniency), fitted in the background.",
)


@blp.route("/interviewers/<int:interviewer_id>/calibration")
class InterviewerCalibration(MethodView):
    @blp.doc(operationId="get_interviewer_calibration")
    @blp.response(200, InterviewerCalibrationSchema)
    def get(self, interviewer_id):
        """An interviewer's leniency ± SE from the latest fit, in plain words too

        `calibrated` is false until a fit has enough of their scores; `state` says
        whether their scores are calibrated (applied) or shown raw (not_comparable
        with the main pool, insufficient_data, not_fitted).
        """
        effect, run = calibration.interviewer_calibration(
            db.session, current_user(), interviewer_id
        )
        return {
            "interviewer_id": interviewer_id,
            "calibrated": effect is not None,
            "state": effect.state if effect else "not_fitted",
            "effect": effect,
            "run": run,
        }


@blp.route("/calibration/refresh")
class Refresh(MethodView):
    @blp.doc(operationId="refresh_calibration")
    @blp.response(202, RefreshAcceptedSchema)
    def post(self):
        """Enqueue a full refit (admin); it runs in the worker, or inline without Redis

        Answers at once; read the result from the interviewer's calibration later.
        """
        calibration.request_refresh(db.session, current_user())
        return {"status": "queued"}
