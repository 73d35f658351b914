"""Reading CycloneDX 1.2 to 1.7, JSON and XML, into a `DocumentDraft`.

Written by hand rather than with cyclonedx-python-lib's deserialisers, because for uploads from
arbitrary generators those (as of 11.x) fall short where it matters here: an error names no
location (`'' is not a valid ComponentType`), a real-world file with an empty enum value is
refused outright while an invalid purl passes unnoticed, and the XML side does not go through
defusedxml. The library is still used to validate what `export` writes.

XML is first turned into the shape of the JSON format (`bom_from_xml`), so one reader serves both
and problems carry the same paths (`components[3].purl`) whichever encoding was uploaded.
"""

from __future__ import annotations

import posixpath
from typing import Any
from xml.etree.ElementTree import Element

from fleetcare.sbom import _identifiers as ids
from fleetcare.sbom._draft import ComponentDraft, DocumentDraft
from fleetcare.sbom._problems import Problems, join
from fleetcare.sbom.errors import SbomError
from fleetcare.sbom.model import Completeness, Party, PartyKind, SbomEncoding, SbomFormat

SUPPORTED_VERSIONS = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
XML_NAMESPACE_PREFIX = "http://cyclonedx.org/schema/bom/"
FILENAME_PROPERTY = "bsi:component:filename"  # BSI TR-03183-2 v2.1 taxonomy
SCOPES = frozenset({"required", "optional", "excluded"})
_AGGREGATES = {
    "complete": Completeness.COMPLETE,
    "incomplete": Completeness.INCOMPLETE,
    "incomplete_first_party_only": Completeness.INCOMPLETE,
    "incomplete_first_party_proprietary_only": Completeness.INCOMPLETE,
    "incomplete_first_party_opensource_only": Completeness.INCOMPLETE,
    "incomplete_third_party_only": Completeness.INCOMPLETE,
    "incomplete_third_party_proprietary_only": Completeness.INCOMPLETE,
    "incomplete_third_party_opensource_only": Completeness.INCOMPLETE,
    "unknown": Completeness.UNKNOWN,
    "not_specified": Completeness.UNKNOWN,
}
_DISTRIBUTION_REFERENCES = frozenset({"distribution", "distribution-intake"})


def check_version(version: object, where: str) -> str:
    if not isinstance(version, str):
        raise SbomError.at(where, f'expected a string such as "1.6", found {version!r}')
    if version not in SUPPORTED_VERSIONS:
        raise SbomError.at(
            where,
            f"unsupported CycloneDX version {version!r}: fleetcare reads CycloneDX "
            f"{SUPPORTED_VERSIONS[0]} to {SUPPORTED_VERSIONS[-1]}",
        )
    return version


def read(bom: dict[str, Any], encoding: SbomEncoding, spec_version: str) -> DocumentDraft:
    reader = _Reader(encoding, spec_version)
    reader.read(bom)
    reader.problems.raise_if_any()
    return reader.draft


