"""A standalone scan: one SBOM file against feed files, no server and no database needed.

    feeds = load_feeds(Path("feeds"))          # osv/ nvd/ cve/ euvd/ kev/ epss/ sub-directories
    findings = scan(parse_sbom_file("fw.cdx.json"), feeds)

Uses the same engine and rules as the server, so `fleetcare scan` in a build pipeline reports
what the server will report once the release is uploaded. Records about the same vulnerability
(a GHSA and its CVE) are reported once, under the CVE id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fleetcare.core.errors import InvalidInput
from fleetcare.intel.feeds import cve5, epss, euvd, kev, nvd, osv
from fleetcare.intel.records import EpssScore, KevEntry, VulnerabilityRecord
from fleetcare.intel.severity import best_severity, severity_label
from fleetcare.matching import engine
from fleetcare.matching.schemas import SEVERITY_ORDER
from fleetcare.sbom.model import Sbom


@dataclass
class FeedSet:
    records: list[tuple[str, VulnerabilityRecord]] = field(default_factory=list)
    kev: dict[str, KevEntry] = field(default_factory=dict)
    epss: dict[str, EpssScore] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanFinding:
    component: str
    version: str
    purl: str | None
    vulnerability_id: str
    aliases: tuple[str, ...]
    severity: str
    cvss_score: float | None
    kev: bool
    epss: float | None
    fixed_version: str | None
    matched_by: str
    reason: str
    summary: str

    def to_dict(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def load_feeds(root: Path) -> FeedSet:
    """Read every feed found under `root` (a directory with sub-directories named by source)."""
    if not root.is_dir():
        raise InvalidInput(f"feeds directory {root} does not exist")
    feeds = FeedSet()
    readers = {
        "osv": osv.iter_records,
        "nvd": nvd.iter_records,
        "cve": cve5.iter_records,
        "euvd": euvd.iter_records,
    }
    found = False
    for source, reader in readers.items():
        path = root / source
        if path.exists():
            found = True
            feeds.records.extend((source, r) for r in reader(path, warnings=[]))
    for path in sorted((root / "kev").glob("*.json")) if (root / "kev").is_dir() else []:
        found = True
        feeds.kev.update((e.cve_id.upper(), e) for e in kev.read_catalog(path).entries)
    epss_dir = root / "epss"
    for path in sorted(epss_dir.glob("*.csv*")) if epss_dir.is_dir() else []:
        found = True
        feeds.epss.update((s.cve_id.upper(), s) for s in epss.iter_scores(path))
    if not found:
        raise InvalidInput(f"{root} has none of the sub-directories osv, nvd, cve, euvd, kev, epss")
    return feeds


def _clusters(records: Iterable[tuple[str, VulnerabilityRecord]]) -> dict[str, str]:
    """Map every record id and alias to one canonical id (the CVE id when known)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _source, record in records:
        for alias in record.aliases:
            a, b = find(record.id), find(alias)
            if a != b:
                parent[a] = b
    members: dict[str, list[str]] = defaultdict(list)
    for x in list(parent):
        members[find(x)].append(x)
    canonical: dict[str, str] = {}
    for group in members.values():
        cves = sorted(i for i in group if i.upper().startswith("CVE-"))
        chosen = cves[0] if cves else min(group)
        for x in group:
            canonical[x] = chosen
    return canonical


def scan(sbom: Sbom, feeds: FeedSet) -> list[ScanFinding]:
    canonical = _clusters(feeds.records)
    by_vuln: dict[str, list[tuple[str, VulnerabilityRecord]]] = defaultdict(list)
    candidates = []
    for source, record in feeds.records:
        vid = canonical.get(record.id, record.id)
        by_vuln[vid].append((source, record))
        candidates.append(engine.make_candidate(vid, source, record))
    components = list(sbom.components)
    refs = [
        engine.ComponentRef(i, 0, c.name, c.version or "", c.purl, c.cpe)
        for i, c in enumerate(components)
    ]
    platform = frozenset(c.cpe for c in components if c.cpe)
    results = []
    for match in engine.evaluate(refs, candidates, {0: platform}):
        component = components[match.component_id]
        records = by_vuln[match.vulnerability_id]
        best = best_severity(records)
        score = best.base_score if best else None
        ids = {match.vulnerability_id}
        for _s, r in records:
            ids |= {r.id, *r.aliases}
        cves = [i for i in ids if i.upper().startswith("CVE-")]
        epss_score = next((feeds.epss[c].score for c in cves if c in feeds.epss), None)
        results.append(
            ScanFinding(
                component=component.name,
                version=component.version or "",
                purl=component.purl,
                vulnerability_id=match.vulnerability_id,
                aliases=tuple(sorted(ids - {match.vulnerability_id})),
                severity=severity_label(score),
                cvss_score=score,
                kev=any(c.upper() in feeds.kev for c in cves),
                epss=epss_score,
                fixed_version=match.fixed_version,
                matched_by=match.matched_by,
                reason=match.reason,
                summary=next(
                    (r.summary or r.details[:200] for _s, r in records if r.summary or r.details),
                    "",
                ),
            )
        )
    results.sort(
        key=lambda f: (not f.kev, -SEVERITY_ORDER[f.severity], -(f.epss or 0), f.component)
    )
    return results


def at_or_above(findings: list[ScanFinding], severity: str) -> list[ScanFinding]:
    threshold = SEVERITY_ORDER[severity]
    return [f for f in findings if SEVERITY_ORDER[f.severity] >= threshold]
