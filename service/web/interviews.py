"""The interviewer's pages: my interviews, and the kit with the scorecard on one page.

The scorecard form posts the same content as the API's scorecard body
(`ScorecardWriteSchema`), read from form fields: `ratings-N-competency`,
`ratings-N-score` (1–4, or `none` for not assessed), `ratings-N-evidence`,
`recommendation`, `summary` and, for an amendment, `reason`. "Save draft" works
without JavaScript; with it, `scorecard.js` saves the draft as you write and
shows the language warnings the save returns (JSON when asked for it).

The panel's feedback is read only through `usecases.scorecards.list_scorecards`,
which asks `open_panel_feedback`: until yours is in, it is not on the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import marshmallow as ma
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.domain.access import HIRING_MANAGER, INTERVIEWER
from service.domain.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
)
from service.domain.pipeline import InterviewStatus
from service.domain.scorecards import ScorecardState
from service.domain.templates import Competency
from service.extensions import db
from service.http.errors import flatten_messages
from service.http.scorecards.schemas import AmendmentSchema, ScorecardWriteSchema
from service.persistence.base import utcnow
from service.usecases import interviews, scorecards
from service.usecases.access import get_interview
from service.usecases.tasks import my_tasks
from service.web import add_nav_item, number_or_text, wants_json, web, whole_number
from service.web.session import web_actor

if TYPE_CHECKING:  # pages query nothing themselves; the types are for annotations
    from service.persistence.interviews import Interview
    from service.persistence.scorecards import Scorecard

add_nav_item("My interviews", "web.my_interviews", (INTERVIEWER, HIRING_MANAGER), order=10)

NOT_ASSESSED = "none"
RECOMMENDATION_LABELS = {
    "strong_no": "Strong no",
    "no": "No",
    "yes": "Yes",
    "strong_yes": "Strong yes",
}


@web.get("/interviews")
def my_interviews() -> ResponseReturnValue:
    """Scorecards I owe (overdue first), my upcoming interviews, and those I have scored."""
    user = web_actor()
    tasks = my_tasks(db.session, user)
    owed = [t for t in tasks["items"] if t["kind"] == "scorecard"]
    now = utcnow()
    scheduled = interviews.list_interviews(
        db.session, user, interviewer_id=user.id, status=InterviewStatus.SCHEDULED, limit=100
    ).items
    upcoming = sorted((i for i in scheduled if i.starts_at > now), key=lambda i: i.starts_at)
    submitted = interviews.list_interviews(
        db.session, user, interviewer_id=user.id, scorecard_state="submitted", limit=20
    ).items
    titles = interviews.interview_titles(db.session, [*upcoming, *submitted])
    return render_template(
        "interviews/mine.html",
        owed=owed,
        owed_total=tasks["totals"]["scorecard"],
        upcoming=[(i, titles[i.id]) for i in upcoming],
        submitted=[(i, titles[i.id]) for i in sorted(submitted, key=lambda i: i.starts_at)[::-1]],
    )


@web.get("/interviews/<int:interview_id>")
def kit(interview_id: int) -> ResponseReturnValue:
    """The kit and my scorecard for one of my interviews."""
    return _kit_page(interview_id)


@web.post("/interviews/<int:interview_id>/draft")
def save_draft(interview_id: int) -> ResponseReturnValue:
    """Save the scorecard as a draft (the button, or autosave asking for JSON)."""
    user = web_actor()
    _own(interview_id)
    answer_json = wants_json()
    try:
        data = _read_form(ScorecardWriteSchema())
        scorecard = scorecards.save_draft(db.session, user, interview_id, data)
    except (RuleViolationError, ConflictError) as error:
        if answer_json:
            return jsonify(detail=error.detail, errors=error.errors), _status(error)
        return _kit_page(interview_id, form=request.form, error=error)
    draft = scorecard.draft or {}
    if answer_json:
        return jsonify(saved_at=_clock(scorecard.updated_at), warnings=draft.get("warnings", []))
    flash(f"Draft saved at {_clock(scorecard.updated_at)}.", "success")
    return redirect(url_for("web.kit", interview_id=interview_id) + "#scorecard")


@web.post("/interviews/<int:interview_id>/scorecard")
def submit(interview_id: int) -> ResponseReturnValue:
    """Submit my scorecard; then the panel's feedback opens."""
    user = web_actor()
    _own(interview_id)
    try:
        data = _read_form(ScorecardWriteSchema())
    except RuleViolationError as error:
        return _kit_page(interview_id, form=request.form, error=error)
    try:
        scorecards.submit_scorecard(db.session, user, interview_id, data)
    except (RuleViolationError, ConflictError) as error:
        # Not ready to submit: keep the work as the draft (with its language warnings),
        # as autosave would have, and show it with the errors.
        try:
            scorecards.save_draft(db.session, user, interview_id, data)
        except (RuleViolationError, ConflictError):
            return _kit_page(interview_id, form=request.form, error=error)
        return _kit_page(interview_id, error=error)
    flash("Scorecard submitted. The panel's feedback is below.", "success")
    return redirect(url_for("web.kit", interview_id=interview_id) + "#panel")


