"""A security analyst in a real browser: triage a finding (a refused, incomplete decision first),
write an advisory for it, publish it, and read it on the public advisory page."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import Page, expect

from fleetcare.advisories import service as advisories
from fleetcare.core.auth import Role
from tests.e2e.conftest import log_in, make_user
from tests.pipeline.conftest import portfolio_db  # noqa: F401 - a fixture
from tests.triage.conftest import findings_db  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed"),
]


@pytest.fixture
def analyst(findings_db, settings):  # noqa: F811
    yield make_user(findings_db, "psirt@example.test", Role.SECURITY)
    advisories.signer(settings).stop_agent()


def test_triage_a_finding_and_publish_an_advisory(page: Page, live_server, analyst):
    base = live_server.url
    log_in(page, base, analyst)

    page.get_by_role("navigation", name="main").get_by_role("link", name="Triage").click()
    undecided = page.locator("#undecided tr", has_text="CVE-2023-38545").filter(
        has_text="Gateway GX-500 23.05.5-gx3")
    undecided.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CVE-2023-38545 in libcurl")
    expect(page.get_by_text("Under investigation").first).to_be_visible()

    page.get_by_label("VEX status").select_option("affected")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("alert")).to_contain_text("action statement")

    page.get_by_label("VEX status").select_option("fixed")
    page.get_by_label("Fixed in release (fixed)").select_option("24.10.2-gx5")
    page.get_by_label("Reason (kept in the history)").fill("curl 8.4.0 ships in gx5")
    page.get_by_role("button", name="Save decision").click()
    expect(page).to_have_url(re.compile(r"/findings/\d+/triage$"))
    expect(page.locator("table", has_text="curl 8.4.0 ships in gx5")).to_be_visible()

    page.get_by_role("navigation", name="main").get_by_role("link", name="Advisories").click()
    page.get_by_label("Title").fill("Gateway GX-500: curl SOCKS5 heap overflow")
    page.get_by_label("Product").select_option("gateway-gx-500")
    page.get_by_label("Vulnerabilities (CVE or other ids, separated by spaces)").fill(
        "CVE-2023-38545")
    page.get_by_label("Summary for users").fill("Update to firmware 24.10.2-gx5.")
    page.get_by_role("button", name="Create draft").click()
    expect(page).to_have_url(re.compile(r"/advisories/FCSA-\d{4}-0001$"))
    expect(page.get_by_text("Passes the CSAF 2.0 schema and every mandatory test")).to_be_visible()
    page.get_by_role("button", name="Publish").click()

    expect(page.locator("h1 + .flag, .flag", has_text="final").first).to_be_visible()
    page.get_by_role("link", name="the public page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Gateway GX-500: curl SOCKS5 heap overflow")
    expect(page.get_by_text("Update to firmware 24.10.2-gx5").first).to_be_visible()
    expect(page.get_by_text("Gateway GX-500 23.05.5-gx3").first).to_be_visible()
