"""The recruiter's board in a browser: a new candidate's card moved through the stages,
a move the template refuses, a move someone else beat us to, and the application page."""

from __future__ import annotations

import re

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
