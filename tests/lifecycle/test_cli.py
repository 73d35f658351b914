"""`fleetcare eol ...` run as a real subprocess against a real database."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.cli_runner import run_fleetcare


@pytest.fixture
def run(database, tmp_path):
    env = {
        **os.environ,
        "FLEETCARE_DATA_DIR": str(tmp_path),
        "FLEETCARE_DATABASE_URL": database.url,
        "FLEETCARE_SMTP_HOST": "",
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return run_fleetcare(*args, env=env)

    return invoke


def test_plan_import_notices_and_status_from_the_shell(run, tmp_path):
    assert run("init").returncode == 0
    added = run(
        "products", "add", "Door Lock DL2", "--placed-on-market", "2021-04-01",
        "--support-end", "2027-04-30",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    customers = tmp_path / "customers.csv"
    customers.write_text("ref,name,emails\nacme,Acme,ops@acme.example\nbob,Bob,bob@example.test\n")
    devices = tmp_path / "devices.csv"
    devices.write_text(
        "device,customer,product\nl1,acme,door-lock-dl2\nl2,acme,door-lock-dl2\nl3,bob,door-lock-dl2\n"
    )
    assert "2 customers created" in run("eol", "import-customers", str(customers)).stdout
    assert "3 devices added" in run("eol", "import-devices", str(devices)).stdout

    planned = run(
        "eol", "plan", "door-lock-dl2", "--milestones", "12,6,3", "--factory-reset",
        "Press reset for 5 s", "--offer", "Free upgrade", "--json",
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["milestones"] == [12, 6, 3]
    assert plan["decommissioning"]["factory_reset"] == "Press reset for 5 s"
    assert plan["devices_in_field"] == 3
    # Changing one thing keeps the rest.
    kept = json.loads(run("eol", "plan", "door-lock-dl2", "--send-hour", "7", "--json").stdout)
    assert (kept["send_hour"], kept["transition_offer"]) == (7, "Free upgrade")
    shown = run("eol", "plan", "door-lock-dl2")
    assert "support ends April 2027" in shown.stdout

    sent = run("eol", "notices", "--send", "--json")
    assert sent.returncode == 0, sent.stderr
    assert ": 0 sent, 0 failed, 2 skipped, 0 to retry" in sent.stdout  # no SMTP configured
    notices = json.loads(sent.stdout[sent.stdout.index("[") :])
    assert sorted(n["status"] for n in notices) == ["sent", "superseded"]
    [notice] = [n for n in notices if n["status"] == "sent"]
    assert (notice["months_before"], notice["customers"], notice["devices"]) == (6, 2, 3)
    log = json.loads(run("eol", "deliveries", "--json").stdout)
    assert {d["status"] for d in log} == {"skipped"}
    assert "FLEETCARE_SMTP_HOST" in log[0]["last_error"]

    [row] = json.loads(run("eol", "status", "--json").stdout)
    assert (row["product"], row["devices_in_field"], row["notices_sent"]) == ("Door Lock DL2", 3, 1)
    assert "Door Lock DL2" in run("eol", "status").stdout


def test_bad_input_exits_2_with_one_line(run, tmp_path):
    assert run("init").returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,nom\nx,y\n")
    refused = run("eol", "import-customers", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "lacks the column(s) name" in refused.stderr
    unknown = run("eol", "plan", "no-such-product", "--milestones", "12")
    assert unknown.returncode == 2
    assert "no-such-product" in unknown.stderr
