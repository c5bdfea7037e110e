"""The recruiter's pages: home (open requisitions and what I owe), the pipeline board
per requisition, Stuck (applications past their stage's target, with who owns the next
step), and the application page.

Every change is a plain form POST, working without JavaScript: a move sends
`from_stage`, `to_stage`, `reason` and the card's `version` (the API's `If-Match`), so a
card someone else moved meanwhile is refused and the board says what happened to it; a
move the template does not allow is a 422 naming the allowed stages. Reject (with a
reason code and a note), withdraw and reopen post to `status`. With scripts, `board.js`
lets a mouse drag a card to a column: it asks for the reason and posts the same move
form. The board's filters and search are GET parameters (`BOARD_FILTERS`), kept across
a move. A column shows its longest-waiting cards (`COLUMN_CARDS` on the board of every
stage, pages of `STAGE_PAGE` on the board of one stage) with a link to the rest; the card
a move comes back to (`card`) is shown wherever it sits in its column.

Pages for admins and recruiters (`applications:write`); anyone else gets the 404 of a
page that does not exist. The panel's feedback is not on these pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from service.domain.access import ADMIN, RECRUITER
from service.domain.errors import ConflictError, DomainError, RuleViolationError
from service.domain.pipeline import REJECTION_REASONS, ApplicationStatus
from service.extensions import db
from service.http.applications.schemas import MoveSchema, RejectSchema, StatusChangeSchema
from service.http.errors import flatten_messages
from service.persistence.base import utcnow
from service.usecases import applications, boards, decisions, interviews, reports
from service.usecases.access import get_application
from service.usecases.tasks import my_tasks
from service.web import add_nav_item, web, whole_number
from service.web.session import web_actor

add_nav_item("Pipeline", "web.recruiter_home", (RECRUITER, ADMIN), order=20)
add_nav_item("Stuck", "web.stuck", (RECRUITER, ADMIN), order=21)

# The board's filters besides its status, as GET parameters (and hidden fields of each
# card's forms, to come back to the same board).
BOARD_FILTERS = ("q", "past_target", "stage", "needs", "source", "page")

# How many cards a column renders: a requisition's 500 active cards with their forms were
# 1.5 MB of HTML. The rest are a link (or a page) away; a column's count is of them all.
COLUMN_CARDS = 25  # on the board of every stage
STAGE_PAGE = 50  # a page of the board of one stage (`stage` and `page`)

REJECTION_LABELS = {code: code.replace("_", " ").capitalize() for code in REJECTION_REASONS}
BOARD_STATUSES = {
    ApplicationStatus.ACTIVE: "Active",
    ApplicationStatus.REJECTED: "Rejected",
    ApplicationStatus.WITHDRAWN: "Withdrawn",
    ApplicationStatus.HIRED: "Hired",
}


@web.get("/pipeline")
def recruiter_home() -> ResponseReturnValue:
    """Open requisitions with their counts per stage and past target (50 a page: `page`),
    and what I owe."""
    user = web_actor()
    mine_only = request.args.get("show") != "all"
    summaries = boards.open_requisition_summaries(
        db.session, user, mine_only=mine_only, page=whole_number(request.args.get("page")) or 1
    )
    tasks = my_tasks(db.session, user)
    return render_template(
        "recruiter/home.html",
        boards=summaries.items,
        summaries=summaries,
        mine_only=mine_only,
        tasks=tasks["items"],
        totals=tasks["totals"],
    )


@web.get("/pipeline/stuck")
def stuck() -> ResponseReturnValue:
    """Applications past their stage's target, oldest first, with who owns the next step."""
    user = web_actor()
    mine_only = request.args.get("show") != "all"
    report = reports.recruiter_stuck(db.session, user, mine_only=mine_only, limit=100)
    return render_template(
        "recruiter/stuck.html", items=report["items"], total=report["total"], mine_only=mine_only
    )


@web.get("/pipeline/requisitions/<int:requisition_id>")
def board(requisition_id: int) -> ResponseReturnValue:
    """The board: a column per stage with its candidates, filtered and searched."""
    return _board_page(requisition_id)


