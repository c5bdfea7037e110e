"""The admin's fairness and calibration pages: the pipeline funnel of a requisition,
adverse impact per step, interviewer calibration and the panels' reliability, each
with its CSV download beside it.

Every figure comes from the report use cases the API's reports use
(`usecases/reports.py`, `usecases/interviewer_reports.py`), so small-group
suppression and the separation of self-identification are decided in their one
place; the CSV downloads are those reports' rows (`http/reports/csv_rows.py`). The
minimum cell sizes come from the settings, never from the request.

For admins only (`reports:read`); anyone else gets the 404 of a page that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue

from service.domain.access import ADMIN, require
from service.domain.calibration_scale import STATE_NOTES, CalibrationState
from service.domain.errors import RuleViolationError
from service.extensions import db
from service.http.csv_export import csv_response
from service.http.reports import csv_rows
from service.persistence.reports import ApplicationFilters
from service.usecases import interviewer_reports, reports
from service.usecases.requisitions import requisition_titles
from service.web import add_nav_item, render_error, web
from service.web.charts import IntervalRow, funnel_svg, interval_svg
from service.web.session import web_actor

if TYPE_CHECKING:  # pages query nothing themselves; the type is for annotations
    from service.persistence.users import User

add_nav_item("Pipeline funnel", "web.admin_funnel", (ADMIN,), order=70)
add_nav_item("Adverse impact", "web.admin_adverse_impact", (ADMIN,), order=71)
add_nav_item("Calibration", "web.admin_calibration", (ADMIN,), order=72)

STATE_WORDS = {
    CalibrationState.APPLIED: "calibrated (main pool)",
    CalibrationState.NOT_COMPARABLE: "not comparable with the main pool",
    CalibrationState.INSUFFICIENT_DATA: "insufficient data",
    CalibrationState.NOT_FITTED: "not fitted yet",
}

DIMENSION_WORDS = {
    "sex": "sex",
    "race_ethnicity": "race or ethnicity",
    "veteran_status": "veteran status",
    "disability_status": "disability status",
    "sex_race_ethnicity": "sex and race or ethnicity together",
}

FLAG_WORDS = {
    "fewer_than_two_groups": "Fewer than two groups are large enough to compare: no verdict.",
    "no_variation": "Nobody, or everybody, shown was selected: no comparison is possible.",
    "review_needed": "A difference passes four-fifths but is statistically significant: review it.",
}


def _query_errors(view: Callable[[], ResponseReturnValue]) -> Callable[[], ResponseReturnValue]:
    """A query the page cannot answer (an id that is not a number) is a 422 page naming it."""

    @wraps(view)
    def checked() -> ResponseReturnValue:
        try:
            return view()
        except RuleViolationError as error:
            named = "; ".join(f"{k}: {v}" for k, v in (error.errors or {}).items())
            return render_error(422, "Cannot show this report", f"{error.detail} ({named})")

    return checked


# ---- Pipeline funnel --------------------------------------------------------------


@web.get("/admin/funnel")
@_query_errors
def admin_funnel() -> ResponseReturnValue:
    """A requisition's funnel: per stage entered, advanced, rejected, withdrawn, time."""
    actor = _admin()
    chooser = requisition_titles(db.session, actor)
    requisition_id = _requisition_id()
    if requisition_id is None and chooser:
        requisition_id = chooser[-1][0]
    report = (
        None
        if requisition_id is None
        else reports.pipeline_report(db.session, actor, requisition_id)
    )
    return render_template(
        "admin/funnel.html",
        chooser=chooser,
        requisition_id=requisition_id,
        report=report,
        chart=None if report is None else funnel_svg(report["stages"], chart_id="funnel"),
    )


@web.get("/admin/funnel.csv")
@_query_errors
def admin_funnel_csv() -> ResponseReturnValue:
    """The funnel's rows as the API's pipeline CSV."""
    actor = _admin()
    requisition_id = _requisition_id()
    if requisition_id is None:
        raise RuleViolationError("Choose a requisition.", errors={"requisition_id": "required"})
    report = reports.pipeline_report(db.session, actor, requisition_id)
    return csv_response(
        csv_rows.PIPELINE_COLUMNS,
        csv_rows.pipeline_rows(report),
        f"pipeline-requisition-{requisition_id}.csv",
    )


