"""The public support page: no login, and the support end as month and year (Art. 13(19))."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.portfolio import service
from tests.web.conftest import make_product


def row(html: str, slug: str) -> str:
    return html.split(f'id="{slug}"', 1)[1].split("</tr>", 1)[0]


def test_anyone_can_read_the_support_page_without_logging_in(client, database):
    make_product(database, "Gateway X1", support_end=dt.date(2031, 3, 31))

    response = client.get("/support", follow_redirects=False)

    assert response.status_code == 200
    assert "Gateway X1" in response.text
    assert "March 2031" in row(response.text, "gateway-x1")
    assert "Log out" not in response.text
    assert 'href="/api/v1/public/support"' in response.text


def test_each_product_shows_whether_it_is_still_supported(client, database, monkeypatch):
    today = dt.date(2026, 6, 1)
    monkeypatch.setattr(service, "today", lambda: today)
    make_product(database, "Old Hub", placed=dt.date(2015, 1, 1), support_end=dt.date(2020, 12, 31))
    make_product(
        database, "Gateway X1", placed=dt.date(2021, 9, 1), support_end=dt.date(2027, 2, 28)
    )
    make_product(
        database, "Sensor S2", placed=dt.date(2025, 1, 1), support_end=dt.date(2032, 10, 31)
    )

    html = client.get("/support").text

    assert "December 2020" in row(html, "old-hub")
    assert "support ended" in row(html, "old-hub")
    assert "February 2027" in row(html, "gateway-x1")
    assert "ends within 12 months" in row(html, "gateway-x1")
    assert "October 2032" in row(html, "sensor-s2")
    assert "supported" in row(html, "sensor-s2")
    # Alphabetical, so a customer finds a product without knowing anything else about it.
    assert html.index('id="gateway-x1"') < html.index('id="old-hub"') < html.index('id="sensor-s2"')


def test_the_support_page_shows_only_released_firmware(client, database, log_in):
    slug = make_product(database, releases=("1.0.0",))
    assert "1.0.0" not in row(client.get("/support").text, slug)

    csrf = log_in(client, "release")
    client.post(
        f"/portfolio/{slug}/releases/1.0.0/status", data={"status": "released", "csrf_token": csrf}
    )

    assert "1.0.0" in row(client.get("/support").text, slug)


@pytest.mark.parametrize("logged_in_as", [None, "viewer"])
def test_the_home_page_leads_to_the_portfolio(client, log_in, logged_in_as):
    if logged_in_as:
        log_in(client, logged_in_as)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/portfolio"
