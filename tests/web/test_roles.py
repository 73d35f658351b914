"""Who may open which page and send which form.

Every user reads every page; products are added and edited by product managers, releases by
release and product managers, SBOMs attached and removed by release, product and security
roles (as in the API), and feed syncs started by security analysts. Admins may do everything.
"""

from __future__ import annotations

import pytest

from fleetcare.intel import tasks
from fleetcare.portfolio import service
from tests.web.conftest import (
    GX3,
    attach,
    audit_count,
    make_product,
    product_count,
    product_fields,
    sbom_bytes,
    sbom_counts,
    upload,
)


def releases_of(database, slug: str) -> list[str]:
    with database.session() as session:
        return [r.version for r in service.list_releases(session, slug)]


@pytest.mark.parametrize("role", ["viewer", "security", "release"])
def test_only_product_managers_open_the_add_product_form(client, log_in, role):
    log_in(client, role)

    response = client.get("/portfolio/new")

    assert response.status_code == 403
    assert f"your role ({role}) may not open this page" in response.text
    assert 'name="support_end"' not in response.text
    assert f"{role}@example.test" in response.text  # still shown as logged in, can log out


@pytest.mark.parametrize("role", ["viewer", "release"])
def test_others_cannot_add_a_product_even_with_a_valid_form(client, database, log_in, role):
    csrf = log_in(client, role)

    response = client.post(
        "/portfolio/new", data={**product_fields(), "csrf_token": csrf}, follow_redirects=False
    )

    assert response.status_code == 403
    assert product_count(database) == 0


