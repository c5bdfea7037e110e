"""The recruiter's board in a browser: a new candidate's card moved through the stages,
a move the template refuses, a move someone else beat us to, and the application page."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from service.extensions import db
from service.persistence.users import User
from service.usecases import applications, candidates
from tests.browser.conftest import assert_accessible, sign_in

RECRUITER = "recruiter@example.com"
ADMIN = "admin@example.com"


def new_application(live_server, name: str) -> tuple[int, int]:
    """A candidate and their application to the demo's first requisition, made through
    the same use cases as the API's POST /candidates and /applications."""
    with live_server.app.app_context():
        recruiter = db.session.query(User).filter_by(email=RECRUITER).one()
        candidate = candidates.create_candidate(
            db.session, recruiter, {"name": name, "email": "quinn.board@example.org"}
        )
        application = applications.create_application(db.session, recruiter, candidate.id, 1)
        return application.id, application.requisition_id


def someone_else_moves(live_server, application_id: int, from_stage: str, to_stage: str) -> None:
    with live_server.app.app_context():
        admin = db.session.query(User).filter_by(email=ADMIN).one()
        applications.move_application(
            db.session,
            admin,
            application_id,
            from_stage=from_stage,
            to_stage=to_stage,
            reason="Phoned them: great call",
        )


