"""The release page: its SBOMs, components and findings, the upload form and the export."""

from __future__ import annotations

import json

import pytest

from fleetcare.sbom.parse import DEFAULT_MAX_BYTES
from tests.conftest import TEST_PASSWORD
from tests.web.conftest import (
    GX3,
    attach,
    audit_count,
    forms_of,
    sbom_bytes,
    sbom_counts,
    submit_login,
    table_rows,
    upload,
)

GX3_FINDINGS = ["CVE-2024-1086", "CVE-2023-38545", "CVE-2022-48174"]


def finding_ids(html: str) -> list[str]:
    """The vulnerability ids of the findings table, in the order shown."""
    return [row[0].split()[0] for row in table_rows(html, "findings") if len(row) > 1]


def test_release_manager_attaches_an_sbom_and_sees_its_findings(
    client, feeds_loaded, log_in
):
    csrf = log_in(client, "release")
    assert "No SBOM attached yet" in client.get(GX3).text

    response = upload(client, csrf, sbom_bytes("gx-500-23.05.5-gx3.cdx.json"), name="gx3.cdx.json")

    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{GX3}?attached=")
    page = client.get(response.headers["location"]).text
    assert "gx3.cdx.json was attached: 6 components, quality score 100/100, 3 new findings." in page
    sboms = table_rows(page, "sboms-table")
    assert [row[:3] for row in sboms] == [["gx3.cdx.json", "CycloneDX 1.6 JSON", "6"]]
    assert sboms[0][3] == "100 /100"
    assert sboms[0][4] == "none"
    assert finding_ids(page) == GX3_FINDINGS  # KEV first, then by severity and EPSS
    assert sbom_counts(feeds_loaded) == (1, 6)


def test_the_page_lists_components_with_their_identifiers(client, feeds_loaded, log_in):
    attach(feeds_loaded)
    log_in(client, "viewer")

    rows = {row[0]: row for row in table_rows(client.get(GX3).text, "components")}

    assert set(rows) == {"busybox library", "dnsmasq library", "dropbear library",
                         "libcurl library", "linux operating-system", "zlib library"}
    busybox = rows["busybox library"]
    assert busybox[1] == "1.36.1"
    assert busybox[2] == "BusyBox https://busybox.net"
    assert "pkg:generic/busybox@1.36.1" in busybox[3]
    assert "cpe:2.3:a:busybox:busybox:1.36.1" in busybox[3]
    assert busybox[4] == "GPL-2.0-only"
    assert busybox[5] == "direct"
    assert busybox[6] == "1"  # one open finding
    assert rows["dnsmasq library"][6] == "0"


def test_the_kev_finding_is_flagged_as_an_article_14_candidate(client, feeds_loaded, log_in):
    attach(feeds_loaded)
    log_in(client, "viewer")

    first = table_rows(client.get(GX3).text, "findings")[0]

    assert first[0].startswith("CVE-2024-1086 candidate actively exploited — Article 14 KEV")
    assert first[1] == "High 7.8"
    assert first[2] == "83 % pctl 99"
    assert first[3].startswith("linux 5.15.137 CPE match")
    assert "versions >= 3.15, < 5.15.149" in first[3]
    assert first[4] == "5.15.149"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", GX3_FINDINGS),
        ("severity=critical", ["CVE-2023-38545", "CVE-2022-48174"]),
        ("severity=high", GX3_FINDINGS),
        ("kev=true", ["CVE-2024-1086"]),
        ("kev=false", ["CVE-2023-38545", "CVE-2022-48174"]),
        ("epss_min=0.1", ["CVE-2024-1086", "CVE-2023-38545"]),
        ("epss_min=0.5", ["CVE-2024-1086"]),
        ("fix_available=true", ["CVE-2024-1086", "CVE-2023-38545"]),
        ("fix_available=false", ["CVE-2022-48174"]),
        ("severity=critical&fix_available=false", ["CVE-2022-48174"]),
        ("epss_min=0.9", []),
    ],
)
def test_filters_change_what_is_listed(client, feeds_loaded, log_in, query, expected):
    attach(feeds_loaded)
    log_in(client, "viewer")

    page = client.get(f"{GX3}?{query}").text

    assert finding_ids(page) == expected
    if not expected:
        assert "No finding matches these filters." in page


