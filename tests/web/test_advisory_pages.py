"""Triage and advisory pages: deciding through the form (refusals shown, nothing saved), roles,
authoring and publishing an advisory, and the public pages rendered from the CSAF document."""

from __future__ import annotations

import shutil

import pytest

from fleetcare.advisories import service as advisories
from fleetcare.core.auth import Role
from fleetcare.triage import service as triage
from tests.triage.conftest import finding_id, findings_db  # noqa: F401 - a fixture

GX = "gateway-gx-500"


@pytest.fixture(autouse=True)
def _stop_gpg_agent(settings):
    yield
    advisories.signer(settings).stop_agent()


def test_triage_form_refuses_then_saves(client, log_in, findings_db):  # noqa: F811
    fid = finding_id(findings_db, GX, "23.05.5-gx3", "libcurl", "CVE-2023-38545")
    csrf = log_in(client, Role.SECURITY)
    page = client.get(f"/findings/{fid}/triage")
    assert page.status_code == 200
    assert "CVE-2023-38545 in libcurl 8.1.2" in page.text
    assert "0 on an affected release" in page.text  # no devices enrolled in this fixture
    refused = client.post(f"/findings/{fid}/triage",
                          data={"csrf_token": csrf, "vex_status": "affected"})
    assert refused.status_code == 422
    assert "action statement" in refused.text
    saved = client.post(f"/findings/{fid}/triage", data={
        "csrf_token": csrf, "vex_status": "fixed", "fixed_release": "24.10.2-gx5",
        "reason": "curl 8.4.0 in gx5"}, follow_redirects=False)
    assert saved.status_code == 303
    after = client.get(f"/findings/{fid}/triage").text
    assert "curl 8.4.0 in gx5" in after
    board = client.get("/triage")
    assert board.status_code == 200
    decided = board.text.split('id="decided"')[1].split("</section>")[0]
    assert f"/findings/{fid}/triage" in decided
    assert "Fixed" in decided
    assert f"/findings/{fid}/triage" not in board.text.split('id="undecided"')[1].split(
        "</section>")[0]


def test_viewer_reads_but_cannot_decide(client, log_in, findings_db):  # noqa: F811
    fid = finding_id(findings_db, GX, "23.05.5-gx3", "busybox", "CVE-2022-48174")
    csrf = log_in(client, Role.VIEWER)
    page = client.get(f"/findings/{fid}/triage")
    assert page.status_code == 200
    assert 'action="/findings/' not in page.text
    refused = client.post(f"/findings/{fid}/triage",
                          data={"csrf_token": csrf, "vex_status": "not_affected",
                                "justification": "component_not_present"})
    assert refused.status_code == 403
    assert client.get("/advisories").status_code == 200


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
def test_author_and_publish_from_the_dashboard(client, log_in, findings_db):  # noqa: F811
    csrf = log_in(client, Role.SECURITY)
    created = client.post("/advisories", data={
        "csrf_token": csrf, "title": "GX-500 <script>alert(1)</script> busybox", "product": GX,
        "vulnerabilities": "CVE-2022-48174", "summary": "busybox in the GX-500", "tlp": "WHITE",
    }, follow_redirects=False)
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    draft = client.get(url)
    assert "<script>alert(1)</script>" not in draft.text
    # Nothing is decided yet: CSAF wants a conclusive status (6.1.27), so publishing waits.
    assert "6.1.27" in draft.text
    assert "/vulnerabilities/0/product_status" in draft.text
    tracking_id = url.rsplit("/", 1)[1]
    refused = client.post(f"{url}/publish", data={"csrf_token": csrf, "status": "final"})
    assert refused.status_code == 422
    assert "6.1.27" in refused.text
    assert client.get(f"/security/advisories/{tracking_id}").status_code == 404  # a draft
    fid = finding_id(findings_db, GX, "23.05.5-gx3", "busybox", "CVE-2022-48174")
    client.post(f"/findings/{fid}/triage", data={
        "csrf_token": csrf, "vex_status": "affected", "action_statement": "Disable telnetd."})
    assert "every mandatory test" in client.get(url).text
    published = client.post(f"{url}/publish", data={"csrf_token": csrf, "status": "final"},
                            follow_redirects=False)
    assert published.status_code == 303, published.text
    public = client.get(f"/security/advisories/{tracking_id}")
    assert public.status_code == 200
    assert "Disable telnetd." in public.text
    assert "Affected" in public.text
    assert tracking_id in client.get("/security/advisories").text
    bad = client.post("/advisories", data={"csrf_token": csrf, "title": "x", "product": GX,
                                           "vulnerabilities": "", "summary": ""})
    assert bad.status_code == 422


def test_every_imported_example_renders(client, log_in, database):
    from pathlib import Path

    from fleetcare.core.auth import system_principal

    fixtures = Path(__file__).parents[1] / "fixtures" / "advisories"
    examples = sorted([*fixtures.glob("csaf/*.json"), *fixtures.glob("csaf_vex/*.json")])
    with database.session() as session:
        ids = [advisories.import_advisory(session, p.read_bytes(),
                                          actor=system_principal("tests", via="cli")).id
               for p in examples]
        session.commit()
    log_in(client, Role.VIEWER)
    listing = client.get("/advisories").text
    for imported_id, path in zip(ids, examples, strict=True):
        assert f"/advisories/imported/{imported_id}" in listing
        page = client.get(f"/advisories/imported/{imported_id}")
        assert page.status_code == 200, path.name
        assert "Revision history" in page.text, path.name
    uc08 = client.get(f"/advisories/imported/{ids[[p.name for p in examples].index('2022-evd-uc-08-001.json')]}")
    assert "6.1.27" in uc08.text


def test_bulk_triage_from_the_finding_page(client, log_in, findings_db):  # noqa: F811
    gx3 = finding_id(findings_db, GX, "23.05.5-gx3", "busybox", "CVE-2022-48174")
    gx5 = finding_id(findings_db, GX, "24.10.2-gx5", "busybox", "CVE-2022-48174")
    t3 = finding_id(findings_db, "thermostat-t3", "3.1.0", "busybox", "CVE-2022-48174")
    csrf = log_in(client, Role.SECURITY)
    saved = client.post(f"/findings/{gx3}/triage", data={
        "csrf_token": csrf, "vex_status": "affected", "action_statement": "Disable telnetd.",
        "whole_product": "1"}, follow_redirects=False)
    assert saved.status_code == 303
    with findings_db.session() as session:
        rows = {r.finding.id: r for r in triage.triage_rows(session, finding_ids=[gx3, gx5, t3])}
        assert rows[gx3].decision.vex_status == "affected"
        assert rows[gx5].decision.vex_status == "affected"
        assert rows[gx5].decision.carried_over_from is None  # decided directly, not carried
        assert rows[t3].decision is None  # another product
