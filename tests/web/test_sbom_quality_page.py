"""The SBOM quality page: the BSI TR-03183-2 report, readable at a glance; removing an SBOM."""

from __future__ import annotations

import json

import pytest

from fleetcare.sbom import service as sbom_service
from tests.web.conftest import GX3, attach, audit_count, sbom_counts, table_rows, upload

#: An SBOM a real generator could produce: CycloneDX 1.5, no creator, no timestamp; busybox
#: complete, a vendor blob without version, hash, file name or purl and with a licence name
#: that is not SPDX, and a firmware component without supplier.
WEAK_SBOM = json.dumps({
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "metadata": {"component": {"type": "firmware", "bom-ref": "fw", "name": "Gateway firmware",
                               "version": "23.05.5-gx3"}},
    "components": [
        {"type": "library", "bom-ref": "busybox", "name": "busybox", "version": "1.36.1",
         "supplier": {"name": "BusyBox", "url": ["https://busybox.net"]},
         "purl": "pkg:generic/busybox@1.36.1",
         "licenses": [{"license": {"id": "GPL-2.0-only"}}],
         "hashes": [{"alg": "SHA-512", "content": "ab" * 64}],
         "properties": [{"name": "bsi:component:filename", "value": "busybox-1.36.1.ipk"}]},
        {"type": "library", "bom-ref": "blob", "name": "vendor-blob",
         "licenses": [{"license": {"name": "Vendor licence"}}]},
    ],
    "dependencies": [{"ref": "fw", "dependsOn": ["busybox", "blob"]},
                     {"ref": "busybox", "dependsOn": []}],
    "compositions": [{"aggregate": "complete", "dependencies": ["fw", "busybox"]}],
}).encode()


@pytest.fixture
def weak(client, feeds_loaded, log_in) -> str:
    """The weak SBOM uploaded through the release page; returns its quality page's path."""
    csrf = log_in(client, "release")
    response = upload(client, csrf, WEAK_SBOM, name="weak.cdx.json")
    assert response.status_code == 303, response.text
    page = client.get(GX3).text
    row = table_rows(page, "sboms-table")[0]
    assert row[0] == "weak.cdx.json"
    assert row[4].endswith("missing")
    start = page.index('<a href="/sboms/') + len('<a href="')
    return page[start : page.index('"', start)]


def test_the_release_page_shows_score_and_missing_fields(client, weak):
    row = table_rows(client.get(GX3).text, "sboms-table")[0]
    score = int(row[3].split()[0])
    assert 0 < score < 100
    missing = int(row[4].split()[0])
    assert missing >= 6  # format, creator, timestamp; the blob's version, hash, file name, ...


def test_the_document_checks_say_what_is_wrong(client, weak):
    page = client.get(weak).text

    assert "<h1>SBOM quality: weak.cdx.json</h1>" in page
    assert "required fields missing" in page
    checks = {row[0]: row for row in table_rows(page, "checks")}
    form = checks["SBOM format and version"]
    assert form[1] == "required"
    assert form[2].startswith("✗")
    assert form[2].endswith("not met")
    assert form[3] == (
        "CycloneDX 1.5: the guideline wants CycloneDX 1.6 or later, or SPDX 3.0.1 or later"
    )
    assert checks["Timestamp"][3] == "the SBOM does not say when it was made"
    assert checks["Creator of the SBOM"][3].startswith("no creator named")
    assert checks["Components listed"][2] == "✓ present met"
    assert checks["SBOM-URI (serial number or namespace)"][1] == "recommended"


