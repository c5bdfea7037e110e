"""Screenshots of every page, at desktop (1280 px) and phone (390 px) width, into
docs/screenshots/: the app with the demo data on a loopback port, Debian's chromium.

    .venv/bin/python scripts/screenshots.py [--out DIR] [--only NAME ...]

`SHOTS` lists the pages in the order a day's work reaches them (later shots see what
earlier ones did: the interviewer submits before the panel opens). To add a page,
append a `Shot`: its name (the file's stem), who is signed in, and what to do on the
page before the picture (usually `goto`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.browser.live serves the app

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser.live import LiveServer, serve_demo  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"desktop": 1280, "phone": 390}
ALEX = "alex@example.com"
BIASED = "Great culture fit; quick to pick up our stack."


@dataclass(frozen=True)
class Shot:
    name: str
    email: str | None  # signed in as; None: signed out
    prepare: Callable[[Page, LiveServer], None]


def goto(path: str) -> Callable[[Page, LiveServer], None]:
    def open_page(page: Page, server: LiveServer) -> None:
        page.goto(server.url + path)

    return open_page


def draft_with_a_warning(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/interviews/2")
    page.get_by_label("Summary").fill(BIASED)
    page.locator('[data-warnings-for="summary"] .warning').wait_for()
    page.locator("#summary").scroll_into_view_if_needed()


def submit_with_errors(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/interviews/2")
    page.locator("fieldset.competency").first.locator('input[value="3"]').check()
    page.locator("fieldset.competency").first.get_by_role("textbox").fill("Good code.")
    page.get_by_role("button", name="Submit scorecard").click()
    page.locator(".error-summary").wait_for()


def submit(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/interviews/2")
    evidence = [
        "Added the cancel endpoint with an idempotency key and a test for double cancel.",
        "Asked what happens when the refund times out, then chose retry with the same key.",
    ]
    for index, text in enumerate(evidence):
        fieldset = page.locator("fieldset.competency").nth(index)
        fieldset.locator('input[value="3"]').check()
        fieldset.get_by_role("textbox").fill(text)
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("Summary").fill("Careful with money paths; tested the failure cases.")
    page.get_by_role("button", name="Submit scorecard").click()
    page.locator(".flash-success").wait_for()


RECRUITER = "recruiter@example.com"


def refused_move(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/pipeline/requisitions/1")
    card = page.locator(".column .card").first
    card.get_by_text("Move or close").click()
    card.get_by_label("Move to").select_option(label="Offer (not allowed from here)")
    card.get_by_label("Reason for the move").fill("Skip ahead")
    card.get_by_role("button", name="Move", exact=True).click()
    page.locator("#refused").wait_for()


def drop_refused(page: Page, server: LiveServer) -> None:
    """A mouse drags an Applied card to Technical screen, which the template does not allow."""
    page.goto(server.url + "/pipeline/requisitions/1")
    page.locator('.column[data-stage="applied"] .card .meta').first.drag_to(
        page.locator('.column[data-stage="technical_screen"]')
    )
    page.locator("#drop-message.refused").wait_for()


def drop_asks_the_reason(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/pipeline/requisitions/1")
    page.locator('.column[data-stage="applied"] .card .meta').first.drag_to(
        page.locator('.column[data-stage="recruiter_screen"]')
    )
    page.locator("#move-dialog-reason").fill("Strong CV: payments background")


def booking_conflict(page: Page, server: LiveServer) -> None:
    """Kim has a technical screen tomorrow at 10:00; the system design at 10:30 overlaps,
    shown while picking the time."""
    from datetime import timedelta

    from service.extensions import db
    from service.persistence.base import utcnow
    from service.persistence.users import User
    from service.usecases import interviews

    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    with server.app.app_context():
        recruiter = db.session.query(User).filter_by(email=RECRUITER).one()
        kim = db.session.query(User).filter_by(email="kim@example.com").one()
        interviews.schedule_interview(
            db.session,
            recruiter,
            3,
            interview_key="technical_screen",
            interviewer_id=kim.id,
            starts_at=tomorrow,
        )
    page.goto(server.url + "/pipeline/applications/3")
    form = page.locator(".schedule-form")
    form.get_by_label("Interview", exact=True).select_option("system_design")
    form.get_by_label("Interviewer").select_option(label="Kim Interviewer (interviewer)")
    form.get_by_label("Start (UTC)").fill(f"{tomorrow:%Y-%m-%d}T10:30")
    page.locator("#booking-check.conflict").wait_for()
    page.locator(".schedule-form").scroll_into_view_if_needed()


def stuck(page: Page, server: LiveServer) -> None:
    """The demo's newer applications dated back past their stages' targets, then Stuck."""
    from datetime import timedelta

    from service.extensions import db
    from service.persistence.applications import Application

    with server.app.app_context():
        for application in db.session.query(Application).filter(Application.id > 1):
            application.stage_entered_at -= timedelta(days=4 + application.id)
        db.session.commit()
    page.goto(server.url + "/pipeline/stuck")


ADMIN = "admin@example.com"


def token_issued(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/admin/users")
    page.get_by_label("Name").fill("Nia Newhire")
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_role("button", name="Create user").click()
    page.locator("#secret-value").wait_for()


HM = "hm.backend@example.com"


def complete_the_onsite(page: Page, server: LiveServer) -> None:
    """Every panelist's scorecard in (as `hiring demo-packet` does), then the list."""
    from service.demo import seed_packet_demo
    from service.extensions import db

    with server.app.app_context():
        seed_packet_demo(db.session)
    page.goto(server.url + "/decisions")


