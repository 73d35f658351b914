"""The BSI TR-03183-2 v2.1 quality report: which fields are there, required or recommended."""

import dataclasses
import json

import pytest

from fleetcare.sbom.model import Completeness, Component, Party, Sbom, SbomEncoding, SbomFormat
from fleetcare.sbom.parse import parse_sbom_file
from fleetcare.sbom.quality import Level, assess, component_checks
from tests.sbom import FIXTURES


def failed(checks):
    return {c.field: c.detail for c in checks if not c.passed}


def test_an_sbom_with_every_required_field_passes():
    report = assess(parse_sbom_file(FIXTURES / "cyclonedx" / "gateway-x2-4.1.0.cdx.json"))

    assert report.passed
    assert report.required_missing == 0
    assert (report.score, report.document_score, report.component_score) == (100, 100, 100)
    assert failed(report.document) == {}
    assert [c.name for c in report.components][:2] == ["gateway-x2-firmware", "linux"]
    assert report.components[0].primary
    assert all(c.score == 100 for c in report.components)


def test_an_openwrt_shaped_sbom_misses_most_fields():
    report = assess(parse_sbom_file(FIXTURES / "cyclonedx" / "router-1.4.cdx.json"))

    assert not report.passed
    assert failed(report.document) == {
        "format": "CycloneDX 1.4: the guideline wants CycloneDX 1.6 or later, or SPDX 3.0.1 or later",
        "creator": "no creator named",
        "timestamp": "the SBOM does not say when it was made",
    }
    uhttpd = report.components[7]
    assert uhttpd.name == "uhttpd"
    assert failed(uhttpd.checks) == {
        "creator": "'ExampleWrt' named as creator or supplier, without an email address or URL",
        "filename": "missing",
        "dependencies": "not in the dependency graph: its dependencies are unknown",
        "dependency_completeness": "the SBOM does not say whether its dependency list is complete",
        "license": "'ISC license' is not an SPDX identifier or expression",
        "hash_sha512": "no hash",
        "identifier": "neither purl nor CPE",
    }
    # Weights: 8 required fields count 2, the identifier 1. Name and version: 4 of 17.
    assert uhttpd.score == 24
    assert uhttpd.missing_required == [
        "creator",
        "filename",
        "dependencies",
        "dependency_completeness",
        "license",
        "hash_sha512",
    ]
    # 3 required document fields missing, 6 in each of 9 components but one licence fewer.
    assert report.required_missing == 3 + 9 * 6 - 8
    assert report.document_score == 50  # 6 of 12
    coverage = report.coverage()
    assert coverage["license"] == {
        "title": "Licence (SPDX)",
        "level": "required",
        "passed": 8,
        "total": 9,
    }
    assert coverage["identifier"]["passed"] == 7
    assert coverage["hash_sha512"]["passed"] == 0


def test_partial_hashes_tools_only_and_unknown_refs_are_named():
    report = assess(parse_sbom_file(FIXTURES / "cyclonedx" / "sensor-s1-2.0.3.cdx.json"))

    assert failed(report.document) == {
        "format": "CycloneDX 1.5: the guideline wants CycloneDX 1.6 or later, or SPDX 3.0.1 or later",
        "graph_refs": "1 unknown ref, e.g. 'nrfx'",
    }
    zephyr = next(c for c in report.components if c.ref == "zephyr")
    assert failed(zephyr.checks)["hash_sha512"] == "only SHA-256"
    assert zephyr.missing_required == ["creator", "filename", "hash_sha512"]


def test_only_tools_as_creators():
    sbom = parse_sbom_file(FIXTURES / "cyclonedx" / "cern-lhc-vdm-editor.cdx.json")

    assert failed(assess(sbom).document)["creator"] == (
        "no creator named (only tools: Node.js module 2.0.0)"
    )


def test_vulnerabilities_inside_the_sbom_are_a_missing_requirement():
    report = assess(parse_sbom_file(FIXTURES / "cyclonedx" / "valid-vulnerability-1.6.json"))

    assert failed(report.document)["no_vulnerabilities"] == (
        "1 vulnerability record: publish them as VEX or CSAF instead"
    )


