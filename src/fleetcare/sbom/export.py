"""Write CycloneDX 1.6 JSON, the SBOM format fleetcare hands to customers and authorities.

    from fleetcare.sbom.export import ProductRelease, sbom_for_release, to_cyclonedx_json

    data = to_cyclonedx_json(parsed_sbom)                       # re-issue a parsed SBOM

    release = ProductRelease(product="Gateway X2", version="4.1.0", manufacturer="Acme GmbH",
                             manufacturer_email="psirt@acme.example")
    data = to_cyclonedx_json(sbom_for_release(release, components))  # from stored components

The output is valid against the CycloneDX 1.6 JSON schema and carries what BSI TR-03183-2 v2.1
looks for where the model has it: the manufacturer and timestamp, per component the supplier and
creator, hashes, licences, purl and CPE, the file name as the `bsi:component:filename` property,
the dependency graph, and its completeness as compositions. Vulnerabilities are never written:
they belong in VEX and CSAF.

The JSON is built as plain data rather than through cyclonedx-python-lib's object model: fleetcare's
model maps onto the schema field by field, and a direct mapping keeps the output exactly what the
model says (no tool entries or reordering added by the library). The library's bundled schema
validates it in the tests.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from cyclonedx.spdx import is_supported_id

import fleetcare
from fleetcare.sbom._cyclonedx import FILENAME_PROPERTY
from fleetcare.sbom.model import (
    Completeness,
    Component,
    DependencyKind,
    Party,
    PartyKind,
    Sbom,
    SbomEncoding,
    SbomFormat,
)

SPEC_VERSION = "1.6"
COMPONENT_TYPES = frozenset(
    {
        "application",
        "framework",
        "library",
        "container",
        "platform",
        "operating-system",
        "device",
        "device-driver",
        "firmware",
        "file",
        "machine-learning-model",
        "data",
        "cryptographic-asset",
    }
)
# SPDX 2 primary package purposes without a CycloneDX type of the same name.
_TYPE_FROM_SPDX = {"source": "file", "archive": "file", "install": "application"}
_HASH_ALGORITHMS = frozenset(
    {
        "MD5",
        "SHA-1",
        "SHA-256",
        "SHA-384",
        "SHA-512",
        "SHA3-256",
        "SHA3-384",
        "SHA3-512",
        "BLAKE2b-256",
        "BLAKE2b-384",
        "BLAKE2b-512",
        "BLAKE3",
    }
)
_HASH_LENGTHS = frozenset({32, 40, 64, 96, 128})  # what the schema's hash-content pattern allows


@dataclass(frozen=True)
class ProductRelease:
    """The product release an exported SBOM describes: its `metadata.component` and maker."""

    product: str
    version: str
    manufacturer: str | None = None
    manufacturer_email: str | None = None
    manufacturer_url: str | None = None
    component_type: str = "firmware"
    purl: str | None = None
    cpe: str | None = None
    hashes: Mapping[str, str] = field(default_factory=dict, hash=False)  # of the firmware image
    file_name: str | None = None
    license: str | None = None  # SPDX expression


def sbom_for_release(
    release: ProductRelease,
    components: Sequence[Component],
    *,
    timestamp: dt.datetime | None = None,
) -> Sbom:
    """An `Sbom` whose primary component is `release` and that lists `components`.

    Components marked `direct` become the release's direct dependencies; their own
    `depends_on` lists are kept as they are. Refs must be unique (ValueError otherwise).
    """
    refs = [c.ref for c in components]
    if len(set(refs)) != len(refs):
        duplicate = next(r for r in refs if refs.count(r) > 1)
        raise ValueError(f"component ref {duplicate!r} is used more than once")
    ref = release.purl or f"fleetcare:release:{release.product}@{release.version}"
    while ref in refs:
        ref += "'"
    direct = tuple(c.ref for c in components if c.dependency_kind is DependencyKind.DIRECT)
    manufacturer = None
    if release.manufacturer or release.manufacturer_email or release.manufacturer_url:
        manufacturer = Party(
            name=release.manufacturer,
            kind=PartyKind.ORGANIZATION,
            email=release.manufacturer_email,
            url=release.manufacturer_url,
        )
    primary = Component(
        ref=ref,
        name=release.product,
        version=release.version,
        type=release.component_type,
        supplier=manufacturer,
        creator=manufacturer,
        purl=release.purl,
        cpe=release.cpe,
        hashes=release.hashes,
        licenses=(release.license,) if release.license else (),
        file_name=release.file_name,
        depends_on=direct,
        dependencies_declared=bool(direct),
    )
    return Sbom(
        format=SbomFormat.CYCLONEDX,
        spec_version=SPEC_VERSION,
        encoding=SbomEncoding.JSON,
        timestamp=timestamp or dt.datetime.now(dt.UTC),
        creators=(manufacturer,) if manufacturer else (),
        primary=primary,
        components=tuple(components),
    )


def to_cyclonedx(
    sbom: Sbom,
    *,
    serial_number: str | None = None,
    timestamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """The CycloneDX 1.6 document as a dict. A new `urn:uuid:` serial number is made unless
    one is given; the timestamp defaults to the SBOM's own, or now."""
    when = timestamp or sbom.timestamp or dt.datetime.now(dt.UTC)
    metadata: dict[str, Any] = {
        "timestamp": _timestamp(when),
        "tools": {
            "components": [
                {"type": "application", "name": "fleetcare", "version": fleetcare.__version__}
            ]
        },
    }
    authors = [_contact(p) for p in sbom.creators if p.kind is PartyKind.PERSON]
    if authors := [a for a in authors if a]:
        metadata["authors"] = authors
    organisation = next((p for p in sbom.creators if p.kind is PartyKind.ORGANIZATION), None)
    if organisation is not None and (entity := _entity(organisation)):
        metadata["manufacturer"] = entity
    if sbom.primary is not None:
        metadata["component"] = _component(sbom.primary)
    document: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial_number or f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": metadata,
        "components": [_component(c) for c in sbom.components],
    }
    everything = list(sbom.all_components())
    dependencies = [
        {"ref": c.ref, "dependsOn": list(c.depends_on)}
        for c in everything
        if c.dependencies_declared or c.depends_on
    ]
    if dependencies:
        document["dependencies"] = dependencies
    compositions = []
    for completeness in (Completeness.COMPLETE, Completeness.INCOMPLETE):
        refs = [c.ref for c in everything if c.dependency_completeness is completeness]
        if refs:
            compositions.append({"aggregate": completeness.value, "dependencies": refs})
    if compositions:
        document["compositions"] = compositions
    return document