def test_recruiter_moves_a_card_through_refusal_and_a_stale_move(page: Page, live_server):
    application_id, _ = new_application(live_server, "Quinn Boardwalk")
    sign_in(page, live_server, RECRUITER)
    expect(page.get_by_role("heading", name="Pipeline", exact=True)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Backend Engineer")).first.click()
    card = page.locator(f"#application-{application_id}")
    expect(card).to_contain_text("Quinn Boardwalk")
    expect(page.locator("#col-applied").locator("..")).to_contain_text("Quinn Boardwalk")
    assert_accessible(page)

    # A move the template does not allow: refused, saying which moves are.
    card.get_by_text("Move or close").click()
    card.get_by_label("Move to").select_option(label="Offer (not allowed from here)")
    card.get_by_label("Reason for the move").fill("Skip ahead")
    card.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#refused")).to_contain_text("does not allow a move from 'applied'")
    expect(page.locator("#refused")).to_contain_text("Allowed next stages: 'recruiter_screen'")
    assert_accessible(page)

    # An allowed one.
    card = page.locator(f"#application-{application_id}")
    card.get_by_label("Move to").select_option(label="Recruiter screen")
    card.get_by_label("Reason for the move").fill("Strong CV")
    card.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(
        "Quinn Boardwalk moved to Recruiter screen"
    )
    expect(page.locator("#col-recruiter_screen").locator("..")).to_contain_text("Quinn Boardwalk")

    # Someone else moves the card while this page shows it: ours is refused, and says so.
    card = page.locator(f"#application-{application_id}")
    card.get_by_text("Move or close").click()
    someone_else_moves(live_server, application_id, "recruiter_screen", "technical_screen")
    card.get_by_label("Move to").select_option(label="Technical screen")
    card.get_by_label("Reason for the move").fill("Passed the call")
    card.get_by_role("button", name="Move", exact=True).click()
    stale = page.locator("#stale")
    expect(stale).to_contain_text("someone else changed this application first")
    expect(stale).to_contain_text("to Technical screen by Ada Admin")
    expect(stale).to_contain_text("Phoned them: great call")
    expect(page.locator("#col-technical_screen").locator("..")).to_contain_text("Quinn Boardwalk")
    assert_accessible(page)

    # The application page tells the story.
    page.get_by_role("link", name="Quinn Boardwalk").click()
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("from Applied to Recruiter screen by Riley Recruiter")
    expect(timeline).to_contain_text("Strong CV")
    expect(timeline).to_contain_text("by Ada Admin")
    expect(page.locator(".loop")).to_contain_text("Planned, not scheduled")
    assert_accessible(page)


def test_recruiter_schedules_the_loop_sees_a_double_booking_and_resolves_it(
    page: Page, live_server
):
    with live_server.app.app_context():
        recruiter = db.session.query(User).filter_by(email=RECRUITER).one()
        candidate = candidates.create_candidate(
            db.session, recruiter, {"name": "Rae Scheduler", "email": "rae.loop@example.org"}
        )
        application_id = applications.create_application(db.session, recruiter, candidate.id, 1).id
    sign_in(page, live_server, RECRUITER)
    page.goto(f"{live_server.url}/pipeline/applications/{application_id}")
    form = page.locator(".schedule-form")

    def schedule(interview: str, when: str) -> None:
        form.get_by_label("Interview", exact=True).select_option(label=interview)
        form.get_by_label("Interviewer").select_option(label="Kim Interviewer (interviewer)")
        form.get_by_label("Start (UTC)").fill(when)
        form.get_by_role("button", name="Schedule").click()

    schedule("Technical screen (live coding) (Technical screen, 60 min)", "2030-03-04T10:00")
    expect(page.locator(".flash-success")).to_contain_text("Scheduled: Kim Interviewer")
    schedule("System design (Onsite loop, 60 min)", "2030-03-04T10:30")
    error = page.locator("#schedule-error")
    expect(error).to_contain_text("already has interview")
    expect(page.locator(".panel-card")).to_contain_text("other interviews that day")
    expect(form.get_by_label("Start (UTC)")).to_have_value("2030-03-04T10:30")
    assert_accessible(page)
    form.get_by_label("Start (UTC)").fill("2030-03-04T11:00")
    form.get_by_role("button", name="Schedule").click()
    expect(page.locator(".flash-success")).to_contain_text("Scheduled: Kim Interviewer")
    expect(page.locator(".loop")).to_contain_text("4 Mar 2030, 11:00 UTC")


def application_for(live_server, name: str, email: str, *, days_in_stage: float = 0) -> int:
    """A candidate's application to the demo's first requisition, in its first stage since
    `days_in_stage` ago."""
    with live_server.app.app_context():
        recruiter = db.session.query(User).filter_by(email=RECRUITER).one()
        candidate = candidates.create_candidate(
            db.session, recruiter, {"name": name, "email": email}
        )
        application = applications.create_application(db.session, recruiter, candidate.id, 1)
        application.stage_entered_at -= timedelta(days=days_in_stage)
        db.session.commit()
        return application.id


def test_a_mouse_drags_a_card_refused_where_the_template_forbids_and_moved_with_a_reason(
    page: Page, live_server
):
    application_id = application_for(live_server, "Dana Dragged", "dana.drag@example.org")
    sign_in(page, live_server, RECRUITER)
    page.goto(f"{live_server.url}/pipeline/requisitions/1")
    card = page.locator(f"#application-{application_id}")
    expect(page.locator(".drag-hint")).to_be_visible()

    # Applied → Technical screen: the template does not allow it; nothing is sent, the
    # board says why.
    card.locator(".meta").first.drag_to(
        page.locator('section.column[data-stage="technical_screen"]')
    )
    message = page.locator("#drop-message")
    expect(message).to_contain_text(
        "does not allow a move from Applied to Technical screen. Allowed next: Recruiter screen."
    )
    expect(page.locator('section.column[data-stage="applied"]')).to_contain_text("Dana Dragged")
    assert_accessible(page)

    # Applied → Recruiter screen: asks for the reason, then posts the card's move form.
    card.locator(".meta").first.drag_to(
        page.locator('section.column[data-stage="recruiter_screen"]')
    )
    dialog = page.get_by_role("dialog", name="Move Dana Dragged to Recruiter screen")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_label("Reason for the move").fill("Dragged: strong CV")
    dialog.get_by_role("button", name="Move").click()
    expect(page.locator(".flash-success")).to_contain_text("Dana Dragged moved to Recruiter screen")
    expect(page.locator('section.column[data-stage="recruiter_screen"]')).to_contain_text(
        "Dana Dragged"
    )

    # A drop on a card someone else moved meanwhile gets the stale-move answer.
    someone_else_moves(live_server, application_id, "recruiter_screen", "technical_screen")
    page.locator(f"#application-{application_id} .meta").first.drag_to(
        page.locator('section.column[data-stage="technical_screen"]')
    )
    dialog = page.get_by_role("dialog", name="Move Dana Dragged to Technical screen")
    dialog.get_by_label("Reason for the move").fill("Passed the call")
    dialog.get_by_role("button", name="Move").click()
    expect(page.locator("#stale")).to_contain_text("someone else changed this application first")
    expect(page.locator("#stale")).to_contain_text("by Ada Admin")


def test_the_board_filters_work_as_links_without_scripts(page: Page, live_server):
    application_for(live_server, "Fern Filtered", "fern.filter@example.org")
    sign_in(page, live_server, RECRUITER)
    page.goto(f"{live_server.url}/pipeline/requisitions/1")
    page.get_by_label("Stage").select_option(label="Applied")
    page.get_by_label("Search candidates").fill("fern")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"stage=applied"))
    expect(page.locator(".board .card")).to_have_count(1)
    expect(page.locator(".board")).to_contain_text("Fern Filtered")
    assert_accessible(page)


