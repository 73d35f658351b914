"""`fleetcare sbom check`: the quality report without a database, for people and pipelines."""

import json

import pytest
from typer.testing import CliRunner

from fleetcare.cli import app
from fleetcare.sbom import cli as sbom_cli
from tests.sbom import FIXTURES

runner = CliRunner()


def check(*args: str, columns: int = 160):
    # rich reads COLUMNS once, when the console is made at import: under xdist another test may
    # have imported the CLI first, so the width is set on the console itself as well.
    sbom_cli._out.width = columns
    sbom_cli._err.width = columns
    return runner.invoke(app, ["sbom", "check", *args], env={"COLUMNS": str(columns)})


def flat(text: str) -> str:
    """The output with line breaks folded: the first line names the file, and how it wraps
    depends on the length of the checkout's path."""
    return " ".join(text.split())


def test_a_complete_sbom_exits_0():
    result = check(str(FIXTURES / "cyclonedx" / "gateway-x2-4.1.0.cdx.json"))

    assert result.exit_code == 0, result.output
    assert "CycloneDX 1.6 (json), 7 components, made 2025-03-14 09:30 UTC" in flat(result.stdout)
    assert "BSI TR-03183-2 v2.1: the SBOM" in result.stdout
    assert "gateway-x2-firmware 4.1.0" in result.stdout
    assert "score 100/100; all required fields present" in result.stdout


def test_missing_required_fields_exit_1_with_the_count():
    result = check(str(FIXTURES / "cyclonedx" / "router-1.4.cdx.json"))

    assert result.exit_code == 1
    assert "score 44/100; 49 required fields missing" in result.stdout
    assert "the guideline wants CycloneDX 1.6 or later" in flat(result.stdout)
    assert "uhttpd" in result.stdout


def test_the_component_table_fits_a_narrow_terminal():
    result = check(str(FIXTURES / "cyclonedx" / "router-1.4.cdx.json"), columns=80)

    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "crt creator or supplier with contact" in " ".join(result.stdout.split())


def test_json_for_machines():
    result = check(str(FIXTURES / "spdx" / "example11-rust-deb.spdx3.json"), "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["sbom"]["format"] == "SPDX"
    assert report["sbom"]["spec_version"] == "3.0.1"
    assert report["passed"] is False
    assert [c["name"] for c in report["components"]] == [
        "hello-server-src",
        "hyper",
        "tokio",
        "pretty_env_logger",
    ]


def test_json_of_a_passing_sbom_exits_0():
    result = check(str(FIXTURES / "cyclonedx" / "gateway-x2-4.1.0.cdx.json"), "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["required_missing"] == 0


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_an_invalid_sbom_exits_2_with_one_line(flag):
    result = check(str(FIXTURES / "broken" / "bad-purl.cdx.json"), *flag)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: components[1].purl: invalid purl 'pkg:deb//libpng@1.6.40': empty segment in "
        "its namespace (and 2 more problems)"
    ]


def test_an_unreadable_file_exits_2(tmp_path):
    result = check(str(tmp_path / "nothing.json"))

    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot read ")
    assert result.stderr.rstrip().endswith("nothing.json: No such file or directory")


def test_size_limit_option(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * (2 * 1024 * 1024) + b"}")

    result = check(str(big), "--max-mib", "1")

    assert result.exit_code == 2
    assert "the file is 2.0 MiB, more than the limit of 1.0 MiB" in result.stderr
