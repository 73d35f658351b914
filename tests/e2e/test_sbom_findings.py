"""A release manager's SBOM in a real browser: attach it on the release page, read what it
brings (a known exploited vulnerability among them), narrow the findings, and open the
vulnerability. A refused file first: its error is shown and nothing is stored."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fleetcare.core.auth import Role
from fleetcare.intel import service as intel
from tests.e2e.conftest import log_in, make_user
from tests.pipeline.conftest import FEEDS, SBOMS, portfolio_db

__all__ = ["portfolio_db"]  # the demo products and releases, a fixture

pytestmark = pytest.mark.browser

EMAIL = "rm@example.test"
RELEASE = "/portfolio/gateway-gx-500/releases/23.05.5-gx3"


@pytest.fixture
def release_manager(portfolio_db) -> str:
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        session.commit()
    return make_user(portfolio_db, EMAIL, Role.RELEASE)


def test_release_manager_attaches_an_sbom_and_follows_a_finding(
    page: Page, live_server, release_manager, tmp_path
):
    base = live_server.url
    log_in(page, base, release_manager)

    page.get_by_role("link", name="Gateway GX-500").first.click()
    page.locator("#releases-table").get_by_role("link", name="23.05.5-gx3").click()
    expect(page).to_have_url(f"{base}{RELEASE}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("23.05.5-gx3")
    expect(page.locator("#sboms")).to_contain_text("No SBOM attached yet")

    broken = tmp_path / "broken.cdx.json"
    broken.write_text('{"bomFormat": "CycloneDX", "specVersion": "9.9", "components": []}')
    page.get_by_label("SBOM file").set_input_files(broken)
    page.get_by_role("button", name="Attach SBOM").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("“broken.cdx.json” was not attached; nothing was stored")
    expect(alert).to_contain_text("9.9")
    expect(page.locator("#sboms")).to_contain_text("No SBOM attached yet")

    page.get_by_label("SBOM file").set_input_files(SBOMS / "gx-500-23.05.5-gx3.cdx.json")
    page.get_by_role("button", name="Attach SBOM").click()
    expect(page).to_have_url(re.compile(re.escape(f"{base}{RELEASE}?attached=")))
    expect(page.get_by_role("status").first).to_contain_text(
        "gx-500-23.05.5-gx3.cdx.json was attached: 6 components"
    )
    findings = page.locator("table.findings tbody tr")
    expect(findings).to_have_count(3)
    expect(findings.first).to_contain_text("CVE-2024-1086")
    expect(findings.first).to_contain_text("candidate actively exploited — Article 14")
    expect(page.locator("table.components tbody tr")).to_have_count(6)

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download SBOM")).click()
    assert download.value.suggested_filename == "gateway-gx-500-23.05.5-gx3.cdx.json"

    page.get_by_label("Minimum severity").select_option("critical")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"severity=critical"))
    expect(findings).to_have_count(2)
    expect(page.locator("table.findings")).not_to_contain_text("CVE-2024-1086")
    page.get_by_role("link", name="Clear filters").click()
    expect(findings).to_have_count(3)

    findings.first.get_by_role("link", name="CVE-2024-1086").click()
    expect(page).to_have_url(f"{base}/vulnerabilities/CVE-2024-1086")
    expect(page.get_by_role("heading", level=1)).to_have_text("CVE-2024-1086")
    expect(page.get_by_text("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H").first).to_be_visible()
    affected = page.locator("#affected tbody tr")
    expect(affected).to_have_count(1)
    expect(affected.first).to_contain_text("Gateway GX-500")
    expect(affected.first).to_contain_text("5.15.149")

    page.get_by_role("navigation", name="main").get_by_role("link", name="Findings").click()
    expect(page.get_by_role("note")).to_contain_text("1 finding is a candidate")
    page.get_by_role("navigation", name="main").get_by_role("link", name="Feeds").click()
    expect(page.locator("#feed-kev")).to_contain_text("ok")
    expect(page.get_by_role("button", name=re.compile("Sync .* now"))).to_have_count(0)
