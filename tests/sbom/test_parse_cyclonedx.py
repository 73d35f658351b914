"""CycloneDX 1.2 to 1.7, JSON and XML, read into the normalised model.

Expected values are written out from the fixture files by hand.
"""

import dataclasses
import datetime as dt
import json

import pytest

from fleetcare.sbom.model import (
    Completeness,
    DependencyKind,
    Party,
    PartyKind,
    SbomEncoding,
    SbomFormat,
)
from fleetcare.sbom.parse import parse_sbom, parse_sbom_file
from tests.sbom import FIXTURES

CDX = FIXTURES / "cyclonedx"
D, T, U = DependencyKind.DIRECT, DependencyKind.TRANSITIVE, DependencyKind.UNKNOWN


def kinds(sbom):
    return {c.ref: c.dependency_kind for c in sbom.components}


def by_ref(sbom):
    return {c.ref: c for c in sbom.all_components()}


def test_firmware_sbom_1_6_json_with_every_bsi_field():
    sbom = parse_sbom_file(CDX / "gateway-x2-4.1.0.cdx.json")

    assert (sbom.format, sbom.spec_version, sbom.encoding) == (
        SbomFormat.CYCLONEDX,
        "1.6",
        SbomEncoding.JSON,
    )
    assert sbom.serial == "urn:uuid:6f1c2d4e-8a3b-4c5d-9e7f-0a1b2c3d4e5f"
    assert sbom.timestamp == dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
    assert sbom.creators == (
        Party("Release Engineering", PartyKind.PERSON, email="release@acme.example"),
        Party(
            "Acme Industrial GmbH",
            PartyKind.ORGANIZATION,
            email="psirt@acme.example",
            url="https://acme.example",
        ),
    )
    assert sbom.tools == (Party("acme-firmware-builder", PartyKind.TOOL, version="2.4.0"),)
    assert sbom.vulnerabilities == 0
    assert sbom.unknown_refs == ()

    primary = sbom.primary
    assert primary is not None
    assert (primary.ref, primary.name, primary.version, primary.type) == (
        "acme-gateway-x2-fw",
        "gateway-x2-firmware",
        "4.1.0",
        "firmware",
    )
    assert primary.purl == "pkg:generic/acme/gateway-x2-firmware@4.1.0"
    assert primary.file_name == "gateway-x2-4.1.0.img"
    assert primary.licenses == ("LicenseRef-Acme-Proprietary",)
    assert primary.depends_on == ("linux", "busybox", "mosquitto", "openssl")

    assert [c.name for c in sbom.components] == [
        "linux",
        "busybox",
        "mosquitto",
        "openssl",
        "cjson",
        "zlib",
    ]
    openssl = by_ref(sbom)["openssl"]
    assert openssl.version == "3.0.13"
    assert openssl.purl == "pkg:generic/openssl@3.0.13"
    assert openssl.cpe == "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"
    assert dict(openssl.hashes) == {
        "SHA-512": "ec4fa928a6259ac6645a938c887d2ccd026c16a4f222dd299d311d3676b3f309"
        "cd7ab66ebe373149c72b7eaafd938a89ae09bf466c7fd349a5fcfd7e1ff86ce3"
    }
    assert openssl.licenses == ("Apache-2.0",)
    assert openssl.file_name == "libssl.so.3"
    assert openssl.supplier == Party(
        "OpenSSL Foundation",
        email="openssl-security@openssl.org",
        url="https://openssl.org",
    )
    assert openssl.depends_on == ("zlib",)
    assert by_ref(sbom)["mosquitto"].licenses == ("EPL-2.0 OR BSD-3-Clause",)
    assert by_ref(sbom)["linux"].type == "operating-system"

    assert kinds(sbom) == {
        "linux": D,
        "busybox": D,
        "mosquitto": D,
        "openssl": D,
        "cjson": T,
        "zlib": T,
    }
    assert {c.dependency_completeness for c in sbom.all_components()} == {Completeness.COMPLETE}
    assert all(c.dependencies_declared for c in sbom.all_components())


