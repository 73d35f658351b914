"""CycloneDX 1.6 JSON export: valid against the official schema, and faithful to the model."""

import dataclasses
import datetime as dt
import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from fleetcare.sbom.export import (
    ProductRelease,
    sbom_for_release,
    to_cyclonedx,
    to_cyclonedx_json,
)
from fleetcare.sbom.model import Component, DependencyKind, Party, PartyKind
from fleetcare.sbom.parse import parse_sbom, parse_sbom_file
from tests.sbom import FIXTURES

WHEN = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
SERIAL = "urn:uuid:0d9c4f7e-1b2a-4c3d-8e5f-6a7b8c9d0e1f"
VALID_FIXTURES = sorted(
    p.relative_to(FIXTURES).as_posix()
    for p in FIXTURES.glob("*/*")
    if p.suffix != ".md" and "bad" not in p.name
)


def validate(data: bytes) -> None:
    # The schema (with its spdx and jsf parts) is bundled with cyclonedx-python-lib: no network.
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode())
    assert error is None, str(error)[:2000]


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_every_readable_fixture_exports_valid_cyclonedx_1_6(name):
    validate(to_cyclonedx_json(parse_sbom_file(FIXTURES / name)))


def test_round_trip_keeps_what_the_model_says():
    original = parse_sbom_file(FIXTURES / "cyclonedx" / "gateway-x2-4.1.0.cdx.json")

    exported = to_cyclonedx_json(original, serial_number=SERIAL, timestamp=WHEN)
    validate(exported)
    again = parse_sbom(exported)

    assert again.serial == SERIAL
    assert again.timestamp == WHEN
    assert again.tools == (Party("fleetcare", PartyKind.TOOL, version="0.1.0"),)
    assert again.creators == original.creators
    assert again.primary == original.primary
    assert again.components == original.components


def test_round_trip_of_spdx_keeps_graph_hashes_and_licences():
    original = parse_sbom_file(FIXTURES / "spdx" / "thermostat-t7-5.4.0.spdx")

    again = parse_sbom(to_cyclonedx_json(original))

    assert again.format.value == "CycloneDX"
    for before, after in zip(original.all_components(), again.all_components(), strict=True):
        assert after.ref == before.ref
        assert (after.name, after.version, after.purl, after.cpe) == (
            before.name,
            before.version,
            before.purl,
            before.cpe,
        )
        assert after.hashes == before.hashes
        assert after.licenses == before.licenses
        assert after.depends_on == before.depends_on
        assert after.dependency_kind == before.dependency_kind
        assert after.dependency_completeness == before.dependency_completeness
        assert after.file_name == before.file_name
        assert after.scope == before.scope


def test_document_shape():
    sbom = parse_sbom_file(FIXTURES / "cyclonedx" / "sensor-s1-2.0.3.cdx.json")

    document = to_cyclonedx(sbom, serial_number=SERIAL, timestamp=WHEN)

    assert (document["bomFormat"], document["specVersion"], document["version"]) == (
        "CycloneDX",
        "1.6",
        1,
    )
    assert document["metadata"]["timestamp"] == "2025-06-01T12:00:00Z"
    assert document["metadata"]["manufacturer"] == {
        "name": "Nordlicht Sensors AB",
        "url": ["https://nordlicht.example"],
        "contact": [{"email": "psirt@nordlicht.example"}],
    }
    assert document["metadata"]["component"]["bom-ref"] == "s1-fw"
    assert document["compositions"] == [
        {"aggregate": "complete", "dependencies": ["zephyr"]},
        {"aggregate": "incomplete", "dependencies": ["s1-fw"]},
    ]
    dependencies = {d["ref"]: d["dependsOn"] for d in document["dependencies"]}
    assert dependencies["s1-fw"] == ["zephyr", "nanopb"]
    assert dependencies["mbedtls"] == []
    assert "tinycbor" not in dependencies  # never declared: stays unknown
    blob = document["components"][-1]
    assert blob["licenses"] == [{"license": {"name": "Nordic 5-Clause"}}]
    assert blob["properties"] == [{"name": "bsi:component:filename", "value": "hal_nrf.bin"}]
    nanopb = next(c for c in document["components"] if c["bom-ref"] == "nanopb")
    assert nanopb["manufacturer"] == {"name": "Petteri Aimonen"}
    assert nanopb["scope"] == "required"


def test_vulnerabilities_are_never_written():
    sbom = parse_sbom_file(FIXTURES / "cyclonedx" / "valid-vulnerability-1.6.json")
    assert sbom.vulnerabilities == 1

    assert "vulnerabilities" not in to_cyclonedx(sbom)


def test_a_new_serial_number_each_time_unless_given():
    sbom = parse_sbom_file(FIXTURES / "cyclonedx" / "valid-dependency-1.6.json")

    first, second = to_cyclonedx(sbom), to_cyclonedx(sbom)

    assert first["serialNumber"] != second["serialNumber"]
    assert first["serialNumber"].startswith("urn:uuid:")
    fixed = to_cyclonedx_json(sbom, serial_number=SERIAL, timestamp=WHEN)
    assert fixed == to_cyclonedx_json(sbom, serial_number=SERIAL, timestamp=WHEN)


def component(ref, **fields):
    return Component(ref=ref, name=ref, version="1.0", **fields)


