"""The normalised SBOM: one shape for CycloneDX and SPDX, whatever version or encoding they came in.

`fleetcare.sbom.parse` turns a file into an `Sbom`; `quality` grades it against BSI TR-03183-2;
`export` writes it back as CycloneDX 1.6. Everything here is an immutable value with no I/O, so
the service layer can store it, compare it, or hand it to matching as it is.

- `Sbom`: the document (format, spec version, who and what made it, when, its serial number or
  namespace), the `primary` component it describes (the product or firmware image), and every
  other component in `components` (the primary is not repeated there).
- `Component`: one component with its identifiers (purl, CPE), hashes as `{algorithm: hex}` with
  CycloneDX algorithm names (`SHA-512`), licences as SPDX expressions, and its place in the
  dependency graph: `depends_on` (refs of its direct dependencies), whether the SBOM declares
  them at all, whether it says the list is complete, and `dependency_kind`: `direct` when the
  primary component depends on it, `transitive` when it is reached only through others, `unknown`
  when the graph does not say.
- `Party`: a person, organisation or tool, as creator or supplier.

A `ref` is the component's `bom-ref` (CycloneDX) or SPDX identifier; components without one get a
synthetic ref `fleetcare:<path>`. Refs are unique within one `Sbom`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class SbomFormat(StrEnum):
    CYCLONEDX = "CycloneDX"
    SPDX = "SPDX"


class SbomEncoding(StrEnum):
    JSON = "json"
    XML = "xml"
    TAG_VALUE = "tag-value"
    JSON_LD = "json-ld"


class PartyKind(StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"
    TOOL = "tool"


class DependencyKind(StrEnum):
    """How a component is reached from the primary component."""

    DIRECT = "direct"
    TRANSITIVE = "transitive"
    UNKNOWN = "unknown"


class Completeness(StrEnum):
    """What the SBOM says about a component's list of dependencies."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    UNKNOWN = "unknown"


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Party:
    """Who or what made something: a person, an organisation, or a tool (with its version)."""

    name: str | None
    kind: PartyKind = PartyKind.ORGANIZATION
    email: str | None = None
    url: str | None = None
    version: str | None = None

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.url)

    def label(self) -> str:
        """A one-line description for tables: `Acme (security@acme.example)`."""
        text = self.name or self.email or self.url or "unnamed"
        if self.version:
            text += f" {self.version}"
        contact = self.email or self.url
        if contact and contact != text:
            text += f" ({contact})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "email": self.email,
            "url": self.url,
            "version": self.version,
        }


@dataclass(frozen=True)
class Component:
    ref: str
    name: str
    version: str | None = None
    group: str | None = None
    type: str | None = None  # CycloneDX component type, or SPDX primary purpose in lower case
    supplier: Party | None = None
    creator: Party | None = None  # manufacturer, author or originator
    purl: str | None = None  # canonical form
    cpe: str | None = None  # as written: CPE 2.2 URI or CPE 2.3 formatted string
    hashes: Mapping[str, str] = field(default_factory=dict, hash=False)
    licenses: tuple[str, ...] = ()  # SPDX licence expressions
    license_names: tuple[str, ...] = ()  # free-text licence names that are not SPDX expressions
    file_name: str | None = None
    scope: str | None = None  # CycloneDX scope: required, optional or excluded
    depends_on: tuple[str, ...] = ()
    dependencies_declared: bool = False
    dependency_completeness: Completeness = Completeness.UNKNOWN
    dependency_kind: DependencyKind = DependencyKind.UNKNOWN

    def __post_init__(self) -> None:
        # A read-only view, so that a frozen Component cannot be changed through its hashes.
        object.__setattr__(self, "hashes", _frozen(self.hashes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "name": self.name,
            "version": self.version,
            "group": self.group,
            "type": self.type,
            "supplier": self.supplier.to_dict() if self.supplier else None,
            "creator": self.creator.to_dict() if self.creator else None,
            "purl": self.purl,
            "cpe": self.cpe,
            "hashes": dict(self.hashes),
            "licenses": list(self.licenses),
            "license_names": list(self.license_names),
            "file_name": self.file_name,
            "scope": self.scope,
            "depends_on": list(self.depends_on),
            "dependencies_declared": self.dependencies_declared,
            "dependency_completeness": self.dependency_completeness.value,
            "dependency_kind": self.dependency_kind.value,
        }


@dataclass(frozen=True)
class Sbom:
    format: SbomFormat
    spec_version: str  # "1.6", "2.3", "3.0.1"
    encoding: SbomEncoding
    serial: str | None = None  # CycloneDX serialNumber, SPDX documentNamespace or document spdxId
    name: str | None = None
    timestamp: dt.datetime | None = None  # always timezone-aware (UTC when the file gave none)
    creators: tuple[Party, ...] = ()  # people and organisations who made the SBOM
    tools: tuple[Party, ...] = ()
    primary: Component | None = None
    components: tuple[Component, ...] = ()
    vulnerabilities: int = 0  # vulnerability records inside the SBOM (BSI: there should be none)
    unknown_refs: tuple[str, ...] = ()  # refs in the dependency graph that name nothing here

    def all_components(self) -> Iterator[Component]:
        """The primary component (if any) first, then the others."""
        if self.primary is not None:
            yield self.primary
        yield from self.components

    def component(self, ref: str) -> Component | None:
        return next((c for c in self.all_components() if c.ref == ref), None)

    @property
    def has_dependency_graph(self) -> bool:
        return any(c.dependencies_declared for c in self.all_components())

    @property
    def label(self) -> str:
        """`CycloneDX 1.6 (json)`."""
        return f"{self.format.value} {self.spec_version} ({self.encoding.value})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format.value,
            "spec_version": self.spec_version,
            "encoding": self.encoding.value,
            "serial": self.serial,
            "name": self.name,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "creators": [p.to_dict() for p in self.creators],
            "tools": [p.to_dict() for p in self.tools],
            "primary": self.primary.to_dict() if self.primary else None,
            "components": [c.to_dict() for c in self.components],
            "vulnerabilities": self.vulnerabilities,
            "unknown_refs": list(self.unknown_refs),
        }