def test_1_5_json_manufacture_nesting_services_scopes_and_compositions():
    sbom = parse_sbom_file(CDX / "sensor-s1-2.0.3.cdx.json")

    assert sbom.spec_version == "1.5"
    # +01:00 in the file: the same instant as 15:00 UTC.
    assert sbom.timestamp == dt.datetime(2024, 11, 5, 15, 0, tzinfo=dt.UTC)
    assert sbom.creators == (
        Party(
            "Nordlicht Sensors AB",
            email="psirt@nordlicht.example",
            url="https://nordlicht.example",
        ),
    )
    assert sbom.tools == (Party("nordlicht-sbom-builder", PartyKind.TOOL, version="0.9.1"),)
    # Nested components are flattened, after their parent.
    assert [c.ref for c in sbom.components] == [
        "zephyr",
        "mbedtls",
        "tinycbor",
        "nanopb",
        "cmocka",
        "hal-blob",
    ]
    assert kinds(sbom) == {
        "zephyr": D,
        "mbedtls": T,
        "tinycbor": T,
        "nanopb": D,
        "cmocka": U,
        "hal-blob": U,
    }
    refs = by_ref(sbom)
    # svc-cloud is a service: a legitimate graph node that is not a component.
    assert refs["s1-fw"].depends_on == ("zephyr", "nanopb")
    # zephyr lists mbedtls in the graph and contains tinycbor as a nested component.
    assert refs["zephyr"].depends_on == ("mbedtls", "tinycbor")
    assert sbom.unknown_refs == ("nrfx",)
    assert refs["s1-fw"].dependency_completeness is Completeness.INCOMPLETE
    assert refs["zephyr"].dependency_completeness is Completeness.COMPLETE
    assert refs["nanopb"].dependency_completeness is Completeness.UNKNOWN
    assert refs["mbedtls"].dependencies_declared  # {"ref": "mbedtls"}: declared, no dependencies
    assert not refs["tinycbor"].dependencies_declared
    assert (refs["nanopb"].scope, refs["cmocka"].scope, refs["zephyr"].scope) == (
        "required",
        "excluded",
        None,
    )
    assert refs["nanopb"].creator == Party("Petteri Aimonen")
    assert dict(refs["zephyr"].hashes) == {
        "SHA-256": "7d0b3c8e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c"
    }
    assert refs["mbedtls"].licenses == ("Apache-2.0 OR GPL-2.0-or-later",)
    assert refs["mbedtls"].cpe == "cpe:2.3:a:arm:mbed_tls:3.5.2:*:*:*:*:*:*:*"
    blob = refs["hal-blob"]
    assert (blob.type, blob.file_name) == ("file", "hal_nrf.bin")
    assert (blob.licenses, blob.license_names) == ((), ("Nordic 5-Clause",))


@pytest.mark.parametrize(
    ("json_name", "xml_name"),
    [
        ("sensor-s1-2.0.3.cdx.json", "sensor-s1-2.0.3.cdx.xml"),
        ("camera-c3-1.2.0.cdx.json", "camera-c3-1.2.0.cdx.xml"),
        ("valid-bom-1.6.json", "valid-bom-1.6.xml"),
        ("valid-dependency-1.6.json", "valid-dependency-1.6.xml"),
    ],
)
def test_xml_reads_the_same_as_json(json_name, xml_name):
    from_json = parse_sbom_file(CDX / json_name)
    from_xml = parse_sbom_file(CDX / xml_name)

    assert from_xml.encoding is SbomEncoding.XML
    assert dataclasses.replace(from_json, encoding=SbomEncoding.XML) == from_xml


def test_1_7_external_component_and_new_metadata_fields():
    sbom = parse_sbom_file(CDX / "camera-c3-1.2.0.cdx.json")

    assert sbom.spec_version == "1.7"
    assert sbom.creators == (Party("Lumen Optics Ltd", url="https://lumen-optics.example"),)
    assert sbom.primary is not None
    assert sbom.primary.file_name == "camera-c3-1.2.0.bin"
    refs = by_ref(sbom)
    assert set(refs["libjpeg-turbo"].hashes) == {"SHA-512", "SHA3-256"}
    assert refs["libjpeg-turbo"].licenses == ("IJG AND BSD-3-Clause AND Zlib",)
    assert refs["glibc"].version is None  # only a versionRange, for an external component
    assert kinds(sbom) == {"libjpeg-turbo": D, "ffmpeg": D, "glibc": T}


