"""The admin's fairness, calibration and template pages in a browser, on the demo data
with the reports demo (`hiring demo-reports`): adverse impact with its verdicts and
suppressed groups and the age of its figures, the calibration chart, its table searched
by name and its figures counted again ("Refresh now"), and a template diff."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from service.demo import seed_reports_demo
from service.extensions import db
from tests.browser.conftest import assert_accessible, sign_in

ADMIN = "admin@example.com"


@pytest.fixture(scope="module", autouse=True)
def reports_demo(live_server):
    with live_server.app.app_context():
        assert seed_reports_demo(db.session) is not None


def test_admin_reads_adverse_impact_and_calibration_and_opens_a_template_diff(
    page: Page, live_server
):
    sign_in(page, live_server, ADMIN)
    page.get_by_role("link", name="Adverse impact").click()
    expect(page.get_by_role("heading", name="Adverse impact", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="What these figures do not prove")).to_be_visible()
    screen = page.locator(".step", has_text="reached Recruiter screen").first
    expect(screen.get_by_role("row", name="hispanic or latino")).to_contain_text("adverse impact")
    expect(screen.get_by_role("row", name="white")).to_contain_text("reference group")
    expect(screen.get_by_role("row", name="asian")).to_contain_text("insufficient data")
    expect(page.get_by_role("link", name="Download these figures (CSV)")).to_be_visible()
    expect(page.locator("#snapshot-age")).to_contain_text("Figures as of")
    assert_accessible(page)

    page.get_by_role("link", name="Calibration").click()
    chart = page.get_by_role("img", name="Interviewer leniency (main pool)")
    expect(chart).to_be_visible()
    expect(page.locator("#leniency-table")).to_contain_text("Noor Interviewer")
    page.get_by_label("Interviewer's name contains").fill("noor")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#leniency-table tbody tr")).to_have_count(1)
    expect(page.get_by_text("1 whose name contains “noor”.").first).to_be_visible()
    page.get_by_role("button", name="Refresh now").click()
    expect(page.locator("#snapshot-age")).to_contain_text("less than a minute ago")
    expect(page.get_by_role("heading", name="Reliability per competency")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download reliability (CSV)").click()
    assert download.value.suggested_filename == "reliability.csv"
    assert_accessible(page)

    page.get_by_role("link", name="Templates").click()
    section = page.locator("#template-backend_engineer")
    expect(section.locator("#version-backend_engineer-2")).to_contain_text(
        "Backend Engineer, Payments"
    )
    section.get_by_role("button", name="Show what changed").click()
    expect(
        page.get_by_role("heading", name="Backend Software Engineer: version 1 → 2")
    ).to_be_visible()
    expect(page.get_by_text("Applied: target 3 → 2 days.")).to_be_visible()
    expect(page.get_by_text("Coding, level 3 (Good): anchor reworded.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Pipeline funnel").click()
    expect(page.get_by_role("img", name="Pipeline funnel")).to_be_visible()
    assert_accessible(page)