class _Reader:
    def __init__(self, encoding: SbomEncoding, spec_version: str) -> None:
        self.problems = Problems()
        self.draft = DocumentDraft(SbomFormat.CYCLONEDX, spec_version, encoding)
        self.ref_paths: dict[str, str] = {}

    def read(self, bom: dict[str, Any]) -> None:
        p = self.problems
        self.draft.serial = p.string(bom, "serialNumber", "")
        metadata = p.object(bom, "metadata", "") or {}
        self._metadata(metadata)
        for path, node in p.objects(bom, "components", ""):
            self._component(node, path, parent=None)
        self._services(bom, "")
        for path, node in p.objects(bom, "dependencies", ""):
            self._dependency(node, path)
        for path, node in p.objects(bom, "compositions", ""):
            self._composition(node, path)
        self.draft.vulnerabilities = len(p.array(bom, "vulnerabilities", ""))

    # --- metadata ----------------------------------------------------------------------

    def _metadata(self, metadata: dict[str, Any]) -> None:
        p = self.problems
        timestamp = p.string(metadata, "timestamp", "metadata")
        if timestamp:
            self.draft.timestamp = p.check("metadata.timestamp", ids.check_timestamp, timestamp)
        for path, node in p.objects(metadata, "authors", "metadata"):
            if party := self._contact(node, path):
                self.draft.creators.append(party)
        # "manufacture" is the 1.5 spelling, replaced by "manufacturer" in 1.6.
        for key in ("manufacturer", "manufacture"):
            entity = p.object(metadata, key, "metadata")
            if entity is not None and (party := self._entity(entity, f"metadata.{key}")):
                self.draft.creators.append(party)
        self._tools(metadata)
        component = p.object(metadata, "component", "metadata")
        if component is not None:
            self.draft.primary_ref = self._component(component, "metadata.component", None)

    def _tools(self, metadata: dict[str, Any]) -> None:
        p = self.problems
        tools = metadata.get("tools")
        if isinstance(tools, dict):  # 1.5 and later: {"components": [...], "services": [...]}
            for key in ("components", "services"):
                for path, node in p.objects(tools, key, "metadata.tools"):
                    self._tool(node, path)
        else:  # up to 1.4: a list of {vendor, name, version}
            for path, node in p.objects(metadata, "tools", "metadata"):
                self._tool(node, path)

    def _tool(self, node: dict[str, Any], path: str) -> None:
        p = self.problems
        name = p.string(node, "name", path)
        version = p.string(node, "version", path)
        if name or version:
            self.draft.tools.append(Party(name=name, kind=PartyKind.TOOL, version=version))

    def _entity(self, node: dict[str, Any], path: str) -> Party | None:
        """An organizationalEntity: name, url (a list since 1.2) and contacts."""
        p = self.problems
        name = p.string(node, "name", path)
        urls = p.string_or_strings(node, "url", path)
        email = None
        for contact_path, contact in p.objects(node, "contact", path):
            email = email or p.string(contact, "email", contact_path)
        if not (name or urls or email):
            return None
        text = ids.parse_actor(name) if name else None
        if text is not None:  # "Organization: OpenWrt ()" written into a CycloneDX name
            name = text.name
            email = email or text.email
        return Party(name=name, kind=PartyKind.ORGANIZATION, email=email, url=_first(urls))

    def _contact(self, node: dict[str, Any], path: str) -> Party | None:
        p = self.problems
        name = p.string(node, "name", path)
        email = p.string(node, "email", path)
        if not (name or email):
            return None
        return Party(name=name, kind=PartyKind.PERSON, email=email)

    # --- components --------------------------------------------------------------------

    def _ref(self, node: dict[str, Any], key: str, path: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.add(join(path, key), f"expected a string, found {type(value).__name__}")
            return None
        return value or None

    def _component(self, node: dict[str, Any], path: str, parent: str | None) -> str:
        p = self.problems
        ref = self._ref(node, "bom-ref", path)
        if ref is not None and ref in self.ref_paths:
            p.add(join(path, "bom-ref"), f"{ref!r} is already the bom-ref of {self.ref_paths[ref]}")
        ref = ref if ref is not None and ref not in self.ref_paths else f"fleetcare:{path}"
        self.ref_paths[ref] = path
        draft = ComponentDraft(ref=ref)
        draft.name = p.string(node, "name", path) or ""
        draft.version = p.string(node, "version", path)
        draft.group = p.string(node, "group", path)
        draft.type = p.string(node, "type", path)
        scope = p.string(node, "scope", path)
        if scope is not None and scope not in SCOPES:
            p.add(
                join(path, "scope"), f"unknown scope {scope!r}: use required, optional or excluded"
            )
        draft.scope = scope if scope in SCOPES else None
        supplier = p.object(node, "supplier", path)
        draft.supplier = self._entity(supplier, join(path, "supplier")) if supplier else None
        draft.creator = self._creator(node, path)
        purl = p.string(node, "purl", path)
        if purl:
            draft.purl = p.check(join(path, "purl"), ids.check_purl, purl)
        cpe = p.string(node, "cpe", path)
        if cpe:
            draft.cpe = p.check(join(path, "cpe"), ids.check_cpe, cpe)
        self._hashes(node, path, draft)
        for ref_path, reference in p.objects(node, "externalReferences", path):
            # BSI TR-03183-2 v2.1 puts the hash of the deployable form on its distribution
            # reference; it describes the same artefact, so it counts as the component's hash.
            if reference.get("type") in _DISTRIBUTION_REFERENCES:
                self._hashes(reference, ref_path, draft, keep_existing=True)
        self._licenses(node, path, draft)
        for prop_path, prop in p.objects(node, "properties", path):
            if prop.get("name") == FILENAME_PROPERTY:
                draft.file_name = p.string(prop, "value", prop_path)
        if draft.file_name is None and draft.type == "file" and draft.name:
            draft.file_name = posixpath.basename(draft.name.rstrip("/")) or None
        self.draft.components.append(draft)
        if parent is not None:
            # A nested component is part of its parent (an assembly); BSI TR-03183-2 counts
            # what a component contains among its dependencies.
            self.draft.edges.append((parent, ref))
        for child_path, child in p.objects(node, "components", path):
            self._component(child, child_path, parent=ref)
        return ref

    def _creator(self, node: dict[str, Any], path: str) -> Party | None:
        p = self.problems
        manufacturer = p.object(node, "manufacturer", path)  # 1.6
        if manufacturer is not None and (
            party := self._entity(manufacturer, f"{path}.manufacturer")
        ):
            return party
        for author_path, author in p.objects(node, "authors", path):  # 1.6
            if party := self._contact(author, author_path):
                return party
        for key in ("author", "publisher"):  # free text before 1.6
            if text := p.string(node, key, path):
                return ids.parse_actor(text) or Party(name=text, kind=PartyKind.ORGANIZATION)
        return None

    def _hashes(
        self, node: dict[str, Any], path: str, draft: ComponentDraft, *, keep_existing: bool = False
    ) -> None:
        p = self.problems
        for hash_path, item in p.objects(node, "hashes", path):
            alg = p.string(item, "alg", hash_path)
            content = p.string(item, "content", hash_path)
            if alg is None or content is None:
                p.add(hash_path, "a hash needs both alg and content")
                continue
            checked = p.check(join(hash_path, "content"), ids.check_hash, alg, content)
            if checked is not None and not (keep_existing and checked[0] in draft.hashes):
                draft.hashes[checked[0]] = checked[1]

    def _licenses(self, node: dict[str, Any], path: str, draft: ComponentDraft) -> None:
        p = self.problems
        for item_path, item in p.objects(node, "licenses", path):
            if "expression" in item:
                expression = p.string(item, "expression", item_path)
                if expression:
                    checked = p.check(
                        join(item_path, "expression"), ids.check_license_expression, expression
                    )
                    if checked and checked not in ids.NO_ASSERTION:
                        draft.add_license(checked)
                continue
            license_node = p.object(item, "license", item_path)
            if license_node is None:
                continue
            license_path = join(item_path, "license")
            spdx_id = p.string(license_node, "id", license_path)
            name = p.string(license_node, "name", license_path)
            if spdx_id:
                checked = p.check(join(license_path, "id"), ids.check_license_expression, spdx_id)
                if checked:
                    draft.add_license(checked)
            elif name and ids.is_spdx_expression(name, known_only=True):
                # Generators (OpenWrt's among them) often put an SPDX identifier in "name".
                draft.add_license(name)
            elif name and name not in draft.license_names:
                draft.license_names.append(name)

    def _services(self, node: dict[str, Any], path: str) -> None:
        for service_path, service in self.problems.objects(node, "services", path):
            ref = self._ref(service, "bom-ref", service_path)
            if ref:
                self.draft.other_refs.add(ref)
            self._services(service, service_path)

    # --- graph -------------------------------------------------------------------------

    def _dependency(self, node: dict[str, Any], path: str) -> None:
        ref = self._ref(node, "ref", path)
        if ref is None:
            self.problems.add(join(path, "ref"), "missing: each dependency names its component")
            return
        # An entry without dependsOn declares that the component has no dependencies.
        self.draft.declared.add(ref)
        for target in self.problems.strings(node, "dependsOn", path):
            self.draft.edges.append((ref, target))

    def _composition(self, node: dict[str, Any], path: str) -> None:
        p = self.problems
        aggregate = p.string(node, "aggregate", path)
        if aggregate is None:
            p.add(join(path, "aggregate"), "missing: say complete, incomplete or unknown")
            return
        value = _AGGREGATES.get(aggregate)
        if value is None:
            p.add(join(path, "aggregate"), f"unknown aggregate {aggregate!r}")
            return
        for key in ("assemblies", "dependencies"):
            for ref in p.strings(node, key, path):
                self.draft.set_completeness(ref, value)


def _first(values: list[str]) -> str | None:
    return next((v.strip() for v in values if v.strip()), None)


# --- XML -------------------------------------------------------------------------------------


def xml_version(root: Element) -> str | None:
    """The version from the root's namespace, or None when it is not a CycloneDX bom."""
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", "")
    if local != "bom" or not namespace.startswith(XML_NAMESPACE_PREFIX):
        return None
    return namespace[len(XML_NAMESPACE_PREFIX) :]


def bom_from_xml(root: Element) -> dict[str, Any]:
    """The XML document in the shape of the JSON format, for the fields fleetcare reads."""
    x = _Xml(root.tag[1:].partition("}")[0])
    bom: dict[str, Any] = {
        "serialNumber": root.get("serialNumber"),
        "metadata": x.metadata(x.child(root, "metadata")),
        "components": [x.component(c) for c in x.children(root, "components", "component")],
        "services": x.services(root),
        "dependencies": [x.dependency(d) for d in x.children(root, "dependencies", "dependency")],
        "compositions": [x.composition(c) for c in x.children(root, "compositions", "composition")],
        "vulnerabilities": x.children(root, "vulnerabilities", "vulnerability"),
    }
    return _pruned(bom)


def _pruned(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if v is not None and v != []}


class _Xml:
    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def child(self, element: Element | None, name: str) -> Element | None:
        return None if element is None else element.find(f"{{{self.ns}}}{name}")

    def children(self, element: Element | None, *names: str) -> list[Element]:
        if element is None:
            return []
        return element.findall("/".join(f"{{{self.ns}}}{n}" for n in names))

    def text(self, element: Element | None, name: str) -> str | None:
        found = self.child(element, name)
        if found is None:
            return None
        return "".join(found.itertext()).strip()

    def metadata(self, element: Element | None) -> dict[str, Any] | None:
        if element is None:
            return None
        tools: Any = None
        tools_element = self.child(element, "tools")
        if tools_element is not None:
            legacy = self.children(tools_element, "tool")
            if legacy:
                tools = [self.tool(t) for t in legacy]
            else:
                tools = _pruned(
                    {
                        "components": [
                            self.component(c)
                            for c in self.children(tools_element, "components", "component")
                        ],
                        "services": [
                            self.tool(s)
                            for s in self.children(tools_element, "services", "service")
                        ],
                    }
                )
        component = self.child(element, "component")
        return _pruned(
            {
                "timestamp": self.text(element, "timestamp"),
                "tools": tools,
                "authors": [self.contact(a) for a in self.children(element, "authors", "author")],
                "manufacture": self.entity(self.child(element, "manufacture")),
                "manufacturer": self.entity(self.child(element, "manufacturer")),
                "supplier": self.entity(self.child(element, "supplier")),
                "component": self.component(component) if component is not None else None,
            }
        )

    def tool(self, element: Element) -> dict[str, Any]:
        return _pruned(
            {"name": self.text(element, "name"), "version": self.text(element, "version")}
        )

    def contact(self, element: Element) -> dict[str, Any]:
        return _pruned({"name": self.text(element, "name"), "email": self.text(element, "email")})

    def entity(self, element: Element | None) -> dict[str, Any] | None:
        if element is None:
            return None
        return _pruned(
            {
                "name": self.text(element, "name"),
                "url": ["".join(u.itertext()).strip() for u in self.children(element, "url")],
                "contact": [self.contact(c) for c in self.children(element, "contact")],
            }
        )

    def hashes(self, element: Element) -> list[dict[str, Any]]:
        return [
            {"alg": h.get("alg"), "content": "".join(h.itertext()).strip()}
            for h in self.children(element, "hashes", "hash")
        ]

    def licenses(self, element: Element) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        licenses = self.child(element, "licenses")
        for item in [] if licenses is None else list(licenses):
            if item.tag == f"{{{self.ns}}}expression":
                found.append({"expression": "".join(item.itertext()).strip()})
            elif item.tag == f"{{{self.ns}}}license":
                found.append(
                    {
                        "license": _pruned(
                            {"id": self.text(item, "id"), "name": self.text(item, "name")}
                        )
                    }
                )
        return found

    def component(self, element: Element) -> dict[str, Any]:
        author_list = self.children(element, "authors", "author")
        return _pruned(
            {
                "type": element.get("type"),
                "bom-ref": element.get("bom-ref"),
                "supplier": self.entity(self.child(element, "supplier")),
                "manufacturer": self.entity(self.child(element, "manufacturer")),
                "authors": [self.contact(a) for a in author_list] or None,
                "author": self.text(element, "author") if not author_list else None,
                "publisher": self.text(element, "publisher"),
                "group": self.text(element, "group"),
                "name": self.text(element, "name"),
                "version": self.text(element, "version"),
                "scope": self.text(element, "scope"),
                "hashes": self.hashes(element),
                "licenses": self.licenses(element),
                "cpe": self.text(element, "cpe"),
                "purl": self.text(element, "purl"),
                "externalReferences": [
                    _pruned({"type": r.get("type"), "hashes": self.hashes(r)})
                    for r in self.children(element, "externalReferences", "reference")
                ],
                "properties": [
                    {"name": prop.get("name"), "value": "".join(prop.itertext()).strip()}
                    for prop in self.children(element, "properties", "property")
                ],
                "components": [
                    self.component(c) for c in self.children(element, "components", "component")
                ],
            }
        )

    def services(self, element: Element) -> list[dict[str, Any]]:
        return [
            _pruned({"bom-ref": s.get("bom-ref"), "services": self.services(s)})
            for s in self.children(element, "services", "service")
        ]

    def dependency(self, element: Element) -> dict[str, Any]:
        return {
            "ref": element.get("ref"),
            "dependsOn": [d.get("ref") for d in self.children(element, "dependency")],
        }

    def composition(self, element: Element) -> dict[str, Any]:
        return _pruned(
            {
                "aggregate": self.text(element, "aggregate"),
                "assemblies": [
                    a.get("ref") for a in self.children(element, "assemblies", "assembly")
                ],
                "dependencies": [
                    d.get("ref") for d in self.children(element, "dependencies", "dependency")
                ],
            }
        )
