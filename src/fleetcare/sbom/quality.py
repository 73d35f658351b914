"""How well an SBOM meets BSI TR-03183-2 v2.1, the most concrete SBOM profile for the CRA.

    from fleetcare.sbom.quality import assess

    report = assess(sbom)
    report.passed            # no required field missing anywhere
    report.score             # 0-100
    report.to_dict()         # JSON-serialisable, for the API and the release page

The report covers what CRA Annex I Part II (1) asks of an SBOM as BSI TR-03183-2 v2.1 makes it
concrete (see CRA.md item 8):

- for the document (§4, §5.2.1, §3.1): the format (CycloneDX 1.6 or later, SPDX 3.0.1 or later),
  the creator with an email address or URL, the timestamp, at least one component, and no
  vulnerability data (that belongs in VEX or CSAF); the SBOM-URI (serial number or namespace)
  and a dependency graph that names only listed components are recommended;
- for every component, the primary one included (§5.2.2): creator (or supplier) with an email
  address or URL, name, version, file name, its dependencies with a statement of their
  completeness, an SPDX licence, and a SHA-512 hash; a purl or CPE is recommended, as the
  guideline asks for them only where they exist.

Not assessed: the executable/archive/structured properties, source-code and deployable-form URIs
and the effective licence, which v2.1 also lists but which the normalised model does not carry.

Scores weigh a required field twice as much as a recommended one. The overall score is the mean
of the document score and the average component score, so that a large SBOM does not drown the
document-level requirements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fleetcare.sbom.model import Completeness, Component, Party, PartyKind, Sbom, SbomFormat

GUIDELINE = "BSI TR-03183-2 v2.1"
_MIN_VERSION = {SbomFormat.CYCLONEDX: (1, 6), SbomFormat.SPDX: (3, 0, 1)}


class Level(StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"


_WEIGHT = {Level.REQUIRED: 2, Level.RECOMMENDED: 1}


@dataclass(frozen=True)
class Check:
    """One field of the guideline: present (`passed`) or not, and what was found instead."""

    field: str  # stable key for the API and UI, e.g. "hash_sha512"
    title: str
    level: Level
    passed: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "title": self.title,
            "level": self.level.value,
            "passed": self.passed,
            "detail": self.detail,
        }


def _score(checks: Iterable[Check]) -> int:
    total = passed = 0
    for check in checks:
        total += _WEIGHT[check.level]
        passed += _WEIGHT[check.level] if check.passed else 0
    return round(100 * passed / total) if total else 0


def _missing_required(checks: Iterable[Check]) -> list[str]:
    return [c.field for c in checks if c.level is Level.REQUIRED and not c.passed]


@dataclass(frozen=True)
class ComponentQuality:
    ref: str
    name: str
    version: str | None
    primary: bool
    checks: tuple[Check, ...]

    @property
    def score(self) -> int:
        return _score(self.checks)

    @property
    def missing_required(self) -> list[str]:
        return _missing_required(self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "name": self.name,
            "version": self.version,
            "primary": self.primary,
            "score": self.score,
            "missing_required": self.missing_required,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class QualityReport:
    sbom: Sbom
    document: tuple[Check, ...]
    components: tuple[ComponentQuality, ...]

    @property
    def document_score(self) -> int:
        return _score(self.document)

    @property
    def component_score(self) -> int:
        if not self.components:
            return 0
        return round(sum(c.score for c in self.components) / len(self.components))

    @property
    def score(self) -> int:
        return round((self.document_score + self.component_score) / 2)

    @property
    def required_missing(self) -> int:
        """How many required fields are missing, in the document and all components together."""
        return len(_missing_required(self.document)) + sum(
            len(c.missing_required) for c in self.components
        )

    @property
    def passed(self) -> bool:
        return self.required_missing == 0

    def coverage(self) -> dict[str, dict[str, Any]]:
        """For each component field: its title, level, and how many components have it."""
        found: dict[str, dict[str, Any]] = {}
        for component in self.components:
            for check in component.checks:
                entry = found.setdefault(
                    check.field,
                    {"title": check.title, "level": check.level.value, "passed": 0, "total": 0},
                )
                entry["total"] += 1
                entry["passed"] += int(check.passed)
        return found

    def to_dict(self) -> dict[str, Any]:
        sbom = self.sbom
        return {
            "guideline": GUIDELINE,
            "sbom": {
                "format": sbom.format.value,
                "spec_version": sbom.spec_version,
                "encoding": sbom.encoding.value,
                "serial": sbom.serial,
                "timestamp": sbom.timestamp.isoformat() if sbom.timestamp else None,
                "components": len(sbom.components) + (1 if sbom.primary else 0),
            },
            "passed": self.passed,
            "score": self.score,
            "document_score": self.document_score,
            "component_score": self.component_score,
            "required_missing": self.required_missing,
            "document": [c.to_dict() for c in self.document],
            "coverage": self.coverage(),
            "components": [c.to_dict() for c in self.components],
        }


def assess(sbom: Sbom) -> QualityReport:
    """Grade `sbom` against BSI TR-03183-2 v2.1; see the module docstring for what is checked."""
    components = tuple(
        ComponentQuality(
            ref=c.ref,
            name=c.name,
            version=c.version,
            primary=c is sbom.primary,
            checks=component_checks(c),
        )
        for c in sbom.all_components()
    )
    return QualityReport(sbom=sbom, document=document_checks(sbom), components=components)


# --- the document --------------------------------------------------------------------------


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _format_check(sbom: Sbom) -> Check:
    minimum = _MIN_VERSION[sbom.format]
    passed = _version_tuple(sbom.spec_version) >= minimum
    wanted = "CycloneDX 1.6 or later, or SPDX 3.0.1 or later"
    detail = (
        "" if passed else f"{sbom.format.value} {sbom.spec_version}: the guideline wants {wanted}"
    )
    return Check("format", "SBOM format and version", Level.REQUIRED, passed, detail)


def _contact_detail(parties: list[Party], role: str) -> tuple[bool, str]:
    """Whether one of `parties` can be contacted (email or URL, as the guideline asks)."""
    if any(p.has_contact for p in parties):
        return True, ""
    named = ", ".join(f"'{p.label()}'" for p in parties)
    if named:
        return False, f"{named} named as {role}, without an email address or URL"
    return False, f"no {role} named"


def document_checks(sbom: Sbom) -> tuple[Check, ...]:
    people = [p for p in sbom.creators if p.kind is not PartyKind.TOOL]
    creator_ok, creator_detail = _contact_detail(people, "creator")
    if not people and sbom.tools:
        creator_detail += f" (only tools: {', '.join(t.label() for t in sbom.tools)})"
    count = len(sbom.components) + (1 if sbom.primary else 0)
    checks = [
        _format_check(sbom),
        Check("creator", "Creator of the SBOM", Level.REQUIRED, creator_ok, creator_detail),
        Check(
            "timestamp",
            "Timestamp",
            Level.REQUIRED,
            sbom.timestamp is not None,
            "" if sbom.timestamp else "the SBOM does not say when it was made",
        ),
        Check(
            "components",
            "Components listed",
            Level.REQUIRED,
            count > 0,
            "" if count else "the SBOM lists no components",
        ),
        Check(
            "no_vulnerabilities",
            "No vulnerability data inside the SBOM",
            Level.REQUIRED,
            sbom.vulnerabilities == 0,
            ""
            if sbom.vulnerabilities == 0
            else f"{sbom.vulnerabilities} vulnerability record"
            f"{'s' if sbom.vulnerabilities != 1 else ''}: publish them as VEX or CSAF instead",
        ),
        Check(
            "sbom_uri",
            "SBOM-URI (serial number or namespace)",
            Level.RECOMMENDED,
            bool(sbom.serial),
            "" if sbom.serial else "no serial number, namespace or document id",
        ),
        Check(
            "graph_refs",
            "Dependency graph names only listed components",
            Level.RECOMMENDED,
            not sbom.unknown_refs,
            ""
            if not sbom.unknown_refs
            else f"{len(sbom.unknown_refs)} unknown ref{'s' if len(sbom.unknown_refs) > 1 else ''}"
            f", e.g. {sbom.unknown_refs[0]!r}",
        ),
    ]
    return tuple(checks)


# --- components ----------------------------------------------------------------------------


def _hash_check(component: Component) -> Check:
    if "SHA-512" in component.hashes:
        return Check("hash_sha512", "SHA-512 hash", Level.REQUIRED, True)
    others = ", ".join(sorted(component.hashes))
    detail = f"only {others}" if others else "no hash"
    return Check("hash_sha512", "SHA-512 hash", Level.REQUIRED, False, detail)


def _license_check(component: Component) -> Check:
    if component.licenses:
        return Check("license", "Licence (SPDX)", Level.REQUIRED, True)
    if component.license_names:
        names = ", ".join(repr(n) for n in component.license_names)
        detail = f"{names} is not an SPDX identifier or expression"
    else:
        detail = "no licence"
    return Check("license", "Licence (SPDX)", Level.REQUIRED, False, detail)


def _dependency_checks(component: Component) -> list[Check]:
    declared = component.dependencies_declared
    completeness = component.dependency_completeness
    return [
        Check(
            "dependencies",
            "Dependencies",
            Level.REQUIRED,
            declared,
            "" if declared else "not in the dependency graph: its dependencies are unknown",
        ),
        Check(
            "dependency_completeness",
            "Completeness of the dependencies",
            Level.REQUIRED,
            completeness is not Completeness.UNKNOWN,
            ""
            if completeness is not Completeness.UNKNOWN
            else "the SBOM does not say whether its dependency list is complete",
        ),
    ]


def _present(field: str, title: str, value: str | None, level: Level = Level.REQUIRED) -> Check:
    return Check(field, title, level, bool(value), "" if value else "missing")


def component_checks(component: Component) -> tuple[Check, ...]:
    parties = [p for p in (component.creator, component.supplier) if p is not None]
    creator_ok, creator_detail = _contact_detail(parties, "creator or supplier")
    identifier = component.purl or component.cpe
    return (
        Check("creator", "Component creator", Level.REQUIRED, creator_ok, creator_detail),
        _present("name", "Component name", component.name),
        _present("version", "Component version", component.version),
        _present("filename", "File name", component.file_name),
        *_dependency_checks(component),
        _license_check(component),
        _hash_check(component),
        Check(
            "identifier",
            "purl or CPE",
            Level.RECOMMENDED,
            bool(identifier),
            "" if identifier else "neither purl nor CPE",
        ),
    )