@web.post("/pipeline/applications/<int:application_id>/move")
def move(application_id: int) -> ResponseReturnValue:
    """Move a card to another stage, with a reason; stale and refused moves say why."""
    user = web_actor()
    application = get_application(db.session, user, application_id)
    try:
        data = load_form(MoveSchema(), _fields("from_stage", "to_stage", "reason"))
        applications.move_application(db.session, user, application_id, if_match=_version(), **data)
    except ConflictError as error:
        return _board_page(application.requisition_id, stale=_what_happened(application_id, error))
    except RuleViolationError as error:
        return _board_page(application.requisition_id, refused=(application_id, error))
    moved = get_application(db.session, user, application_id)
    stage = moved.template.stage(moved.stage)
    flash(f"{moved.candidate.name} moved to {stage.name if stage else moved.stage}.", "success")
    return redirect(_back(application.requisition_id, application_id))


@web.post("/pipeline/applications/<int:application_id>/status")
def change_status(application_id: int) -> ResponseReturnValue:
    """Reject (reason code and note), withdraw or reopen an application."""
    user = web_actor()
    application = get_application(db.session, user, application_id)
    action = request.form.get("action", "")
    try:
        if action == "reject":
            data = load_form(RejectSchema(), _fields("reason_code", "note"))
            applications.change_status(
                db.session,
                user,
                application_id,
                "reject",
                rejection_reason=data["reason_code"],
                reason=data["note"],
                if_match=_version(),
            )
        elif action in ("withdraw", "reopen"):
            data = load_form(StatusChangeSchema(), _fields("reason"))
            applications.change_status(
                db.session, user, application_id, action, reason=data["reason"], if_match=_version()
            )
        else:
            raise RuleViolationError(
                "Choose reject, withdraw or reopen.", errors={"action": "unknown action"}
            )
    except ConflictError as error:
        return _board_page(application.requisition_id, stale=_what_happened(application_id, error))
    except RuleViolationError as error:
        return _board_page(application.requisition_id, refused=(application_id, error))
    done = {"reject": "rejected", "withdraw": "withdrawn", "reopen": "reopened"}[action]
    flash(f"{application.candidate.name}'s application {done}.", "success")
    return redirect(_back(application.requisition_id, application_id))


@web.get("/pipeline/applications/<int:application_id>")
def application_page(application_id: int) -> ResponseReturnValue:
    """The candidate, the timeline, the loop with its scorecard states, packet and decision."""
    return render_application(application_id)


def render_application(application_id: int, status: int = 200, **extra: Any) -> tuple[str, int]:
    """The application page; `extra` is for the scheduling forms (errors, what was sent)."""
    user = web_actor()
    boards.require_board_access(user)
    application = get_application(db.session, user, application_id)
    template = application.template
    loop = interviews.get_loop(db.session, user, application_id)
    now = utcnow()
    late_after = timedelta(hours=template.scoring.late_feedback_hours)
    outcome = decisions.application_outcome(db.session, user, application.id)
    context: dict[str, Any] = {
        "schedule_form": {},
        "schedule_error": None,
        "day_of_interviewer": [],
        "interview_error": None,
        **extra,
    }
    return (
        render_template(
            "recruiter/application.html",
            application=application,
            candidate=application.candidate,
            stage_names={s.key: s.name for s in template.stages},
            timeline=applications.application_timeline(db.session, user, application_id),
            loop=loop,
            planned_interviews=template.interviews,
            interviewers=boards.eligible_interviewers(db.session, user),
            scorecard_state=lambda fact: _scorecard_state(fact, now, late_after),
            outcome=outcome,
            statuses=BOARD_STATUSES,
            rejection_labels=REJECTION_LABELS,
            now=now,
            **context,
        ),
        status,
    )


def _scorecard_state(fact: Any, now: Any, late_after: timedelta) -> str:
    """Submitted, owed (the interview happened, no scorecard yet), late (owed past the
    template's deadline), or not due (the interview has not happened)."""
    if fact.scorecard == "submitted":
        return "submitted"
    if fact.status != "completed":
        return "not due"
    due = fact.starts_at + timedelta(minutes=fact.duration_minutes) + late_after
    return "late" if now > due else "owed"