def request_a_packet(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/applications/1/assessment")
    page.get_by_label("Named").check()
    page.get_by_role("button", name="Request the packet").click()
    page.get_by_role("link", name="Download the PDF").wait_for()


def decide_against_the_panel_without_rationale(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/applications/1/decision")
    page.get_by_label("No hire").check()
    page.get_by_role("button", name="Record the decision").click()
    page.locator("#rationale-error").wait_for()


def decide(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/applications/1/decision")
    page.get_by_label("Hire", exact=True).check()
    page.get_by_label("Rationale").fill(
        "Strong on code and ownership; the system design gap is coachable."
    )
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_text("Decision recorded.").wait_for()


def reports_demo(path: str) -> Callable[[Page, LiveServer], None]:
    """The reports demo's data (as `hiring demo-reports` makes it, once), then `path`."""

    def open_page(page: Page, server: LiveServer) -> None:
        from service.demo import seed_reports_demo
        from service.extensions import db

        with server.app.app_context():
            seed_reports_demo(db.session)
        page.goto(server.url + path)

    return open_page


def crowded_board(page: Page, server: LiveServer) -> None:
    """Forty more applicants to the first requisition: its Applied column shows its 25
    longest waiting and links to the rest."""
    from service.extensions import db
    from service.persistence.users import User
    from service.usecases import applications, candidates

    with server.app.app_context():
        recruiter = db.session.query(User).filter_by(email=RECRUITER).one()
        for n in range(1, 41):
            candidate = candidates.create_candidate(
                db.session,
                recruiter,
                {"name": f"Applicant {n:02d}", "email": f"crowd.{n:02d}@example.org"},
            )
            applications.create_application(db.session, recruiter, candidate.id, 1)
    page.goto(server.url + "/pipeline/requisitions/1")
    page.locator(".column .more").first.scroll_into_view_if_needed()


SHOTS: list[Shot] = [
    Shot("sign-in", None, goto("/sign-in")),
    Shot("my-interviews", ALEX, goto("/interviews")),
    Shot("kit-draft-warning", ALEX, draft_with_a_warning),
    Shot("kit-submission-errors", ALEX, submit_with_errors),
    Shot("kit-submitted-panel-open", ALEX, submit),
    Shot("not-found", ALEX, goto("/interviews/1")),
    Shot("notifications", ALEX, goto("/notifications")),
    Shot("recruiter-pipeline", RECRUITER, goto("/pipeline")),
    Shot("recruiter-board", RECRUITER, goto("/pipeline/requisitions/1")),
    Shot("recruiter-board-refused-move", RECRUITER, refused_move),
    Shot("recruiter-application", RECRUITER, goto("/pipeline/applications/1")),
    Shot("recruiter-board-drop-refused", RECRUITER, drop_refused),
    Shot("recruiter-board-drop-reason", RECRUITER, drop_asks_the_reason),
    Shot(
        "recruiter-board-scorecards-owed",
        RECRUITER,
        goto("/pipeline/requisitions/1?needs=scorecards"),
    ),
    Shot("recruiter-booking-conflict", RECRUITER, booking_conflict),
    Shot("recruiter-stuck", RECRUITER, stuck),
    Shot("admin-users-token-once", ADMIN, token_issued),
    Shot("decisions-waiting", HM, complete_the_onsite),
    Shot("assessment", HM, goto("/applications/1/assessment")),
    Shot("packet-ready", HM, request_a_packet),
    Shot("decision-refused", HM, decide_against_the_panel_without_rationale),
    Shot("decision-recorded", HM, decide),
    Shot("admin-adverse-impact", ADMIN, reports_demo("/admin/adverse-impact")),
    Shot("admin-calibration", ADMIN, goto("/admin/calibration")),
    Shot("admin-funnel", ADMIN, goto("/admin/funnel")),
    Shot("admin-templates", ADMIN, goto("/admin/templates")),
    Shot("admin-template-diff", ADMIN, goto("/admin/templates/backend_engineer/changes")),
    Shot("recruiter-board-crowded", RECRUITER, crowded_board),  # last: it adds applicants
    Shot("recruiter-board-one-stage", RECRUITER, goto("/pipeline/requisitions/1?stage=applied")),
]


def sign_in(page: Page, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(server.password(email))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="*", help="names of the shots to save")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        serve_demo(Path(folder), None) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        pages: dict[str | None, Page] = {}  # one browser context (session) per user
        for shot in SHOTS:
            if shot.email not in pages:
                pages[shot.email] = browser.new_context().new_page()
                if shot.email:
                    sign_in(pages[shot.email], server, shot.email)
            page = pages[shot.email]
            page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
            shot.prepare(page, server)
            if args.only and shot.name not in args.only:
                continue
            for label, width in WIDTHS.items():
                # The same page at each width: a shot's actions (a submission) happen once.
                page.set_viewport_size({"width": width, "height": 900})
                page.evaluate("window.scrollTo(0, 0)")  # sticky parts where a reader starts
                path = args.out / f"{shot.name}-{label}.png"
                page.screenshot(path=str(path), full_page=True)
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        browser.close()


if __name__ == "__main__":
    main()