# ---- Adverse impact ---------------------------------------------------------------


@web.get("/admin/adverse-impact")
@_query_errors
def admin_adverse_impact() -> ResponseReturnValue:
    """Adverse impact per step and dimension: verdicts, suppressed groups as
    "insufficient data", and what the figures do not prove."""
    actor = _admin()
    requisition_id = _requisition_id()
    report = _adverse_impact(actor, requisition_id)
    return render_template(
        "admin/adverse_impact.html",
        report=report,
        dimensions=[(d, *_shown_and_hidden(d["steps"])) for d in report["dimensions"]],
        requisition_id=requisition_id,
        flag_words=FLAG_WORDS,
        dimension_words=DIMENSION_WORDS,
    )


@web.get("/admin/adverse-impact.csv")
@_query_errors
def admin_adverse_impact_csv() -> ResponseReturnValue:
    """The adverse-impact rows as the API's CSV (suppressed groups' cells empty)."""
    report = _adverse_impact(_admin(), _requisition_id())
    return csv_response(
        csv_rows.ADVERSE_IMPACT_COLUMNS,
        csv_rows.adverse_impact_rows(report),
        "adverse-impact.csv",
    )


def _shown_and_hidden(steps: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """Steps with a group to show, and those whose every group is suppressed (listed by
    name only, so that the page is not a wall of "insufficient data")."""
    shown = [s for s in steps if any(not g["suppressed"] for g in s["groups"])]
    return shown, [s for s in steps if s not in shown]


def _adverse_impact(actor: User, requisition_id: int | None) -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    return reports.adverse_impact_report(
        db.session,
        actor,
        ApplicationFilters(requisition_id=requisition_id),
        min_applicants=settings.adverse_impact_min_applicants,
        min_selections=settings.adverse_impact_min_selections,
    )


# ---- Calibration and reliability ----------------------------------------------------


@web.get("/admin/calibration")
def admin_calibration() -> ResponseReturnValue:
    """Each interviewer's leniency ± SE with their track record and calibration state,
    and the reliability of each competency's ratings."""
    report = interviewer_reports.interviewers_report(db.session, _admin())
    interviewers = report["interviewers"]
    applied = sorted(
        (r for r in interviewers if r["calibration_state"] == CalibrationState.APPLIED),
        key=lambda r: (-r["leniency"], r["name"]),
    )
    chart = (
        interval_svg(
            [
                IntervalRow(
                    key=str(r["interviewer_id"]),
                    label=r["name"],
                    value=r["leniency"],
                    se=r["leniency_se"],
                    n=r["leniency_ratings"] or 0,
                )
                for r in applied
            ],
            title="Interviewer leniency (main pool)",
            value_label="leniency",
            chart_id="leniency",
        )
        if applied
        else None
    )
    return render_template(
        "admin/calibration.html",
        report=report,
        applied=applied,
        others=[r for r in interviewers if r["calibration_state"] != CalibrationState.APPLIED],
        chart=chart,
        state_words=STATE_WORDS,
        state_notes=STATE_NOTES,
    )


@web.get("/admin/calibration.csv")
def admin_calibration_csv() -> ResponseReturnValue:
    """The interviewer rows of the API's interviewers CSV."""
    report = interviewer_reports.interviewers_report(db.session, _admin())
    rows = (r for r in csv_rows.interviewer_rows(report) if r["section"] == "interviewer")
    return csv_response(csv_rows.INTERVIEWER_COLUMNS, rows, "calibration.csv")


@web.get("/admin/reliability.csv")
def admin_reliability_csv() -> ResponseReturnValue:
    """The reliability rows of the API's interviewers CSV."""
    report = interviewer_reports.interviewers_report(db.session, _admin())
    rows = (r for r in csv_rows.interviewer_rows(report) if r["section"] == "reliability")
    return csv_response(csv_rows.INTERVIEWER_COLUMNS, rows, "reliability.csv")


# ---- Shared -----------------------------------------------------------------------


def _admin() -> User:
    actor = web_actor()
    require(actor.role, "reports:read")
    return actor


def _requisition_id() -> int | None:
    """The optional `requisition_id` of the query; anything but a whole number is a 422."""
    value = request.args.get("requisition_id", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise RuleViolationError(
            "The requisition must be given by its number.",
            errors={"requisition_id": "a whole number"},
        )
    return int(value)