def to_cyclonedx_json(
    sbom: Sbom,
    *,
    serial_number: str | None = None,
    timestamp: dt.datetime | None = None,
) -> bytes:
    """`to_cyclonedx()` serialised as indented UTF-8 JSON."""
    document = to_cyclonedx(sbom, serial_number=serial_number, timestamp=timestamp)
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _email(party: Party) -> str | None:
    # The schema wants an address where "email" is; a name or "N/A" there would be invalid.
    return party.email if party.email and "@" in party.email else None


def _url(party: Party) -> str | None:
    return party.url if party.url and "://" in party.url and " " not in party.url else None


def _contact(party: Party) -> dict[str, Any] | None:
    found = {"name": party.name, "email": _email(party)}
    found = {k: v for k, v in found.items() if v}
    return found or None


def _entity(party: Party) -> dict[str, Any] | None:
    found: dict[str, Any] = {}
    if party.name:
        found["name"] = party.name
    if url := _url(party):
        found["url"] = [url]
    if email := _email(party):
        found["contact"] = [{"email": email}]
    return found or None


def _licenses(component: Component) -> list[dict[str, Any]]:
    # The schema allows either a list of licence objects or exactly one expression. Plain
    # identifiers stay identifiers; a single compound expression becomes the expression; when
    # several statements include compound ones, each is kept as a named licence rather than
    # joined into an expression the SBOM's author never wrote.
    expressions = list(component.licenses)
    names = list(component.license_names)
    if len(expressions) == 1 and not names and not is_supported_id(expressions[0]):
        return [{"expression": expressions[0]}]
    found: list[dict[str, Any]] = []
    for expression in expressions:
        key = "id" if is_supported_id(expression) else "name"
        found.append({"license": {key: expression}})
    found.extend({"license": {"name": name}} for name in names)
    return found


def _component(component: Component) -> dict[str, Any]:
    kind = component.type or "library"
    kind = _TYPE_FROM_SPDX.get(kind, kind)
    found: dict[str, Any] = {
        "type": kind if kind in COMPONENT_TYPES else "library",
        "bom-ref": component.ref,
    }
    if component.supplier and (supplier := _entity(component.supplier)):
        found["supplier"] = supplier
    creator = component.creator
    if creator is not None and creator.kind is PartyKind.PERSON:
        if author := _contact(creator):
            found["authors"] = [author]
    elif creator is not None and (manufacturer := _entity(creator)):
        found["manufacturer"] = manufacturer
    if component.group:
        found["group"] = component.group
    found["name"] = component.name
    if component.version:
        found["version"] = component.version
    if component.scope:
        found["scope"] = component.scope
    hashes = [
        {"alg": alg, "content": content}
        for alg, content in component.hashes.items()
        if alg in _HASH_ALGORITHMS and len(content) in _HASH_LENGTHS
    ]
    if hashes:
        found["hashes"] = hashes
    if licenses := _licenses(component):
        found["licenses"] = licenses
    if component.cpe:
        found["cpe"] = component.cpe
    if component.purl:
        found["purl"] = component.purl
    if component.file_name:
        found["properties"] = [{"name": FILENAME_PROPERTY, "value": component.file_name}]
    return found
