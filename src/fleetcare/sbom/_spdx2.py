"""Reading SPDX 2.2 and 2.3 (JSON and tag-value) into a `DocumentDraft`, through spdx-tools.

spdx-tools parses both encodings into one typed model and reports what is malformed, so fleetcare
only maps that model: packages become components (files and snippets describe a package's
contents and are not components), the package the document DESCRIBES is the primary component,
and dependency-like relationships become edges in the graph.
"""

from __future__ import annotations

import posixpath
from typing import Any

from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.document import Document
from spdx_tools.spdx.model.package import ExternalPackageRefCategory, Package
from spdx_tools.spdx.model.relationship import RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.model.spdx_none import SpdxNone
from spdx_tools.spdx.parser.error import SPDXParsingError

from fleetcare.sbom import _identifiers as ids
from fleetcare.sbom._draft import ComponentDraft, DocumentDraft
from fleetcare.sbom._problems import Problems
from fleetcare.sbom.errors import MAX_PROBLEMS, Problem, SbomError
from fleetcare.sbom.model import Completeness, Party, PartyKind, SbomEncoding, SbomFormat

SUPPORTED_VERSIONS = ("2.2", "2.3")

R = RelationshipType
# "A <type> B" where A depends on (or contains) B ...
_FORWARD = frozenset({R.DEPENDS_ON, R.CONTAINS, R.DYNAMIC_LINK, R.STATIC_LINK, R.HAS_PREREQUISITE})
# ... and where B depends on (or contains) A.
_REVERSE = frozenset(
    {
        R.DEPENDENCY_OF,
        R.CONTAINED_BY,
        R.RUNTIME_DEPENDENCY_OF,
        R.BUILD_DEPENDENCY_OF,
        R.DEV_DEPENDENCY_OF,
        R.TEST_DEPENDENCY_OF,
        R.OPTIONAL_DEPENDENCY_OF,
        R.OPTIONAL_COMPONENT_OF,
        R.PROVIDED_DEPENDENCY_OF,
        R.PREREQUISITE_FOR,
    }
)
# What a relationship says about the scope of A, in CycloneDX's words. Build tools and test or
# development dependencies do not ship in the product.
_SCOPE = {
    R.OPTIONAL_DEPENDENCY_OF: "optional",
    R.OPTIONAL_COMPONENT_OF: "optional",
    R.DEV_DEPENDENCY_OF: "excluded",
    R.TEST_DEPENDENCY_OF: "excluded",
    R.BUILD_TOOL_OF: "excluded",
    R.DEV_TOOL_OF: "excluded",
    R.TEST_TOOL_OF: "excluded",
}


def check_version(version: str, where: str) -> str:
    if version not in SUPPORTED_VERSIONS:
        raise SbomError.at(
            where,
            f"unsupported SPDX version 'SPDX-{version}': fleetcare reads SPDX 2.2 and 2.3 "
            "(JSON or tag-value) and SPDX 3.0 (JSON-LD)",
        )
    return version


def read_json(document: dict[str, Any], spec_version: str) -> DocumentDraft:
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

    # spdx-tools' parsers carry no annotations; their result is a typed Document.
    parser: Any = JsonLikeDictParser
    parsed = _guarded(lambda: parser().parse(document), spec_version, "JSON")
    return _Mapper(parsed, SbomEncoding.JSON, spec_version).draft()


def read_tag_value(text: str, spec_version: str) -> DocumentDraft:
    from ply import yacc
    from spdx_tools.spdx.parser.tagvalue.parser import Parser

    parser_class: Any = Parser

    def parse() -> Any:
        # Without these arguments ply writes parser tables and debug output next to the
        # installed package and prints "Generating LALR tables" on every process start.
        parser = parser_class(write_tables=False, debug=False, errorlog=yacc.NullLogger())
        return parser.parse(text)

    parsed = _guarded(parse, spec_version, "tag-value")
    return _Mapper(parsed, SbomEncoding.TAG_VALUE, spec_version).draft()


def _guarded(parse: Any, spec_version: str, encoding: str) -> Document:
    where = f"SPDX {spec_version} {encoding}"
    try:
        document: Document = parse()
    except SPDXParsingError as exc:
        messages = [str(m) for m in exc.messages] or ["unreadable"]
        problems = [Problem("", f"{where}: {m}") for m in messages[:MAX_PROBLEMS]]
        raise SbomError(problems, total=len(messages)) from None
    except RecursionError:
        raise SbomError.at("", f"{where}: nested too deeply") from None
    except Exception as exc:
        # spdx-tools is not hardened against arbitrary input: a value of an unexpected type
        # can surface as TypeError, AttributeError or KeyError from deep inside it. Whatever
        # it is, the document is not SPDX that fleetcare can read.
        raise SbomError.at("", f"{where}: not a valid SPDX document ({exc})") from None
    return document