def _board_page(
    requisition_id: int,
    *,
    stale: dict[str, Any] | None = None,
    refused: tuple[int, DomainError] | None = None,
) -> ResponseReturnValue:
    user = web_actor()
    status = request.values.get("board_status") or request.args.get("status", "active")
    if status not in BOARD_STATUSES:
        status = ApplicationStatus.ACTIVE
    filters = {name: request.values.get(name, "") for name in BOARD_FILTERS}
    the_board = boards.requisition_board(
        db.session,
        user,
        requisition_id,
        status=status,
        q=filters["q"],
        past_target_only=filters["past_target"] == "1",
        stage=filters["stage"],
        needs=filters["needs"],
        source=filters["source"],
    )
    code = 409 if stale else 422 if refused else 200
    keep = {request.args.get("card", type=int), refused[0] if refused else None}
    if stale:
        keep.add(stale["application_id"])
    return (
        render_template(
            "recruiter/board.html",
            board=the_board,
            shown={c.key: _shown(the_board, c, filters, keep) for c in the_board.columns},
            stage_names={s.key: s.name for s in the_board.template.stages},
            statuses=BOARD_STATUSES,
            needs=boards.NEEDS,
            filters=filters,
            q=filters["q"],
            past_target_only=filters["past_target"] == "1",
            stale=stale,
            refused_id=refused[0] if refused else None,
            refused=refused[1] if refused else None,
            form=request.form if refused else {},
            rejection_labels=REJECTION_LABELS,
            card_token=generate_csrf(),
            card_urls=_card_urls(),
        ),
        code,
    )


@dataclass(frozen=True)
class ShownCards:
    """The cards a column renders, and the links to the rest."""

    cards: list[boards.Card]
    first: int  # the position of the first shown in the column, from 1
    last: int
    page: int
    pages: int
    more_url: str | None = None  # the board of this column's stage, on the board of every stage
    previous_url: str | None = None  # the pages beside this one, on the board of one stage
    next_url: str | None = None


def _shown(
    board: boards.Board, column: boards.Column, filters: dict[str, str], keep: set[int | None]
) -> ShownCards:
    """A page of the column's cards (its first on the board of every stage), with the
    cards in `keep` (the one a move comes back to, a refused or stale one) wherever they
    sit in it."""
    one_stage = filters["stage"] == column.key
    size = STAGE_PAGE if one_stage else COLUMN_CARDS
    pages = max(1, math.ceil(len(column.cards) / size))
    asked = whole_number(filters["page"])
    page = min(asked, pages) if one_stage and asked else 1
    start = (page - 1) * size
    cards = column.cards[start : start + size]
    shown_ids = {c.application.id for c in cards}
    cards += [c for c in column.cards if c.application.id in keep - shown_ids]

    def board_url(**changes: Any) -> str:
        args = {**filters, "status": board.status, **changes}
        if args["status"] == ApplicationStatus.ACTIVE:
            del args["status"]
        kept = {k: v for k, v in args.items() if v}
        return url_for("web.board", requisition_id=board.requisition.id, **kept)

    return ShownCards(
        cards,
        start + 1,
        min(start + size, len(column.cards)),
        page,
        pages,
        more_url=board_url(stage=column.key, page="") if not one_stage and pages > 1 else None,
        previous_url=board_url(page=str(page - 1)) if page > 1 else None,
        next_url=board_url(page=str(page + 1)) if one_stage and page < pages else None,
    )


def _card_urls() -> dict[str, str]:
    """Each card's links as `str.format` patterns, built once: url_for for each of 500
    cards' four links was a fifth of the board's time."""
    marker = 987654321
    return {
        name: url_for(endpoint, application_id=marker).replace(str(marker), "{}")
        for name, endpoint in (
            ("page", "web.application_page"),
            ("move", "web.move"),
            ("status", "web.change_status"),
        )
    }


def _what_happened(application_id: int, error: ConflictError) -> dict[str, Any]:
    """The refusal, and the latest change to the application: who did what, when, why."""
    timeline = applications.application_timeline(db.session, web_actor(), application_id)
    return {"application_id": application_id, "detail": error.detail, "last": timeline[-1]}


def _fields(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def _version() -> int | None:
    return whole_number(request.form.get("version"))


def load_form(schema: ma.Schema, body: dict[str, Any]) -> dict[str, Any]:
    """The form as the API's body, validated by the API's schema; raises
    RuleViolationError naming each bad field."""
    try:
        data: dict[str, Any] = schema.load(body)
    except ma.ValidationError as error:
        errors = {e["field"]: e["message"] for e in flatten_messages(error.messages)}
        raise RuleViolationError(
            "Some fields need attention: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            errors=errors,
        ) from None
    return data


def _back(requisition_id: int, application_id: int) -> str:
    """The board as it was filtered, scrolled to the card (shown however far down its
    column it now is)."""
    args: dict[str, Any] = {k: v for k in BOARD_FILTERS if (v := request.form.get(k))}
    args["card"] = application_id
    if status := request.form.get("board_status"):
        args["status"] = status
    return (
        url_for("web.board", requisition_id=requisition_id, **args)
        + f"#application-{application_id}"
    )
