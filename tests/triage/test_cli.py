"""`fleetcare triage`, `fleetcare vex` and `fleetcare advisories` from a shell, on the demo data."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.cli_runner import run_fleetcare
from tests.triage.conftest import finding_id


def _run(env, *args):
    return run_fleetcare(*args, env=env)


@pytest.fixture
def env(findings_db, tmp_path):
    home = tmp_path / "gpg"
    yield {**os.environ, "FLEETCARE_DATA_DIR": str(tmp_path),
           "FLEETCARE_DATABASE_URL": findings_db.url, "FLEETCARE_CSAF_GNUPG_HOME": str(home),
           "COLUMNS": "200", "NO_COLOR": "1"}
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
                   capture_output=True, check=False)


def test_decide_export_and_publish(env, findings_db):
    fid = finding_id(findings_db, "gateway-gx-500", "23.05.5-gx3", "busybox", "CVE-2022-48174")
    refused = _run(env, "triage", "decide", str(fid), "--status", "affected")
    assert refused.returncode == 2
    assert "action_statement" in refused.stderr
    decided = _run(env, "triage", "decide", str(fid), "--status", "affected",
                   "--action", "Turn off telnetd.")
    assert decided.returncode == 0, decided.stderr
    bulk = _run(env, "triage", "bulk", "CVE-2022-48174", "--product", "gateway-gx-500",
                "--status", "affected", "--action", "Turn off telnetd.", "--reason", "all GX")
    assert bulk.returncode == 0, bulk.stderr
    assert bulk.stdout.startswith("2 findings")
    shown = json.loads(_run(env, "triage", "show", str(fid), "--json").stdout)
    assert shown["vex_status"] == "affected"
    assert shown["history"][-1]["reason"] == "all GX"
    exported = _run(env, "vex", "export", "gateway-gx-500", "--format", "cyclonedx")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["specVersion"] == "1.6"
    created = _run(env, "advisories", "create", "--product", "gateway-gx-500",
                   "--vulnerability", "CVE-2022-48174", "--title", "busybox in GX-500",
                   "--summary", "Turn off telnetd until the fix ships.")
    assert created.returncode == 0, created.stderr
    tracking_id = created.stdout.split()[1]
    assert _run(env, "advisories", "validate", tracking_id).returncode == 0
    published = _run(env, "advisories", "publish", tracking_id)
    assert published.returncode == 0, published.stderr
    listed = json.loads(_run(env, "advisories", "list", "--json").stdout)
    assert listed[0]["status"] == "final"