@pytest.mark.parametrize(
    ("licenses", "names", "expected"),
    [
        (("MIT",), (), [{"license": {"id": "MIT"}}]),
        (
            ("MIT", "Apache-2.0"),
            (),
            [{"license": {"id": "MIT"}}, {"license": {"id": "Apache-2.0"}}],
        ),
        (("MIT OR Apache-2.0",), (), [{"expression": "MIT OR Apache-2.0"}]),
        (("LicenseRef-Acme",), (), [{"expression": "LicenseRef-Acme"}]),
        # Two statements, one compound: kept apart, not joined into an invented expression.
        (
            ("MIT OR Apache-2.0", "MIT"),
            (),
            [{"license": {"name": "MIT OR Apache-2.0"}}, {"license": {"id": "MIT"}}],
        ),
        (
            ("MIT",),
            ("Vendor EULA",),
            [{"license": {"id": "MIT"}}, {"license": {"name": "Vendor EULA"}}],
        ),
        ((), (), None),
    ],
)
def test_licences(licenses, names, expected):
    sbom = sbom_for_release(
        ProductRelease("p", "1"),
        [component("a", licenses=licenses, license_names=names)],
        timestamp=WHEN,
    )

    exported = to_cyclonedx(sbom)
    validate(json.dumps(exported).encode())
    assert exported["components"][0].get("licenses") == expected


def test_hashes_the_schema_cannot_hold_are_left_out():
    hashes = {"SHA-512": "ab" * 64, "SHA-224": "cd" * 28, "ADLER32": "01020304", "MD5": "ef" * 16}
    sbom = sbom_for_release(ProductRelease("p", "1"), [component("a", hashes=hashes)])

    exported = to_cyclonedx(sbom)

    assert exported["components"][0]["hashes"] == [
        {"alg": "SHA-512", "content": "ab" * 64},
        {"alg": "MD5", "content": "ef" * 16},
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("firmware", "firmware"),
        ("source", "file"),
        ("install", "application"),
        ("other", "library"),
        (None, "library"),
    ],
)
def test_component_types(kind, expected):
    sbom = sbom_for_release(ProductRelease("p", "1"), [component("a", type=kind)])

    assert to_cyclonedx(sbom)["components"][0]["type"] == expected


def test_export_for_a_release_from_stored_components():
    components = [
        component(
            "busybox", purl="pkg:generic/busybox@1.36.1", dependency_kind=DependencyKind.DIRECT
        ),
        component(
            "openssl",
            cpe="cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
            dependency_kind=DependencyKind.DIRECT,
            depends_on=("zlib",),
            dependencies_declared=True,
        ),
        component("zlib", dependency_kind=DependencyKind.TRANSITIVE),
    ]
    release = ProductRelease(
        product="Gateway X2",
        version="4.1.0",
        manufacturer="Acme Industrial GmbH",
        manufacturer_email="psirt@acme.example",
        manufacturer_url="https://acme.example",
        hashes={"SHA-512": "ab" * 64},
        file_name="gateway-x2-4.1.0.img",
        license="LicenseRef-Acme-Proprietary",
    )

    sbom = sbom_for_release(release, components, timestamp=WHEN)
    data = to_cyclonedx_json(sbom, serial_number=SERIAL)
    validate(data)
    document = json.loads(data)

    assert document["metadata"]["component"] == {
        "type": "firmware",
        "bom-ref": "fleetcare:release:Gateway X2@4.1.0",
        "supplier": {
            "name": "Acme Industrial GmbH",
            "url": ["https://acme.example"],
            "contact": [{"email": "psirt@acme.example"}],
        },
        "manufacturer": {
            "name": "Acme Industrial GmbH",
            "url": ["https://acme.example"],
            "contact": [{"email": "psirt@acme.example"}],
        },
        "name": "Gateway X2",
        "version": "4.1.0",
        "hashes": [{"alg": "SHA-512", "content": "ab" * 64}],
        "licenses": [{"expression": "LicenseRef-Acme-Proprietary"}],
        "properties": [{"name": "bsi:component:filename", "value": "gateway-x2-4.1.0.img"}],
    }
    assert document["metadata"]["timestamp"] == "2025-06-01T12:00:00Z"
    assert document["dependencies"] == [
        {"ref": "fleetcare:release:Gateway X2@4.1.0", "dependsOn": ["busybox", "openssl"]},
        {"ref": "openssl", "dependsOn": ["zlib"]},
    ]
    again = parse_sbom(data)
    assert [c.dependency_kind for c in again.components] == [
        DependencyKind.DIRECT,
        DependencyKind.DIRECT,
        DependencyKind.TRANSITIVE,
    ]


def test_a_release_without_direct_components_declares_no_graph():
    sbom = sbom_for_release(ProductRelease("p", "1"), [component("a"), component("b")])

    assert "dependencies" not in to_cyclonedx(sbom)
    assert (
        parse_sbom(to_cyclonedx_json(sbom)).components[0].dependency_kind is DependencyKind.UNKNOWN
    )


def test_release_refs_must_be_unique_and_never_clash_with_the_product():
    with pytest.raises(ValueError, match="component ref 'a' is used more than once"):
        sbom_for_release(ProductRelease("p", "1"), [component("a"), component("a")])

    clash = component("pkg:generic/p@1")
    sbom = sbom_for_release(ProductRelease("p", "1", purl="pkg:generic/p@1"), [clash])
    assert sbom.primary is not None
    assert sbom.primary.ref == "pkg:generic/p@1'"


def test_contacts_that_are_not_addresses_are_left_out():
    odd = component("a", supplier=Party("N/A", email="N/A", url="not a url"))
    sbom = dataclasses.replace(
        sbom_for_release(ProductRelease("p", "1"), [odd]),
        creators=(Party("Someone", PartyKind.PERSON, email="none"),),
    )

    exported = to_cyclonedx(sbom)
    validate(json.dumps(exported).encode())
    assert exported["components"][0]["supplier"] == {"name": "N/A"}
    assert exported["metadata"]["authors"] == [{"name": "Someone"}]
