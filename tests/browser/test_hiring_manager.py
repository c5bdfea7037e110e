"""The hiring manager's whole job in a browser, with a real worker rendering the packet:
find the decision waiting, read the assessment, request a packet and watch it render,
download it, be refused a decision against the panel without a rationale, then decide.
axe-core checks every page on the way."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from service.demo import seed_packet_demo
from service.extensions import db
from service.usecases.calibration import refit_calibration
from tests.browser.conftest import assert_accessible, sign_in, start_live_worker

MANAGER = "hm.backend@example.com"  # the demo's backend requisition
CANDIDATE = "Jordan Rivera"


@pytest.fixture(scope="module")
def onsite_done(live_server) -> Iterator[None]:
    """The demo onsite with every scorecard in, its calibration refit done here (the
    worker then finds nothing changed, so a packet requested now stays current), and a
    real worker to render packets."""
    with live_server.app.app_context():
        assert seed_packet_demo(db.session) is not None
        refit_calibration(db.session)
    worker = start_live_worker(live_server)
    try:
        yield
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.communicate(timeout=30)  # reads and closes its output pipe


def test_hiring_manager_reads_renders_downloads_and_decides(page: Page, live_server, onsite_done):
    sign_in(page, live_server, MANAGER)
    page.get_by_role("link", name="Decisions waiting").click()
    card = page.locator(".card", has_text=CANDIDATE)
    expect(card).to_contain_text("4 of 5 recommend hiring; one strong no on System design")
    assert_accessible(page)

    card.get_by_role("link", name=re.compile("Read the assessment")).click()
    expect(page.get_by_role("heading", name=f"Assessment of {CANDIDATE}")).to_be_visible()
    expect(page.get_by_role("img", name="Competency profile")).to_be_visible()
    expect(page.locator("#matrix .dissent").first).to_contain_text("dissent")
    expect(page.get_by_role("heading", name="Disagreements")).to_be_visible()
    assert_accessible(page)

    # Request the packet: its page follows the render (queued → ready) by itself.
    page.get_by_label("Named").check()
    page.get_by_role("button", name="Request the packet").click()
    expect(page.get_by_role("heading", name=re.compile(r"Packet version \d"))).to_be_visible()
    download_link = page.get_by_role("link", name="Download the PDF")
    expect(download_link).to_be_visible(timeout=120_000)
    expect(page.get_by_role("status")).to_contain_text("ready")
    assert_accessible(page)
    with page.expect_download() as download:
        download_link.click()
    pdf = download.value
    assert pdf.suggested_filename.endswith(".pdf")
    with open(pdf.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"

    # Against the panel's majority without a rationale: refused, the reason by the field.
    page.get_by_role("link", name="Decide on this packet").click()
    expect(page.get_by_role("heading", name=f"Decision on {CANDIDATE}")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("No hire").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#rationale-error")).to_contain_text(
        "Required when the decision goes against the panel's majority"
    )
    assert_accessible(page)

    page.get_by_label("Hire", exact=True).check()
    page.get_by_label(re.compile("^Rationale")).fill(
        "Strong on code and ownership; the system design gap is coachable."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()
    current = page.locator(".current-decision")
    expect(current).to_contain_text("Hire by")
    expect(current).to_contain_text("the system design gap is coachable")
    assert_accessible(page)
