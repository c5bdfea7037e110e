from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.csv_export import csv_response
from service.http.self_identification.schemas import SelfIdentificationPutSchema
from service.usecases import self_identification

blp = Blueprint(
    "self_identification",
    __name__,
    url_prefix="/api/v1",
    description="Voluntary self-identification, kept apart: written here, read only "
    "in aggregate by the fairness reports and by the audited admin export.",
)


@blp.route("/applications/<int:application_id>/self-identification")
class SelfIdentification(MethodView):
    @blp.doc(operationId="record_self_identification")
    @blp.arguments(SelfIdentificationPutSchema)
    @blp.response(204)
    def put(self, answers, application_id):
        """Record the candidate's answers (recruiter or admin); they are never returned

        Replaces earlier answers; nothing is returned (204).
        """
        self_identification.record_self_identification(
            db.session, current_user(), application_id, answers
        )


@blp.route("/reports/self-identification.csv")
class SelfIdentificationExport(MethodView):
    @blp.doc(operationId="export_self_identification")
    @blp.serves_file("text/csv")
    @blp.response(200, content_type="text/csv")
    def get(self):
        """Every application's answers as CSV, without names (admin; audited)

        Each export is recorded in the audit log.
        """
        rows = self_identification.export_self_identification(db.session, current_user())
        return csv_response(self_identification.EXPORT_COLUMNS, rows, "self-identification.csv")
