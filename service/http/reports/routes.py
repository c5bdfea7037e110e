from typing import Any, TypedDict

from flask import current_app
from flask.views import MethodView

from service.extensions import db
from service.http.auth import current_user
from service.http.blueprint import Blueprint
from service.http.csv_export import csv_response, wants_csv
from service.http.json_body import json_response
from service.http.reports import csv_rows
from service.http.reports.schemas import (
    AdverseImpactFiltersSchema,
    AdverseImpactQueryArgsSchema,
    AdverseImpactReportSchema,
    InterviewersQueryArgsSchema,
    InterviewersReportSchema,
    PipelineQueryArgsSchema,
    PipelineReportSchema,
    StuckQueryArgsSchema,
    StuckReportSchema,
)
from service.persistence.reports import ApplicationFilters
from service.usecases import interviewer_reports, reports

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/api/v1/reports",
    description="Fairness and pipeline reports; each also as CSV with `Accept: text/csv`.",
)


def _filters(args: dict[str, Any]) -> ApplicationFilters:
    return ApplicationFilters(
        **{
            k: args.pop(k)
            for k in ("requisition_id", "template_key", "applied_from", "applied_to")
            if k in args
        }
    )


class _Suppression(TypedDict):
    min_applicants: int
    min_selections: int


def _suppression() -> _Suppression:
    """Minimum cell sizes, set in the app config (never by the client)."""
    return {
        "min_applicants": current_app.config["SETTINGS"].adverse_impact_min_applicants,
        "min_selections": current_app.config["SETTINGS"].adverse_impact_min_selections,
    }


@blp.route("/adverse-impact")
class AdverseImpact(MethodView):
    @blp.doc(operationId="get_adverse_impact_report")
    @blp.offers_csv("adverse-impact.csv")
    @blp.arguments(AdverseImpactQueryArgsSchema, location="query")
    @blp.response(200, AdverseImpactReportSchema)
    def get(self, args):
        """Four-fifths rule with significance per stage and overall, small groups suppressed (admin)

        Groups below the configured minimum cell sizes are suppressed (null), never shown.
        """
        report = reports.adverse_impact_report(
            db.session, current_user(), _filters(args), **args, **_suppression()
        )
        if wants_csv():
            return csv_response(
                csv_rows.ADVERSE_IMPACT_COLUMNS,
                csv_rows.adverse_impact_rows(report),
                "adverse-impact.csv",
            )
        # The report is what the schema dumps but for the filters, which carry one field
        # the schema leaves out (tests hold the body to the schema's dump through
        # `jsonify`): the dump and Flask's encoder were ~13 ms of CPU at 100k, orjson ~1 ms.
        filters = AdverseImpactFiltersSchema().dump(report["filters"])
        return json_response({**report, "filters": filters})


@blp.route("/pipeline")
class Pipeline(MethodView):
    @blp.doc(operationId="get_pipeline_report")
    @blp.offers_csv("pipeline.csv")
    @blp.arguments(PipelineQueryArgsSchema, location="query")
    @blp.response(200, PipelineReportSchema)
    def get(self, args):
        """Per stage: entered, advanced, rejected by reason, withdrawn, time in stage vs target

        For one requisition; times are in days.
        """
        report = reports.pipeline_report(db.session, current_user(), args["requisition_id"])
        if wants_csv():
            return csv_response(
                csv_rows.PIPELINE_COLUMNS, csv_rows.pipeline_rows(report), "pipeline.csv"
            )
        return report


@blp.route("/stuck")
class Stuck(MethodView):
    @blp.doc(operationId="get_stuck_report")
    @blp.offers_csv("stuck.csv")
    @blp.arguments(StuckQueryArgsSchema, location="query")
    @blp.response(200, StuckReportSchema)
    def get(self, args):
        """Active applications over their stage's target, oldest first, with the next step's owner (admin)

        Each row names who owns the next step.
        """
        report = reports.stuck_report(db.session, current_user(), _filters(args), **args)
        if wants_csv():
            return csv_response(csv_rows.STUCK_COLUMNS, csv_rows.stuck_rows(report), "stuck.csv")
        return report


@blp.route("/interviewers")
class Interviewers(MethodView):
    @blp.doc(operationId="get_interviewers_report")
    @blp.offers_csv("interviewers.csv")
    @blp.arguments(InterviewersQueryArgsSchema, location="query")
    @blp.response(200, InterviewersReportSchema)
    def get(self, args):
        """Per interviewer: leniency ± SE, recommendations, halo, lateness, adherence; reliability (admin)

        Leniency comes from the latest calibration fit; reliability is per competency.
        """
        report = interviewer_reports.interviewers_report(db.session, current_user())
        if wants_csv():
            return csv_response(
                csv_rows.INTERVIEWER_COLUMNS, csv_rows.interviewer_rows(report), "interviewers.csv"
            )
        # The report is already what the schema dumps (plain numbers, strings and None;
        # tests hold the body to the schema's dump through `jsonify`): the dump of its
        # ~1000 rows and Flask's encoder were ~28 ms of CPU at 100k, orjson ~2 ms.
        return json_response(report)
