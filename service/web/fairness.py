"""The admin's fairness and calibration pages: the pipeline funnel of a requisition,
adverse impact per step, interviewer calibration and the panels' reliability, each
with its CSV download beside it.

Every figure comes from the report use cases the API's reports use
(`usecases/reports.py`, `usecases/interviewer_reports.py`), so small-group
suppression and the separation of self-identification are decided in their one
place; the CSV downloads are those reports' rows (`http/reports/csv_rows.py`). The
minimum cell sizes come from the settings, never from the request.

The organisation-wide reports (adverse impact over every requisition, the
interviewers report) are served as snapshots (`usecases/report_snapshots.py`): the
page says how old its figures are and has a "Refresh now" button, and its CSV
carries the same figures. The calibration chart shows the extremes and the tables
are paged and searchable, so the page stays small however many interviewers there
are; the CSV has every row.

For admins only (`reports:read`); anyone else gets the 404 of a page that does not exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.domain.access import ADMIN, require
from service.domain.calibration_scale import STATE_NOTES, CalibrationState
from service.domain.errors import RuleViolationError
from service.extensions import db
from service.http.csv_export import csv_response
from service.http.reports import csv_rows
from service.persistence.reports import ApplicationFilters
from service.usecases import interviewer_reports, reports
from service.usecases.report_snapshots import Snapshot
from service.usecases.requisitions import requisition_titles
from service.web import add_nav_item, render_error, web, whole_number
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
    report, snapshot = _adverse_impact(actor, requisition_id)
    return render_template(
        "admin/adverse_impact.html",
        report=report,
        dimensions=[(d, *_shown_and_hidden(d["steps"])) for d in report["dimensions"]],
        requisition_id=requisition_id,
        snapshot=_snapshot_age(snapshot),
        flag_words=FLAG_WORDS,
        dimension_words=DIMENSION_WORDS,
    )


@web.post("/admin/adverse-impact/refresh")
def admin_adverse_impact_refresh() -> ResponseReturnValue:
    """Count the every-requisition figures again now (post, then redirect to the page)."""
    _organisation_adverse_impact(_admin(), refresh=True)
    return redirect(url_for("web.admin_adverse_impact"), code=303)


@web.get("/admin/adverse-impact.csv")
@_query_errors
def admin_adverse_impact_csv() -> ResponseReturnValue:
    """The adverse-impact rows as the API's CSV (suppressed groups' cells empty); over
    every requisition, those of the page's snapshot."""
    report, _ = _adverse_impact(_admin(), _requisition_id())
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


def _adverse_impact(
    actor: User, requisition_id: int | None
) -> tuple[dict[str, Any], Snapshot | None]:
    """One requisition's report, computed now; every requisition's, from its snapshot."""
    if requisition_id is None:
        snapshot = _organisation_adverse_impact(actor)
        return snapshot.report, snapshot
    settings = current_app.config["SETTINGS"]
    report = reports.adverse_impact_report(
        db.session,
        actor,
        ApplicationFilters(requisition_id=requisition_id),
        min_applicants=settings.adverse_impact_min_applicants,
        min_selections=settings.adverse_impact_min_selections,
    )
    return report, None


def _organisation_adverse_impact(actor: User, *, refresh: bool = False) -> Snapshot:
    settings = current_app.config["SETTINGS"]
    return reports.organisation_adverse_impact(
        db.session,
        actor,
        min_applicants=settings.adverse_impact_min_applicants,
        min_selections=settings.adverse_impact_min_selections,
        max_age=settings.report_snapshot_max_age_seconds,
        refresh=refresh,
    )


# ---- Calibration and reliability ----------------------------------------------------


CHART_EXTREMES = 25  # the chart's most lenient and most severe interviewers, each
TABLE_PAGE = 50  # rows per page of each calibration table


@web.get("/admin/calibration")
def admin_calibration() -> ResponseReturnValue:
    """Each interviewer's leniency ± SE with their track record and calibration state,
    and the reliability of each competency's ratings. The chart shows the most lenient
    and most severe; the tables are paged (`page`, `others_page`) and searched by
    name (`q`)."""
    snapshot = _interviewers_snapshot()
    report = snapshot.report
    interviewers = report["interviewers"]
    applied = sorted(
        (r for r in interviewers if r["calibration_state"] == CalibrationState.APPLIED),
        key=lambda r: (-r["leniency"], r["name"]),
    )
    others = [r for r in interviewers if r["calibration_state"] != CalibrationState.APPLIED]
    query = request.args.get("q", "").strip()
    charted = _extremes(applied)
    return render_template(
        "admin/calibration.html",
        report=report,
        snapshot=_snapshot_age(snapshot),
        applied_count=len(applied),
        charted_count=len(charted),
        applied=_page_of(_named(applied, query), "page", "main-pool"),
        others=_page_of(_named(others, query), "others_page", "not-calibrated"),
        query=query,
        chart=_leniency_chart(charted) if charted else None,
        state_words=STATE_WORDS,
        state_notes=STATE_NOTES,
    )


