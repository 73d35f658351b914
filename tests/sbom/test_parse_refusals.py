"""Hostile and broken input is refused with one SbomError that says what is wrong and where."""

import json
import re

import pytest

from fleetcare.core.errors import InvalidInput
from fleetcare.sbom.errors import SbomError
from fleetcare.sbom.parse import DEFAULT_MAX_BYTES, parse_sbom, parse_sbom_file
from tests.sbom import FIXTURES

BROKEN = FIXTURES / "broken"


def refused(data, **limits) -> SbomError:
    with pytest.raises(SbomError) as caught:
        parse_sbom(data, **limits)
    return caught.value


def cyclonedx(**fields) -> bytes:
    document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}
    document.update(fields)
    return json.dumps(document).encode()


def component(**fields):
    return {"type": "library", "name": "zlib", "version": "1.3.1", **fields}


def spdx_json(name: str) -> dict:
    return json.loads((FIXTURES / "spdx" / name).read_text(encoding="utf-8"))


# --- the error itself ----------------------------------------------------------------------


def test_sbom_error_is_invalid_input_with_every_problem_in_detail():
    error = refused((BROKEN / "bad-purl.cdx.json").read_bytes())

    assert isinstance(error, InvalidInput)
    assert error.status_code == 422
    assert error.message == (
        "components[1].purl: invalid purl 'pkg:deb//libpng@1.6.40': "
        "empty segment in its namespace (and 2 more problems)"
    )
    assert error.detail == {
        "problems": [
            {
                "path": "components[1].purl",
                "message": "invalid purl 'pkg:deb//libpng@1.6.40': empty segment in its namespace",
            },
            {
                "path": "components[2].purl",
                "message": "invalid purl 'pkg:deb/libtiff_project/@4.5.0': its name is empty",
            },
            {
                "path": "components[3].purl",
                "message": "invalid purl 'pkg:deb/gnu/readline@': empty version after '@'",
            },
        ],
        "total": 3,
    }
    assert error.body()["error"] == error.message


def test_problems_beyond_fifty_are_counted_not_listed():
    bad = [component(purl=f"pkg:npm/@{i}") for i in range(120)]

    error = refused(cyclonedx(components=bad))

    assert len(error.problems) == 50
    assert error.total == 120
    assert error.message.endswith("(and 119 more problems)")


# --- hostile XML -----------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE bom [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library">
<name>&lol3;</name></component></components></bom>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library">
<name>&secret;</name></component></components></bom>"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE bom SYSTEM "http://attacker.example/bom.dtd">
<bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY])
def test_xml_with_a_dtd_or_entities_is_refused(xml):
    error = refused(xml)

    assert error.message.startswith("refused XML with a DTD or entity declarations")
    assert "entity-expansion attacks" in error.message


