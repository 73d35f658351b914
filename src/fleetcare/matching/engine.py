"""The matching engine: components against candidate records, giving matches and reasons.

No database here: the service feeds it components and the candidate records found by key, so
the same engine serves the server (candidates from the store) and `fleetcare scan` (candidates
from feed files in memory).

    keys = component_keys(purl, cpe)                  # where to look
    matches = evaluate(components, candidates)        # what matched, and why

Candidates are selected by key — `purl:<ecosystem>/<name>` from `purl.PackageKey`, and
`cpe:<vendor>:<product>` from the CPE — so a component is only ever compared with records about
its own package. Records are decoded once and kept in a small cache keyed by content hash, so a
full re-match of many releases decodes each record once.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fleetcare.intel import codec
from fleetcare.intel.records import VulnerabilityRecord
from fleetcare.matching import cpe as cpe_rules
from fleetcare.matching.purl import InvalidPurl, PackageKey, affected_key, parse_purl
from fleetcare.matching.ranges import match_osv_record


def purl_key(key: PackageKey) -> str:
    return f"purl:{key.ecosystem}/{key.name}"


def effective_purl(purl: str | None, name: str, version: str) -> str | None:
    """The component's purl, or for a component known only by name, version (and CPE) — as in
    many firmware SBOMs — a `pkg:generic` purl, which reaches OSS-Fuzz records of C projects
    (curl, dnsmasq, openssl) named by their project name and matched through their tag lists."""
    if purl:
        return purl
    if name and version and "/" not in name:
        return f"pkg:generic/{quote(name.lower(), safe='')}@{quote(version, safe='')}"
    return None


def component_keys(
    purl: str | None, cpe: str | None, name: str = "", version: str = ""
) -> set[str]:
    keys: set[str] = set()
    purl = effective_purl(purl, name, version)
    if purl:
        with contextlib.suppress(InvalidPurl):
            keys |= {purl_key(k) for k in parse_purl(purl).keys}
    if cpe:
        key = cpe_rules.candidate_key(cpe)
        if key is not None:
            keys.add(f"cpe:{key[0]}:{key[1]}")
    return keys


def record_keys(record: VulnerabilityRecord) -> set[str]:
    """Every key under which a record is indexed in the store."""
    keys: set[str] = set()
    for affected in record.affected:
        key = affected_key(affected)
        if key is not None:
            keys.add(purl_key(key))
    for vendor, product in cpe_rules.configuration_keys(record.configurations):
        keys.add(f"cpe:{vendor}:{product}")
    return keys


@dataclass(frozen=True)
class ComponentRef:
    id: int
    release_id: int
    name: str
    version: str
    purl: str | None
    cpe: str | None


@dataclass(frozen=True)
class Candidate:
    vulnerability_id: str
    source: str
    record: VulnerabilityRecord
    keys: frozenset[str]


@dataclass(frozen=True)
class Match:
    component_id: int
    release_id: int
    vulnerability_id: str
    source: str
    matched_by: str  # "purl" or "cpe"
    reason: str
    fixed_version: str | None


_record_cache: dict[str, VulnerabilityRecord] = {}
_RECORD_CACHE_LIMIT = 300_000


def cached_record(content_hash: str) -> VulnerabilityRecord | None:
    return _record_cache.get(content_hash)


def decode_record(content_hash: str, data: dict[str, Any]) -> VulnerabilityRecord:
    """Decode a stored record, once per content hash (records are immutable per hash)."""
    record = _record_cache.get(content_hash)
    if record is None:
        record = codec.decode(VulnerabilityRecord, data)
        if len(_record_cache) >= _RECORD_CACHE_LIMIT:
            _record_cache.clear()
        _record_cache[content_hash] = record
    return record


def make_candidate(vulnerability_id: str, source: str, record: VulnerabilityRecord) -> Candidate:
    return Candidate(vulnerability_id, source, record, frozenset(record_keys(record)))


def evaluate(
    components: Sequence[ComponentRef],
    candidates: Iterable[Candidate],
    release_cpes: dict[int, frozenset[str]] | None = None,
) -> list[Match]:
    """Every (component, vulnerability) that matches, one Match each (purl evidence first)."""
    by_key: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.record.withdrawn is not None:
            continue
        for key in candidate.keys:
            by_key[key].append(candidate)
    release_cpes = release_cpes or {}
    matches: list[Match] = []
    for component in components:
        found: dict[str, Match] = {}
        _match_by_purl(component, by_key, found)
        _match_by_cpe(component, by_key, release_cpes.get(component.release_id, frozenset()), found)
        matches.extend(found.values())
    return matches


def _match_by_purl(
    component: ComponentRef, by_key: dict[str, list[Candidate]], found: dict[str, Match]
) -> None:
    purl = effective_purl(component.purl, component.name, component.version)
    if not purl:
        return
    try:
        parsed = parse_purl(purl)
    except InvalidPurl:
        return
    if not parsed.version:
        return
    for key in parsed.keys:
        for candidate in by_key.get(purl_key(key), ()):
            if candidate.vulnerability_id in found:
                continue
            result = match_osv_record(parsed, candidate.record)
            if result.matched:
                found[candidate.vulnerability_id] = Match(
                    component.id,
                    component.release_id,
                    candidate.vulnerability_id,
                    candidate.source,
                    "purl",
                    result.reason,
                    result.fixed_version,
                )


def _match_by_cpe(
    component: ComponentRef,
    by_key: dict[str, list[Candidate]],
    platform: frozenset[str],
    found: dict[str, Match],
) -> None:
    if not component.cpe:
        return
    key = cpe_rules.candidate_key(component.cpe)
    if key is None:
        return
    for candidate in by_key.get(f"cpe:{key[0]}:{key[1]}", ()):
        if candidate.vulnerability_id in found:
            continue
        result = cpe_rules.match_configurations(
            component.cpe, candidate.record.configurations, platform
        )
        if result.matched:
            found[candidate.vulnerability_id] = Match(
                component.id,
                component.release_id,
                candidate.vulnerability_id,
                candidate.source,
                "cpe",
                result.reason,
                result.fixed_version,
            )
