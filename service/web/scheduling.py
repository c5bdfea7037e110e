"""Scheduling the loop from the application page: put one of the template's interviews
on it (an eligible interviewer, a start time in UTC; the duration is the template's),
reschedule or reassign, cancel, mark a no-show. Plain form POSTs; a double-booking is
the use case's 409, shown beside the form with the interviewer's other interviews that
day, what was typed kept.

With scripts, `booking-check.js` asks `booking_check` while the interviewer and time are
picked, and shows the same conflict (the use case's own rule) before saving.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from service.domain.errors import ConflictError, NotFoundError, RuleViolationError
from service.domain.pipeline import InterviewStatus
from service.extensions import db
from service.http.interviews.schemas import (
    InterviewCreateSchema,
    InterviewPatchSchema,
    ReasonSchema,
)
from service.usecases import interviews
from service.usecases.access import get_interview
from service.web import number_or_text, web, when, whole_number
from service.web.recruiter import load_form, render_application
from service.web.session import web_actor


@web.post("/pipeline/applications/<int:application_id>/interviews")
def schedule(application_id: int) -> ResponseReturnValue:
    """Schedule one of the loop's interviews."""
    user = web_actor()
    form = request.form
    try:
        data = load_form(
            InterviewCreateSchema(),
            {
                "interview_key": form.get("interview_key", ""),
                "interviewer_id": number_or_text(form.get("interviewer_id", "")),
                "starts_at": _utc(form.get("starts_at", "")),
                "reason": form.get("reason", ""),
            },
        )
        interview = interviews.schedule_interview(db.session, user, application_id, **data)
    except (ConflictError, RuleViolationError) as error:
        return render_application(
            application_id,
            409 if isinstance(error, ConflictError) else 422,
            schedule_form=form,
            schedule_error=error,
            day_of_interviewer=_day_of(form.get("interviewer_id", ""), form.get("starts_at", "")),
        )
    flash(
        f"Scheduled: {interview.interviewer.name}, {interview.starts_at:%a %d %b %H:%M} UTC.",
        "success",
    )
    return redirect(url_for("web.application_page", application_id=application_id) + "#loop")


@web.post("/pipeline/interviews/<int:interview_id>/change")
def change_interview(interview_id: int) -> ResponseReturnValue:
    """Reschedule, reassign, cancel or mark a no-show, by the button pressed."""
    user = web_actor()
    interview = get_interview(db.session, user, interview_id)
    application_id = interview.application_id
    action = request.form.get("action", "")
    reason = request.form.get("reason", "")
    try:
        if action == "reschedule":
            changes: dict[str, Any] = {"reason": reason}
            if request.form.get("starts_at"):
                changes["starts_at"] = _utc(request.form["starts_at"])
            if request.form.get("interviewer_id"):
                changes["interviewer_id"] = number_or_text(request.form["interviewer_id"])
            data = load_form(InterviewPatchSchema(), changes)
            interviews.update_interview(db.session, user, interview_id, data)
            done = "changed"
        elif action in ("cancel", "no_show"):
            data = load_form(ReasonSchema(), {"reason": reason})
            close = interviews.cancel_interview if action == "cancel" else interviews.mark_no_show
            close(db.session, user, interview_id, data["reason"])
            done = "cancelled" if action == "cancel" else "marked as a no-show"
        else:
            raise RuleViolationError(
                "Choose reschedule, cancel or no-show.", errors={"action": "unknown action"}
            )
    except (ConflictError, RuleViolationError) as error:
        return render_application(
            application_id,
            409 if isinstance(error, ConflictError) else 422,
            interview_error=(interview_id, error),
            day_of_interviewer=_day_of(
                request.form.get("interviewer_id") or str(interview.interviewer_id),
                request.form.get("starts_at", ""),
            ),
        )
    flash(f"Interview {done}.", "success")
    return redirect(url_for("web.application_page", application_id=application_id) + "#loop")


@web.get("/pipeline/applications/<int:application_id>/booking-check")
def booking_check(application_id: int) -> ResponseReturnValue:
    """JSON: would this interviewer at this time double-book them (`free`, `detail`), and
    their other scheduled interviews that day. `interview_id`: the interview being moved
    (its own slot is not a conflict). Bad input is a 422 problem naming the field."""
    user = web_actor()
    args = request.args
    interview_id = args.get("interview_id", "")
    try:
        if interview_id:
            number = whole_number(interview_id)
            moving = get_interview(db.session, user, number) if number is not None else None
            if moving is None or moving.application_id != application_id:
                raise NotFoundError("No such interview on this application.")
        data = load_form(
            InterviewCreateSchema(),
            {
                "interview_key": args.get("interview_key", ""),
                "interviewer_id": number_or_text(args.get("interviewer_id", "")),
                "starts_at": _utc(args.get("starts_at", "")),
            },
        )
        data.pop("reason", None)
        check = interviews.check_booking(
            db.session,
            user,
            application_id,
            interview_id=int(interview_id) if interview_id else None,
            **data,
        )
    except RuleViolationError as error:
        problem = {
            "title": error.title,
            "status": 422,
            "detail": error.detail,
            "errors": error.errors,
        }
        return jsonify(problem), 422, {"Content-Type": "application/problem+json"}
    return jsonify(
        {
            **check,
            "message": _conflict_message(check),
            "starts_at": check["starts_at"].isoformat(),
            "ends_at": check["ends_at"].isoformat(),
            "same_day": [
                {
                    "id": other.id,
                    "starts_at": other.starts_at.isoformat(),
                    "ends_at": other.ends_at.isoformat(),
                    "when": f"{other.starts_at:%H:%M} to {other.ends_at:%H:%M} UTC",
                }
                for other in check["same_day"]
            ],
        }
    )


def _conflict_message(check: dict[str, Any]) -> str | None:
    """The use case's refusal as the page words times: `Wed 2 Dec 2026, 10:00 to 11:00 UTC`."""
    other = next((i for i in check["same_day"] if i.id == check["conflicting_interview_id"]), None)
    if check["free"] or other is None:
        detail: str | None = check["detail"]
        return detail
    return (
        f"The interviewer already has interview {other.id}, {when(other.starts_at)} to "
        f"{other.ends_at:%H:%M} UTC, which overlaps {check['starts_at']:%H:%M} to "
        f"{check['ends_at']:%H:%M} UTC."
    )


def _utc(raw: str) -> str:
    """A `datetime-local` value (`2026-12-02T10:00`) is a UTC time on these pages."""
    if raw and len(raw) == len("2026-12-02T10:00"):
        return raw + ":00+00:00"
    return raw


def _day_of(interviewer_id: str, starts_at: str) -> list[Any]:
    """The interviewer's scheduled interviews on the day asked for, to pick another time."""
    try:
        day = datetime.fromisoformat(_utc(starts_at)).date()
    except ValueError:
        return []
    number = whole_number(interviewer_id)
    if number is None:
        return []
    scheduled = interviews.list_interviews(
        db.session,
        web_actor(),
        interviewer_id=number,
        status=InterviewStatus.SCHEDULED,
        limit=200,
    ).items
    return sorted(
        (i for i in scheduled if i.starts_at.date() == day or i.ends_at.date() == day),
        key=lambda i: i.starts_at,
    )