def test_malformed_xml_names_line_and_column():
    error = refused(b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6">\n<components>\n</bom>')

    assert error.message.startswith("invalid XML: mismatched tag: line 3, column")


# --- limits ----------------------------------------------------------------------------------


def test_deep_json_nesting_is_refused():
    deep = (
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "x": ' + b"[" * 200 + b"]" * 200 + b"}"
    )

    assert refused(deep).message == "nested deeper than 64 levels"


def test_json_nesting_beyond_the_json_parser_limit_is_refused_too():
    assert refused(b"[" * 5000 + b"]" * 5000).message == "nested deeper than 64 levels"


def test_deep_xml_nesting_is_refused():
    opening = b"<components><component type='library'><name>x</name>" * 40
    closing = b"</component></components>" * 40
    xml = b'<bom xmlns="http://cyclonedx.org/schema/bom/1.6">' + opening + closing + b"</bom>"

    assert refused(xml).message == "nested deeper than 64 levels"


def test_depth_limit_is_a_parameter():
    data = (FIXTURES / "cyclonedx" / "gateway-x2-4.1.0.cdx.json").read_bytes()

    assert refused(data, max_depth=4).message == "nested deeper than 4 levels"
    assert parse_sbom(data, max_depth=8).primary is not None


def test_files_over_the_size_limit_are_refused_before_parsing():
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024
    huge = b" " * (DEFAULT_MAX_BYTES + 1)

    assert refused(huge).message == "the file is 50.0 MiB, more than the limit of 50.0 MiB"
    small = cyclonedx(components=[component()])
    assert refused(small, max_bytes=40).message.endswith("more than the limit of 40 bytes")


def test_file_size_is_checked_before_the_file_is_read(tmp_path):
    path = tmp_path / "big.cdx.json"
    path.write_bytes(b"{" + b" " * 4096 + b"}")

    with pytest.raises(SbomError, match=r"^the file is 4\.0 KiB, more than the limit of 1\.0 KiB$"):
        parse_sbom_file(path, max_bytes=1024)


def test_unreadable_file(tmp_path):
    with pytest.raises(
        SbomError, match=r"^cannot read .*missing\.json: No such file or directory$"
    ):
        parse_sbom_file(tmp_path / "missing.json")


# --- not an SBOM, wrong encodings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"  \n\t ", "the file is empty"),
        (b"hello world", "not an SBOM fleetcare can read"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "(binary data, or text that is not UTF-8)"),
        (b"{}", "(a JSON object without bomFormat, spdxVersion or an SPDX @context)"),
        (b"[1, 2]", "(the JSON is not an object)"),
        (b"<html><body/></html>", "(the XML root element is <html>)"),
        (b'{"bomFormat": "SPDX"}', "bomFormat: expected 'CycloneDX', found 'SPDX'"),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
            "SPDX RDF/XML is not supported: convert it to SPDX JSON or tag-value",
        ),
    ],
)
def test_not_an_sbom(data, expected):
    assert expected in refused(data).message


def test_utf16_is_refused_with_advice():
    data = "\ufeff{}".encode("utf-16-le")

    assert refused(data).message == "the file is UTF-16 encoded: save it as UTF-8 and try again"


def test_json_that_is_not_utf8_names_the_byte_and_line():
    data = b'{"bomFormat": "CycloneDX",\n"specVersion": "1.6",\n"x": "caf\xe9"}'

    assert refused(data).message == (
        "not UTF-8 text: invalid byte 0xe9 at line 3 (offset 58); SBOMs must be UTF-8"
    )


def test_invalid_json_says_where():
    error = refused(b'{"bomFormat": "CycloneDX", "specVersion": "1.6",')

    assert error.message.startswith("invalid JSON: ")
    assert "line 1" in error.message


# --- spec versions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            cyclonedx(specVersion="1.8"),
            "specVersion: unsupported CycloneDX version '1.8': "
            "fleetcare reads CycloneDX 1.2 to 1.7",
        ),
        (cyclonedx(specVersion="1.1"), "specVersion: unsupported CycloneDX version '1.1'"),
        (cyclonedx(specVersion=1.6), 'specVersion: expected a string such as "1.6", found 1.6'),
        (
            b'<bom xmlns="http://cyclonedx.org/schema/bom/1.1"/>',
            "bom/@xmlns: unsupported CycloneDX version '1.1'",
        ),
        (
            b'{"spdxVersion": "SPDX-2.1"}',
            "spdxVersion: unsupported SPDX version 'SPDX-2.1': fleetcare reads SPDX 2.2 and 2.3",
        ),
        (b'{"spdxVersion": "2.3"}', "spdxVersion: expected e.g. 'SPDX-2.3', found '2.3'"),
        (b"SPDXVersion: SPDX-1.2\n", "SPDXVersion: unsupported SPDX version 'SPDX-1.2'"),
        (
            b'{"@context": "https://spdx.org/rdf/2.3/context.jsonld", "@graph": []}',
            "@context: unsupported SPDX version '2.3': fleetcare reads SPDX 3.0.0 and 3.0.1",
        ),
    ],
)
def test_unknown_spec_versions(data, expected):
    assert refused(data).message.startswith(expected)


def test_spdx3_with_an_unknown_spec_version_in_its_creation_info():
    document = spdx_json("example11-rust-deb.spdx3.json")
    document["@graph"][1]["specVersion"] = "3.1.0"  # the CreationInfo of the SpdxDocument

    error = refused(json.dumps(document))

    assert error.message == (
        "@graph[15].creationInfo.specVersion: unsupported SPDX version '3.1.0': "
        "fleetcare reads SPDX 3.0.0 and 3.0.1"
    )


