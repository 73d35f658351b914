"""SPDX 2.2 and 2.3 (JSON and tag-value, through spdx-tools) and SPDX 3.0 JSON-LD."""

import datetime as dt

from fleetcare.sbom.model import (
    Completeness,
    DependencyKind,
    Party,
    PartyKind,
    SbomEncoding,
    SbomFormat,
)
from fleetcare.sbom.parse import parse_sbom_file
from tests.sbom import FIXTURES

SPDX = FIXTURES / "spdx"
D, T, U = DependencyKind.DIRECT, DependencyKind.TRANSITIVE, DependencyKind.UNKNOWN


def by_ref(sbom):
    return {c.ref: c for c in sbom.all_components()}


def test_2_3_tag_value_firmware_sbom():
    sbom = parse_sbom_file(SPDX / "thermostat-t7-5.4.0.spdx")

    assert (sbom.format, sbom.spec_version, sbom.encoding) == (
        SbomFormat.SPDX,
        "2.3",
        SbomEncoding.TAG_VALUE,
    )
    assert sbom.name == "thermostat-t7-5.4.0"
    assert sbom.serial == "https://warmhaus.example/spdx/thermostat-t7-5.4.0-8d4e6a1c"
    assert sbom.timestamp == dt.datetime(2025, 2, 20, 10, 0, tzinfo=dt.UTC)
    assert sbom.creators == (Party("Warmhaus Controls", email="psirt@warmhaus.example"),)
    assert sbom.tools == (Party("warmhaus-sbom-0.3", PartyKind.TOOL),)

    firmware = sbom.primary
    assert firmware is not None
    assert (firmware.ref, firmware.name, firmware.version, firmware.type) == (
        "SPDXRef-firmware",
        "thermostat-t7-firmware",
        "5.4.0",
        "firmware",
    )
    assert firmware.file_name == "thermo-t7-5.4.0.bin"
    assert firmware.hashes["SHA-512"].startswith("48aaa8a7dd578ba5")
    assert firmware.licenses == ("LicenseRef-Warmhaus-EULA",)
    # DEPENDS_ON, STATIC_LINK and (reversed) CONTAINED_BY all make edges.
    assert firmware.depends_on == ("SPDXRef-freertos", "SPDXRef-libcoap", "SPDXRef-lwip")

    refs = by_ref(sbom)
    assert {c.ref: c.dependency_kind for c in sbom.components} == {
        "SPDXRef-freertos": D,
        "SPDXRef-libcoap": D,
        "SPDXRef-mbedtls": T,
        "SPDXRef-lwip": D,
        "SPDXRef-toolchain": U,
    }
    freertos = refs["SPDXRef-freertos"]
    assert freertos.type == "operating-system"
    assert freertos.supplier == Party("FreeRTOS", url="https://www.freertos.org")
    assert freertos.purl == "pkg:github/freertos/freertos-kernel@V11.1.0"
    libcoap = refs["SPDXRef-libcoap"]
    assert libcoap.creator == Party("Olaf Bergmann", PartyKind.PERSON, email="bergmann@tzi.org")
    assert dict(libcoap.hashes) == {
        "SHA-256": "7ca40fd9dcae68c0588b4ef44dc5a808909d0ebec36e7706e95cf605b5bc87ad"
    }
    assert libcoap.licenses == ("BSD-2-Clause",)  # the declared NOASSERTION is no licence
    mbedtls = refs["SPDXRef-mbedtls"]
    assert mbedtls.cpe == "cpe:2.3:a:arm:mbed_tls:2.28.8:*:*:*:*:*:*:*"
    assert mbedtls.purl == "pkg:github/mbed-tls/mbedtls@v2.28.8"
    # Concluded "(A OR B)" and declared "A OR B" are one licence.
    assert mbedtls.licenses == ("Apache-2.0 OR GPL-2.0-or-later",)
    # "DEPENDS_ON NONE": declared to have no dependencies, and that list is complete.
    assert mbedtls.dependencies_declared
    assert mbedtls.dependency_completeness is Completeness.COMPLETE
    # "DEPENDS_ON NOASSERTION" says nothing.
    assert not refs["SPDXRef-lwip"].dependencies_declared
    toolchain = refs["SPDXRef-toolchain"]
    assert (toolchain.scope, toolchain.licenses) == ("excluded", ())


