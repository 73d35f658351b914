"""`fleetcare sbom import`, `feeds sync`, `findings list`, `vulns show` and the standalone `scan`."""

from __future__ import annotations

import json
import os

import pytest

from fleetcare.demo import DEMO_DATA
from tests.cli_runner import run_fleetcare

FEEDS = DEMO_DATA / "feeds"
SBOMS = DEMO_DATA / "sboms"


def _run(env, *args):
    return run_fleetcare(*args, env=env)


@pytest.fixture
def env(database, tmp_path):
    return {**os.environ, "FLEETCARE_DATA_DIR": str(tmp_path), "FLEETCARE_DATABASE_URL": database.url,
            "COLUMNS": "200", "NO_COLOR": "1"}


def test_import_sync_and_list(env):
    assert _run(env, "init").returncode == 0
    _run(env, "products", "add", "Gateway GX-500", "--placed-on-market", "2024-03-01",
         "--support-end", "2034-03-31")
    _run(env, "releases", "add", "Gateway GX-500", "23.05.5-gx3", "--kind", "security",
         "--date", "2025-02-14", "--released")
    imported = _run(env, "sbom", "import", "gateway-gx-500", "23.05.5-gx3",
                    str(SBOMS / "gx-500-23.05.5-gx3.cdx.json"), "--json")
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout)
    assert summary["components"] == 6
    assert summary["open_findings"] == 0  # no feeds yet
    synced = _run(env, "feeds", "sync", "--from", str(FEEDS), "--json")
    assert synced.returncode == 0, synced.stderr
    by_source = {r["source"]: r for r in json.loads(synced.stdout)}
    assert by_source["nvd"]["added"] == 6
    assert by_source["kev"]["records"] == 4
    findings = json.loads(_run(env, "findings", "list", "--product", "gateway-gx-500", "--json").stdout)
    assert sorted(f["vulnerability_id"] for f in findings) == [
        "CVE-2022-48174", "CVE-2023-38545", "CVE-2024-1086"]
    kev_only = json.loads(_run(env, "findings", "list", "--kev", "--json").stdout)
    assert [f["vulnerability_id"] for f in kev_only] == ["CVE-2024-1086"]
    vuln = json.loads(_run(env, "vulns", "show", "CVE-2024-1086", "--json").stdout)
    assert vuln["kev"] is True
    assert [a["release"] for a in vuln["affected"]] == ["23.05.5-gx3"]
    exported = _run(env, "sbom", "export", "gateway-gx-500", "23.05.5-gx3")
    assert json.loads(exported.stdout)["specVersion"] == "1.6"
    again = _run(env, "feeds", "sync", "--from", str(FEEDS), "--json")
    assert all(not r["changed"] for r in json.loads(again.stdout))
    status = _run(env, "feeds", "status", "--json")
    assert json.loads(status.stdout)["counts"]["vulnerabilities"] == 7


def test_refused_inputs_exit_2(env, tmp_path):
    _run(env, "init")
    _run(env, "products", "add", "Hub", "--placed-on-market", "2024-03-01", "--support-end", "2034-03-31")
    _run(env, "releases", "add", "Hub", "1.0", "--kind", "feature", "--released")
    bad = tmp_path / "bad.json"
    bad.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 1}]}')
    refused = _run(env, "sbom", "import", "Hub", "1.0", str(bad))
    assert refused.returncode == 2
    assert "components[0].name" in refused.stderr
    assert "Traceback" not in refused.stderr
    broken_feed = tmp_path / "osv"
    broken_feed.mkdir()
    (broken_feed / "x.json").write_text("{not json")
    failed = _run(env, "feeds", "sync", "--source", "osv", "--from", str(broken_feed))
    assert failed.returncode == 2
    assert "x.json" in failed.stderr
    status = json.loads(_run(env, "feeds", "status", "--json").stdout)
    assert status["counts"]["source_records"] == 0
    assert [f["source"] for f in status["feeds"]] == ["osv"]
    assert status["feeds"][0]["status"].startswith("failed: ")
    unknown = _run(env, "feeds", "sync", "--source", "rss", "--from", str(broken_feed))
    assert unknown.returncode == 2
    assert "unknown feed source" in unknown.stderr


def test_standalone_scan(tmp_path):
    env = {**os.environ, "FLEETCARE_DATA_DIR": str(tmp_path / "none"), "COLUMNS": "200"}
    sbom = str(SBOMS / "th-t2-2.4.9.cdx.json")
    result = _run(env, "scan", sbom, "--feeds", str(FEEDS), "--format", "json")
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)
    assert [(f["component"], f["vulnerability_id"]) for f in findings] == [
        ("linux", "CVE-2024-1086"),  # KEV first
        ("libcurl", "CVE-2023-38545"),  # then severity, then EPSS
        ("zlib", "CVE-2022-37434"),
        ("busybox", "CVE-2022-48174"),
        ("urllib3", "CVE-2023-45803"),
    ]
    assert findings[2]["aliases"] == ["GHSA-cfmr-vrgj-vqwv"]
    assert _run(env, "scan", sbom, "--feeds", str(FEEDS), "--fail-on", "critical").returncode == 1
    clean = str(SBOMS / "th-t3-3.1.0.cdx.json")
    assert _run(env, "scan", clean, "--feeds", str(FEEDS), "--fail-on", "critical").returncode == 1
    assert _run(env, "scan", clean, "--feeds", str(FEEDS), "--fail-on", "critical",
                "--format", "json").returncode == 1
    missing = _run(env, "scan", sbom, "--feeds", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr
    table = _run(env, "scan", sbom, "--feeds", str(FEEDS))
    assert "5 findings" in table.stdout