# --- wrong types and values in CycloneDX --------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"components": "zlib"}, "components: expected an array, found a string"),
        ({"components": [5]}, "components[0]: expected an object, found a number"),
        (
            {"components": [component(name=5)]},
            "components[0].name: expected a string, found a number",
        ),
        (
            {"metadata": {"timestamp": "yesterday"}},
            "metadata.timestamp: invalid date-time 'yesterday': expected e.g. 2025-01-31T12:00:00Z",
        ),
        (
            {"components": [component(purl="pkg:/foo")]},
            "components[0].purl: invalid purl 'pkg:/foo': "
            "purl is missing the required type component: 'pkg:/foo'.",
        ),
        (
            {"components": [component(purl="zlib@1.3.1")]},
            "components[0].purl: invalid purl 'zlib@1.3.1': it must start with 'pkg:'",
        ),
        (
            {"components": [component(cpe="cpe:/x:zlib:zlib")]},
            "components[0].cpe: invalid CPE 'cpe:/x:zlib:zlib': "
            "a CPE 2.2 URI looks like cpe:/a:vendor:product:version",
        ),
        (
            {"components": [component(hashes=[{"alg": "SHA-256", "content": "xyz"}])]},
            "components[0].hashes[0].content: SHA-256 value 'xyz' is not hexadecimal",
        ),
        (
            {"components": [component(hashes=[{"alg": "SHA-256", "content": "abcd"}])]},
            "components[0].hashes[0].content: SHA-256 value 'abcd' has 4 hex digits, not 64",
        ),
        (
            {"components": [component(hashes=[{"alg": "CRC32", "content": "abcd"}])]},
            "components[0].hashes[0].content: unknown hash algorithm 'CRC32'",
        ),
        (
            {"components": [component(hashes=[{"alg": "MD5"}])]},
            "components[0].hashes[0]: a hash needs both alg and content",
        ),
        (
            {"components": [component(licenses=[{"expression": "MIT AND ("}])]},
            "components[0].licenses[0].expression: invalid SPDX licence expression 'MIT AND ('",
        ),
        (
            {"components": [component(licenses=[{"expression": "Apache 2.0"}])]},
            "components[0].licenses[0].expression: invalid SPDX licence expression "
            "'Apache 2.0': 'Apache 2.0' is not an SPDX identifier",
        ),
        (
            {"components": [component(scope="mandatory")]},
            "components[0].scope: unknown scope 'mandatory': use required, optional or excluded",
        ),
        (
            {"components": [component(**{"bom-ref": "a"}), component(**{"bom-ref": "a"})]},
            "components[1].bom-ref: 'a' is already the bom-ref of components[0]",
        ),
        ({"dependencies": [{"dependsOn": ["a"]}]}, "dependencies[0].ref: missing"),
        (
            {"dependencies": [{"ref": "a", "dependsOn": ["b", 7]}]},
            "dependencies[0].dependsOn[1]: expected a string, found a number",
        ),
        (
            {"compositions": [{"aggregate": "mostly"}]},
            "compositions[0].aggregate: unknown aggregate 'mostly'",
        ),
        ({"vulnerabilities": {}}, "vulnerabilities: expected an array, found an object"),
    ],
)
def test_wrong_types_and_values_in_cyclonedx(fields, expected):
    assert refused(cyclonedx(**fields)).message.startswith(expected)


def test_invalid_cpes_in_the_shape_scanners_write():
    error = refused((BROKEN / "bad-cpe.cdx.json").read_bytes())

    assert [str(p) for p in error.problems] == [
        "components[1].cpe: invalid CPE 'cpe:::libpng:1.6.40': "
        "it must start with 'cpe:2.3:' or 'cpe:/'",
        "components[2].cpe: invalid CPE 'cpe:2.3:a:libtiff_project::4.5.0:*:*:*:*:*:*:*': "
        "vendor and product must not be empty",
        "components[3].cpe: invalid CPE 'cpe:2.3:a:gnu:readline:8.2': "
        "a CPE 2.3 name has 13 colon-separated parts, this one has 6",
    ]