def test_each_component_has_a_row_of_marks(client, weak):
    page = client.get(weak).text

    rows = {row[0].split()[0]: row for row in table_rows(page, "matrix")}
    assert set(rows) == {"Gateway", "busybox", "vendor-blob"}
    blob = rows["vendor-blob"]
    # Columns: creator, name, version, file name, dependencies, completeness, licence,
    # SHA-512, then the recommended purl / CPE, then the score.
    assert blob[2].startswith("✓")  # name
    assert blob[3] == "✗ missing (required): missing"  # version
    assert blob[7] == "✗ missing (required): 'Vendor licence' is not an SPDX identifier or expression"
    assert blob[8] == "✗ missing (required): no hash"
    assert blob[9] == "\N{EN DASH} missing (recommended): neither purl nor CPE"
    assert rows["busybox"][8].startswith("✓")
    assert int(rows["busybox"][-1]) > int(blob[-1])
    assert "Gateway firmware 23.05.5-gx3 primary" in rows["Gateway"][0]


def test_the_gaps_are_also_listed_in_words(client, weak):
    page = client.get(weak).text
    gaps = page.split('<details class="gaps">', 1)[1].split("</details>", 1)[0]
    assert "What is missing, component by component (2)" in gaps
    assert "<strong>vendor-blob</strong>" in gaps
    assert "Component version — missing" in gaps
    assert "SHA-512 hash — no hash" in gaps
    assert "purl or CPE (recommended) — neither purl nor CPE" in gaps
    assert "busybox" not in gaps


def test_the_column_headings_count_the_components_that_have_the_field(client, weak):
    page = client.get(weak).text
    assert 'title="SHA-512 hash (required)">SHA-512<span class="coverage">1/3</span>' in page
    assert 'title="purl or CPE (recommended)">purl / CPE<span class="coverage">1/3</span>' in page


def test_the_list_can_be_narrowed_to_incomplete_components(client, weak):
    everything = table_rows(client.get(weak).text, "matrix")
    incomplete = table_rows(client.get(f"{weak}?missing=1").text, "matrix")
    assert [row[0].split()[0] for row in everything] == ["Gateway", "busybox", "vendor-blob"]
    assert [row[0].split()[0] for row in incomplete] == ["Gateway", "vendor-blob"]
    assert "✗" not in " ".join(everything[1])


def test_a_complete_sbom_reads_as_passing(client, feeds_loaded, log_in):
    document = attach(feeds_loaded)
    log_in(client, "viewer")

    page = client.get(f"/sboms/{document}").text

    assert "meets the required fields" in page
    assert "Every component has all required fields." in client.get(
        f"/sboms/{document}?missing=1"
    ).text


def test_the_report_is_also_json(client, feeds_loaded, weak):
    document = int(weak.rsplit("/", 1)[1])

    report = client.get(f"{weak}/quality.json")

    assert report.status_code == 200
    assert report.headers["content-type"] == "application/json"
    with feeds_loaded.session() as session:
        assert report.json() == sbom_service.get_document(session, document).quality
    assert report.json()["guideline"] == "BSI TR-03183-2 v2.1"


@pytest.mark.parametrize("path", ["/sboms/999", "/sboms/abc", "/sboms/999/quality.json"])
def test_unknown_documents_are_not_found(client, feeds_loaded, log_in, path):
    log_in(client, "viewer")
    assert client.get(path).status_code == 404


def test_removing_an_sbom_needs_the_confirmation(client, feeds_loaded, log_in):
    document = attach(feeds_loaded)
    csrf = log_in(client, "release")
    before = audit_count(feeds_loaded)

    unconfirmed = client.post(
        f"/sboms/{document}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert unconfirmed.status_code == 303
    assert sbom_counts(feeds_loaded) == (1, 6)

    confirmed = client.post(
        f"/sboms/{document}/delete",
        data={"csrf_token": csrf, "confirm": "1"},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == f"{GX3}?removed=1#sboms"
    assert sbom_counts(feeds_loaded) == (0, 0)
    assert audit_count(feeds_loaded) == before + 1
    page = client.get(confirmed.headers["location"]).text
    assert "The SBOM was removed, with its components and their findings." in page
    assert table_rows(page, "findings")[0] == [
        "No findings: attach an SBOM to see what threatens this release."
    ]