@web.post("/admin/calibration/refresh")
def admin_calibration_refresh() -> ResponseReturnValue:
    """Compute the interviewers report again now (post, then redirect to the page)."""
    _interviewers_snapshot(refresh=True)
    return redirect(url_for("web.admin_calibration"), code=303)


@web.get("/admin/calibration.csv")
def admin_calibration_csv() -> ResponseReturnValue:
    """The interviewer rows of the API's interviewers CSV, every one, from the page's snapshot."""
    report = _interviewers_snapshot().report
    rows = (r for r in csv_rows.interviewer_rows(report) if r["section"] == "interviewer")
    return csv_response(csv_rows.INTERVIEWER_COLUMNS, rows, "calibration.csv")


@web.get("/admin/reliability.csv")
def admin_reliability_csv() -> ResponseReturnValue:
    """The reliability rows of the API's interviewers CSV, from the page's snapshot."""
    report = _interviewers_snapshot().report
    rows = (r for r in csv_rows.interviewer_rows(report) if r["section"] == "reliability")
    return csv_response(csv_rows.INTERVIEWER_COLUMNS, rows, "reliability.csv")


def _interviewers_snapshot(*, refresh: bool = False) -> Snapshot:
    return interviewer_reports.interviewers_snapshot(
        db.session,
        _admin(),
        max_age=current_app.config["SETTINGS"].report_snapshot_max_age_seconds,
        refresh=refresh,
    )


def _extremes(applied: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The most lenient and the most severe (`applied` runs from most lenient), or
    everyone when that is all of them: a chart of a thousand rows reads as nobody."""
    if len(applied) <= 2 * CHART_EXTREMES:
        return applied
    return applied[:CHART_EXTREMES] + applied[-CHART_EXTREMES:]


def _leniency_chart(rows: list[dict[str, Any]]) -> Any:
    return interval_svg(
        [
            IntervalRow(
                key=str(r["interviewer_id"]),
                label=r["name"],
                value=r["leniency"],
                se=r["leniency_se"],
                n=r["leniency_ratings"] or 0,
            )
            for r in rows
        ],
        title="Interviewer leniency (main pool)",
        value_label="leniency",
        chart_id="leniency",
    )


def _named(rows: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    """The rows whose interviewer's name contains `query`, in any case."""
    needle = query.casefold()
    return [r for r in rows if needle in r["name"].casefold()] if needle else rows


@dataclass(frozen=True)
class TablePage:
    """One page of a table's rows, with the links to the pages beside it (the other
    query parameters kept, so that a search or the other table's page stays)."""

    rows: Sequence[dict[str, Any]]
    number: int
    pages: int
    total: int
    previous_url: str | None
    next_url: str | None


def _page_of(rows: list[dict[str, Any]], param: str, anchor: str) -> TablePage:
    """The page that `param` asks for (1 when it is not a page number; the last when
    past the end)."""
    asked = whole_number(request.args.get(param))
    pages = max(1, math.ceil(len(rows) / TABLE_PAGE))
    number = min(asked, pages) if asked else 1
    start = (number - 1) * TABLE_PAGE

    def link(to: int) -> str | None:
        if not 1 <= to <= pages or to == number:
            return None
        args: dict[str, Any] = {**request.args.to_dict(), param: str(to)}
        return url_for("web.admin_calibration", _anchor=anchor, **args)

    return TablePage(
        rows[start : start + TABLE_PAGE],
        number,
        pages,
        len(rows),
        link(number - 1),
        link(number + 1),
    )


@dataclass(frozen=True)
class SnapshotAge:
    """What the page says of a snapshot: when its figures were counted, and how long ago."""

    computed_at: datetime
    as_of: str
    ago: str
    stale: bool


def _snapshot_age(snapshot: Snapshot | None) -> SnapshotAge | None:
    if snapshot is None:
        return None
    now = datetime.now(UTC)
    at = snapshot.computed_at
    minutes = max(0, int((now - at).total_seconds() // 60))
    day = "" if at.date() == now.date() else f"{at.day} {at:%b %Y} "
    ago = (
        "less than a minute ago"
        if minutes == 0
        else f"{minutes} minute{'' if minutes == 1 else 's'} ago"
    )
    return SnapshotAge(at, f"{day}{at:%H:%M} UTC", ago, snapshot.stale)


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
    number = whole_number(value)
    if number is None:
        raise RuleViolationError(
            "The requisition must be given by its number.",
            errors={"requisition_id": "a whole number"},
        )
    return number
