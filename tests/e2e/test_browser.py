"""A product manager's first day, in a real browser: log in, add a product, add a release, and
find the product on the public support page. And what the form says when the CRA's minimum
support period is not met."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from fleetcare.core.auth import Role
from tests.e2e.conftest import log_in, make_user

pytestmark = pytest.mark.browser

EMAIL = "pm@example.test"


@pytest.fixture
def product_manager(database) -> str:
    return make_user(database, EMAIL, Role.PRODUCT)


def fill_product(page: Page, name: str, placed: str, support_end: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Model / type identifier").fill("SH-3")
    page.get_by_label("CRA category").select_option("important_class_i")
    page.get_by_label("Placed on the market").fill(placed)
    page.get_by_label("Support end", exact=True).fill(support_end)


def test_product_manager_adds_a_product_and_a_release(page: Page, live_server, product_manager):
    base = live_server.url
    log_in(page, base, product_manager)

    page.get_by_role("link", name="Add product").click()
    expect(page).to_have_url(f"{base}/portfolio/new")
    fill_product(page, "Sensor Hub S3", placed="2025-04-01", support_end="2032-04-30")
    page.get_by_role("button", name="Save product").click()

    expect(page).to_have_url(f"{base}/portfolio/sensor-hub-s3")
    expect(page.get_by_role("heading", name="Sensor Hub S3", level=1)).to_be_visible()
    expect(page.get_by_text("April 2032").first).to_be_visible()
    timeline = page.get_by_role("img", name=re.compile("^Support timeline: placed on market"))
    expect(timeline).to_be_visible()
    expect(timeline).to_have_attribute("aria-label", re.compile("support end April 2032"))
    expect(page.get_by_text("security support: 2025-04-01 to 2032-04-30")).to_be_visible()

    page.get_by_role("navigation", name="main").get_by_role("link", name="Portfolio").click()
    row = page.locator("#products tr", has_text="Sensor Hub S3")
    expect(row).to_contain_text("April 2032")
    expect(row).to_contain_text("supported")
    row.get_by_role("link", name="Sensor Hub S3").click()

    expect(page).to_have_url(f"{base}/portfolio/sensor-hub-s3")
    releases = page.locator("#releases")
    releases.get_by_label("Version").fill("1.0.0")
    releases.get_by_label("Date").fill("2025-04-01")
    releases.get_by_label("Kind").select_option("security")
    releases.get_by_label("released").check()
    releases.get_by_role("button", name="Add release").click()

    release_row = page.locator("#releases tr", has_text="1.0.0")
    expect(release_row).to_contain_text("released")
    expect(release_row).to_contain_text("2035-04-01")  # Art. 13(9): available for ten years
    expect(timeline.locator("[data-release='1.0.0']")).to_have_count(1)

    # The public page, read by a customer without an account.
    customer = page.context.browser.new_context()
    try:
        public = customer.new_page()
        public.goto(f"{base}/support")
        expect(public.get_by_role("heading", level=1)).to_contain_text("support")
        support_row = public.locator("#sensor-hub-s3")
        expect(support_row).to_contain_text("Sensor Hub S3")
        expect(support_row).to_contain_text("April 2032")
        expect(support_row).to_contain_text("1.0.0")
        expect(public.get_by_text(EMAIL)).to_have_count(0)
    finally:
        customer.close()


def test_a_support_period_that_is_too_short_is_explained_on_the_form(
    page: Page, live_server, product_manager
):
    base = live_server.url
    log_in(page, base, product_manager)
    page.goto(f"{base}/portfolio/new")

    fill_product(page, "Badge B1", placed="2025-04-01", support_end="2027-03-31")
    page.get_by_role("button", name="Save product").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The product was not saved")
    expect(alert).to_contain_text("less than 5 years")
    expect(alert).to_contain_text("CRA Art. 13(8)")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Badge B1")
    expect(page.get_by_label("Support end", exact=True)).to_have_value("2027-03-31")

    page.get_by_role("navigation", name="main").get_by_role("link", name="Portfolio").click()
    expect(page.locator("#products")).to_contain_text("No products yet")