def test_the_filter_form_shows_the_filters_in_use(client, feeds_loaded, log_in):
    attach(feeds_loaded)
    log_in(client, "viewer")

    page = client.get(f"{GX3}?severity=critical&kev=true&epss_min=0.1&fix_available=false").text

    form = forms_of(page)[f"{GX3}#findings"]
    assert form == {"severity": "critical", "epss_min": "0.1", "fix_available": "false",
                    "kev": "true"}
    assert "Clear filters" in page


def test_withdrawn_findings_show_only_when_asked_for(client, feeds_loaded, log_in):
    from sqlalchemy import update

    from fleetcare.core.db import utcnow
    from fleetcare.matching.models import Finding

    attach(feeds_loaded)
    with feeds_loaded.session() as session:
        session.execute(
            update(Finding).where(Finding.vulnerability_id == "CVE-2022-48174").values(
                withdrawn_at=utcnow()
            )
        )
        session.commit()
    log_in(client, "viewer")

    assert finding_ids(client.get(GX3).text) == ["CVE-2024-1086", "CVE-2023-38545"]
    page = client.get(f"{GX3}?include_withdrawn=true").text
    assert finding_ids(page) == GX3_FINDINGS
    assert "withdrawn" in table_rows(page, "findings")[2][0]


def test_unreadable_filters_are_ignored_and_named(client, feeds_loaded, log_in):
    attach(feeds_loaded)
    log_in(client, "viewer")

    response = client.get(f"{GX3}?severity=scary&epss_min=2&kev=perhaps")

    assert response.status_code == 200
    assert "Some filters were ignored" in response.text
    assert "Minimum severity: “scary” is not one of critical, high, medium, low" in response.text
    assert "Minimum EPSS: “2” is not a probability between 0 and 1" in response.text
    assert finding_ids(response.text) == GX3_FINDINGS


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'{"hello": "world"}', "not an SBOM fleetcare can read"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "9.9", "components": []}', "9.9"),
        (json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"type": "library", "name": "x", "version": "1", "purl": "pkg:/broken"}]}).encode(),
         "components[0].purl"),
        (b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x "y">]>'
         b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6">&x;</bom>', "entit"),
    ],
)
def test_a_refused_sbom_stores_nothing_and_shows_why(
    client, feeds_loaded, log_in, data, message
):
    csrf = log_in(client, "release")
    before = audit_count(feeds_loaded)

    response = upload(client, csrf, data, name="broken.json")

    assert response.status_code == 422
    assert "“broken.json” was not attached; nothing was stored:" in response.text
    assert message in response.text
    assert sbom_counts(feeds_loaded) == (0, 0)
    assert audit_count(feeds_loaded) == before
    assert "No SBOM attached yet" in response.text  # the page itself still works
    assert 'enctype="multipart/form-data"' in response.text


def test_an_sbom_over_the_size_limit_is_refused_with_the_parsers_message(
    client, feeds_loaded, log_in
):
    csrf = log_in(client, "release")

    response = upload(client, csrf, b" " * (DEFAULT_MAX_BYTES + 1) + b"{}", name="huge.json")

    assert response.status_code == 422
    assert "more than the limit of 50.0 MiB" in response.text
    assert sbom_counts(feeds_loaded) == (0, 0)


def test_a_body_larger_than_the_limit_is_refused_before_it_is_read(client, feeds_loaded, log_in):
    log_in(client, "release")

    response = client.post(
        f"{GX3}/sboms",
        content=b"--x\r\n",
        headers={
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(DEFAULT_MAX_BYTES + 10 * 1024 * 1024),
        },
        follow_redirects=False,
    )

    assert response.status_code == 413
    assert "larger than the limit of 50.0 MiB" in response.text
    assert sbom_counts(feeds_loaded) == (0, 0)
    assert client.get(GX3).status_code == 200  # the session stays usable


def test_a_form_without_a_file_asks_for_one(client, feeds_loaded, log_in):
    csrf = log_in(client, "release")

    response = client.post(f"{GX3}/sboms", data={"csrf_token": csrf}, files={"file": ("", b"")})

    assert response.status_code == 422
    assert "choose an SBOM file" in response.text
    assert sbom_counts(feeds_loaded) == (0, 0)


