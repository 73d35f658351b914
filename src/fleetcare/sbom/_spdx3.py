"""Reading SPDX 3.0 JSON-LD into a `DocumentDraft`.

spdx-tools 0.8 has no SPDX 3 reader, and general JSON-LD processing (rdflib) would fetch the
remote context and expand every term, so the compacted form that the SPDX 3.0.1 context produces,
the form every SPDX 3 tool writes, is read directly: elements are indexed by `spdxId` (or `@id`
for blank nodes such as CreationInfo), `software_Package` elements become components, and
relationships give the primary component (`describes`, or the document's `rootElement`), the
dependency graph with its `completeness`, the licences and the distribution file names.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from fleetcare.sbom import _identifiers as ids
from fleetcare.sbom._draft import ComponentDraft, DocumentDraft
from fleetcare.sbom._problems import Problems, join
from fleetcare.sbom.errors import SbomError
from fleetcare.sbom.model import Completeness, Party, PartyKind, SbomEncoding, SbomFormat

SUPPORTED_VERSIONS = ("3.0.0", "3.0.1")
_CONTEXT_VERSION = re.compile(r"spdx\.org/rdf/(\d+\.\d+(?:\.\d+)?)/")
_TERMS = re.compile(r"^https://spdx\.org/rdf/3\.0\.\d/terms/(?:(\w+)/)?(\w+)$")

_DEPENDENCY_TYPES = frozenset(
    {
        "dependsOn",
        "contains",
        "hasStaticLink",
        "hasDynamicLink",
        "hasOptionalDependency",
        "hasOptionalComponent",
        "hasProvidedDependency",
        "hasPrerequisite",
    }
)
_OPTIONAL_TYPES = frozenset({"hasOptionalDependency", "hasOptionalComponent"})
_EXCLUDED_SCOPES = frozenset({"development", "test"})
_COMPLETENESS = {
    "complete": Completeness.COMPLETE,
    "incomplete": Completeness.INCOMPLETE,
    "noAssertion": Completeness.UNKNOWN,
}
_AGENT_KINDS = {
    "Person": PartyKind.PERSON,
    "Organization": PartyKind.ORGANIZATION,
    "Agent": PartyKind.ORGANIZATION,
    "SoftwareAgent": PartyKind.TOOL,
    "Tool": PartyKind.TOOL,
}
_LISTED_LICENSE = "https://spdx.org/licenses/"


def context_version(document: dict[str, Any]) -> str | None:
    """The SPDX version named by the JSON-LD context, or None when it is not SPDX 3."""
    context = document.get("@context")
    urls = context if isinstance(context, list) else [context]
    for url in urls:
        if isinstance(url, str) and "spdx.org/rdf/" in url:
            match = _CONTEXT_VERSION.search(url)
            return match.group(1) if match else ""
    return None


def check_version(version: str, where: str) -> str:
    if version not in SUPPORTED_VERSIONS:
        raise SbomError.at(
            where, f"unsupported SPDX version {version!r}: fleetcare reads SPDX 3.0.0 and 3.0.1"
        )
    return version


def _short_type(value: Any) -> str:
    """`software_Package` for both the compact term and its full IRI."""
    if not isinstance(value, str):
        return ""
    match = _TERMS.match(value)
    if match is None:
        return value
    profile, name = match.groups()
    if profile in {None, "Core"}:
        return name
    return f"{profile[0].lower()}{profile[1:].lower()}_{name}"


def _camel_to_kebab(value: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", value).lower()


def read(document: dict[str, Any]) -> DocumentDraft:
    reader = _Reader()
    reader.read(document)
    reader.problems.raise_if_any()
    return reader.draft


class _Reader:
    def __init__(self) -> None:
        self.problems = Problems()
        self.draft = DocumentDraft(SbomFormat.SPDX, "3.0.1", SbomEncoding.JSON_LD)
        self.elements: dict[str, tuple[str, dict[str, Any]]] = {}
        self.roots: list[str] = []

    def read(self, document: dict[str, Any]) -> None:
        p = self.problems
        if "@graph" not in document:
            raise SbomError.at(
                "@graph", "missing: an SPDX 3 JSON-LD document lists its elements there"
            )
        by_type: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for path, element in p.objects(document, "@graph", ""):
            kind = _short_type(element.get("type", element.get("@type")))
            element_id = element.get("spdxId", element.get("@id"))
            if isinstance(element_id, str) and element_id:
                if element_id in self.elements:
                    p.add(
                        join(path, "spdxId"),
                        f"{element_id!r} is already used by {self.elements[element_id][0]}",
                    )
                self.elements[element_id] = (path, element)
            by_type.setdefault(kind, []).append((path, element))
        p.raise_if_any()
        self._document(by_type)
        drafts: dict[str, ComponentDraft] = {}
        for path, element in by_type.get("software_Package", []):
            draft = self._package(element, path)
            if draft.ref in drafts:
                continue
            drafts[draft.ref] = draft
            self.draft.components.append(draft)
        self.draft.other_refs.update(ref for ref in self.elements if ref not in drafts)
        self.draft.vulnerabilities = len(by_type.get("security_Vulnerability", []))
        relationships = by_type.get("Relationship", []) + by_type.get(
            "LifecycleScopedRelationship", []
        )
        self._relationships(relationships, drafts, by_type)

    # --- document ----------------------------------------------------------------------

    def _lookup(self, value: Any) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        if isinstance(value, str) and value in self.elements:
            return self.elements[value][1]
        return None

    def _document(self, by_type: dict[str, list[tuple[str, dict[str, Any]]]]) -> None:
        p = self.problems
        documents = by_type.get("SpdxDocument", [])
        if documents:
            path, document = documents[0]
            self.draft.serial = p.string(document, "spdxId", path)
            self.draft.name = p.string(document, "name", path)
            info_path, info = join(path, "creationInfo"), self._lookup(document.get("creationInfo"))
        else:
            creation = by_type.get("CreationInfo", [])
            info_path, info = creation[0] if creation else ("", None)
        if info is None:
            raise SbomError.at(
                "@graph", "no SpdxDocument with a CreationInfo: not an SPDX 3 document"
            )
        version = p.string(info, "specVersion", info_path)
        if version is None:
            raise SbomError.at(join(info_path, "specVersion"), "missing")
        self.draft.spec_version = check_version(version, join(info_path, "specVersion"))
        created = p.string(info, "created", info_path)
        if created:
            self.draft.timestamp = p.check(join(info_path, "created"), ids.check_timestamp, created)
        for ref in p.strings(info, "createdBy", info_path):
            if party := self._agent(ref):
                (self.draft.tools if party.kind is PartyKind.TOOL else self.draft.creators).append(
                    party
                )
        for ref in p.strings(info, "createdUsing", info_path):
            tool = self._agent(ref, PartyKind.TOOL)
            if tool is not None:
                self.draft.tools.append(tool)
        for kind in ("software_Sbom", "SpdxDocument"):
            for path, element in by_type.get(kind, []):
                self.roots.extend(p.strings(element, "rootElement", path))

    def _agent(self, ref: str, kind: PartyKind | None = None) -> Party | None:
        element = self._lookup(ref)
        if element is None:
            return None
        found_kind = kind or _AGENT_KINDS.get(
            _short_type(element.get("type")), PartyKind.ORGANIZATION
        )
        name = element.get("name") if isinstance(element.get("name"), str) else None
        email = None
        for identifier in element.get("externalIdentifier") or []:
            if isinstance(identifier, dict) and identifier.get("externalIdentifierType") == "email":
                value = identifier.get("identifier")
                email = value if isinstance(value, str) else None
        if not (name or email):
            return None
        return Party(name=name, kind=found_kind, email=email)

    # --- packages ----------------------------------------------------------------------

    def _package(self, element: dict[str, Any], path: str) -> ComponentDraft:
        p = self.problems
        ref = element.get("spdxId")
        draft = ComponentDraft(ref=ref if isinstance(ref, str) and ref else f"fleetcare:{path}")
        draft.name = p.string(element, "name", path) or ""
        draft.version = p.string(element, "software_packageVersion", path)
        purpose = p.string(element, "software_primaryPurpose", path)
        draft.type = _camel_to_kebab(purpose) if purpose else None
        purl = p.string(element, "software_packageUrl", path)
        if purl:
            draft.purl = p.check(join(path, "software_packageUrl"), ids.check_purl, purl)
        for id_path, identifier in p.objects(element, "externalIdentifier", path):
            kind = identifier.get("externalIdentifierType")
            value = p.string(identifier, "identifier", id_path)
            if value is None:
                continue
            if kind in {"cpe22", "cpe23"}:
                cpe = p.check(join(id_path, "identifier"), ids.check_cpe, value)
                draft.cpe = draft.cpe or cpe
            elif kind == "packageUrl":
                purl_value = p.check(join(id_path, "identifier"), ids.check_purl, value)
                draft.purl = draft.purl or purl_value
        for hash_path, method in p.objects(element, "verifiedUsing", path):
            if _short_type(method.get("type")) != "Hash":
                continue
            algorithm = p.string(method, "algorithm", hash_path)
            value = p.string(method, "hashValue", hash_path)
            if algorithm is None or value is None or algorithm == "other":
                continue
            checked = p.check(join(hash_path, "hashValue"), ids.check_hash, algorithm, value)
            if checked is not None:
                draft.hashes[checked[0]] = checked[1]
        supplier = element.get("suppliedBy")
        draft.supplier = self._agent(supplier) if isinstance(supplier, str) else None
        for originator in p.string_or_strings(element, "originatedBy", path):
            draft.creator = draft.creator or self._agent(originator)
        return draft

    # --- relationships -----------------------------------------------------------------

    def _license(self, ref: str) -> str | None:
        element = self._lookup(ref)
        if element is not None:
            kind = _short_type(element.get("type"))
            if kind == "simplelicensing_LicenseExpression":
                text = element.get("simplelicensing_licenseExpression")
                return text.strip() if isinstance(text, str) else None
            if kind == "expandedlicensing_ListedLicense" and ref.startswith(_LISTED_LICENSE):
                return ref[len(_LISTED_LICENSE) :]
            return None
        if ref.startswith(_LISTED_LICENSE):
            return ref[len(_LISTED_LICENSE) :]
        if ref.endswith("/NoneLicense"):
            return "NONE"
        return None

    def _relationships(
        self,
        relationships: list[tuple[str, dict[str, Any]]],
        drafts: dict[str, ComponentDraft],
        by_type: dict[str, list[tuple[str, dict[str, Any]]]],
    ) -> None:
        p = self.problems
        described: list[str] = []
        licenses: dict[str, dict[str, list[str]]] = {
            "hasConcludedLicense": {},
            "hasDeclaredLicense": {},
        }
        document_ids = {e.get("spdxId") for _, e in by_type.get("SpdxDocument", [])}
        for path, relation in relationships:
            source = p.string(relation, "from", path)
            kind = p.string(relation, "relationshipType", path)
            targets = p.string_or_strings(relation, "to", path)
            if source is None or kind is None:
                p.add(path, "a relationship needs from and relationshipType")
            elif kind == "describes" and source in document_ids:
                described.extend(targets)
            elif kind in _DEPENDENCY_TYPES:
                self._dependency(path, relation, source, kind, targets, drafts)
            elif kind in licenses and source in drafts:
                found = licenses[kind].setdefault(source, [])
                found.extend(self._licenses(path, targets))
            elif kind == "hasDistributionArtifact" and source in drafts:
                for target in targets:
                    artifact = self._lookup(target)
                    name = artifact.get("name") if artifact else None
                    if isinstance(name, str) and name.strip():
                        drafts[source].file_name = posixpath.basename(name.strip().rstrip("/"))
        for ref, draft in drafts.items():
            # Concluded licences first: they are what the SBOM author determined applies.
            for kind in ("hasConcludedLicense", "hasDeclaredLicense"):
                for expression in licenses[kind].get(ref, []):
                    draft.add_license(expression)
        candidates = described + self.roots
        self.draft.primary_ref = next((ref for ref in candidates if ref in drafts), None)

    def _licenses(self, path: str, targets: list[str]) -> list[str]:
        found = []
        for target in targets:
            expression = self._license(target)
            if expression and expression != "NOASSERTION":
                checked = self.problems.check(
                    join(path, "to"), ids.check_license_expression, expression
                )
                if checked:
                    found.append(checked)
        return found

    def _dependency(
        self,
        path: str,
        relation: dict[str, Any],
        source: str,
        kind: str,
        targets: list[str],
        drafts: dict[str, ComponentDraft],
    ) -> None:
        self.draft.declared.add(source)
        self.draft.edges.extend((source, target) for target in targets)
        completeness = relation.get("completeness")
        if completeness is not None:
            if completeness in _COMPLETENESS:
                self.draft.set_completeness(source, _COMPLETENESS[completeness])
            else:
                self.problems.add(
                    join(path, "completeness"), f"unknown completeness {completeness!r}"
                )
        scope = relation.get("scope")
        for target in targets:
            if target in drafts and kind in _OPTIONAL_TYPES:
                drafts[target].scope = "optional"
            elif target in drafts and scope in _EXCLUDED_SCOPES:
                drafts[target].scope = "excluded"
