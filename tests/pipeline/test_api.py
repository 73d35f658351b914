"""The SBOM, findings, vulnerability and feed endpoints, including refused input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from fleetcare.core.auth import Role
from fleetcare.intel import service as intel
from fleetcare.sbom.models import Component, SbomDocument
from tests.pipeline.conftest import FEEDS, sbom_bytes

URL = "/api/v1/products/gateway-gx-500/releases/23.05.5-gx3"


@pytest.fixture
def loaded(portfolio_db):
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        session.commit()
    return portfolio_db


def _upload(client, headers, data: bytes, url: str = URL, name: str = "fw.cdx.json"):
    return client.post(f"{url}/sboms", content=data, params={"file_name": name},
                       headers={**headers, "Content-Type": "application/json"})


def _counts(db) -> tuple[int, int]:
    with db.session() as session:
        return (session.execute(select(func.count()).select_from(SbomDocument)).scalar_one(),
                session.execute(select(func.count()).select_from(Component)).scalar_one())


def test_upload_matches_at_once_and_reports_quality(client, tokens, loaded):
    response = _upload(client, tokens.headers(Role.RELEASE), sbom_bytes("gx-500-23.05.5-gx3.cdx.json"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["format"] == "CycloneDX"
    assert body["spec_version"] == "1.6"
    assert body["component_count"] == 6
    assert body["quality"]["guideline"].startswith("BSI TR-03183-2")
    assert body["quality_passed"] is True
    findings = client.get("/api/v1/findings", params={"product": "gateway-gx-500",
                                                       "release": "23.05.5-gx3"},
                          headers=tokens.headers(Role.VIEWER)).json()
    assert {f["vulnerability_id"] for f in findings["items"]} == {
        "CVE-2024-1086", "CVE-2023-38545", "CVE-2022-48174"}
    assert findings["items"][0]["kev"] is True  # KEV first
    components = client.get(f"{URL}/components", headers=tokens.headers(Role.VIEWER)).json()
    assert {c["name"] for c in components} == {"linux", "busybox", "dnsmasq", "libcurl", "zlib",
                                               "dropbear"}
    listed = client.get(f"{URL}/sboms", headers=tokens.headers(Role.VIEWER)).json()
    assert [d["file_name"] for d in listed] == ["fw.cdx.json"]


def test_same_sbom_twice_is_a_conflict(client, tokens, loaded):
    data = sbom_bytes("gx-500-23.05.5-gx3.cdx.json")
    assert _upload(client, tokens.headers(Role.RELEASE), data).status_code == 201
    again = _upload(client, tokens.headers(Role.RELEASE), data)
    assert again.status_code == 409
    assert _counts(loaded) == (1, 6)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "9.9", "components": []}', "9.9"),
        (b'{"hello": "world"}', "not an SBOM"),
        (b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x "y">]><bom xmlns="http://cyclonedx.org/schema/bom/1.6">&x;</bom>', ""),
        (json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
            {"type": "library", "name": "x", "version": "1", "purl": "pkg:/broken"}]}).encode(), "purl"),
    ],
)
def test_refused_sboms_store_nothing(client, tokens, loaded, data, fragment):
    response = _upload(client, tokens.headers(Role.RELEASE), data)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"]
    assert _counts(loaded) == (0, 0)


def test_oversized_upload_is_refused_before_reading(client, tokens, loaded):
    response = client.post(f"{URL}/sboms", content=b"{}",
                           headers={**tokens.headers(Role.RELEASE), "Content-Length": str(60 * 1024 * 1024)})
    assert response.status_code in (413, 400)
    assert _counts(loaded) == (0, 0)


def test_upload_roles(client, tokens, loaded):
    data = sbom_bytes("gx-500-23.05.5-gx3.cdx.json")
    assert _upload(client, tokens.headers(Role.VIEWER), data).status_code == 403
    assert _upload(client, tokens.headers(Role.SECURITY), data).status_code == 201


def test_unknown_release_is_404(client, tokens, loaded):
    response = _upload(client, tokens.headers(Role.RELEASE), sbom_bytes("th-t3-3.1.0.cdx.json"),
                       url="/api/v1/products/gateway-gx-500/releases/9.9.9")
    assert response.status_code == 404
    assert "9.9.9" in response.json()["error"]


def test_vulnerability_page_by_alias(client, tokens, loaded):
    _upload(client, tokens.headers(Role.RELEASE), sbom_bytes("th-t2-2.4.9.cdx.json"),
            url="/api/v1/products/thermostat-t2/releases/2.4.9")
    detail = client.get("/api/v1/vulnerabilities/GHSA-cfmr-vrgj-vqwv", headers=tokens.headers(Role.VIEWER))
    assert detail.status_code == 200
    body = detail.json()
    assert body["id"] == "CVE-2022-37434"
    assert {s["source"] for s in body["sources"]} == {"nvd", "osv"}
    assert [(a["product"], a["release"], a["component"]) for a in body["affected"]] == [
        ("Thermostat T2", "2.4.9", "zlib")]
    assert client.get("/api/v1/vulnerabilities/CVE-1999-0001", headers=tokens.headers(Role.VIEWER)).status_code == 404


def test_findings_filters_over_http(client, tokens, loaded):
    for name, url in (("th-t2-2.4.9.cdx.json", "/api/v1/products/thermostat-t2/releases/2.4.9"),
                      ("gx-500-23.05.5-gx3.cdx.json", URL)):
        _upload(client, tokens.headers(Role.RELEASE), sbom_bytes(name), url=url)
    viewer = tokens.headers(Role.VIEWER)
    kev = client.get("/api/v1/findings", params={"kev": "true"}, headers=viewer).json()
    assert kev["total"] == 2
    medium_up = client.get("/api/v1/findings", params={"severity": "high"}, headers=viewer).json()
    assert "CVE-2023-45803" not in {f["vulnerability_id"] for f in medium_up["items"]}
    bad = client.get("/api/v1/findings", params={"severity": "scary"}, headers=viewer)
    assert bad.status_code == 422
    by_vuln = client.get("/api/v1/findings", params={"vulnerability": "PYSEC-2023-212"}, headers=viewer).json()
    assert [f["component"] for f in by_vuln["items"]] == ["urllib3"]


def test_export_is_valid_cyclonedx_1_6(client, tokens, loaded):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    _upload(client, tokens.headers(Role.RELEASE), sbom_bytes("gx-500-23.05.5-gx3.cdx.json"))
    exported = client.get(f"{URL}/sbom.cdx.json", headers=tokens.headers(Role.VIEWER))
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/vnd.cyclonedx+json"
    document = exported.json()
    assert document["specVersion"] == "1.6"
    assert document["metadata"]["component"]["version"] == "23.05.5-gx3"
    assert len(document["components"]) == 6
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(exported.text)
    assert errors is None, errors


def test_feeds_status_and_sync_roles(client, tokens, loaded):
    status = client.get("/api/v1/feeds", headers=tokens.headers(Role.VIEWER)).json()
    assert {f["source"] for f in status["feeds"]} == {"osv", "nvd", "kev", "epss"}
    assert status["counts"]["vulnerabilities"] == 7
    assert client.post("/api/v1/feeds/kev/sync", headers=tokens.headers(Role.RELEASE)).status_code == 403
    assert client.post("/api/v1/feeds/nope/sync", headers=tokens.headers(Role.SECURITY)).status_code == 422


def test_delete_sbom_removes_its_components_and_findings(client, tokens, loaded):
    created = _upload(client, tokens.headers(Role.RELEASE), sbom_bytes("gx-500-23.05.5-gx3.cdx.json")).json()
    assert client.delete(f"/api/v1/sboms/{created['id']}", headers=tokens.headers(Role.VIEWER)).status_code == 403
    assert client.delete(f"/api/v1/sboms/{created['id']}", headers=tokens.headers(Role.RELEASE)).status_code == 204
    assert _counts(loaded) == (0, 0)
    assert client.get("/api/v1/findings", headers=tokens.headers(Role.VIEWER)).json()["total"] == 0
