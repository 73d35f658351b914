"""The update commands as an operator runs them: keys, upload, sign, devices, rollouts, agent."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.cli_runner import run_fleetcare


@pytest.fixture
def run(database, tmp_path):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "FLEETCARE_DATA_DIR": str(tmp_path / "data"),
        "FLEETCARE_DATABASE_URL": database.url,
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        return run_fleetcare(*args, env=env)

    return invoke


def test_release_manager_workflow(run, tmp_path):
    offline = tmp_path / "offline"
    assert run("keys", "init", str(offline), "--root-keys", "3", "--threshold", "2").returncode == 0
    installed = run("keys", "install", str(offline))
    assert installed.returncode == 0, installed.stderr
    assert (
        run(
            "products",
            "add",
            "Gateway",
            "--placed-on-market",
            "2026-01-01",
            "--support-end",
            "2032-01-01",
        ).returncode
        == 0
    )
    assert run("releases", "add", "gateway", "2.0.0", "--kind", "security").returncode == 0
    image = tmp_path / "image.bin"
    image.write_bytes(b"\x7fELF" * 1000)
    upload = run("releases", "upload", "gateway", "2.0.0", str(image))
    assert upload.returncode == 0, upload.stderr
    assert "4000 bytes" in upload.stdout
    signed = run("releases", "sign", "gateway", "2.0.0")
    assert "release counter 1" in signed.stdout, signed.stderr
    again = run("releases", "sign", "gateway", "2.0.0")
    assert again.returncode == 2
    assert "already signed" in again.stderr
    assert "Traceback" not in again.stderr
    factory = tmp_path / "factory.csv"
    factory.write_text(
        "uid,secret,customer,groups\n"
        + "".join(
            f"gw-{i},secret-of-device-{i:04},ACME,{'canary' if i < 2 else ''}\n" for i in range(10)
        )
    )
    imported = run("devices", "import", "gateway", str(factory))
    assert "10 devices pre-authorised" in imported.stdout, imported.stderr
    created = run(
        "rollouts",
        "create",
        "gateway",
        "2.0.0",
        "--wave",
        "group:canary",
        "--wave",
        "100",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    rollout = json.loads(created.stdout)
    assert rollout["mode"] == "automatic"
    assert run("rollouts", "start", str(rollout["id"])).returncode == 0
    status = json.loads(run("rollouts", "status", str(rollout["id"]), "--json").stdout)[0]
    assert [w["size"] for w in status["waves"]] == [2, 8]
    assert "rollout 1 is paused" in run("rollouts", "pause", "1").stdout


def test_simulate_refuses_a_bad_token_or_an_unreachable_server_in_one_line(tmp_path):
    env = {**os.environ, "FLEETCARE_DATA_DIR": str(tmp_path), "COLUMNS": "200", "NO_COLOR": "1"}
    base = ["simulate", "--product", "gateway", "--installed", "1.0.0", "--devices", "2"]
    for extra, words in (
        (["--server", "http://127.0.0.1:9", "--token", ""], "--token must be an API token"),
        (["--server", "127.0.0.1:9", "--token", "fc_x"], "--server must be an http"),
        (["--server", "http://127.0.0.1:9", "--token", "fc_x"], "cannot talk to"),
    ):
        result = run_fleetcare(*base, *extra, env=env)
        assert result.returncode == 2, (extra, result.stdout, result.stderr)
        assert words in result.stderr
        assert "Traceback" not in result.stderr + result.stdout
