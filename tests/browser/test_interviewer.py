"""The interviewer's whole job in a browser: sign in, open the kit, draft (and see a
wording warning while writing), find the panel's feedback closed, submit, then read it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, sign_in

ALEX = "alex@example.com"  # the demo's onsite: Alex ran pair programming this morning
CODING = "Added the cancel endpoint with an idempotency key and a test for double cancel."
TESTING = "Wrote a failing test for the refund timeout first, then made it pass with a retry."


def test_interviewer_drafts_sees_the_warning_submits_and_then_reads_the_panel(
    page: Page, live_server
):
    sign_in(page, live_server, ALEX)
    expect(page.get_by_role("heading", name="My interviews")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Pair programming")).first.click()
    expect(page.get_by_role("heading", name="Questions")).to_be_visible()
    assert_accessible(page)
    panel = page.locator("#panel")
    expect(panel).to_contain_text("You'll see the panel's feedback after you submit yours")

    # Autosave: the biased phrase comes back as a warning under the summary, marked.
    page.get_by_label("Summary").fill("Great culture fit, fast coder.")
    warning = page.locator('[data-warnings-for="summary"] .warning')
    expect(warning).to_contain_text("culture fit")
    expect(page.locator(".autosave-status")).to_contain_text("Draft saved")
    assert_accessible(page)

    # The draft survives a reload.
    page.reload()
    expect(page.get_by_label("Summary")).to_have_value("Great culture fit, fast coder.")
    expect(warning).to_contain_text("culture fit")

    fieldsets = page.locator("fieldset.competency")
    first, second = fieldsets.nth(0), fieldsets.nth(1)
    first.locator('input[type="radio"][value="3"]').check()
    first.get_by_role("textbox").fill(CODING)
    expect(first.locator(".counter")).to_contain_text(f"{len(CODING)} characters")
    second.locator('input[type="radio"][value="3"]').check()
    second.get_by_role("textbox").fill(TESTING)
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("Summary").fill("Careful with money paths; tested the failure cases.")
    page.get_by_role("button", name="Submit scorecard").click()

    expect(page.locator(".flash-success")).to_contain_text("Scorecard submitted")
    expect(panel).not_to_contain_text("after you submit yours")
    expect(panel).to_contain_text("Sam Interviewer")  # the technical screen, submitted earlier
    expect(page.locator("#revisions")).to_contain_text("Revision 1")
    assert_accessible(page)


def test_sign_in_by_keyboard_alone_at_phone_width_and_a_page_not_yours_is_a_404(
    page: Page, live_server
):
    sam = "sam@example.com"  # ran the demo's technical screen (interview 1), submitted
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/interviews")
    assert_accessible(page)  # the sign-in page (the redirect's target)
    page.get_by_label("Email").focus()
    page.keyboard.type(sam)
    page.keyboard.press("Tab")
    page.keyboard.type(live_server.password(sam))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My interviews")).to_be_visible()
    for path in ("/interviews", "/interviews/1"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width} px)"
    page.goto(f"{live_server.url}/interviews/2")  # Alex's interview
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page)


def test_notifications_are_in_the_navigation_and_accessible(page: Page, live_server):
    """(Listing and marking read: tests/web/test_notifications_page.py.)"""
    sign_in(page, live_server, ALEX)
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    assert_accessible(page)
