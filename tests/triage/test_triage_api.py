"""Triage over HTTP on the demo data: decisions, refusals, history, carry-over, re-opening, bulk,
SLA, supplier VEX proposals and the three VEX exports checked against their schemas."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select

from fleetcare.core.auth import Role
from fleetcare.intel.models import Vulnerability
from fleetcare.triage import service as triage
from fleetcare.triage import vex
from fleetcare.triage.models import Decision, DecisionHistory, VexProposal
from tests.triage.conftest import finding_id

VEX_FIXTURES = Path(__file__).parents[1] / "fixtures" / "advisories" / "vex"
GX = "gateway-gx-500"


def _decisions(db) -> int:
    with db.session() as session:
        return session.execute(select(func.count()).select_from(Decision)).scalar_one()


def test_incomplete_decisions_are_refused_and_change_nothing(client, tokens, findings_db):
    fid = finding_id(findings_db, GX, "23.05.5-gx3", "busybox", "CVE-2022-48174")
    headers = tokens.headers(Role.SECURITY)
    cases = [
        ({"vex_status": "not_affected"}, "justification"),
        ({"vex_status": "affected"}, "action_statement"),
        ({"vex_status": "fixed"}, "fixed_release"),
        ({"vex_status": "fixed", "fixed_release": "23.05.5-gx3"}, "fixed_release"),
        ({"vex_status": "affected", "action_statement": "x", "justification":
          "component_not_present"}, "justification"),
    ]
    for body, field in cases:
        response = client.put(f"/api/v1/findings/{fid}/decision", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]
        assert field in json.dumps(response.json()["detail"])
    bad = client.put(f"/api/v1/findings/{fid}/decision", json={"vex_status": "maybe"},
                     headers=headers)
    assert bad.status_code == 422
    assert client.put("/api/v1/findings/999999/decision", json={"vex_status": "affected",
                      "action_statement": "update"}, headers=headers).status_code == 404
    assert _decisions(findings_db) == 0


def test_decision_history_and_roles(client, tokens, findings_db):
    fid = finding_id(findings_db, GX, "23.05.5-gx3", "busybox", "CVE-2022-48174")
    url = f"/api/v1/findings/{fid}/decision"
    body = {"vex_status": "not_affected", "justification": "vulnerable_code_not_present",
            "reason": "the hexdump applet is not built"}
    assert client.put(url, json=body, headers=tokens.headers(Role.VIEWER)).status_code == 403
    assert client.put(url, json=body, headers=tokens.headers(Role.RELEASE)).status_code == 403
    assert client.put(url, json=body, headers=tokens.headers(Role.SECURITY)).status_code == 200
    second = {"vex_status": "affected", "action_statement": "Turn off the telnet service."}
    response = client.put(url, json=second, headers=tokens.headers(Role.SECURITY))
    out = response.json()
    assert out["vex_status"] == "affected"
    assert [h["vex_status"] for h in out["history"]] == ["not_affected", "affected"]
    assert out["history"][0]["reason"] == "the hexdump applet is not built"
    assert out["history"][0]["actor"].startswith("security@example.test")
    read = client.get(url, headers=tokens.headers(Role.VIEWER)).json()
    assert read["vex_status"] == "affected"
    assert read["severity"] == "critical"
    assert read["decision_due"] == (
        dt.datetime.fromisoformat(read["first_seen"]) + dt.timedelta(days=7)
    ).isoformat().replace("+00:00", "Z")


def test_decision_carries_over_to_later_release_with_same_component(client, tokens, findings_db):
    gx3 = finding_id(findings_db, GX, "23.05.5-gx3", "busybox", "CVE-2022-48174")
    gx5 = finding_id(findings_db, GX, "24.10.2-gx5", "busybox", "CVE-2022-48174")
    body = {"vex_status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}
    client.put(f"/api/v1/findings/{gx3}/decision", json=body, headers=tokens.headers(Role.SECURITY))
    later = client.get(f"/api/v1/findings/{gx5}/decision",
                       headers=tokens.headers(Role.VIEWER)).json()
    assert later["vex_status"] == "not_affected"
    assert later["carried_over_from"] == gx3
    assert later["history"][-1]["carried_over"] is True
    # Another product's busybox is not touched.
    t3 = finding_id(findings_db, "thermostat-t3", "3.1.0", "busybox", "CVE-2022-48174")
    other = client.get(f"/api/v1/findings/{t3}/decision",
                       headers=tokens.headers(Role.VIEWER)).json()
    assert other["vex_status"] == "under_investigation"
    assert other["carried_over_from"] is None


def test_kev_addition_reopens_a_decision(findings_db, client, tokens):
    fid = finding_id(findings_db, GX, "23.05.5-gx3", "libcurl", "CVE-2023-38545")
    client.put(f"/api/v1/findings/{fid}/decision", json={
        "vex_status": "not_affected", "impact_statement": "SOCKS5 proxying is never used"},
        headers=tokens.headers(Role.SECURITY))
    with findings_db.session() as session:
        session.get(Vulnerability, "CVE-2023-38545").kev = True
        session.flush()
        assert triage.reopen_changed(session, {"CVE-2023-38545"}) == [fid]
        assert triage.reopen_changed(session, {"CVE-2023-38545"}) == []  # once only
        session.commit()
    out = client.get(f"/api/v1/findings/{fid}/decision", headers=tokens.headers(Role.VIEWER))
    assert out.json()["vex_status"] == "under_investigation"
    assert out.json()["reopened_reason"] == "added to the CISA KEV catalogue"


def test_bulk_triage_and_overdue(client, tokens, findings_db):
    body = {"vulnerability": "CVE-2022-48174", "product": GX, "vex_status": "affected",
            "action_statement": "Update when 25.1 ships."}
    response = client.post("/api/v1/triage/bulk", json=body, headers=tokens.headers(Role.SECURITY))
    assert response.status_code == 200, response.text
    assert len(response.json()["decided"]) == 2
    refused = client.post("/api/v1/triage/bulk", json={**body, "action_statement": ""},
                          headers=tokens.headers(Role.SECURITY))
    assert refused.status_code == 422
    with findings_db.session() as session:
        far = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
        late = triage.overdue(session, {"critical": 7, "high": 30, "medium": 90, "low": 180},
                              far)
        kinds = {(o.product, o.component, o.overdue) for o in late}
        assert ("Gateway GX-500", "busybox", "fix") in kinds
        assert ("Thermostat T2", "zlib", "decision") in kinds
        assert triage.overdue(session, {"critical": 7}, dt.datetime.now(dt.UTC)) == []
    api = client.get("/api/v1/triage/overdue", headers=tokens.headers(Role.VIEWER))
    assert api.status_code == 200
    assert client.get("/api/v1/triage/sla", headers=tokens.headers(Role.VIEWER)).json()[
        "days"]["critical"] == 7


def test_supplier_openvex_becomes_proposals(client, tokens, findings_db):
    # Written for fleetcare: the busybox supplier says its 1.36.1 build is not affected.
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://busybox-supplier.example/vex/2026-001",
        "author": "BusyBox Supplier Ltd",
        "timestamp": "2026-10-01T00:00:00Z",
        "version": 1,
        "statements": [{
            "vulnerability": {"name": "CVE-2022-48174"},
            "products": [{"@id": "pkg:generic/busybox@1.36.1"}, {"@id": "busybox@1.36.1"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
        }],
    }
    response = client.post("/api/v1/triage/vex-imports", content=json.dumps(document),
                           params={"source": "supplier-vex-2026-001"},
                           headers=tokens.headers(Role.SECURITY))
    assert response.status_code == 201, response.text
    assert response.json()["proposals"] == 3  # GX-500 gx3 and gx5, Thermostat T3
    proposals = client.get("/api/v1/triage/proposals", headers=tokens.headers(Role.VIEWER)).json()
    assert {p["source_author"] for p in proposals} == {"BusyBox Supplier Ltd"}
    assert _decisions(findings_db) == 0  # proposals only
    first = proposals[0]["id"]
    accepted = client.post(f"/api/v1/triage/proposals/{first}/accept",
                           headers=tokens.headers(Role.SECURITY))
    assert accepted.status_code == 200
    assert "BusyBox Supplier Ltd" in accepted.json()["history"][-1]["reason"]
    again = client.post(f"/api/v1/triage/proposals/{first}/accept",
                        headers=tokens.headers(Role.SECURITY))
    assert again.status_code == 409
    assert client.post(f"/api/v1/triage/proposals/{proposals[1]['id']}/reject",
                       headers=tokens.headers(Role.SECURITY)).status_code == 204
    garbage = client.post("/api/v1/triage/vex-imports", content=b"{not json",
                          headers=tokens.headers(Role.SECURITY))
    assert garbage.status_code == 422
    with findings_db.session() as session:
        assert session.execute(select(func.count()).select_from(VexProposal)).scalar_one() == 3


def test_real_supplier_vex_documents_are_read(findings_db):
    for name in ("sample-2vulns.openvex.json", "v020-1.vex.json", "Case-1-vex-affected.json",
                 "Case-1-vex-not_affected.json"):
        document = vex.read_supplier_vex((VEX_FIXTURES / name).read_bytes())
        assert document.statements, name
        assert all(s.products for s in document.statements), name


def _decide_some(client, tokens, db) -> None:
    headers = tokens.headers(Role.SECURITY)
    decisions = [
        ((GX, "23.05.5-gx3", "busybox", "CVE-2022-48174"),
         {"vex_status": "not_affected", "justification": "component_not_present"}),
        ((GX, "23.05.5-gx3", "libcurl", "CVE-2023-38545"),
         {"vex_status": "fixed", "fixed_release": "24.10.2-gx5"}),
        ((GX, "23.05.5-gx3", "linux", "CVE-2024-1086"),
         {"vex_status": "affected", "action_statement": "Block local shell access."}),
    ]
    for key, body in decisions:
        fid = finding_id(db, *key)
        response = client.put(f"/api/v1/findings/{fid}/decision", json=body, headers=headers)
        assert response.status_code == 200, response.text


def test_vex_exports_pass_their_schemas(client, tokens, findings_db):
    _decide_some(client, tokens, findings_db)
    for fmt in vex.FORMATS:
        for params in ({"format": fmt}, {"format": fmt, "release": "23.05.5-gx3"}):
            response = client.get(f"/api/v1/products/{GX}/vex", params=params,
                                  headers=tokens.headers(Role.VIEWER))
            assert response.status_code == 200, response.text
            document = response.json()
            assert vex.validate_export(fmt, document) == [], fmt
    openvex = client.get(f"/api/v1/products/{GX}/vex", params={"format": "openvex"},
                         headers=tokens.headers(Role.VIEWER)).json()
    statuses = {(s["vulnerability"]["name"], s["products"][0]["@id"], s["status"])
                for s in openvex["statements"]}
    assert ("CVE-2023-38545", "pkg:generic/gateway-gx-500@23.05.5-gx3", "affected") in statuses
    assert ("CVE-2023-38545", "pkg:generic/gateway-gx-500@24.10.2-gx5", "fixed") in statuses
    assert ("CVE-2022-48174", "pkg:generic/gateway-gx-500@24.10.2-gx5", "not_affected") in statuses
    csaf = client.get(f"/api/v1/products/{GX}/vex", params={"format": "csaf"},
                      headers=tokens.headers(Role.VIEWER)).json()
    assert csaf["document"]["category"] == "csaf_vex"
    unknown = client.get(f"/api/v1/products/{GX}/vex", params={"format": "spdx"},
                         headers=tokens.headers(Role.VIEWER))
    assert unknown.status_code == 422
    with findings_db.session() as session:
        history = session.execute(select(func.count()).select_from(DecisionHistory)).scalar_one()
        assert history >= 3


def test_decision_carries_over_when_a_later_sbom_arrives(portfolio_db):
    from fleetcare.core.auth import system_principal
    from fleetcare.intel import service as intel
    from fleetcare.sbom import service as sbom
    from fleetcare.triage.schemas import DecisionIn
    from tests.pipeline.conftest import FEEDS, sbom_bytes

    actor = system_principal("tests", via="cli")
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        sbom.import_sbom(session, "Gateway GX-500", "23.05.5-gx3",
                         sbom_bytes("gx-500-23.05.5-gx3.cdx.json"), file_name="gx3.json",
                         actor=actor)
        session.commit()
    gx3 = finding_id(portfolio_db, GX, "23.05.5-gx3", "busybox", "CVE-2022-48174")
    with portfolio_db.session() as session:
        triage.decide(session, gx3, DecisionIn(vex_status="not_affected",
                      justification="vulnerable_code_not_present"), actor=actor)
        sbom.import_sbom(session, "Gateway GX-500", "24.10.2-gx5",
                         sbom_bytes("gx-500-24.10.2-gx5.cdx.json"), file_name="gx5.json",
                         actor=actor)
        session.commit()
    gx5 = finding_id(portfolio_db, GX, "24.10.2-gx5", "busybox", "CVE-2022-48174")
    with portfolio_db.session() as session:
        [row] = triage.triage_rows(session, finding_ids=[gx5])
        assert row.decision is not None
        assert row.decision.vex_status == "not_affected"
        assert row.decision.carried_over_from == gx3


def test_a_kev_feed_update_reopens_through_the_sync(findings_db, tmp_path):
    import shutil

    from fleetcare.core.auth import system_principal
    from fleetcare.intel import service as intel
    from fleetcare.triage.schemas import DecisionIn
    from tests.pipeline.conftest import FEEDS

    fid = finding_id(findings_db, GX, "23.05.5-gx3", "libcurl", "CVE-2023-38545")
    with findings_db.session() as session:
        triage.decide(session, fid, DecisionIn(vex_status="not_affected",
                      impact_statement="SOCKS5 is never used"),
                      actor=system_principal("tests", via="cli"))
        session.commit()
    catalogue = json.loads((FEEDS / "kev" / "known_exploited_vulnerabilities.json").read_text())
    template = dict(catalogue["vulnerabilities"][0])
    template.update(cveID="CVE-2023-38545", vendorProject="Haxx", product="curl",
                    dateAdded="2026-11-01")
    catalogue["vulnerabilities"].append(template)
    catalogue["count"] = len(catalogue["vulnerabilities"])
    feeds = tmp_path / "feeds"
    (feeds / "kev").mkdir(parents=True)
    (feeds / "kev" / "known_exploited_vulnerabilities.json").write_text(json.dumps(catalogue))
    shutil.copytree(FEEDS / "nvd", feeds / "nvd")
    with findings_db.session() as session:
        intel.sync_directory(session, feeds)
        session.commit()
        [row] = triage.triage_rows(session, finding_ids=[fid])
        assert row.decision is not None
        assert row.decision.vex_status == "under_investigation"
        assert row.decision.reopened_reason == "added to the CISA KEV catalogue"


def test_overdue_findings_are_announced_once(findings_db):
    from fleetcare.core import events
    from fleetcare.core.auth import system_principal
    from fleetcare.triage.schemas import DecisionIn
    from fleetcare.triage.tasks import announce_overdue_findings

    assert callable(announce_overdue_findings)  # registered with huey at import
    sla = {"critical": 7, "high": 30, "medium": 90, "low": 180}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    with findings_db.session() as session:
        assert triage.announce_overdue(session, sla, dt.datetime.now(dt.UTC)) == 0
        first = triage.announce_overdue(session, sla, later)
        assert first == 10  # every demo finding, none decided
        assert triage.announce_overdue(session, sla, later) == 0
        fid = finding_id(findings_db, GX, "23.05.5-gx3", "linux", "CVE-2024-1086")
        triage.decide(session, fid, DecisionIn(vex_status="affected", action_statement="Update."),
                      actor=system_principal("tests", via="cli"))
        assert triage.announce_overdue(session, sla, later) == 1  # now overdue for a fix
        kinds = [e.payload["overdue"] for e in events.since(session, 0, kinds={"finding.overdue"})
                 if e.subject == f"finding:{fid}"]
        assert kinds == ["decision", "fix"]
        session.commit()