def test_a_double_booking_shows_while_picking_the_time_and_clears_when_it_is_free(
    page: Page, live_server
):
    with live_server.app.app_context():
        recruiter = db.session.query(User).filter_by(email=RECRUITER).one()
        candidate = candidates.create_candidate(
            db.session, recruiter, {"name": "Cy Clash", "email": "cy.clash@example.org"}
        )
        application_id = applications.create_application(db.session, recruiter, candidate.id, 1).id
    sign_in(page, live_server, RECRUITER)
    page.goto(f"{live_server.url}/pipeline/applications/{application_id}")
    form = page.locator(".schedule-form")
    form.get_by_label("Interview", exact=True).select_option(
        label="Technical screen (live coding) (Technical screen, 60 min)"
    )
    form.get_by_label("Interviewer").select_option(label="Lee Interviewer (interviewer)")
    form.get_by_label("Start (UTC)").fill("2030-05-06T14:00")
    check = page.locator("#booking-check")
    expect(check).to_contain_text("Free at this time")
    form.get_by_role("button", name="Schedule").click()
    expect(page.locator(".flash-success")).to_contain_text("Scheduled: Lee Interviewer")

    # Half an hour later overlaps the hour just booked: shown before saving.
    form = page.locator(".schedule-form")
    form.get_by_label("Interview", exact=True).select_option(
        label="System design (Onsite loop, 60 min)"
    )
    form.get_by_label("Interviewer").select_option(label="Lee Interviewer (interviewer)")
    form.get_by_label("Start (UTC)").fill("2030-05-06T14:30")
    check = page.locator("#booking-check")
    expect(check).to_contain_text("Double booking")
    expect(check).to_contain_text("already has interview")
    expect(check).to_contain_text("14:00 to 15:00 UTC")
    assert_accessible(page)

    form.get_by_label("Start (UTC)").fill("2030-05-06T15:00")
    expect(check).to_contain_text("Free at this time")
    expect(check).not_to_contain_text("Double booking")
    form.get_by_role("button", name="Schedule").click()
    expect(page.locator(".flash-success")).to_contain_text("Scheduled: Lee Interviewer")
    expect(page.locator(".loop")).to_contain_text("6 May 2030, 15:00 UTC")


def test_stuck_lists_what_waits_past_its_target_and_who_owns_the_next_step(page: Page, live_server):
    application_id = application_for(
        live_server, "Sol Stuck", "sol.stuck@example.org", days_in_stage=6
    )
    sign_in(page, live_server, RECRUITER)
    page.get_by_role("navigation").get_by_role("link", name="Stuck", exact=True).click()
    expect(page.get_by_role("heading", name="Stuck", exact=True)).to_be_visible()
    row = page.locator(f"#stuck-{application_id}")
    expect(row).to_contain_text("Sol Stuck")
    expect(row).to_contain_text("Applied")
    expect(row).to_contain_text("Move to the next stage, or reject with a reason")
    expect(row).to_contain_text("Riley Recruiter")
    assert_accessible(page)
    row.get_by_role("link", name="Sol Stuck").click()
    expect(page.get_by_role("heading", name=re.compile("Sol Stuck"))).to_be_visible()
