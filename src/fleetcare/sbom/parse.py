"""Read an SBOM file of any supported format into the normalised `Sbom` model.

    from fleetcare.sbom.parse import parse_sbom, parse_sbom_file

    sbom = parse_sbom(uploaded_bytes)            # or parse_sbom_file("firmware-2.1.cdx.json")
    for component in sbom.components:
        print(component.name, component.version, component.purl, component.dependency_kind)

Formats are recognised from the content, never from the file name:

| format    | versions          | encodings                                  |
|-----------|-------------------|--------------------------------------------|
| CycloneDX | 1.2 to 1.7        | JSON, XML                                  |
| SPDX      | 2.2, 2.3          | JSON, tag-value (read through spdx-tools)  |
| SPDX      | 3.0.0, 3.0.1      | JSON-LD (compacted with the SPDX context)  |

Parsing returns a complete `Sbom` or raises `SbomError` (an `InvalidInput`, so HTTP 422 and CLI
exit code 2), never a partial result. Hostile and broken input is refused with a message naming
the problem and where it is: files over `max_bytes` (50 MiB by default), nesting deeper than
`max_depth`, XML with a DTD or entities (through defusedxml), text that is not UTF-8, values of the
wrong type, invalid purls, CPEs, hashes, licence expressions or timestamps, duplicate refs, and
unsupported spec versions. Missing optional data (no version, no supplier, an empty name) is not
an error: the quality report in `fleetcare.sbom.quality` is where that shows.
"""

from __future__ import annotations

import os
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import orjson
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring

from fleetcare.sbom import _cyclonedx, _spdx2, _spdx3
from fleetcare.sbom._draft import DocumentDraft, build
from fleetcare.sbom.errors import SbomError
from fleetcare.sbom.model import Sbom, SbomEncoding

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
#: Real SBOMs nest components a few levels deep; hundreds of levels only serve to exhaust a parser.
DEFAULT_MAX_DEPTH = 64

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
_NOT_AN_SBOM = (
    "not an SBOM fleetcare can read: expected CycloneDX (JSON or XML), SPDX 2.2/2.3 (JSON or "
    "tag-value) or SPDX 3.0 (JSON-LD)"
)


def parse_sbom(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Sbom:
    """Parse an SBOM from its bytes (or text); raise `SbomError` for anything unreadable."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise SbomError.at(
            "", f"the file is {_size(len(raw))}, more than the limit of {_size(max_bytes)}"
        )
    for mark, name in _OTHER_BOMS:
        if raw.startswith(mark):
            raise SbomError.at("", f"the file is {name} encoded: save it as UTF-8 and try again")
    raw = raw.removeprefix(_UTF8_BOM)
    start = raw.lstrip()[:1]
    if not start:
        raise SbomError.at("", "the file is empty")
    if start in {b"{", b"["}:
        draft = _read_json(raw, max_depth)
    elif start == b"<":
        draft = _read_xml(raw, max_depth)
    else:
        draft = _read_tag_value(raw)
    return build(draft)


def parse_sbom_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Sbom:
    """Parse the SBOM in a file; the size limit is checked before the file is read."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise SbomError.at(
                    "", f"the file is {_size(size)}, more than the limit of {_size(max_bytes)}"
                )
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SbomError.at("", f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None
    return parse_sbom(raw, max_bytes=max_bytes, max_depth=max_depth)


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB"
    if count >= 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count} bytes"


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SbomError.at(
            "",
            f"not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} at line {line} "
            f"(offset {exc.start}); SBOMs must be UTF-8",
        ) from None


# --- JSON --------------------------------------------------------------------------------


def _read_json(raw: bytes, max_depth: int) -> DocumentDraft:
    _utf8(raw)  # orjson would refuse it too, but without saying where
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson stops at its own depth limit (1024) before fleetcare's check can run.
        if "depth" in str(exc).lower() or "recursion" in str(exc).lower():
            raise SbomError.at("", f"nested deeper than {max_depth} levels") from None
        raise SbomError.at("", f"invalid JSON: {exc}") from None
    _check_json_depth(document, max_depth)
    if not isinstance(document, dict):
        raise SbomError.at("", f"{_NOT_AN_SBOM} (the JSON is not an object)")
    if "bomFormat" in document:
        if document["bomFormat"] != "CycloneDX":
            raise SbomError.at(
                "bomFormat", f"expected 'CycloneDX', found {document['bomFormat']!r}"
            )
        version = _cyclonedx.check_version(document.get("specVersion"), "specVersion")
        return _cyclonedx.read(document, SbomEncoding.JSON, version)
    if "spdxVersion" in document:
        spdx_version = document["spdxVersion"]
        if not isinstance(spdx_version, str) or not spdx_version.startswith("SPDX-"):
            raise SbomError.at("spdxVersion", f"expected e.g. 'SPDX-2.3', found {spdx_version!r}")
        version = _spdx2.check_version(spdx_version.removeprefix("SPDX-"), "spdxVersion")
        return _spdx2.read_json(document, version)
    context = _spdx3.context_version(document)
    if context is not None:
        if context and not context.startswith("3."):
            _spdx3.check_version(context, "@context")
        return _spdx3.read(document)
    raise SbomError.at(
        "", f"{_NOT_AN_SBOM} (a JSON object without bomFormat, spdxVersion or an SPDX @context)"
    )


def _check_json_depth(document: Any, max_depth: int) -> None:
    # Walked with an explicit stack: the point is to refuse what would exhaust recursion.
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise SbomError.at("", f"nested deeper than {max_depth} levels")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


# --- XML ---------------------------------------------------------------------------------


def _read_xml(raw: bytes, max_depth: int) -> DocumentDraft:
    try:
        root = xml_fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SbomError.at(
            "",
            f"refused XML with a DTD or entity declarations ({type(exc).__name__}): "
            "SBOMs need neither, and they open the door to entity-expansion attacks",
        ) from None
    except ParseError as exc:
        raise SbomError.at("", f"invalid XML: {exc}") from None
    _check_xml_depth(root, max_depth)
    version = _cyclonedx.xml_version(root)
    if version is None:
        local = root.tag.rpartition("}")[2]
        if local == "RDF":
            raise SbomError.at(
                "", "SPDX RDF/XML is not supported: convert it to SPDX JSON or tag-value"
            )
        raise SbomError.at("", f"{_NOT_AN_SBOM} (the XML root element is <{local}>)")
    version = _cyclonedx.check_version(version, "bom/@xmlns")
    return _cyclonedx.read(_cyclonedx.bom_from_xml(root), SbomEncoding.XML, version)


def _check_xml_depth(root: Element, max_depth: int) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise SbomError.at("", f"nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in element)


# --- tag-value ---------------------------------------------------------------------------


def _read_tag_value(raw: bytes) -> DocumentDraft:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SbomError.at("", f"{_NOT_AN_SBOM} (binary data, or text that is not UTF-8)") from None
    if "\x00" in text:
        raise SbomError.at("", f"{_NOT_AN_SBOM} (binary data)")
    # SPDXVersion opens a tag-value document; a few comment or blank lines may come before it.
    significant = (
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    for _, line in zip(range(20), significant, strict=False):
        tag, colon, value = line.partition(":")
        if tag.strip() == "SPDXVersion" and colon:
            version = value.strip()
            if not version.startswith("SPDX-"):
                raise SbomError.at("SPDXVersion", f"expected e.g. 'SPDX-2.3', found {version!r}")
            checked = _spdx2.check_version(version.removeprefix("SPDX-"), "SPDXVersion")
            return _spdx2.read_tag_value(text, checked)
    raise SbomError.at("", _NOT_AN_SBOM)
