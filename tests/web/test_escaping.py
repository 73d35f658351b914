"""Text that people type or upload is shown as text: markup in a product, or in any field of an
uploaded SBOM, is escaped on every page that shows it."""

from __future__ import annotations

import json

import pytest

from tests.web.conftest import GX3, make_product, upload

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


# --- what an uploaded SBOM says ------------------------------------------------------------

#: A CycloneDX SBOM whose every free-text field carries markup. The component's CPE is real, so
#: it matches CVE-2022-48174 and reaches the findings and vulnerability pages too.
HOSTILE_SBOM = json.dumps({
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "metadata": {
        "timestamp": "2026-01-01T00:00:00Z",
        "authors": [{"name": "<svg onload=alert('author')>", "email": "a@example.test"}],
        "component": {"type": "firmware", "bom-ref": "fw", "name": "<iframe src=//evil>",
                      "version": "1"},
    },
    "components": [{
        "type": "library",
        "bom-ref": "c1",
        "group": "<marquee>group",
        "name": '<script>alert("component")</script>',
        "version": '1.36.1"><img src=x onerror=alert(2)>',
        "supplier": {"name": "<img src=x onerror=alert('supplier')>",
                     "url": ["https://e.example/<u>x"]},
        "purl": "pkg:generic/%3Cscript%3Ealert@1.0?download_url=https://x.example/%3Cb%3E",
        "cpe": "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*",
        "licenses": [{"license": {"name": "<em>licence</em>"}}],
    }],
}).encode()
MARKUP = ("<script", "<img", "<svg onload", "<iframe", "<marquee", "<em>", "<u>", "<b onmouseover")


@pytest.fixture
def hostile(client, feeds_loaded, log_in) -> str:
    csrf = log_in(client, "release")
    response = upload(client, csrf, HOSTILE_SBOM, name="<b onmouseover=x>evil.json")
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


@pytest.mark.parametrize(
    "page",
    [
        GX3,
        "/sboms/1",
        "/findings",
        "/findings?product=gateway-gx-500&release=23.05.5-gx3",
        "/vulnerabilities/CVE-2022-48174",
        "/portfolio/gateway-gx-500",
    ],
)
def test_markup_in_an_uploaded_sbom_is_escaped(client, hostile, page):
    html = client.get(page).text

    assert [m for m in MARKUP if m in html] == []
    assert "&lt;script&gt;alert(&#34;component&#34;)&lt;/script&gt;" in html or page.startswith(
        "/portfolio/"
    )


def test_the_release_page_shows_hostile_fields_as_text(client, hostile):
    html = client.get(GX3).text
    assert "&lt;b onmouseover=x&gt;evil.json" in html
    assert "&lt;img src=x onerror=alert(&#39;supplier&#39;)&gt;" in html
    assert "1.36.1&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "pkg:generic/%3Cscript%3Ealert@1.0" in html
    assert "&lt;marquee&gt;group" in html


def test_the_quality_page_shows_hostile_fields_as_text(client, hostile):
    html = client.get("/sboms/1").text
    assert "&lt;svg onload=alert(&#39;author&#39;)&gt;" in html
    assert "&#39;&lt;em&gt;licence&lt;/em&gt;&#39; is not an SPDX identifier" in html
    assert "&lt;iframe src=//evil&gt;" in html
