"""A product manager makes an end-of-life plan in a real browser, sends the notice that is due,
sees it in the plan and the delivery log, and finds the public end-of-life page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from fleetcare.core.auth import Role
from tests.e2e.conftest import log_in, make_user
from tests.lifecycle.conftest import make_fleet
from tests.notify_support import jobs, running_smtp


@pytest.fixture
def smtp():
    yield from running_smtp()


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none"}
    )


@pytest.fixture
def wired(settings, database):
    with jobs(settings, database):
        yield


def test_plan_notices_and_public_page(page: Page, live_server, database, settings, smtp, wired):
    support_end = dt.date.today().replace(day=1) + dt.timedelta(days=200)
    make_fleet(database, settings, customers=2, devices_each=3, support_end=support_end, plan=False)
    email = make_user(database, "pm@example.test", Role.PRODUCT)
    base = live_server.url
    log_in(page, base, email)

    page.get_by_role("link", name="End of life").click()
    expect(page.get_by_role("heading", name="End of life")).to_be_visible()
    page.get_by_role("link", name="make a plan").click()
    expect(page.get_by_role("heading", name="End-of-life plan: Thermostat T1")).to_be_visible()
    page.get_by_label("Milestones (months before support end)").fill("12, 6, 3")
    page.get_by_label("Upgrade path").fill("Swap in a Thermostat T2; schedules carry over.")
    page.get_by_label("Factory reset").fill("Hold the dial for ten seconds.")
    page.get_by_role("button", name="Save plan").click()

    schedule = page.locator("#milestones")
    expect(schedule).to_contain_text("12")
    expect(schedule).to_contain_text("scheduled")
    page.get_by_role("button", name="Send due notices now").click()
    notices = page.locator("#notices")
    expect(notices).to_contain_text("6 months before support end")
    expect(notices).to_contain_text("2 sent")
    assert sorted(m["To"] for m in smtp.messages) == ["owner1@example.test", "owner2@example.test"]
    expect(page.locator("#milestones")).to_contain_text("superseded")

    notices.get_by_role("link", name="2 sent").click()
    expect(page.locator("#deliveries")).to_contain_text("owner1@example.test")

    page.goto(f"{base}/support")
    page.get_by_role("link", name="notice and decommissioning guide").click()
    expect(
        page.get_by_role("heading", name="End of security support: Thermostat T1")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("Hold the dial for ten seconds.")
    expect(page.locator("main")).to_contain_text("Swap in a Thermostat T2")