@web.post("/interviews/<int:interview_id>/amendments")
def amend(interview_id: int) -> ResponseReturnValue:
    """Add a revision to my submitted scorecard, with a reason."""
    user = web_actor()
    _own(interview_id)
    try:
        data = _read_form(AmendmentSchema())
        scorecards.amend_scorecard(db.session, user, interview_id, data)
    except (RuleViolationError, ConflictError) as error:
        return _kit_page(interview_id, form=request.form, error=error, amending=True)
    flash("Amendment saved as a new revision.", "success")
    return redirect(url_for("web.kit", interview_id=interview_id) + "#revisions")


def _kit_page(
    interview_id: int,
    *,
    form: Any = None,
    error: RuleViolationError | ConflictError | None = None,
    amending: bool = False,
) -> ResponseReturnValue:
    user = web_actor()
    interview = _own(interview_id)
    kit = interviews.get_kit(db.session, user, interview_id)
    mine = _my_scorecard(interview_id)
    submitted = mine is not None and mine.state == ScorecardState.SUBMITTED
    content = _content(mine)
    if form is not None:
        content = _form_content(form, kit["competencies"])
    panel, panel_closed = [], None
    try:
        panel = [
            s
            for s in scorecards.list_scorecards(db.session, user, interview.application_id)
            if s.author_id != user.id
        ]
    except PermissionDeniedError:
        panel_closed = True
    status = 200
    if error is not None:
        status = _status(error)
    errors = _field_errors(error, kit["competencies"])
    return (
        render_template(
            "interviews/kit.html",
            kit=kit,
            interview=interview,
            scorecard=mine,
            submitted=submitted,
            content=content,
            ratings={r["competency"]: r for r in content["ratings"]},
            warnings=_warnings_by_field(content),
            errors=errors,
            error_links=[(_anchor(key), message) for key, message in errors.items()],
            error=error,
            amending=amending,
            panel=panel,
            panel_closed=panel_closed,
            recommendation_labels=RECOMMENDATION_LABELS,
            competency_names={c.key: c.name for c in interview.template.competencies},
            not_assessed=NOT_ASSESSED,
            started=utcnow() >= interview.starts_at,
        ),
        status,
    )


def _own(interview_id: int) -> Interview:
    """The interview, if it is mine; anyone else's is the same 404 as a missing one."""
    user = web_actor()
    interview = get_interview(db.session, user, interview_id)
    if interview.interviewer_id != user.id:
        raise NotFoundError(f"Interview {interview_id} does not exist or is not yours to see.")
    return interview


def _my_scorecard(interview_id: int) -> Scorecard | None:
    try:
        return scorecards.get_scorecard(db.session, web_actor(), interview_id)
    except NotFoundError:
        return None  # the interview is mine (checked before): I have not saved one yet


def _content(scorecard: Scorecard | None) -> dict[str, Any]:
    """What the form shows: the draft, or the current revision."""
    if scorecard is None:
        return {"ratings": [], "recommendation": None, "summary": "", "warnings": []}
    if scorecard.state == ScorecardState.DRAFT:
        return {"warnings": [], **(scorecard.draft or {})}
    current = scorecard.current
    assert current is not None  # a submitted scorecard has its first revision
    return {
        "ratings": [
            {"competency": r.competency, "score": r.score, "evidence": r.evidence}
            for r in current.ratings
        ],
        "recommendation": current.recommendation,
        "summary": current.summary,
        "warnings": current.warnings,
    }


