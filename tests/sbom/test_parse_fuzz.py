"""Whatever arrives, parsing returns a model or raises SbomError: never anything else."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetcare.sbom.errors import SbomError
from fleetcare.sbom.model import Sbom
from fleetcare.sbom.parse import parse_sbom

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Fewer examples where each one is expensive to generate or to parse (ply builds its tables).
FUZZ_SLOW = settings(FUZZ, max_examples=100)


def parses_or_refuses(data: bytes | str) -> None:
    outcome: Sbom | SbomError
    try:
        outcome = parse_sbom(data)
    except SbomError as exc:
        outcome = exc
    # Any other exception escapes and fails the test; a refusal always says why.
    if isinstance(outcome, SbomError):
        assert outcome.message
        assert outcome.problems


# Keys and values the readers look for, so that generated documents reach deep into them.
_KEY_WORDS = """bomFormat specVersion components metadata name version purl cpe hashes alg content
    licenses license id expression bom-ref dependencies ref dependsOn compositions aggregate
    assemblies supplier manufacturer manufacture authors author url contact email tools
    timestamp scope type properties value services externalReferences vulnerabilities
    spdxVersion SPDXID packages relationships spdxElementId relationshipType
    relatedSpdxElement externalRefs referenceCategory referenceType referenceLocator
    checksums algorithm checksumValue @context @graph spdxId @id creationInfo created
    createdBy createdUsing from to completeness rootElement software_packageUrl
    software_packageVersion externalIdentifier externalIdentifierType identifier
    verifiedUsing hashValue suppliedBy originatedBy simplelicensing_licenseExpression"""
_VALUE_WORDS = """CycloneDX 1.6 1.4 SPDX-2.3 3.0.1 pkg:npm/a@1 pkg:/x cpe:/a:b:c cpe:2.3:a SHA-256
    sha512 MIT complete noAssertion dependsOn DEPENDS_ON DESCRIBES SPDXRef-A SPDXRef-DOCUMENT
    NONE NOASSERTION software_Package Relationship CreationInfo SpdxDocument
    2024-01-01T00:00:00Z https://spdx.org/rdf/3.0.1/spdx-context.jsonld"""
_XML_WORDS = """metadata timestamp tools tool component components name version purl cpe hashes
    hash licenses license id expression supplier url contact email dependencies dependency
    compositions composition aggregate assemblies assembly properties property services
    service"""
_TAG_WORDS = """PackageName SPDXID PackageVersion ExternalRef Relationship PackageChecksum Creator
    Created FileName PackageLicenseConcluded"""

KEYS = st.sampled_from(_KEY_WORDS.split())
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([*_VALUE_WORDS.split(), "a" * 64, "MIT AND (", "Organization: A (a@b.c)"])
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=40,
)


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data):
    parses_or_refuses(data)


@FUZZ
@given(
    st.sampled_from([b"{", b"<", b"SPDXVersion: SPDX-2.3\n", b"\xef\xbb\xbf{"]),
    st.binary(max_size=512),
)
def test_arbitrary_bytes_behind_a_plausible_start(start, rest):
    parses_or_refuses(start + rest)


@FUZZ
@given(JSON)
def test_arbitrary_json(value):
    parses_or_refuses(json.dumps(value))


@FUZZ
@given(st.dictionaries(KEYS, JSON, max_size=8))
def test_arbitrary_cyclonedx_bodies(body):
    parses_or_refuses(json.dumps({**body, "bomFormat": "CycloneDX", "specVersion": "1.6"}))


@FUZZ
@given(st.dictionaries(KEYS, JSON, max_size=8))
def test_arbitrary_spdx_2_bodies(body):
    document = {
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "fuzz",
        "dataLicense": "CC0-1.0",
        "documentNamespace": "https://fuzz.example/doc",
        "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: fuzz"]},
    }
    parses_or_refuses(json.dumps({**document, **body, "spdxVersion": "SPDX-2.3"}))


@FUZZ_SLOW
@given(st.lists(st.dictionaries(KEYS, JSON, max_size=8), max_size=6))
def test_arbitrary_spdx_3_elements(elements):
    creation = {"@id": "_:c", "type": "CreationInfo", "specVersion": "3.0.1", "created": "2024"}
    document = {"spdxId": "urn:doc", "type": "SpdxDocument", "creationInfo": "_:c"}
    context = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    graph = [creation, document, *elements]
    parses_or_refuses(json.dumps({"@context": context, "@graph": graph}))


def _element(parts: tuple[str, list[str], str]) -> str:
    tag, children, attributes = parts
    return f"<{tag}{attributes}>{''.join(children)}</{tag}>"


XML_ATTRIBUTES = st.sampled_from(["", ' ref="a"', ' type="library"', ' bom-ref="a"', ' alg="MD5"'])
XML_ELEMENTS = st.recursive(
    st.text(alphabet="abc:/.@1-", max_size=12),
    lambda inner: (
        st.tuples(st.sampled_from(_XML_WORDS.split()), st.lists(inner, max_size=3), XML_ATTRIBUTES)
    ).map(_element),
    max_leaves=20,
)


@FUZZ
@given(st.lists(XML_ELEMENTS, max_size=4), st.sampled_from(["1.2", "1.5", "1.7"]))
def test_arbitrary_cyclonedx_xml(children, version):
    xml = f'<bom xmlns="http://cyclonedx.org/schema/bom/{version}">{"".join(children)}</bom>'
    parses_or_refuses(xml)


@FUZZ_SLOW
@given(st.lists(st.tuples(st.sampled_from(_TAG_WORDS.split()), st.text(max_size=30)), max_size=8))
def test_arbitrary_spdx_tag_value(lines):
    text = "SPDXVersion: SPDX-2.3\n" + "".join(f"{tag}: {value}\n" for tag, value in lines)
    parses_or_refuses(text)