class _Mapper:
    def __init__(self, document: Document, encoding: SbomEncoding, spec_version: str) -> None:
        self.document = document
        self.encoding = encoding
        self.problems = Problems()
        self.result = DocumentDraft(SbomFormat.SPDX, spec_version, encoding)

    def draft(self) -> DocumentDraft:
        info = self.document.creation_info
        self.result.serial = info.document_namespace or None
        self.result.name = info.name or None
        if info.created is not None:
            self.result.timestamp = ids.check_timestamp(info.created.isoformat())
        for actor in info.creators:
            party = _party(actor)
            if party is not None:
                (
                    self.result.tools if party.kind is PartyKind.TOOL else self.result.creators
                ).append(party)
        self.result.other_refs.add(info.spdx_id)
        self.result.other_refs.update(f.spdx_id for f in self.document.files)
        self.result.other_refs.update(s.spdx_id for s in self.document.snippets)
        drafts = {}
        for index, package in enumerate(self.document.packages):
            draft = self._package(package, index)
            drafts[draft.ref] = draft
            self.result.components.append(draft)
        self._relationships(info.spdx_id, drafts)
        self.problems.raise_if_any()
        return self.result

    def _path(self, index: int, package: Package, field: str) -> str:
        if self.encoding is SbomEncoding.JSON:
            return f"packages[{index}].{field}"
        return f"package {package.spdx_id}: {field}"

    def _package(self, package: Package, index: int) -> ComponentDraft:
        p = self.problems
        draft = ComponentDraft(ref=package.spdx_id, name=package.name or "")
        draft.version = package.version or None
        draft.supplier = _party(package.supplier)
        draft.creator = _party(package.originator)
        if package.file_name:
            draft.file_name = posixpath.basename(package.file_name.rstrip("/")) or None
        if package.primary_package_purpose is not None:
            draft.type = package.primary_package_purpose.name.lower().replace("_", "-")
        for position, checksum in enumerate(package.checksums):
            checked = p.check(
                self._path(index, package, f"checksums[{position}]"),
                ids.check_hash,
                checksum.algorithm.name,
                checksum.value,
            )
            if checked is not None:
                draft.hashes[checked[0]] = checked[1]
        for value in (package.license_concluded, package.license_declared):
            if value is None or isinstance(value, SpdxNoAssertion):
                continue
            draft.add_license("NONE" if isinstance(value, SpdxNone) else str(value))
        for position, ref in enumerate(package.external_references):
            path = self._path(index, package, f"externalRefs[{position}].referenceLocator")
            kind = ref.reference_type
            if ref.category is ExternalPackageRefCategory.PACKAGE_MANAGER and kind == "purl":
                purl = p.check(path, ids.check_purl, ref.locator.strip())
                draft.purl = draft.purl or purl
            elif kind in {"cpe22Type", "cpe23Type"}:
                cpe = p.check(path, ids.check_cpe, ref.locator.strip())
                draft.cpe = draft.cpe or cpe
            elif ref.category is ExternalPackageRefCategory.SECURITY and kind == "advisory":
                self.result.vulnerabilities += 1
        return draft

    def _relationships(self, document_id: str, drafts: dict[str, ComponentDraft]) -> None:
        described: list[str] = []
        for relation in self.document.relationships:
            source = relation.spdx_element_id
            kind = relation.relationship_type
            target = relation.related_spdx_element_id
            if kind is R.DESCRIBES and source == document_id and isinstance(target, str):
                described.append(target)
            elif kind is R.DESCRIBED_BY and target == document_id:
                described.append(source)
            if source == document_id:
                continue  # "the document CONTAINS x" places x in the document, not in a package
            if kind in _SCOPE and source in drafts:
                drafts[source].scope = _SCOPE[kind]
            if kind in _FORWARD:
                # "A DEPENDS_ON NOASSERTION" says nothing; "A DEPENDS_ON NONE" says A has none.
                if isinstance(target, str):
                    self.result.declared.add(source)
                    self.result.edges.append((source, target))
                elif isinstance(target, SpdxNone):
                    self.result.declared.add(source)
                    self.result.set_completeness(source, Completeness.COMPLETE)
            elif kind in _REVERSE and isinstance(target, str) and target != document_id:
                self.result.declared.add(target)
                self.result.edges.append((target, source))
        self.result.primary_ref = next((ref for ref in described if ref in drafts), None)


def _party(actor: Actor | SpdxNoAssertion | None) -> Party | None:
    if not isinstance(actor, Actor):
        return None
    kind = {
        ActorType.PERSON: PartyKind.PERSON,
        ActorType.ORGANIZATION: PartyKind.ORGANIZATION,
        ActorType.TOOL: PartyKind.TOOL,
    }[actor.actor_type]
    contact = (actor.email or "").strip() or None
    # The actor's parenthesis is meant for an email address, but a URL is found there too.
    url = contact if contact and "://" in contact else None
    email = contact if contact and not url else None
    return Party(name=actor.name.strip() or None, kind=kind, email=email, url=url)