def _read_form(schema: ma.Schema) -> dict[str, Any]:
    """The posted form as the API's scorecard body, validated by the API's schema.
    Raises RuleViolationError naming each bad field."""
    form = request.form
    ratings = []
    index = 0
    while f"ratings-{index}-competency" in form:
        raw = form.get(f"ratings-{index}-score", NOT_ASSESSED)
        ratings.append(
            {
                "competency": form[f"ratings-{index}-competency"],
                "score": None if raw == NOT_ASSESSED else number_or_text(raw),
                "evidence": form.get(f"ratings-{index}-evidence", ""),
            }
        )
        index += 1
    body: dict[str, Any] = {"ratings": ratings, "summary": form.get("summary", "")}
    if form.get("recommendation"):
        body["recommendation"] = form["recommendation"]
    if isinstance(schema, AmendmentSchema):
        body["reason"] = form.get("reason", "")
    try:
        data: dict[str, Any] = schema.load(body)
    except ma.ValidationError as error:
        errors = {e["field"]: e["message"] for e in flatten_messages(error.messages)}
        raise RuleViolationError(
            "Some fields need attention; see the messages next to them.", errors=errors
        ) from None
    return data


def _form_content(form: Any, competencies: list[Competency]) -> dict[str, Any]:
    """What the person just sent, to show it back with the errors beside it."""
    ratings = []
    for index, _ in enumerate(competencies):
        raw = form.get(f"ratings-{index}-score", NOT_ASSESSED)
        ratings.append(
            {
                "competency": form.get(f"ratings-{index}-competency", ""),
                "score": whole_number(raw),
                "evidence": form.get(f"ratings-{index}-evidence", ""),
            }
        )
    return {
        "ratings": ratings,
        "recommendation": form.get("recommendation") or None,
        "summary": form.get("summary", ""),
        "reason": form.get("reason", ""),
        "warnings": [],
    }


def _warnings_by_field(content: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Warnings keyed by competency key or "summary", each with its text split around the
    phrase so the page can mark it."""
    ratings = content.get("ratings", [])
    by_field: dict[str, list[dict[str, Any]]] = {}
    for warning in content.get("warnings", []):
        field = warning["field"]
        text = content.get("summary", "")
        key = "summary"
        if field.startswith("ratings["):
            index = int(field[len("ratings[") : field.index("]")])
            if index >= len(ratings):
                continue
            key, text = ratings[index]["competency"], ratings[index]["evidence"]
        start, end = warning["start"], warning["end"]
        by_field.setdefault(key, []).append(
            {
                **warning,
                "before": text[max(0, start - 40) : start],
                "marked": text[start:end],
                "after": text[end : end + 40],
            }
        )
    return by_field


def _field_errors(error: DomainError | None, competencies: list[Competency]) -> dict[str, str]:
    """Errors keyed as the template asks for them: `<competency>.evidence`, `recommendation`."""
    if not isinstance(error, RuleViolationError):
        return {}
    keys = [c.key for c in competencies]
    named = {}
    for field, message in error.errors.items():
        if field.startswith("ratings[") and "]" in field:
            index = whole_number(field[len("ratings[") : field.index("]")])
            rest = field[field.index("]") + 1 :].lstrip(".") or "score"
            if index is not None and index < len(keys):
                named[f"{keys[index]}.{rest}"] = message
                continue
        named[field] = _plainly(field, message)
    return named


def _plainly(field: str, message: str) -> str:
    """The API's messages name JSON values (null, strong_no); the page names its controls."""
    if field == "recommendation" and message.startswith("required"):
        return "Choose an overall recommendation to submit."
    if field == "ratings" and "null" in message:
        return "Score at least one competency: every one is marked “Not assessed”."
    return message


# Where on the kit page each error's field is, for the links in the error summary.
def _anchor(key: str) -> str:
    competency, _, part = key.partition(".")
    if part == "evidence":
        return f"evidence-{competency}"
    if part:
        return f"competency-{competency}"
    return {"ratings": "recommendation"}.get(key, key)


def _status(error: DomainError) -> int:
    return 409 if isinstance(error, ConflictError) else 422


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")
