"""An outsider reports a vulnerability in a real browser, with no account; the security team
answers and leaves an internal note; the reporter follows it all through the private status link
and answers back, and never sees the internal note."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from fleetcare.core import auth
from fleetcare.core.auth import Role, system_principal
from tests.conftest import TEST_PASSWORD
from tests.notify_support import jobs, running_smtp
from tests.web.conftest import make_product

pytestmark = pytest.mark.browser

PSIRT = "psirt@example.test"
REPORTER = "ada@research.example"
INTERNAL = "Internal only: the bug comes from the vendor SDK, do not mention it"


@pytest.fixture(scope="module")
def smtp():
    yield from running_smtp()


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
    })


@pytest.fixture
def live_server(settings, database, live_server):
    with jobs(settings, database):
        yield live_server


@pytest.fixture
def team(database) -> str:
    with database.session() as session:
        auth.create_user(session, email=PSIRT, role=Role.SECURITY, password=TEST_PASSWORD,
                         actor=system_principal("tests", via="cli"))
        session.commit()
    make_product(database, "Gateway X1", releases=("1.0.0",))
    return PSIRT


def team_logs_in(page: Page, base: str) -> None:
    page.goto(f"{base}/disclosure")
    expect(page).to_have_url(re.compile(r"/login\?next=/disclosure$"))
    page.get_by_label("Email").fill(PSIRT)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Vulnerability reports")).to_be_visible()


def test_an_anonymous_report_followed_through_the_status_link(page: Page, live_server, team,
                                                              smtp):
    base = live_server.url
    smtp.clear()

    # The reporter: no account, just the public form.
    page.goto(f"{base}/security/report")
    expect(page.get_by_role("heading", name="Report a vulnerability")).to_be_visible()
    page.get_by_label("Product", exact=True).select_option(label="Gateway X1")
    page.get_by_label("Affected version").fill("1.0.0")
    page.get_by_label("Summary").fill("Unauthenticated firmware upload")
    page.get_by_label("Description").fill("POST /cgi-bin/upload takes firmware without a login.")
    page.get_by_label("Your name").fill("Ada Finder")
    page.get_by_label("Email", exact=True).fill(REPORTER)
    page.get_by_label("by email").check()
    page.get_by_label("Credit me publicly").check()
    expect(page.locator("#website")).not_to_be_visible()  # the honeypot stays out of sight
    page.wait_for_timeout(3200)  # a person takes a few seconds; the form knows robots do not
    page.get_by_role("button", name="Send report").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("report VR-")
    tracking_id = re.search(r"VR-[0-9A-Z]{4}-[0-9A-Z]{4}", heading.inner_text()).group(0)
    link = page.locator("#status-link").get_attribute("href")
    assert link
    assert "/security/report/status?token=" in link
    [receipt] = smtp.to(REPORTER)
    assert link in receipt.get_content()

    # The link names the configured public address; this test server listens elsewhere.
    parts = urlsplit(link)
    reporter = page
    reporter.goto(f"{base}{parts.path}?{parts.query}")
    expect(reporter.locator("#report-status")).to_have_text("received")
    expect(reporter.locator("#messages")).to_contain_text(f"Report {tracking_id} received")

    # The security team, in its own browser session.
    team_context = page.context.browser.new_context()
    try:
        psirt = team_context.new_page()
        team_logs_in(psirt, base)
        psirt.get_by_role("link", name=tracking_id).click()
        expect(psirt.get_by_role("heading", name="Unauthenticated firmware upload")).to_be_visible()
        psirt.get_by_label("Message", exact=True).fill(INTERNAL)
        psirt.get_by_label("Internal note: the reporter never sees it").check()
        psirt.get_by_role("button", name="Add to conversation").click()
        expect(psirt.locator("#thread")).to_contain_text(INTERNAL)
        psirt.get_by_label("Message", exact=True).fill("Thank you, we can reproduce it.")
        psirt.get_by_role("button", name="Add to conversation").click()
        psirt.get_by_label("New status").select_option("triaging")
        psirt.get_by_label("Message to the reporter (optional)").fill("Assessing affected models.")
        psirt.get_by_role("button", name="Change status").click()
        expect(psirt.locator("#report-status")).to_have_text("being triaged")

        # The reporter sees progress and the team's messages, never the internal note.
        reporter.reload()
        expect(reporter.locator("#report-status")).to_have_text("being triaged")
        messages = reporter.locator("#messages")
        expect(messages).to_contain_text("Thank you, we can reproduce it.")
        expect(messages).to_contain_text("Assessing affected models.")
        expect(reporter.get_by_text("vendor SDK")).to_have_count(0)
        assert "vendor SDK" not in reporter.content()
        expect(reporter.get_by_text(PSIRT)).to_have_count(0)

        reporter.get_by_label("Your message").fill("Great. I can test a fix if you like.")
        reporter.get_by_role("button", name="Send message").click()
        expect(reporter.locator("#messages")).to_contain_text("I can test a fix")

        psirt.reload()
        expect(psirt.locator("#thread")).to_contain_text("I can test a fix")
    finally:
        team_context.close()

    # A guessed link finds nothing.
    reporter.goto(f"{base}/security/report/status?token={'A' * 43}")
    expect(reporter.get_by_role("heading", level=1)).to_contain_text("Not found")
