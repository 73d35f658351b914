"""Which of a vulnerability's scores to show, and its qualitative rating (pure functions).

Sources disagree: NVD, the CVE record's CNA, OSV and EUVD may each give CVSS v2, v3.x or v4
scores. fleetcare shows one: CVSS v3 before v4 before v2 (v3 is what most tooling and SLAs are
written against today), the source's primary score before secondary ones, and NVD before the
CNA before OSV before EUVD.
"""

from __future__ import annotations

from collections.abc import Iterable

from fleetcare.intel.records import Severity, VulnerabilityRecord

_KIND_RANK = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}


def severity_label(score: float | None) -> str:
    if score is None:
        return "unknown"
    if score == 0:
        return "none"
    if score < 4:
        return "low"
    if score < 7:
        return "medium"
    if score < 9:
        return "high"
    return "critical"


def best_severity(by_source: Iterable[tuple[str, VulnerabilityRecord]]) -> Severity | None:
    """The score to show, from (source, record) pairs; None when no source scores it."""
    candidates: list[tuple[tuple[int, int, int], Severity]] = []
    source_rank = {"nvd": 0, "cve": 1, "osv": 2, "euvd": 3}
    for source, record in by_source:
        severities = list(record.severities)
        for affected in record.affected:
            severities.extend(affected.severities)
        for sev in severities:
            if sev.base_score is None or sev.kind not in _KIND_RANK:
                continue
            rank = (_KIND_RANK[sev.kind], 0 if sev.primary else 1, source_rank.get(source, 9))
            candidates.append((rank, sev))
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]
