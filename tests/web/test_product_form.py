"""The add-product form: CRA support period rules, and nothing stored when a rule is broken."""

from __future__ import annotations

from fleetcare.portfolio.rules import JUSTIFICATION_FACTORS
from tests.web.conftest import audit_count, make_product, product_count, product_fields

SHORT = {"placed_on_market": "2025-01-01", "support_end": "2028-01-31"}


def test_a_support_period_under_five_years_needs_a_justification(client, database, log_in):
    csrf = log_in(client, "product")
    before = audit_count(database)

    response = client.post(
        "/portfolio/new", data={**product_fields("Tag T1", **SHORT), "csrf_token": csrf}
    )

    assert response.status_code == 422
    assert "The product was not saved" in response.text
    assert "less than 5 years after placing on the market" in response.text
    assert "CRA Art. 13(8)" in response.text
    assert "earliest allowed: 2030-01-01" in response.text
    # The rule names the form's field, not the API's.
    assert "set “Expected use time (months)”" in response.text
    # The form comes back filled in, so that the user can fix it rather than start again.
    assert 'value="Tag T1"' in response.text
    assert 'value="2028-01-31"' in response.text
    assert product_count(database) == 0
    assert audit_count(database) == before


def test_a_short_expected_use_time_still_needs_every_factor_justified(client, database, log_in):
    csrf = log_in(client, "product")
    fields = product_fields("Tag T1", expected_use_months=36, **SHORT)
    fields["justification_user_expectations"] = "Single-season event badge"

    response = client.post("/portfolio/new", data={**fields, "csrf_token": csrf})

    assert response.status_code == 422
    assert "must be justified against every factor" in response.text
    assert "Single-season event badge" in response.text
    assert "the nature of the product and its intended purpose”" in response.text
    assert product_count(database) == 0


def test_a_short_period_with_expected_use_time_and_full_justification_is_saved(
    client, database, log_in
):
    csrf = log_in(client, "product")
    fields = product_fields("Tag T1", expected_use_months=36, **SHORT)
    for key in JUSTIFICATION_FACTORS:
        fields[f"justification_{key}"] = f"reason for {key}"

    response = client.post("/portfolio/new", data={**fields, "csrf_token": csrf})

    assert response.status_code == 200  # followed the redirect to the product page
    assert str(response.url).endswith("/portfolio/tag-t1")
    assert "January 2028" in response.text
    assert "reason for operating_environment" in response.text
    assert product_count(database) == 1


def test_a_date_that_is_not_a_date_is_refused_with_the_field_name(client, database, log_in):
    csrf = log_in(client, "product")

    response = client.post(
        "/portfolio/new",
        data={**product_fields(support_end="31/03/2031"), "csrf_token": csrf},
    )

    assert response.status_code == 422
    assert "Support end: Input should be a valid date" in response.text
    assert product_count(database) == 0


def test_end_of_sale_after_support_end_is_refused(client, database, log_in):
    csrf = log_in(client, "product")

    response = client.post(
        "/portfolio/new",
        data={**product_fields(end_of_sale="2032-01-01"), "csrf_token": csrf},
    )

    assert response.status_code == 422
    assert "may not be sold once its support period has ended" in response.text
    assert product_count(database) == 0


def test_a_second_product_with_the_same_name_is_refused(client, database, log_in):
    make_product(database, "Gateway X1")
    csrf = log_in(client, "product")

    response = client.post(
        "/portfolio/new", data={**product_fields("gateway x1"), "csrf_token": csrf}
    )

    assert response.status_code == 409
    assert "already exists" in response.text
    assert product_count(database) == 1


def test_the_successor_is_chosen_from_the_existing_products(client, database, log_in):
    make_product(database, "Gateway X2")
    csrf = log_in(client, "product")
    assert '<option value="Gateway X2"' in client.get("/portfolio/new").text

    client.post(
        "/portfolio/new", data={**product_fields(successor="Gateway X2"), "csrf_token": csrf}
    )

    page = client.get("/portfolio/gateway-x1").text
    assert "Gateway X2" in page
    support = client.get("/support").text
    assert "Gateway X2" in support.split('id="gateway-x1"', 1)[1].split("</tr>", 1)[0]
