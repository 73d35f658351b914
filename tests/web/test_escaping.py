"""Text that people type is shown as text: markup in a product is escaped on every page."""

from __future__ import annotations

import pytest

from tests.web.conftest import make_product

NAME = '<script>alert("name")</script><b onmouseover=x>'
DESCRIPTION = "<img src=x onerror=alert(1)>"
ESCAPED_NAME = "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;&lt;b onmouseover=x&gt;"


@pytest.fixture
def slug(database) -> str:
    make_product(database, "Plain successor")
    return make_product(
        database,
        NAME,
        model_id="<i>GX1</i>",
        description=DESCRIPTION,
        successor="Plain successor",
        support_justification={"user_expectations": "</textarea><script>x()</script>"},
    )


@pytest.mark.parametrize(
    "page", ["/portfolio", "/portfolio/{slug}", "/portfolio/{slug}/edit", "/portfolio/new"]
)
def test_markup_in_a_product_is_escaped_on_dashboard_pages(client, log_in, slug, page):
    log_in(client, "product")

    html = client.get(page.format(slug=slug)).text

    assert "<script>" not in html
    assert "<b onmouseover" not in html
    assert "<img" not in html
    assert "<i>GX1" not in html
    assert "</textarea><script>" not in html
    assert ESCAPED_NAME in html


def test_the_product_name_reaches_the_page_title_escaped(client, log_in, slug):
    log_in(client, "viewer")
    html = client.get(f"/portfolio/{slug}").text
    assert f"<title>{ESCAPED_NAME}" in html


def test_markup_in_a_product_is_escaped_on_the_public_support_page(client, slug):
    html = client.get("/support").text
    assert "<script>" not in html
    assert "<i>GX1" not in html
    assert ESCAPED_NAME in html


def test_markup_in_a_rejected_form_is_escaped_when_the_form_comes_back(client, log_in):
    csrf = log_in(client, "product")
    response = client.post(
        "/portfolio/new",
        data={
            "name": '"><script>alert(1)</script>',
            "placed_on_market": "2024-01-01",
            "support_end": "not a date",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.text
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
