"""The product page: support dates, the timeline, and what can be done with each release."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.portfolio import service
from fleetcare.portfolio.schemas import ReleaseIn
from tests.web.conftest import SETUP, forms_of, make_product


@pytest.fixture
def today(monkeypatch) -> dt.date:
    day = dt.date(2026, 11, 29)
    monkeypatch.setattr(service, "today", lambda: day)
    return day


def add_release(database, slug: str, version: str, day: dt.date, kind: str, status: str) -> None:
    with database.session() as session:
        service.create_release(
            session,
            slug,
            ReleaseIn(version=version, release_date=day, kind=kind, status=status),
            actor=SETUP,
        )
        session.commit()


def test_the_page_shows_the_support_end_and_the_time_left(client, database, log_in, today):
    slug = make_product(database, support_end=dt.date(2031, 9, 30))
    log_in(client, "viewer")

    page = client.get(f"/portfolio/{slug}").text

    assert "September 2031" in page
    assert "4 years 10 months left" in page
    assert "Documentation kept until" in page
    assert "2034-03-01" in page  # ten years after placing on the market (Art. 13(13))


def test_the_timeline_marks_each_release_and_today(client, database, log_in, today):
    slug = make_product(database)
    add_release(database, slug, "1.0.0", dt.date(2024, 3, 1), "feature", "released")
    add_release(database, slug, "1.0.1", dt.date(2025, 2, 1), "security", "released")
    log_in(client, "viewer")

    page = client.get(f"/portfolio/{slug}").text

    assert '<svg class="timeline" role="img"' in page
    assert (
        'aria-label="Support timeline: placed on market March 2024, support end March 2031' in page
    )
    assert 'class="release feature" data-release="1.0.0"' in page
    assert 'class="release security" data-release="1.0.1"' in page
    assert 'class="today"' in page
    assert "today: 2026-11-29" in page


def test_security_releases_that_must_stay_available_cannot_be_withdrawn(
    client, database, log_in, today
):
    slug = make_product(database)
    add_release(database, slug, "1.0.0", dt.date(2024, 3, 1), "feature", "released")
    add_release(database, slug, "1.0.1", dt.date(2025, 2, 1), "security", "released")
    csrf = log_in(client, "release")

    page = client.get(f"/portfolio/{slug}").text
    forms = forms_of(page)

    assert f"/portfolio/{slug}/releases/1.0.0/status" in forms
    assert f"/portfolio/{slug}/releases/1.0.1/status" not in forms
    assert "kept available" in page
    assert "2035-02-01" in page  # Art. 13(9): ten years after it was issued

    response = client.post(
        f"/portfolio/{slug}/releases/1.0.1/status", data={"status": "withdrawn", "csrf_token": csrf}
    )
    assert response.status_code == 422
    assert "CRA Art. 13(9) requires it to stay available until 2035-02-01" in response.text


def test_a_feature_release_can_be_withdrawn(client, database, log_in, today):
    slug = make_product(database)
    add_release(database, slug, "1.0.0", dt.date(2024, 3, 1), "feature", "released")
    csrf = log_in(client, "release")

    response = client.post(
        f"/portfolio/{slug}/releases/1.0.0/status",
        data={"status": "withdrawn", "csrf_token": csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    page = client.get(f"/portfolio/{slug}").text
    assert '<span class="state withdrawn">withdrawn</span>' in page
    assert f"/portfolio/{slug}/releases/1.0.0/status" not in forms_of(page)


def test_an_unknown_product_is_a_not_found_page(client, log_in):
    log_in(client, "viewer")
    response = client.get("/portfolio/no-such-product")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert "no product &#39;no-such-product&#39;" in response.text


@pytest.mark.parametrize("path", ["/login", "/support", "/portfolio", "/portfolio/gateway-x1"])
def test_pages_forbid_framing_scripts_and_foreign_content(client, database, log_in, path):
    make_product(database)
    log_in(client, "viewer")

    response = client.get(path)

    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "script-src" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_with_a_users_data_are_not_cached_but_the_public_page_may_be(client, log_in):
    log_in(client, "viewer")
    assert client.get("/portfolio").headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/support").headers
