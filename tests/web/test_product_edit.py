"""The edit page of a product: the add form, filled in, saved through update_product."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from fleetcare.core.models import AuditEvent
from fleetcare.portfolio import service
from tests.web.conftest import audit_count, forms_of, make_product, product_fields


def stored(database, slug: str):
    with database.session() as session:
        return service.product_out(service.get_product(session, slug))


def edit_form(client, slug: str) -> dict[str, str]:
    """The edit form as the browser would submit it unchanged (from the prefilled page)."""
    page = client.get(f"/portfolio/{slug}/edit")
    assert page.status_code == 200
    return forms_of(page.text)[f"/portfolio/{slug}/edit"]


def test_the_product_page_links_to_the_edit_page_for_product_managers(client, database, log_in):
    slug = make_product(database)
    log_in(client, "product")
    assert f'href="/portfolio/{slug}/edit"' in client.get(f"/portfolio/{slug}").text


def test_the_edit_form_is_filled_in_with_the_stored_product(client, database, log_in):
    make_product(database, "Gateway X2")
    slug = make_product(
        database,
        "Gateway X1",
        model_id="GX1",
        end_of_sale=dt.date(2029, 6, 30),
        cra_category="important_class_ii",
        successor="Gateway X2",
        support_justification={"peer_support_periods": "Peers give 7 years"},
    )
    log_in(client, "product")

    page = client.get(f"/portfolio/{slug}/edit").text

    assert "Edit Gateway X1" in page
    form = forms_of(page)[f"/portfolio/{slug}/edit"]
    assert form["name"] == "Gateway X1"
    assert form["model_id"] == "GX1"
    assert form["placed_on_market"] == "2024-03-01"
    assert form["support_end"] == "2031-03-31"
    assert form["end_of_sale"] == "2029-06-30"
    assert form["expected_use_months"] == ""
    assert form["cra_category"] == "important_class_ii"
    assert form["successor"] == "Gateway X2"
    assert form["justification_peer_support_periods"] == "Peers give 7 years"
    assert form["justification_user_expectations"] == ""
    # A product cannot succeed itself, so it is not offered.
    assert '<option value="Gateway X1"' not in page


def test_saving_the_form_unchanged_changes_nothing(client, database, log_in):
    slug = make_product(database, end_of_sale=dt.date(2029, 6, 30), model_id="GX1")
    log_in(client, "product")
    before = (stored(database, slug), audit_count(database))

    response = client.post(f"/portfolio/{slug}/edit", data=edit_form(client, slug))

    assert response.status_code == 200
    assert (stored(database, slug), audit_count(database)) == before


def test_a_product_manager_changes_the_support_end(client, database, log_in):
    slug = make_product(database)
    log_in(client, "product")
    form = edit_form(client, slug)

    response = client.post(
        f"/portfolio/{slug}/edit",
        data={**form, "support_end": "2033-09-30"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/portfolio/{slug}"
    assert "September 2033" in client.get(f"/portfolio/{slug}").text
    assert "September 2033" in client.get("/support").text
    with database.session() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "product.update")
        ).scalar_one()
    assert event.actor == "product@example.test"


def test_renaming_moves_the_product_to_its_new_address(client, database, log_in):
    slug = make_product(database)
    log_in(client, "product")
    form = edit_form(client, slug)

    response = client.post(
        f"/portfolio/{slug}/edit", data={**form, "name": "Gateway X1 Pro"}, follow_redirects=False
    )

    assert response.headers["location"] == "/portfolio/gateway-x1-pro"
    assert "Gateway X1 Pro" in client.get("/portfolio/gateway-x1-pro").text
    assert client.get(f"/portfolio/{slug}").status_code == 404


def test_emptying_an_optional_field_clears_it(client, database, log_in):
    slug = make_product(database, end_of_sale=dt.date(2029, 6, 30))
    log_in(client, "product")
    form = edit_form(client, slug)

    client.post(f"/portfolio/{slug}/edit", data={**form, "end_of_sale": ""})

    assert stored(database, slug).end_of_sale is None


def test_shortening_the_support_period_below_five_years_is_refused(client, database, log_in):
    slug = make_product(database)
    log_in(client, "product")
    form = edit_form(client, slug)
    before = audit_count(database)

    response = client.post(f"/portfolio/{slug}/edit", data={**form, "support_end": "2026-12-31"})

    assert response.status_code == 422
    assert "CRA Art. 13(8)" in response.text
    assert 'value="2026-12-31"' in response.text  # the user's input, to correct
    assert stored(database, slug).support_end == dt.date(2031, 3, 31)
    assert audit_count(database) == before


def test_taking_the_name_of_another_product_is_refused(client, database, log_in):
    make_product(database, "Sensor S2")
    slug = make_product(database)
    log_in(client, "product")
    form = edit_form(client, slug)

    response = client.post(f"/portfolio/{slug}/edit", data={**form, "name": "Sensor S2"})

    assert response.status_code == 409
    assert "already exists" in response.text
    assert "Edit Gateway X1" in response.text
    assert stored(database, slug).name == "Gateway X1"


@pytest.mark.parametrize("method", ["get", "post"])
def test_editing_a_product_that_does_not_exist_says_so(client, log_in, method):
    csrf = log_in(client, "product")
    response = getattr(client, method)(
        "/portfolio/no-such-product/edit",
        **({"data": {**product_fields(), "csrf_token": csrf}} if method == "post" else {}),
    )
    assert response.status_code == 404
    assert "no product" in response.text


def test_viewer_cannot_edit(client, database, log_in):
    slug = make_product(database)
    csrf = log_in(client, "viewer")

    assert client.get(f"/portfolio/{slug}/edit").status_code == 403
    response = client.post(
        f"/portfolio/{slug}/edit",
        data={**product_fields(support_end="2035-01-31"), "csrf_token": csrf},
    )
    assert response.status_code == 403
    assert stored(database, slug).support_end == dt.date(2031, 3, 31)
