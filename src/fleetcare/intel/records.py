"""The normalised shapes every vulnerability feed parses into, and matching reads.

Each feed module (`feeds/osv.py`, `feeds/nvd.py`, ...) turns its source format into these plain,
immutable records; the store persists them and `fleetcare.matching` evaluates them against SBOM
components. Nothing here does I/O.

- `VulnerabilityRecord`: one advisory as one source tells it (OSV, NVD or EUVD), with its
  aliases, severities, CWEs, affected packages (OSV style: purl/ecosystem + ranges/versions)
  and CPE configurations (NVD style).
- `KevEntry`, `EpssScore`: enrichment keyed by CVE id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

RangeType = Literal["SEMVER", "ECOSYSTEM", "GIT"]
EventKind = Literal["introduced", "fixed", "last_affected", "limit"]


@dataclass(frozen=True)
class RangeEvent:
    kind: EventKind
    value: str


@dataclass(frozen=True)
class AffectedRange:
    """An OSV `ranges[]` entry: events in the order given by the source."""

    type: RangeType
    events: tuple[RangeEvent, ...]
    repo: str | None = None


@dataclass(frozen=True)
class AffectedPackage:
    """An OSV `affected[]` entry."""

    ecosystem: str  # OSV ecosystem as written, e.g. "PyPI", "Debian:12", "Alpine:v3.18"
    name: str
    purl: str | None = None
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()
    #: Scores that apply to this package only (OSV `affected[].severity`).
    severities: tuple[Severity, ...] = ()


@dataclass(frozen=True)
class CpeMatch:
    """An NVD `cpeMatch` entry: a CPE 2.3 pattern with optional version bounds."""

    criteria: str
    vulnerable: bool = True
    version_start_including: str | None = None
    version_start_excluding: str | None = None
    version_end_including: str | None = None
    version_end_excluding: str | None = None


@dataclass(frozen=True)
class CpeNode:
    operator: Literal["OR", "AND"]
    matches: tuple[CpeMatch, ...]
    negate: bool = False


@dataclass(frozen=True)
class CpeConfiguration:
    """An NVD configuration: its nodes combine with `operator` (AND: e.g. app running on OS)."""

    nodes: tuple[CpeNode, ...]
    operator: Literal["OR", "AND"] = "OR"
    negate: bool = False


@dataclass(frozen=True)
class Severity:
    """A score as the source gives it; `kind` is CVSS_V2, CVSS_V3, CVSS_V4 or a source label."""

    kind: str
    vector: str | None
    base_score: float | None
    source: str = ""
    #: True where the source marks this score as its main one: NVD's "Primary" metrics, and in a
    #: CVE record the CNA's own scores (ADP scores are secondary).
    primary: bool = False
    #: The qualitative rating as the source words it ("HIGH", "medium", "Moderate"), if any.
    rating: str = ""


@dataclass(frozen=True)
class VulnerabilityRecord:
    id: str
    #: "cve" is the CVE Program's own record (CVE JSON 5, as published in cvelistV5).
    source: Literal["osv", "nvd", "euvd", "cve"]
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: dt.datetime | None = None
    modified: dt.datetime | None = None
    withdrawn: dt.datetime | None = None
    severities: tuple[Severity, ...] = ()
    cwes: tuple[str, ...] = ()
    affected: tuple[AffectedPackage, ...] = ()
    configurations: tuple[CpeConfiguration, ...] = ()
    references: tuple[str, ...] = ()
    #: EUVD says it is exploited, or NVD carries a CISA KEV date.
    exploited: bool = False
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: Ids of closely related but different vulnerabilities (OSV `related`): never merge on these.
    related: tuple[str, ...] = ()
    #: Ids this record was derived from (OSV `upstream`, e.g. the CVE behind a distro advisory).
    upstream: tuple[str, ...] = ()


@dataclass(frozen=True)
class KevEntry:
    cve_id: str
    vendor: str
    product: str
    name: str
    date_added: dt.date
    due_date: dt.date | None
    required_action: str
    known_ransomware: bool
    notes: str = ""
    short_description: str = ""
    cwes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EpssScore:
    cve_id: str
    score: float
    percentile: float
    scored_on: dt.date | None = None
    model_version: str = ""