def test_1_4_xml_legacy_tools_authors_and_publisher():
    sbom = parse_sbom_file(CDX / "dect-base-3.2.cdx.xml")

    assert (sbom.spec_version, sbom.encoding) == ("1.4", SbomEncoding.XML)
    assert sbom.creators == (
        Party("Mira Kovac", PartyKind.PERSON, email="mira.kovac@telefonbau.example"),
    )
    assert sbom.tools == (Party("legacy-sbom-tool", PartyKind.TOOL, version="1.0"),)
    assert sbom.primary is not None
    assert sbom.primary.supplier == Party("Telefonbau Nord", url="https://telefonbau.example")
    uclibc = by_ref(sbom)["pkg:generic/uclibc-ng@1.0.44"]
    assert uclibc.creator == Party("uClibc-ng developers")
    assert uclibc.cpe == "cpe:/a:uclibc-ng_project:uclibc-ng:1.0.44"
    assert dict(uclibc.hashes) == {"SHA-1": "3b8a1c2d4e5f60718293a4b5c6d7e8f901a2b3c4"}
    assert kinds(sbom) == {"pkg:generic/uclibc-ng@1.0.44": D, "pkg:generic/lwip@2.1.3": D}


def test_1_4_json_in_the_shape_openwrt_writes():
    sbom = parse_sbom_file(CDX / "router-1.4.cdx.json")

    assert (sbom.spec_version, sbom.primary, sbom.timestamp) == ("1.4", None, None)
    assert len(sbom.components) == 9
    assert not sbom.has_dependency_graph
    assert set(kinds(sbom).values()) == {U}
    busybox, *_, zlib = sbom.components
    assert busybox.ref == "fleetcare:components[0]"
    # "Organization: ExampleWrt ()" in supplier.name is an SPDX actor string.
    assert busybox.supplier == Party("ExampleWrt")
    assert busybox.group is None  # "" in the file
    assert busybox.licenses == ("GPL-2.0-only",)  # an SPDX identifier written in license.name
    assert zlib.cpe == "cpe:/a:gnu:zlib:1.2.13"
    uhttpd = sbom.components[7]
    assert (uhttpd.name, uhttpd.cpe, uhttpd.licenses, uhttpd.license_names) == (
        "uhttpd",
        None,
        (),
        ("ISC license",),
    )


def test_1_4_hardware_bom():
    sbom = parse_sbom_file(CDX / "PCIe-SATA-adapter-board.cdx.json")

    assert sbom.primary is not None
    assert (sbom.primary.name, sbom.primary.version, sbom.primary.type) == (
        "pcie-sata-adaptor-board",
        "rev-1",
        "device",
    )
    assert len(sbom.components) == 6
    connector = sbom.components[0]
    assert connector.supplier == Party("Samtec", url="https://www.samtec.com/")
    assert connector.version == "2.9.10"
    assert sbom.components[1].name == "47155-4001"
    assert sbom.components[1].version is None


def test_1_6_specification_example():
    sbom = parse_sbom_file(CDX / "valid-bom-1.6.json")

    assert sbom.creators == (
        Party("Samantha Wright", PartyKind.PERSON, email="samantha.wright@example.com"),
        Party("Acme, Inc.", email="professional.services@example.com", url="https://example.com"),
    )
    tomcat, library, framework = sbom.components
    assert tomcat.purl == "pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar"
    assert tomcat.group == "com.acme"
    assert sorted(tomcat.hashes) == ["MD5", "SHA-1", "SHA-256", "SHA-512"]
    assert library.licenses == ("EPL-2.0 OR GPL-2.0-with-classpath-exception",)
    assert library.cpe == "cpe:/a:example:myapplication:1.0.0"
    assert library.supplier == Party(
        "Example, Inc.", email="support@example.com", url="https://example.com"
    )
    assert library.creator == Party(
        "Example-2, Inc.", email="support@example.org", url="https://example.org"
    )
    assert framework.license_names == ("Some random license",)
    # The primary component has no edges: the top of the graph is what nothing depends on.
    assert [c.dependency_kind for c in sbom.components] == [D, T, U]


def test_dependency_graph_without_a_primary_component():
    sbom = parse_sbom_file(CDX / "valid-dependency-1.6.json")

    assert sbom.primary is None
    assert kinds(sbom) == {"library-a": D, "library-b": D, "library-c": T}


