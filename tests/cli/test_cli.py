"""The operator CLI, run as a real subprocess against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.cli_runner import run_fleetcare

PYTHON = sys.executable


@pytest.fixture
def run(database, tmp_path):
    env = {**os.environ, "FLEETCARE_DATA_DIR": str(tmp_path), "FLEETCARE_DATABASE_URL": database.url,
           "COLUMNS": "200", "NO_COLOR": "1"}

    def invoke(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_fleetcare(*args, env=env, stdin=stdin)

    return invoke


def test_operator_workflow(run):
    assert run("init").returncode == 0
    added = run("users", "add", "Ops@Example.test", "--role", "product", stdin="a good long password\n")
    assert added.returncode == 0, added.stderr
    assert "ops@example.test added with role product" in added.stdout
    token = run("tokens", "create", "--user", "ops@example.test", "--expires", "30", "--json")
    assert token.returncode == 0, token.stderr
    assert json.loads(token.stdout)["token"].startswith("fct_")
    listed = run("tokens", "list", "--json")
    assert "token" not in json.loads(listed.stdout)[0]

    product = run("products", "add", "Door Lock DL2", "--placed-on-market", "2026-04-01",
                  "--support-end", "2033-04-30", "--model-id", "DL-2", "--category", "important_class_i",
                  "--json")
    assert product.returncode == 0, product.stderr
    assert json.loads(product.stdout)["support_end_month_year"] == "April 2033"
    assert run("releases", "add", "Door Lock DL2", "1.0.0", "--kind", "feature", "--date", "2026-04-01",
               "--released").returncode == 0
    assert run("releases", "add", "door-lock-dl2", "1.0.1", "--kind", "security", "--date", "2026-09-01",
               "--released").returncode == 0
    releases = json.loads(run("releases", "list", "door-lock-dl2", "--json").stdout)
    assert [r["version"] for r in releases] == ["1.0.1", "1.0.0"]
    assert releases[0]["available_until"] == "2036-09-01"
    shown = json.loads(run("products", "show", "Door Lock DL2", "--json").stdout)
    assert shown["latest_release"] == "1.0.1"
    table = run("products", "list")
    assert "Door Lock DL2" in table.stdout
    assert "April 2033" in table.stdout
    verified = run("audit", "verify")
    assert verified.returncode == 0
    assert "audit log intact" in verified.stdout


def test_errors_exit_2_with_one_line(run):
    run("init")
    bad_role = run("users", "add", "x@example.test", "--role", "wizard", stdin="a good long password\n")
    assert bad_role.returncode == 2
    assert "unknown role 'wizard'" in bad_role.stderr
    assert "Traceback" not in bad_role.stderr
    short = run("products", "add", "Quick Toy", "--placed-on-market", "2026-01-01",
                "--support-end", "2027-01-01")
    assert short.returncode == 2
    assert "Art. 13(8)" in short.stderr
    assert "Traceback" not in short.stderr
    missing = run("products", "show", "nope")
    assert missing.returncode == 2
    assert "no product 'nope'" in missing.stderr
    weak = run("users", "add", "y@example.test", stdin="short\n")
    assert weak.returncode == 2
    assert "too short" in weak.stderr


def test_commands_refuse_an_uninitialised_database(tmp_path):
    env = {**os.environ, "FLEETCARE_DATA_DIR": str(tmp_path / "fresh")}
    env.pop("FLEETCARE_DATABASE_URL", None)
    result = subprocess.run([PYTHON, "-m", "fleetcare", "products", "list"], capture_output=True,
                            text=True, env=env, timeout=60, check=False)
    assert result.returncode == 2
    assert "fleetcare init" in result.stderr


def test_generated_password_is_printed(run):
    run("init")
    result = run("users", "add", "gen@example.test", "--role", "viewer", "--generate")
    assert result.returncode == 0
    assert "password: " in result.stdout


def test_audit_verify_names_a_tampered_event(run, database):
    from sqlalchemy import text

    run("init")
    run("products", "add", "Camera C1", "--placed-on-market", "2026-01-01", "--support-end", "2031-01-01")
    run("products", "add", "Camera C2", "--placed-on-market", "2026-01-01", "--support-end", "2031-01-01")
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET action = 'product.delete' WHERE seq = 1"))
    result = run("audit", "verify")
    assert result.returncode == 1
    assert "event 1" in result.stderr


def test_demo_loads_once_and_prints_login(run):
    run("init")
    first = run("demo", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "demo portfolio loaded" in first.stdout
    assert "admin@fleetcare.example" in first.stdout
    second = run("demo", "--if-empty")
    assert "already loaded" in second.stdout
    products = json.loads(run("products", "list", "--json").stdout)
    statuses = {p["support_status"] for p in products}
    assert statuses == {"supported", "ending_soon", "ended"}
    assert {p["cra_category"] for p in products} == {
        "default", "important_class_i", "important_class_ii", "critical"}


def test_help_for_every_command(run):
    for args in (["--help"], ["users", "--help"], ["tokens", "create", "--help"], ["audit", "verify", "--help"],
                 ["products", "add", "--help"], ["releases", "add", "--help"], ["serve", "--help"]):
        result = run(*args)
        assert result.returncode == 0, args
        assert "Usage" in result.stdout
