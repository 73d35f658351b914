"""From SBOM and feeds to findings: what must match, what must not, and what changes when."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import func, select

from fleetcare.core import events
from fleetcare.intel import service as intel
from fleetcare.intel import store
from fleetcare.intel.feeds import FeedError
from fleetcare.intel.models import SourceRecord, Vulnerability
from fleetcare.matching import service as matching
from fleetcare.matching.models import Finding
from tests.pipeline.conftest import ACTOR, FEEDS, attach_all, sbom_bytes

# (product, release, component, vulnerability) written out by hand from the records' ranges.
EXPECTED = {
    ("Gateway GX-500", "23.05.5-gx3", "linux", "CVE-2024-1086"),  # 5.15.137 in [3.15, 5.15.149)
    ("Gateway GX-500", "23.05.5-gx3", "libcurl", "CVE-2023-38545"),  # 8.1.2 in [7.69.0, 8.4.0)
    ("Gateway GX-500", "23.05.5-gx3", "busybox", "CVE-2022-48174"),  # 1.36.1 <= 1.36.1
    ("Gateway GX-500", "24.10.2-gx5", "busybox", "CVE-2022-48174"),
    ("Thermostat T2", "2.4.9", "linux", "CVE-2024-1086"),  # 5.4.230
    ("Thermostat T2", "2.4.9", "libcurl", "CVE-2023-38545"),  # 7.82.0
    ("Thermostat T2", "2.4.9", "busybox", "CVE-2022-48174"),  # 1.35.0
    ("Thermostat T2", "2.4.9", "zlib", "CVE-2022-37434"),  # 1.2.11 <= 1.2.12 (cpe zlib:zlib)
    ("Thermostat T2", "2.4.9", "urllib3", "CVE-2023-45803"),  # PYSEC: 2.0.6 in [2.0.0, 2.0.7)
    ("Thermostat T3", "3.1.0", "busybox", "CVE-2022-48174"),
}
# Must NOT match: GX-500 24.10.2 runs linux 6.6.58 (>= 6.6.15 fixed), dnsmasq 2.89/2.90 (>= 2.87),
# zlib 1.2.13/1.3.1 (> 1.2.12), libcurl 8.9.1/8.10.1 (>= 8.4.0); T3 urllib3 2.2.3 (>= 2.0.7).


def _open_findings(session) -> set[tuple[str, str, str, str]]:
    items, _ = matching.list_findings(session, matching.FindingFilter(), limit=1000)
    return {(f.product, f.release, f.component, f.vulnerability_id) for f in items}


def test_feeds_then_sboms_give_exactly_the_expected_findings(portfolio_db):
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        attach_all(session)
        session.commit()
        assert _open_findings(session) == EXPECTED


def test_sboms_then_feeds_give_the_same_findings(portfolio_db):
    """Order does not matter: a feed import re-matches the components it could affect."""
    with portfolio_db.session() as session:
        attach_all(session)
        assert _open_findings(session) == set()
        intel.sync_directory(session, FEEDS)
        session.commit()
        assert _open_findings(session) == EXPECTED


def test_reasons_and_enrichment(portfolio_db):
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        attach_all(session)
        items, _ = matching.list_findings(
            session, matching.FindingFilter(kev=True), limit=100)
        assert {(f.product, f.release) for f in items} == {
            ("Gateway GX-500", "23.05.5-gx3"), ("Thermostat T2", "2.4.9")}
        kev = items[0]
        assert kev.vulnerability_id == "CVE-2024-1086"
        assert kev.exploited_candidate is True
        assert kev.severity == "high"
        assert kev.cvss_score == 7.8
        assert kev.epss_score == pytest.approx(0.82731)
        assert "versions >= 3.15, < 5.15.149" in kev.match_reason
        assert kev.fixed_version == "5.15.149"
        urllib3 = next(f for f in _all(session) if f.component == "urllib3")
        assert urllib3.matched_by == "purl"
        assert "[2.0.0, 2.0.7)" in urllib3.match_reason


def _all(session):
    return matching.list_findings(session, matching.FindingFilter(), limit=1000)[0]


def test_filters(portfolio_db):
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        attach_all(session)
        critical = matching.list_findings(session, matching.FindingFilter(severity="critical"))[0]
        assert {f.vulnerability_id for f in critical} == {
            "CVE-2023-38545", "CVE-2022-48174", "CVE-2022-37434"}
        likely = matching.list_findings(session, matching.FindingFilter(epss_min=0.2))[0]
        assert {f.vulnerability_id for f in likely} == {"CVE-2024-1086", "CVE-2023-38545"}
        fixable = matching.list_findings(session, matching.FindingFilter(fix_available=True))[0]
        assert "CVE-2022-48174" not in {f.vulnerability_id for f in fixable}  # <= bound: no fix named
        assert {f.vulnerability_id for f in fixable} >= {"CVE-2023-45803", "CVE-2023-38545"}


def test_aliases_merge_into_one_vulnerability(portfolio_db):
    with portfolio_db.session() as session:
        intel.sync(session, "osv", FEEDS / "osv")
        # The GHSA names CVE-2022-37434 as an alias: the CVE id is canonical from the start.
        zlib = store.resolve(session, "GHSA-cfmr-vrgj-vqwv")
        assert zlib is not None
        assert zlib.id == "CVE-2022-37434"
        intel.sync(session, "nvd", FEEDS / "nvd")
        assert session.execute(select(func.count()).select_from(Vulnerability)).scalar_one() == 7
        sources = session.execute(
            select(SourceRecord.source).where(SourceRecord.vulnerability_id == "CVE-2022-37434")
        ).scalars().all()
        assert sorted(sources) == ["nvd", "osv"]
        pysec = store.resolve(session, "pysec-2023-212".upper())
        assert pysec is not None
        assert pysec.id == "CVE-2023-45803"
        assert "GHSA-g4mx-q9vg-27p4" in pysec.aliases


def test_two_vulnerabilities_merge_when_a_record_links_them(portfolio_db, tmp_path):
    """A record known only by its GHSA id, findings attached, then an OSV record tying it to a CVE."""
    ghsa = json.loads((FEEDS / "osv" / "PYSEC-2023-212.json").read_text())
    lone = {**ghsa, "id": "GHSA-test-only-0001", "aliases": []}
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "lone.json").write_text(json.dumps(lone))
    with portfolio_db.session() as session:
        intel.sync(session, "osv", tmp_path / "a")
        attach_all(session)
        before = {f.vulnerability_id for f in _all(session) if f.component == "urllib3"}
        assert before == {"GHSA-test-only-0001"}
        linked = {**lone, "id": "OSV-LINK-1", "aliases": ["GHSA-test-only-0001", "CVE-2023-45803"]}
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "link.json").write_text(json.dumps(linked))
        intel.sync(session, "osv", tmp_path / "b")
        session.commit()
        after = [f for f in _all(session) if f.component == "urllib3"]
        assert [f.vulnerability_id for f in after] == ["CVE-2023-45803"]
        assert store.resolve(session, "GHSA-test-only-0001").id == "CVE-2023-45803"


def test_feed_syncs_are_audited(portfolio_db):
    from fleetcare.core import audit

    with portfolio_db.session() as session:
        intel.sync(session, "kev", FEEDS / "kev", actor="cli:ops")
        session.commit()
        [event] = audit.list_events(session, action="feed.sync")
    assert (event.actor, event.object_id) == ("cli:ops", "kev")
    assert event.summary["after"]["records"] == 4


def test_reimporting_the_same_feeds_changes_nothing(portfolio_db):
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        attach_all(session)
        session.commit()
        cursor = max((e.id for e in events.since(session, 0, limit=100000)), default=0)
        findings = session.execute(select(Finding.id, Finding.last_seen)).all()
        results = intel.sync_directory(session, FEEDS)
        session.commit()
        assert [r.added + r.updated for r in results if r.source in ("osv", "nvd")] == [0, 0]
        assert all(not r.changed for r in results)
        assert events.since(session, cursor) == []
        assert session.execute(select(Finding.id, Finding.last_seen)).all() == findings


def test_narrowed_range_withdraws_the_finding_and_keeps_it(portfolio_db, tmp_path):
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        attach_all(session)
        session.commit()
        record = json.loads((FEEDS / "nvd" / "CVE-2022-48174.json").read_text())
        cve = record.get("cve", record)
        cve["lastModified"] = "2026-11-01T00:00:00.000"
        cve["configurations"][0]["nodes"][0]["cpeMatch"][0]["versionEndIncluding"] = "1.35.0"
        (tmp_path / "nvd").mkdir()
        (tmp_path / "nvd" / "CVE-2022-48174.json").write_text(json.dumps(record))
        result = intel.sync(session, "nvd", tmp_path / "nvd")
        session.commit()
        assert result.updated == 1
        assert result.changed == {"CVE-2022-48174"}
        busybox = session.execute(
            select(Finding).where(Finding.vulnerability_id == "CVE-2022-48174")
        ).scalars().all()
        assert len(busybox) == 4  # none deleted
        still_open = [f for f in busybox if f.withdrawn_at is None]
        assert len(still_open) == 1  # only busybox 1.35.0 on Thermostat T2 remains
        withdrawn_events = events.since(session, 0, kinds={"finding.withdrawn"})
        assert len(withdrawn_events) == 3
        open_ids = {f[3] for f in _open_findings(session)}
        assert "CVE-2024-1086" in open_ids  # untouched by this feed change


def test_withdrawn_osv_record_withdraws_its_finding(portfolio_db, tmp_path):
    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        attach_all(session)
        record = json.loads((FEEDS / "osv" / "PYSEC-2023-212.json").read_text())
        record["withdrawn"] = "2026-11-02T00:00:00Z"
        record["modified"] = "2026-11-02T00:00:00Z"
        (tmp_path / "osv").mkdir()
        (tmp_path / "osv" / "PYSEC-2023-212.json").write_text(json.dumps(record))
        intel.sync(session, "osv", tmp_path / "osv")
        session.commit()
        urllib3 = session.execute(
            select(Finding).where(Finding.vulnerability_id == "CVE-2023-45803")
        ).scalar_one()
        assert urllib3.withdrawn_at is not None
        assert ("Thermostat T2", "2.4.9", "urllib3", "CVE-2023-45803") not in _open_findings(session)


def test_a_feed_that_breaks_half_way_leaves_the_store_as_it_was(portfolio_db, tmp_path):
    broken = tmp_path / "osv"
    shutil.copytree(FEEDS / "osv", broken)
    (broken / "zz-broken.json").write_text('{"id": "OSV-BROKEN", "modified": ')
    with portfolio_db.session() as session:
        with pytest.raises(FeedError, match=r"zz-broken\.json"):
            intel.sync(session, "osv", broken)
        session.rollback()
        assert session.execute(select(func.count()).select_from(SourceRecord)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Vulnerability)).scalar_one() == 0


def test_kev_candidates_only_for_released_products(portfolio_db):
    from fleetcare.portfolio import service as portfolio
    from fleetcare.portfolio.schemas import ReleaseIn
    from fleetcare.sbom import service as sbom

    with portfolio_db.session() as session:
        intel.sync_directory(session, FEEDS)
        portfolio.create_release(session, "Thermostat T3", ReleaseIn(
            version="3.2.0-rc1", release_date="2026-11-20", kind="security"), actor=ACTOR)
        sbom.import_sbom(session, "Thermostat T3", "3.2.0-rc1", sbom_bytes("th-t2-2.4.9.cdx.json"),
                         actor=ACTOR)
        candidates = matching.exploited_candidates(session)
        assert [(c.product_name, c.release_version) for c in candidates] == []
        attach_all(session)
        candidates = matching.exploited_candidates(session)
        assert sorted((c.product_name, c.release_version) for c in candidates) == [
            ("Gateway GX-500", "23.05.5-gx3"), ("Thermostat T2", "2.4.9")]
        kinds = [e.kind for e in events.since(session, 0, kinds={"finding.exploited_candidate"})]
        assert len(kinds) == 2


def test_kev_added_later_updates_existing_findings(portfolio_db):
    with portfolio_db.session() as session:
        for source in ("osv", "nvd"):
            intel.sync(session, source, FEEDS / source)
        attach_all(session)
        # NVD's record carries cisaExploitAdd: exploited, a candidate, but the KEV entry itself
        # (due date, ransomware use) is not known yet.
        candidates = matching.exploited_candidates(session)
        assert len(candidates) == 2
        assert {c.kev for c in candidates} == {False}
        result = intel.sync(session, "kev", FEEDS / "kev")
        assert result.changed == {"CVE-2024-1086"}
        assert {c.kev for c in matching.exploited_candidates(session)} == {True}
        vuln = store.resolve(session, "CVE-2024-1086")
        assert vuln.kev_added is not None
        assert vuln.kev_due is not None


def test_components_known_only_by_name_reach_oss_fuzz_records(portfolio_db, tmp_path):
    """Firmware SBOMs often give a CPE but no purl: the name and version still reach OSS-Fuzz
    records (GIT ranges, matched through their tag lists)."""
    from pathlib import Path

    from fleetcare.sbom import service as sbom

    fixture = Path(__file__).parent.parent / "fixtures" / "matching" / "osv" / "OSV-2017-79.json"
    (tmp_path / "osv").mkdir()
    shutil.copy(fixture, tmp_path / "osv")
    document = {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": {"component": {"type": "firmware", "bom-ref": "fw", "name": "fw", "version": "1"}},
        "components": [
            {"type": "library", "bom-ref": "curl", "name": "curl", "version": "7.58.0",
             "cpe": "cpe:2.3:a:haxx:curl:7.58.0:*:*:*:*:*:*:*"},
            {"type": "library", "bom-ref": "curl-new", "name": "curl", "version": "8.9.1"},
        ],
    }
    with portfolio_db.session() as session:
        intel.sync(session, "osv", tmp_path / "osv")
        sbom.import_sbom(session, "Edge Firewall FW-200", "7.2.0", json.dumps(document).encode(),
                         actor=ACTOR)
        found = [(f.component_version, f.vulnerability_id, f.match_reason) for f in _all(session)]
    assert len(found) == 1
    version, vulnerability, reason = found[0]
    assert (version, vulnerability) == ("7.58.0", "OSV-2017-79")
    assert "affected git tag 'curl-7_58_0'" in reason
