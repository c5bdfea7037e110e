"""The admin's users page in a browser: create a user, see the token once, manage them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, sign_in

ADMIN = "admin@example.com"


def test_admin_creates_a_user_sees_the_token_once_and_deactivates_them(page: Page, live_server):
    sign_in(page, live_server, ADMIN)
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name").fill("Nia Newhire")
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#secret-value")).to_contain_text("hp_")
    assert_accessible(page)

    page.goto(f"{live_server.url}/admin/users?q=nia")
    expect(page.locator("#secret-value")).to_have_count(0)  # shown once
    card = page.locator(".card", has_text="Nia Newhire")
    card.locator("summary").click()
    card.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash-success")).to_contain_text("Nia Newhire deactivated")
    expect(page.locator(".card", has_text="Nia Newhire")).to_contain_text("Deactivated")
    assert_accessible(page)