def test_viewer_cannot_add_a_release(client, database, log_in):
    slug = make_product(database)
    csrf = log_in(client, "viewer")
    before = audit_count(database)

    response = client.post(
        f"/portfolio/{slug}/releases",
        data={"version": "1.0.0", "kind": "security", "csrf_token": csrf},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert releases_of(database, slug) == []
    assert audit_count(database) == before


def test_viewer_sees_no_buttons_for_things_they_may_not_do(client, database, log_in):
    slug = make_product(database, releases=("1.0.0",))
    log_in(client, "viewer")

    portfolio = client.get("/portfolio").text
    product = client.get(f"/portfolio/{slug}").text

    assert "Gateway X1" in portfolio
    assert "/portfolio/new" not in portfolio
    assert "1.0.0" in product
    assert "Add release" not in product
    assert f"/portfolio/{slug}/edit" not in product
    assert "/status" not in product


def test_product_manager_adds_a_product_through_the_form(client, database, log_in):
    csrf = log_in(client, "product")
    form_page = client.get("/portfolio/new")
    assert form_page.status_code == 200

    response = client.post(
        "/portfolio/new", data={**product_fields(), "csrf_token": csrf}, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/portfolio/gateway-x1"
    page = client.get("/portfolio/gateway-x1")
    assert "Gateway X1" in page.text
    assert "March 2031" in page.text
    assert "Gateway X1" in client.get("/portfolio").text


def test_release_manager_adds_a_release_but_not_a_product(client, database, log_in):
    slug = make_product(database)
    csrf = log_in(client, "release")

    assert client.get("/portfolio/new").status_code == 403
    assert client.get(f"/portfolio/{slug}/edit").status_code == 403
    response = client.post(
        f"/portfolio/{slug}/releases",
        data={
            "version": "1.2.0",
            "release_date": "2025-05-06",
            "kind": "security",
            "released": "1",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert releases_of(database, slug) == ["1.2.0"]
    page = client.get(f"/portfolio/{slug}").text
    assert "1.2.0" in page
    assert "2025-05-06" in page


def test_release_manager_releases_a_draft(client, database, log_in):
    slug = make_product(database, releases=("1.0.0",))
    csrf = log_in(client, "release")

    response = client.post(
        f"/portfolio/{slug}/releases/1.0.0/status",
        data={"status": "released", "csrf_token": csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert "1.0.0" in client.get("/support").text


def test_a_release_that_already_exists_is_refused_on_the_page(client, database, log_in):
    slug = make_product(database, releases=("1.0.0",))
    csrf = log_in(client, "release")

    response = client.post(
        f"/portfolio/{slug}/releases",
        data={"version": "1.0.0", "kind": "feature", "notes": "again", "csrf_token": csrf},
    )

    assert response.status_code == 409
    assert "already has a release" in response.text
    assert releases_of(database, slug) == ["1.0.0"]


def test_a_release_version_with_spaces_is_refused_with_the_field_name(client, database, log_in):
    slug = make_product(database)
    csrf = log_in(client, "release")

    response = client.post(
        f"/portfolio/{slug}/releases",
        data={"version": "1.0 beta", "kind": "feature", "csrf_token": csrf},
    )

    assert response.status_code == 422
    assert "version" in response.text
    assert 'value="1.0 beta"' in response.text
    assert releases_of(database, slug) == []


# --- SBOMs, findings and feeds -----------------------------------------------------------


@pytest.fixture
def attached(feeds_loaded) -> int:
    """The demo portfolio and feeds, with the GX-500 23.05.5-gx3 SBOM attached."""
    return attach(feeds_loaded)


@pytest.mark.parametrize(
    "page",
    [
        GX3,
        f"{GX3}/sbom.cdx.json",
        "/sboms/{document}",
        "/sboms/{document}/quality.json",
        "/findings",
        "/vulnerabilities/CVE-2024-1086",
        "/feeds",
    ],
)
def test_viewers_read_every_sbom_finding_and_feed_page(client, attached, log_in, page):
    log_in(client, "viewer")
    assert client.get(page.format(document=attached)).status_code == 200


def test_viewers_cannot_attach_an_sbom(client, feeds_loaded, log_in):
    csrf = log_in(client, "viewer")
    before = audit_count(feeds_loaded)

    response = upload(client, csrf, sbom_bytes("gx-500-23.05.5-gx3.cdx.json"))

    assert response.status_code == 403
    assert "your role (viewer) may not open this page" in response.text
    assert sbom_counts(feeds_loaded) == (0, 0)
    assert audit_count(feeds_loaded) == before


@pytest.mark.parametrize("role", ["release", "product", "security", "admin"])
def test_release_product_and_security_roles_attach_sboms(client, feeds_loaded, log_in, role):
    csrf = log_in(client, role)
    assert 'action="/portfolio/gateway-gx-500/releases/23.05.5-gx3/sboms"' in client.get(GX3).text

    response = upload(client, csrf, sbom_bytes("gx-500-23.05.5-gx3.cdx.json"))

    assert response.status_code == 303
    assert sbom_counts(feeds_loaded) == (1, 6)


def test_viewers_see_neither_the_upload_nor_the_remove_form(client, attached, log_in):
    log_in(client, "viewer")
    assert 'enctype="multipart/form-data"' not in client.get(GX3).text
    assert "/delete" not in client.get(f"/sboms/{attached}").text


def test_viewers_cannot_remove_an_sbom(client, attached, log_in):
    csrf = log_in(client, "viewer")

    response = client.post(
        f"/sboms/{attached}/delete", data={"csrf_token": csrf, "confirm": "1"}
    )

    assert response.status_code == 403
    assert "your role (viewer) may not open this page" in response.text
    assert client.get(f"/sboms/{attached}").status_code == 200  # still there


@pytest.mark.parametrize("role", ["viewer", "release", "product"])
def test_only_security_analysts_sync_feeds(client, feeds_loaded, log_in, monkeypatch, role):
    queued: list[str] = []
    monkeypatch.setattr(tasks, "sync_feed_online", queued.append)
    csrf = log_in(client, role)

    response = client.post("/feeds/kev/sync", data={"csrf_token": csrf})

    assert response.status_code == 403
    assert f"your role ({role}) may not open this page" in response.text
    assert queued == []
