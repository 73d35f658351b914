"""Authoring, validating and publishing advisories, and the provider directory as a checker
would see it: file names, hashes, signatures that `gpg --verify` accepts, ROLIE entries."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from csaf import audit_tree
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from fleetcare.advisories import provider
from fleetcare.core.auth import Role
from fleetcare.triage import csafdoc
from tests.triage.conftest import finding_id

SCHEMAS = Path(__file__).parents[1] / "fixtures" / "advisories" / "schema"
GX = "gateway-gx-500"
WK = "/.well-known/csaf"


def _triage(client, tokens, db) -> None:
    headers = tokens.headers(Role.SECURITY)
    for key, body in [
        ((GX, "23.05.5-gx3", "libcurl", "CVE-2023-38545"),
         {"vex_status": "fixed", "fixed_release": "24.10.2-gx5"}),
        ((GX, "23.05.5-gx3", "linux", "CVE-2024-1086"),
         {"vex_status": "affected", "action_statement": "Block local shell access."}),
        ((GX, "23.05.5-gx3", "busybox", "CVE-2022-48174"),
         {"vex_status": "not_affected", "justification": "vulnerable_code_not_present"}),
    ]:
        fid = finding_id(db, *key)
        assert client.put(f"/api/v1/findings/{fid}/decision", json=body,
                          headers=headers).status_code == 200


def _create(client, tokens, **extra) -> dict:
    body = {
        "title": "Gateway GX-500: curl SOCKS5 heap overflow and kernel use-after-free",
        "product": GX,
        "vulnerabilities": ["CVE-2023-38545", "CVE-2024-1086", "CVE-2022-48174"],
        "summary": "Two vulnerabilities in components of the GX-500 firmware.",
        **extra,
    }
    response = client.post("/api/v1/advisories", json=body, headers=tokens.headers(Role.SECURITY))
    assert response.status_code == 201, response.text
    return response.json()


def _provider_validator() -> Draft202012Validator:
    provider_schema = json.loads((SCHEMAS / "provider_json_schema.json").read_text())
    csaf_schema = json.loads((SCHEMAS / "csaf_json_schema.json").read_text())
    registry = Registry().with_resources([
        (csaf_schema["$id"], Resource.from_contents(csaf_schema)),
    ])
    return Draft202012Validator(provider_schema, registry=registry)


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
def test_publish_and_provider_directory(client, tokens, findings_db, tmp_path):
    _triage(client, tokens, findings_db)
    created = _create(client, tokens)
    tid = created["tracking_id"]
    assert created["status"] == "draft"
    check = client.get(f"/api/v1/advisories/{tid}/validation", headers=tokens.headers(Role.VIEWER))
    assert check.json() == {"valid": True, "problems": []}
    security = tokens.headers(Role.SECURITY)
    assert client.post(f"/api/v1/advisories/{tid}/publish", json={},
                       headers=tokens.headers(Role.VIEWER)).status_code == 403
    published = client.post(f"/api/v1/advisories/{tid}/publish", json={"status": "final"},
                            headers=security)
    assert published.status_code == 200, published.text
    assert published.json()["version"] == 1

    document = client.get(f"/api/v1/advisories/{tid}/csaf", headers=security).json()
    assert csafdoc.validate(document) == []
    vulns = {v["cve"]: v for v in document["vulnerabilities"]}
    curl = vulns["CVE-2023-38545"]
    assert curl["product_status"] == {"known_affected": ["gateway-gx-500-23.05.5-gx3"],
                                      "fixed": ["gateway-gx-500-24.10.2-gx5"]}
    assert curl["remediations"][0]["category"] == "vendor_fix"
    assert "24.10.2-gx5" in curl["remediations"][0]["details"]
    assert vulns["CVE-2024-1086"]["threats"][0]["category"] == "exploit_status"  # KEV
    assert vulns["CVE-2022-48174"]["flags"][0]["label"] == "vulnerable_code_not_present"

    metadata = client.get(f"{WK}/provider-metadata.json").json()
    errors = list(_provider_validator().iter_errors(metadata))
    assert errors == [], [e.message for e in errors]
    assert metadata["role"] == "csaf_trusted_provider"
    index = client.get(f"{WK}/white/index.txt").text.splitlines()
    name = provider.file_name(tid)
    assert name == tid.lower() + ".json"
    assert index == [f"{dt.datetime.now(dt.UTC).year}/{name}"]
    changes = client.get(f"{WK}/white/changes.csv").text.splitlines()
    assert changes[0].startswith(f'"{index[0]}","')
    feed = client.get(f"{WK}/white/{provider.FEED_NAME}").json()["feed"]
    [entry] = feed["entry"]
    self_url = entry["content"]["src"]
    assert self_url == metadata["canonical_url"].replace("provider-metadata.json",
                                                         f"white/{index[0]}")
    path = self_url.split("testserver", 1)[-1].split("127.0.0.1:8000", 1)[-1]
    raw = client.get(path).content
    assert json.loads(raw)["document"]["tracking"]["id"] == tid
    assert client.get(f"{path}.sha256").text == f"{hashlib.sha256(raw).hexdigest()}  {name}\n"
    assert client.get(f"{path}.sha512").text == f"{hashlib.sha512(raw).hexdigest()}  {name}\n"
    signature = client.get(f"{path}.asc").text

    # Directory listings (requirement 14) lead to every file.
    listing = client.get(metadata["distributions"][0]["directory_url"].split("8000", 1)[-1])
    assert listing.status_code == 200
    year = index[0].split("/")[0]
    assert f'href="{year}/"' in listing.text
    year_listing = client.get(f"{WK}/white/{year}/").text
    for suffix in ("", ".asc", ".sha256", ".sha512"):
        assert f'href="{name}{suffix}"' in year_listing
    assert client.get(f"{WK}/white/1999/").status_code == 404

    # The csaf package's audit of the directory layout (CSAF 2.0 7.1.11-7.1.13) on a mirror.
    mirror = tmp_path / "white"
    for line in index:
        target = mirror / line
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(client.get(f"{WK}/white/{line}").content)
    (mirror / "index.txt").write_text(client.get(f"{WK}/white/index.txt").text)
    (mirror / "changes.csv").write_text(client.get(f"{WK}/white/changes.csv").text)
    audit = audit_tree(str(mirror))
    assert audit.advisory_count == 1
    assert audit.errors == []
    # The package reads changes.csv time first; CSAF 2.0 requirement 13 puts the file name first
    # ("2020/example_company_-_2020-yh4711.json","2020-07-01T10:09:07Z"), as fleetcare writes.
    assert {v.rule for v in audit.violations} <= {"changes-csv"}
    path_first, time_second = next(csv.reader(changes))
    assert (mirror / path_first).is_file()
    assert dt.datetime.fromisoformat(time_second.replace("Z", "+00:00")).tzinfo is not None
    [key] = metadata["public_openpgp_keys"]
    public_key = client.get(key["url"].split("8000", 1)[-1]).text
    home = tmp_path / "verify"
    home.mkdir(mode=0o700)
    (tmp_path / name).write_bytes(raw)
    (tmp_path / f"{name}.asc").write_text(signature)
    (tmp_path / "key.asc").write_text(public_key)
    gpg = ["gpg", "--homedir", str(home), "--batch"]
    try:
        subprocess.run([*gpg, "--import", str(tmp_path / "key.asc")], check=True,
                       capture_output=True)
        verified = subprocess.run([*gpg, "--verify", str(tmp_path / f"{name}.asc"),
                                   str(tmp_path / name)], capture_output=True, text=True, check=False)
        assert verified.returncode == 0, verified.stderr
        assert key["fingerprint"] in verified.stderr.replace(" ", "")
        (tmp_path / name).write_bytes(raw + b" ")
        tampered = subprocess.run([*gpg, "--verify", str(tmp_path / f"{name}.asc"),
                                   str(tmp_path / name)], capture_output=True, check=False)
        assert tampered.returncode != 0
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
                       capture_output=True, check=False)

    # A later revision: a summary is required, the version and history grow.
    assert client.post(f"/api/v1/advisories/{tid}/publish", json={"status": "final"},
                       headers=security).status_code == 422
    client.patch(f"/api/v1/advisories/{tid}", json={"summary": "Updated: fix available."},
                 headers=security)
    second = client.post(f"/api/v1/advisories/{tid}/publish",
                         json={"status": "final", "summary": "Clarified the summary."},
                         headers=security)
    assert second.status_code == 200, second.text
    assert [r["number"] for r in second.json()["revisions"]] == [1, 2]
    again = client.get(path).json()
    assert again["document"]["tracking"]["version"] == "2"
    assert len(client.get(f"{WK}/white/index.txt").text.splitlines()) == 1


def test_embargo_and_tlp(client, tokens, findings_db):
    _triage(client, tokens, findings_db)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    embargoed = _create(client, tokens, disclosure_at=later)
    refused = client.post(f"/api/v1/advisories/{embargoed['tracking_id']}/publish", json={},
                          headers=tokens.headers(Role.SECURITY))
    assert refused.status_code == 422
    assert "embargo" in refused.json()["error"]
    amber = _create(client, tokens, tlp="AMBER")
    assert client.post(f"/api/v1/advisories/{amber['tracking_id']}/publish", json={},
                       headers=tokens.headers(Role.SECURITY)).status_code == 200
    assert client.get(f"{WK}/white/index.txt").text == ""
    feed = client.get(f"{WK}/white/{provider.FEED_NAME}").json()
    assert feed["feed"]["entry"] == []
    assert client.get(f"/api/v1/advisories/{amber['tracking_id']}/csaf").status_code == 401
    customer = client.get(f"/api/v1/advisories/{amber['tracking_id']}/csaf",
                          headers=tokens.headers(Role.VIEWER))
    assert customer.json()["document"]["distribution"]["tlp"]["label"] == "AMBER"
    missing = client.get(f"{WK}/white/2026/{amber['tracking_id'].lower()}.json")
    assert missing.status_code == 404
    bad = client.post("/api/v1/advisories", json={"title": "x y z", "product": GX,
                      "vulnerabilities": ["CVE-1999-0000"], "summary": "s"},
                      headers=tokens.headers(Role.SECURITY))
    assert bad.status_code == 422
    assert "CVE-1999-0000" in bad.json()["error"]


def test_reporter_credits_become_acknowledgments(client, tokens, findings_db, settings):
    from fleetcare.core.auth import system_principal
    from fleetcare.disclosure import service as disclosure
    from fleetcare.disclosure.schemas import CreditIn, ReportIn

    actor = system_principal("tests", via="cli")
    with findings_db.session() as session:
        report, _token = disclosure.submit_report(session, ReportIn.model_validate({
            "title": "curl SOCKS5 overflow reachable through the proxy setting",
            "product": "Gateway GX-500", "affected_version": "23.05.5-gx3",
            "description": "A long hostname through a SOCKS5 proxy overflows a heap buffer.",
            "source": "researcher", "reporter_name": "Mira Castell",
            "reporter_email": "mira@research.example", "preferred_channel": "email",
            "wants_credit": True,
        }), via="web", settings=settings)
        disclosure.add_credit(session, report, CreditIn(name="Mira Castell"), actor=actor)
        disclosure.add_credit(session, report, CreditIn(name="Hidden Helper", public=False),
                              actor=actor)
        tracking = report.tracking_id
        session.commit()
    _triage(client, tokens, findings_db)
    created = _create(client, tokens, vulnerabilities=["CVE-2023-38545"], reports=[tracking])
    document = client.get(f"/api/v1/advisories/{created['tracking_id']}/csaf",
                          headers=tokens.headers(Role.VIEWER)).json()
    assert document["document"]["acknowledgments"] == [
        {"names": ["Mira Castell"], "summary": "reporting the vulnerability"}]
    unknown = client.post("/api/v1/advisories", json={
        "title": "t t t", "product": GX, "vulnerabilities": ["CVE-2023-38545"],
        "summary": "s", "reports": ["VR-0000-0000"]}, headers=tokens.headers(Role.SECURITY))
    assert unknown.status_code == 404


def test_vendor_fix_says_how_the_fix_reaches_devices(client, tokens, findings_db):
    from fleetcare.portfolio import service as portfolio
    from fleetcare.updates.models import Rollout, SignedRelease

    _triage(client, tokens, findings_db)
    created = _create(client, tokens, vulnerabilities=["CVE-2023-38545"])
    url = f"/api/v1/advisories/{created['tracking_id']}/csaf"

    def fix_details() -> str:
        document = client.get(url, headers=tokens.headers(Role.VIEWER)).json()
        [fix] = [r for r in document["vulnerabilities"][0]["remediations"]
                 if r["category"] == "vendor_fix"]
        return fix["details"]

    assert "support page" in fix_details()
    with findings_db.session() as session:
        gx5 = portfolio.get_release(session, GX, "24.10.2-gx5")
        session.add(SignedRelease(release_id=gx5.id, product_id=gx5.product_id, counter=5,
                                  signed_by="release@example.test"))
        session.add(Rollout(name="gx5 security", release_id=gx5.id, product_id=gx5.product_id,
                            status="running", mode="security", created_by="release@example.test"))
        session.commit()
    details = fix_details()
    assert "signed for automatic installation" in details
    assert "rollout 'gx5 security' is running" in details