@pytest.mark.parametrize(
    ("path", "format_ok"),
    [
        ("spdx/example11-rust-deb.spdx3.json", True),  # SPDX 3.0.1
        ("spdx/example11-rust-deb.spdx.json", False),  # SPDX 2.3
        ("cyclonedx/camera-c3-1.2.0.cdx.json", True),  # CycloneDX 1.7
        ("cyclonedx/valid-bom-1.6.json", True),
        ("cyclonedx/sensor-s1-2.0.3.cdx.json", False),  # CycloneDX 1.5
    ],
)
def test_format_requirement(path, format_ok):
    report = assess(parse_sbom_file(FIXTURES / path))

    assert report.document[0].field == "format"
    assert report.document[0].passed is format_ok


def test_an_empty_sbom_scores_nothing_for_components():
    sbom = Sbom(SbomFormat.CYCLONEDX, "1.6", SbomEncoding.JSON)
    report = assess(sbom)

    assert failed(report.document)["components"] == "the SBOM lists no components"
    assert report.component_score == 0
    assert report.components == ()


def test_creator_needs_an_email_address_or_url():
    bare = Component(ref="a", name="a", supplier=Party("Acme"))
    with_url = dataclasses.replace(bare, supplier=Party("Acme", url="https://acme.example"))
    creator_only = dataclasses.replace(
        bare, supplier=None, creator=Party(None, email="a@b.example")
    )

    assert not component_checks(bare)[0].passed
    assert component_checks(with_url)[0].passed
    assert component_checks(creator_only)[0].passed


def test_completeness_statement_incomplete_counts_as_stated():
    component = Component(
        ref="a",
        name="a",
        dependencies_declared=True,
        dependency_completeness=Completeness.INCOMPLETE,
    )
    checks = {c.field: c for c in component_checks(component)}

    assert checks["dependencies"].passed
    assert checks["dependency_completeness"].passed


def test_levels_and_weights():
    complete = Component(
        ref="a",
        name="zlib",
        version="1.3.1",
        supplier=Party("zlib", url="https://zlib.net"),
        file_name="libz.so.1",
        dependencies_declared=True,
        dependency_completeness=Completeness.COMPLETE,
        licenses=("Zlib",),
        hashes={"SHA-512": "ab" * 64},
    )
    checks = component_checks(complete)

    assert [c.level for c in checks].count(Level.REQUIRED) == 8
    assert [c.field for c in checks if c.level is Level.RECOMMENDED] == ["identifier"]
    report = assess(Sbom(SbomFormat.CYCLONEDX, "1.6", SbomEncoding.JSON, components=(complete,)))
    # Only the purl/CPE is missing: 16 of 17.
    assert report.components[0].score == 94
    assert report.components[0].missing_required == []


def test_report_is_json_serialisable():
    report = assess(parse_sbom_file(FIXTURES / "spdx" / "thermostat-t7-5.4.0.spdx"))

    data = json.loads(json.dumps(report.to_dict()))

    assert data["guideline"] == "BSI TR-03183-2 v2.1"
    assert data["sbom"] == {
        "format": "SPDX",
        "spec_version": "2.3",
        "encoding": "tag-value",
        "serial": "https://warmhaus.example/spdx/thermostat-t7-5.4.0-8d4e6a1c",
        "timestamp": "2025-02-20T10:00:00+00:00",
        "components": 6,
    }
    assert data["passed"] is False
    assert data["score"] == report.score
    assert data["required_missing"] == report.required_missing
    assert data["document"][0] == {
        "field": "format",
        "title": "SBOM format and version",
        "level": "required",
        "passed": False,
        "detail": "SPDX 2.3: the guideline wants CycloneDX 1.6 or later, or SPDX 3.0.1 or later",
    }
    firmware = data["components"][0]
    assert (firmware["name"], firmware["primary"]) == ("thermostat-t7-firmware", True)
    assert firmware["missing_required"] == ["dependency_completeness"]
    assert set(data["coverage"]) == {c["field"] for c in firmware["checks"]}