def test_2_3_json_and_3_0_json_ld_of_the_same_product_agree():
    two = parse_sbom_file(SPDX / "example11-rust-deb.spdx.json")
    three = parse_sbom_file(SPDX / "example11-rust-deb.spdx3.json")

    assert (two.spec_version, two.encoding) == ("2.3", SbomEncoding.JSON)
    assert (three.spec_version, three.encoding) == ("3.0.1", SbomEncoding.JSON_LD)
    for sbom in (two, three):
        assert sbom.timestamp == dt.datetime(2022, 11, 3, 7, 10, 10, tzinfo=dt.UTC)
        assert sbom.creators == (Party("Unknown"),)
        assert sbom.tools == (Party("sigs.k8s.io/bom/pkg/spdx", PartyKind.TOOL),)
        assert sbom.primary is not None
        assert (sbom.primary.name, sbom.primary.version, sbom.primary.purl) == (
            "hello-server-src",
            "0.1.0",
            "pkg:deb/debian/libselinux1-dev@3.1-3?arch=s390x",
        )
        assert sbom.primary.licenses == ("Apache-2.0",)
        assert [(c.name, c.version, c.purl, c.dependency_kind) for c in sbom.components] == [
            ("hyper", "0.14", "pkg:cargo/hyper@0.14", D),
            ("tokio", "1.19.2", "pkg:cargo/tokio@1.19.2", D),
            ("pretty_env_logger", "0.4.0", "pkg:cargo/pretty_env_logger@0.4.0", D),
        ]
    assert (
        two.serial
        == "https://spdx.org/spdxdocs/k8s-releng-bom-7c6a33ab-bd76-4b06-b291-a850e0815b07"
    )
    assert three.serial == (
        "https://spdx.org/spdxdocs/k8s-releng-bom-7c6a33ab-bd76-4b06-b291-a850e0815b07-specv3/document0"
    )
    assert dict(two.components[0].hashes) == {
        "SHA-256": "02c929dc5c39e335a03c405292728118860721b10190d98c2a0f0efd5baafbac"
    }
    assert two.components[2].licenses == ("MIT OR Apache-2.0",)
    # SPDX 3 keeps the expression as the document writes it.
    assert three.components[2].licenses == ("(MIT OR Apache-2.0)",)
    # The SPDX 3 relationships say "noAssertion" about completeness.
    assert three.primary.dependency_completeness is Completeness.UNKNOWN


def test_2_3_json_with_a_security_advisory_reference():
    sbom = parse_sbom_file(SPDX / "SBOMwSecurity.spdx.json")

    assert sbom.vulnerabilities == 1
    assert sbom.creators == (
        Party("Gary O'Neall", PartyKind.PERSON, email="gary@sourceauditor.com"),
    )
    assert sbom.primary is not None
    assert sbom.primary.supplier == Party("SPDX", email="Spdx-tech@lists.spdx.org")
    (xlsx,) = sbom.components
    assert (xlsx.name, xlsx.version, xlsx.file_name) == ("xlsx", "0.16.6", "xlsx-0.16.6.jar")
    assert xlsx.purl == "pkg:maven/org.webjars.npm/xlsx@0.16.6"
    assert xlsx.supplier == Party("Webjar")
    assert xlsx.dependency_kind is D  # DYNAMIC_LINK from the described package


def test_2_2_tag_value_with_relationships_to_other_documents():
    sbom = parse_sbom_file(SPDX / "example6-bin.spdx")

    assert (sbom.spec_version, sbom.encoding) == ("2.2", SbomEncoding.TAG_VALUE)
    assert sbom.creators == (Party("Steve Winslow", PartyKind.PERSON, email="steve@swinslow.net"),)
    assert len(sbom.tools) == 2
    assert sbom.primary is not None
    assert sbom.primary.name == "hello-go-bin"
    assert sbom.primary.licenses == ("GPL-3.0-or-later AND LicenseRef-Golang-BSD-plus-Patents",)
    assert sbom.components == ()
    # DocumentRef-go-lib:... names elements of other documents: not unknown, just elsewhere.
    assert sbom.unknown_refs == ()


def test_2_2_json_from_a_yocto_build():
    sbom = parse_sbom_file(SPDX / "yocto-python3-pyyaml.spdx.json")

    assert (sbom.spec_version, sbom.encoding) == ("2.2", SbomEncoding.JSON)
    assert sbom.primary is not None
    assert (sbom.primary.name, sbom.primary.version) == ("python3-pyyaml", "6.0")
    assert sbom.primary.licenses == ("MIT",)
    assert sbom.primary.supplier is None  # NOASSERTION
    # The 41 files are the package's contents, not components.
    assert sbom.components == ()
    assert sbom.tools == (Party("OpenEmbedded Core create-spdx.bbclass", PartyKind.TOOL),)


def test_2_3_json_missing_a_version_still_reads():
    sbom = parse_sbom_file(FIXTURES / "broken" / "ntia-missing-version.spdx.json")

    assert sbom.primary is not None
    assert (sbom.primary.name, sbom.primary.version, sbom.primary.type) == (
        "glibc",
        None,
        "source",
    )
    assert sbom.primary.cpe == "cpe:2.3:a:pivotal_software:spring_framework:4.1.0:*:*:*:*:*:*:*"
    assert sorted(sbom.primary.hashes) == ["BLAKE2b-384", "MD5", "SHA-1", "SHA-256"]
