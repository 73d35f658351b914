"""`fleetcare reports`, `cases`, `security-txt`, `webhooks` and `deliveries`, run as real
subprocesses against the demo data on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from fleetcare.core.auth import system_principal
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service as disclosure
from fleetcare.disclosure.schemas import ReportIn
from tests.cli_runner import run_fleetcare


@pytest.fixture
def run(database, tmp_path):
    env = {**os.environ, "FLEETCARE_DATA_DIR": str(tmp_path), "FLEETCARE_DATABASE_URL": database.url,
           "FLEETCARE_JOBS_BACKEND": "memory", "COLUMNS": "220", "NO_COLOR": "1"}

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return run_fleetcare(*args, env=env)

    return invoke


@pytest.fixture
def demo(run):
    assert run("init").returncode == 0
    loaded = run("demo")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo reports loaded" in loaded.stdout
    return run


def test_the_inbox_from_a_shell(demo):
    run = demo
    listed = json.loads(run("reports", "list", "--json").stdout)
    assert len(listed) == 6
    assert {r["status"] for r in listed} >= {"received", "triaging", "disclosed", "rejected"}
    assert len(json.loads(run("reports", "list", "--quarantine", "--json").stdout)) == 1
    overdue = next(r for r in listed if r["status"] == "received")
    assert overdue["clocks"]["acknowledgement_overdue"] is True
    table = run("reports", "list", "--open")
    assert "OVERDUE" in table.stdout
    assert overdue["tracking_id"] in table.stdout

    triaging = next(r for r in listed if r["status"] == "triaging")["tracking_id"]
    shown = run("reports", "show", triaging)
    assert "INTERNAL" in shown.stdout  # the team's note, marked
    assert "Confirmed on staging" in shown.stdout

    tid = overdue["tracking_id"]
    moved = run("reports", "status", tid, "triaging", "--message", "We are on it.")
    assert moved.returncode == 0, moved.stderr
    assert f"report {tid} is now triaging" in moved.stdout
    assert run("reports", "message", tid, "Root cause: debug build", "--internal").returncode == 0
    detail = json.loads(run("reports", "show", tid, "--json").stdout)
    assert detail["acknowledged_at"] is not None
    assert [m["internal"] for m in detail["messages"][-2:]] == [False, True]

    wrong = run("reports", "status", tid, "disclosed")
    assert wrong.returncode == 2
    assert "a triaging report cannot become disclosed" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert run("reports", "status", tid, "weird").returncode == 2
    missing = run("reports", "show", "VR-0000-0000")
    assert missing.returncode == 2
    assert "no report 'VR-0000-0000'" in missing.stderr


def test_article_14_cases_from_a_shell(demo):
    run = demo
    cases = json.loads(run("cases", "list", "--json").stdout)
    assert sorted(c["status"] for c in cases) == ["open", "proposed"]
    opened = next(c for c in cases if c["status"] == "open")
    proposed = next(c for c in cases if c["status"] == "proposed")

    board = run("cases", "deadlines", "--tz", "America/New_York")
    assert board.returncode == 0
    assert "overdue" in board.stdout  # the unacknowledged demo report
    assert opened["reference"] in board.stdout
    assert "EST" in board.stdout or "EDT" in board.stdout

    shown = run("cases", "show", opened["reference"], "--tz", "Asia/Tokyo")
    assert "JST" in shown.stdout
    assert "submitted" in shown.stdout
    assert "CSIRT designated as coordinator of Germany" in shown.stdout

    exported = json.loads(run("cases", "export", opened["reference"], "early_warning").stdout)
    assert exported["status"] == "submitted"
    assert exported["platform_reference"] == "ENISA-SRP-DEMO-0001"

    incomplete = run("cases", "submit", opened["reference"], "final", "--reference", "X")
    assert incomplete.returncode == 2
    assert "submit the notification before the final report" in incomplete.stderr

    confirmed = run("cases", "confirm", proposed["reference"], "--aware-at",
                    "2026-11-20T09:00", "--evidence", "Honeypot hit")
    assert confirmed.returncode == 0, confirmed.stderr
    after = json.loads(run("cases", "show", proposed["reference"], "--json").stdout)
    assert after["aware_at"] == "2026-11-20T08:00:00Z"  # 09:00 in the manufacturer's zone
    early = json.loads(run("cases", "export", proposed["reference"], "early_warning").stdout)
    assert early["content"]["member_states"]
    filed = run("cases", "submit", proposed["reference"], "early_warning", "--reference",
                "SRP-CLI-1", "--at", "2026-11-20T20:00+01:00")
    assert filed.returncode == 0, filed.stderr
    assert "frozen, SHA-256" in filed.stdout

    new = run("cases", "open", "--kind", "severe_incident", "--title", "Cloud breach",
              "--aware-at", "2026-11-21T07:30Z", "--evidence", "SOC-99",
              "--product", "Gateway GX-500", "--json")
    assert new.returncode == 0, new.stderr
    assert json.loads(new.stdout)["deadlines"][0]["due"] == "2026-11-22T07:30:00Z"
    bad = run("cases", "open", "--kind", "severe_incident", "--title", "x", "--aware-at",
              "yesterday", "--evidence", "y")
    assert bad.returncode == 2
    assert "is not a time" in bad.stderr


def test_security_txt_webhooks_and_deliveries_from_a_shell(demo):
    run = demo
    shown = run("security-txt", "show")
    assert "Contact: http://127.0.0.1:8000/security/report" in shown.stdout
    assert "Expires:" in shown.stdout
    renewed = json.loads(run("security-txt", "renew", "--json").stdout)
    assert renewed["reviewed_by"].startswith("cli:")

    added = run("webhooks", "add", "pager", "https://hooks.example.com/x", "--event", "case.*",
                "--json")
    assert added.returncode == 0, added.stderr
    hook = json.loads(added.stdout)
    assert hook["secret"].startswith("whsec_")
    listed = run("webhooks", "list", "--json")
    assert hook["secret"] not in listed.stdout
    assert run("webhooks", "remove", str(hook["id"])).returncode == 0
    assert run("webhooks", "add", "x", "ftp://nope").returncode == 2
    assert run("deliveries").returncode == 0


def test_text_from_reporters_cannot_style_the_terminal(run, database):
    run("init")
    with database.session() as session:
        disclosure.submit_report(
            session, ReportIn(title="[bold red]URGENT[/] [link=http://evil]click[/link]",
                              description="[blink]x[/blink]"),
            via="api", settings=Settings(), actor=system_principal("tests"))
        session.commit()
    table = run("reports", "list")
    assert "[bold red]URGENT[/]" in table.stdout
    shown = run("reports", "show", json.loads(run("reports", "list", "--json").stdout)[0][
        "tracking_id"])
    assert "[blink]x[/blink]" in shown.stdout