def test_the_same_sbom_twice_is_refused_as_a_duplicate(client, feeds_loaded, log_in):
    attach(feeds_loaded)
    csrf = log_in(client, "release")

    response = upload(client, csrf, sbom_bytes("gx-500-23.05.5-gx3.cdx.json"))

    assert response.status_code == 409
    assert "this SBOM is already attached to Gateway GX-500 23.05.5-gx3" in response.text
    assert sbom_counts(feeds_loaded) == (1, 6)


def test_a_windows_path_as_file_name_keeps_only_the_name(client, feeds_loaded, log_in):
    csrf = log_in(client, "release")

    upload(client, csrf, sbom_bytes("gx-500-23.05.5-gx3.cdx.json"),
           name="C:\\Users\\rm\\Desktop\\fw.cdx.json")

    assert table_rows(client.get(GX3).text, "sboms-table")[0][0] == "fw.cdx.json"


def test_the_export_is_the_apis_cyclonedx_document(client, feeds_loaded, tokens):
    attach(feeds_loaded)
    submit_login(client, "viewer@example.test", TEST_PASSWORD)  # the user `tokens` made
    page = client.get(GX3).text
    assert f'href="{GX3}/sbom.cdx.json"' in page

    exported = client.get(f"{GX3}/sbom.cdx.json")

    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/vnd.cyclonedx+json"
    assert exported.headers["content-disposition"] == (
        'attachment; filename="gateway-gx-500-23.05.5-gx3.cdx.json"'
    )
    document = exported.json()
    assert document["specVersion"] == "1.6"
    assert document["metadata"]["component"]["version"] == "23.05.5-gx3"
    api = client.get(
        "/api/v1/products/gateway-gx-500/releases/23.05.5-gx3/sbom.cdx.json",
        headers=tokens.headers("viewer"),
    ).json()
    assert document["components"] == api["components"]


def test_a_release_without_components_offers_no_export(client, feeds_loaded, log_in):
    log_in(client, "viewer")
    assert "sbom.cdx.json" not in client.get(GX3).text


def test_the_product_page_links_each_release_with_its_sbom_and_findings(
    client, feeds_loaded, log_in
):
    attach(feeds_loaded)
    log_in(client, "viewer")

    page = client.get("/portfolio/gateway-gx-500").text

    assert f'<a href="{GX3}">23.05.5-gx3</a>' in page
    row = next(r for r in table_rows(page, "releases-table") if r[0] == "23.05.5-gx3")
    assert row[4] == "6 components"
    assert row[5] == "3 Art. 14 candidate"
    other = next(r for r in table_rows(page, "releases-table") if r[0] == "24.10.0-gx4")
    assert other[4:6] == ["none", "—"]


@pytest.mark.parametrize(
    "path",
    [
        "/portfolio/gateway-gx-500/releases/9.9.9",
        "/portfolio/no-such-product/releases/1.0",
        "/portfolio/gateway-gx-500/releases/9.9.9/sbom.cdx.json",
    ],
)
def test_unknown_releases_are_not_found(client, feeds_loaded, log_in, path):
    log_in(client, "viewer")
    response = client.get(path)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text


def test_a_version_with_plus_and_colon_has_a_page_and_an_export(client, database, log_in):
    from tests.web.conftest import make_product

    slug = make_product(database, "Gateway X1", releases=("1:2.0+b.7",))
    attach(database, product="Gateway X1", version="1:2.0+b.7")
    log_in(client, "viewer")
    url = f"/portfolio/{slug}/releases/1%3A2.0%2Bb.7"
    assert f'href="{url}"' in client.get(f"/portfolio/{slug}").text

    page = client.get(url)
    exported = client.get(f"{url}/sbom.cdx.json")

    assert page.status_code == 200
    assert f'action="{url}/sboms"' not in page.text  # a viewer
    assert f'href="{url}/sbom.cdx.json"' in page.text
    assert exported.headers["content-disposition"] == (
        'attachment; filename="gateway-x1-1_2.0_b.7.cdx.json"'
    )
    assert exported.json()["metadata"]["component"]["version"] == "1:2.0+b.7"