def test_vulnerabilities_inside_the_sbom_are_counted():
    assert parse_sbom_file(CDX / "valid-vulnerability-1.6.json").vulnerabilities == 1


def test_scanner_output_with_empty_metadata_component():
    sbom = parse_sbom_file(CDX / "alpine-zlib-1.2.12-r1.cdx.json")

    assert sbom.primary is not None
    assert (sbom.primary.name, sbom.primary.type) == ("", None)  # "" in the file
    assert sbom.creators == ()  # "authors": [{}]
    assert sbom.tools == (Party("SCALIBR", PartyKind.TOOL),)
    (zlib,) = sbom.components
    assert zlib.purl == "pkg:apk/alpine/zlib@1.2.12-r1?arch=x86_64&distro=3.22.0&origin=zlib"


def test_1_2_npm_sbom_in_both_encodings():
    from_json = parse_sbom_file(CDX / "cern-lhc-vdm-editor.cdx.json")
    from_xml = parse_sbom_file(CDX / "cern-lhc-vdm-editor.cdx.xml")

    assert from_json.spec_version == from_xml.spec_version == "1.2"
    assert len(from_json.components) == 43
    assert from_json.components == from_xml.components
    puppeteer = from_json.components[0]
    assert puppeteer.purl == "pkg:npm/puppeteer@1.19.0"
    assert puppeteer.hashes["SHA-512"] == (
        "d92e84eb2829a2a70409a6a00db068a6848e3c3bf4a4066f4db9c181463eea1ab4fd70c50ce2c430"
        "d94717f48a265cdc699f5c9222a3283bae79623714dfd65f"
    )
    assert puppeteer.licenses == ("Apache-2.0",)
    assert from_json.tools == (Party("Node.js module", PartyKind.TOOL, version="2.0.0"),)
    assert not from_json.has_dependency_graph


def test_1_2_go_sbom_with_a_large_graph():
    sbom = parse_sbom_file(CDX / "proton-bridge-v1.8.0.cdx.json")

    assert len(sbom.components) == 201
    counted = [c.dependency_kind for c in sbom.components]
    assert (counted.count(D), counted.count(T), counted.count(U)) == (56, 144, 1)
    refs = by_ref(sbom)
    # Declared in the graph, but nothing reaches it from the application.
    assert refs["pkg:golang/github.com/kr/pty@v1.1.1"].dependency_kind is U
    assert refs[
        "pkg:golang/github.com/0xAX/notificator@v0.0.0-20191016112426-3962a5ea8da1"
    ].licenses == ("BSD-3-Clause",)


def test_parse_accepts_text_and_a_byte_order_mark():
    text = (CDX / "valid-dependency-1.6.json").read_text(encoding="utf-8")

    assert parse_sbom(text) == parse_sbom(b"\xef\xbb\xbf" + text.encode())


def test_xml_in_a_declared_legacy_encoding():
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>'
        '<component type="library"><name>m\xfcsli</name><version>1.0</version></component>'
        "</components></bom>"
    ).encode("latin-1")

    assert parse_sbom(xml).components[0].name == "m\xfcsli"


def test_model_to_dict_is_json_ready():
    sbom = parse_sbom_file(CDX / "gateway-x2-4.1.0.cdx.json")

    data = json.loads(json.dumps(sbom.to_dict()))

    assert (data["format"], data["spec_version"], data["encoding"]) == ("CycloneDX", "1.6", "json")
    assert data["timestamp"] == "2025-03-14T09:30:00+00:00"
    assert data["creators"][1] == {
        "name": "Acme Industrial GmbH",
        "kind": "organization",
        "email": "psirt@acme.example",
        "url": "https://acme.example",
        "version": None,
    }
    assert data["primary"]["depends_on"] == ["linux", "busybox", "mosquitto", "openssl"]
    zlib = data["components"][-1]
    assert zlib["purl"] == "pkg:generic/zlib@1.3.1"
    assert (zlib["dependency_kind"], zlib["dependency_completeness"]) == ("transitive", "complete")
    assert list(zlib["hashes"]) == ["SHA-512"]


def test_components_are_immutable():
    component = parse_sbom_file(CDX / "gateway-x2-4.1.0.cdx.json").components[0]

    with pytest.raises(dataclasses.FrozenInstanceError):
        component.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        component.hashes["SHA-512"] = "00"  # type: ignore[index]