def test_invalid_purls_in_cyclonedx_xml_from_a_container_scanner():
    error = refused((BROKEN / "osv-scanner-bad-purls.cdx.xml").read_bytes())

    assert error.message.startswith(
        "components[2].purl: invalid purl 'pkg:pypi/': purl is missing the required name component"
    )
    paths = [p.path for p in error.problems]
    # alpine-keys, ca-certificates-bundle, libc-utils, musl, ssl_client and zlib
    assert paths == [f"components[{i}].purl" for i in (2, 6, 7, 10, 13, 14)]


# --- SPDX ------------------------------------------------------------------------------------


def test_invalid_purl_in_spdx_2_json_names_the_package_and_reference():
    document = spdx_json("example11-rust-deb.spdx.json")
    document["packages"][1]["externalRefs"][0]["referenceLocator"] = "pkg:/foo"

    assert refused(json.dumps(document)).message.startswith(
        "packages[1].externalRefs[0].referenceLocator: invalid purl 'pkg:/foo'"
    )


def test_invalid_cpe_in_spdx_2_tag_value_names_the_package():
    text = (FIXTURES / "spdx" / "thermostat-t7-5.4.0.spdx").read_text(encoding="utf-8")
    text = text.replace("cpe:2.3:a:arm:mbed_tls:2.28.8:*:*:*:*:*:*:*", "cpe:2.3:a:arm")

    assert refused(text).message == (
        "package SPDXRef-mbedtls: externalRefs[0].referenceLocator: invalid CPE "
        "'cpe:2.3:a:arm': a CPE 2.3 name has 13 colon-separated parts, this one has 4"
    )


def test_spdx_2_structure_errors_come_from_spdx_tools():
    document = spdx_json("example11-rust-deb.spdx.json")
    del document["packages"][0]["name"]

    message = refused(json.dumps(document)).message

    assert message.startswith("SPDX 2.3 JSON: ")
    assert "name" in message


def test_spdx_2_tag_value_garbage_after_the_version_line():
    message = refused(b"SPDXVersion: SPDX-2.3\nNonsense here\n").message

    assert message.startswith("SPDX 2.3 tag-value: ")


def test_spdx_2_json_with_wrongly_typed_values():
    document = spdx_json("example11-rust-deb.spdx.json")
    document["packages"] = {"name": 5}

    assert refused(json.dumps(document)).message.startswith("SPDX 2.3 JSON: ")


def test_invalid_purl_in_spdx_3():
    document = spdx_json("example11-rust-deb.spdx3.json")
    document["@graph"][31]["software_packageUrl"] = "pkg:cargo/@0.4.0"

    assert refused(json.dumps(document)).message.startswith(
        "@graph[31].software_packageUrl: invalid purl 'pkg:cargo/@0.4.0'"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("@graph"), "@graph: missing"),
        (lambda d: d.update({"@graph": "x"}), "@graph: expected an array, found a string"),
        (
            lambda d: d["@graph"][24].update({"completeness": "mostly"}),
            "@graph[24].completeness: unknown completeness 'mostly'",
        ),
        (
            lambda d: d["@graph"][30].update({"spdxId": d["@graph"][29]["spdxId"]}),
            "@graph[30].spdxId: '",
        ),
        (
            lambda d: d.update(
                {
                    "@graph": [
                        e for e in d["@graph"] if e["type"] not in {"SpdxDocument", "CreationInfo"}
                    ]
                }
            ),
            "@graph: no SpdxDocument with a CreationInfo",
        ),
    ],
)
def test_broken_spdx_3(change, expected):
    document = spdx_json("example11-rust-deb.spdx3.json")
    change(document)

    assert refused(json.dumps(document)).message.startswith(expected)


def test_the_message_is_one_line():
    for path in BROKEN.glob("bad-*.json"):
        message = refused(path.read_bytes()).message
        assert "\n" not in message
        assert re.match(r"^components\[\d+\]\.(purl|cpe): ", message)
