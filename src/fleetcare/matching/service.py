"""Findings as other capabilities see them (reporting, triage, updates import only this module).

exploited_candidates(session)   # KEV/EUVD-exploited vulnerabilities hitting released products
findings_for_vulnerability(session, "CVE-2024-3094")
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from fleetcare.core import events
from fleetcare.core.db import utcnow
from fleetcare.core.errors import NotFound
from fleetcare.intel import store
from fleetcare.intel.models import Vulnerability
from fleetcare.matching import engine
from fleetcare.matching.models import ComponentKey, Finding
from fleetcare.matching.schemas import (
    SEVERITY_ORDER,
    AffectedRelease,
    FindingOut,
    MatchRunOut,
    SourceOut,
    VulnerabilityOut,
)
from fleetcare.portfolio.models import Product, Release
from fleetcare.sbom import service as sbom_service
from fleetcare.sbom.models import Component
from fleetcare.sbom.service import ComponentRow


@dataclass(frozen=True)
class FindingView:
    finding_id: int
    vulnerability_id: str
    product_id: int
    product_name: str
    release_id: int
    release_version: str
    release_status: str
    component_name: str
    component_version: str
    cvss_score: float | None
    kev: bool
    exploited: bool
    first_seen: dt.datetime
    withdrawn: bool


def _views(session: Session, *conditions: object) -> list[FindingView]:
    query = (
        select(Finding, Vulnerability, Component, Release, Product)
        .join(Vulnerability, Vulnerability.id == Finding.vulnerability_id)
        .join(Component, Component.id == Finding.component_id)
        .join(Release, Release.id == Finding.release_id)
        .join(Product, Product.id == Release.product_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(Finding.first_seen, Finding.id)
    )
    return [
        FindingView(
            finding_id=f.id,
            vulnerability_id=v.id,
            product_id=p.id,
            product_name=p.name,
            release_id=r.id,
            release_version=r.version,
            release_status=r.status,
            component_name=c.name,
            component_version=c.version,
            cvss_score=f.cvss_score,
            kev=v.kev,
            exploited=v.kev or v.exploited,
            first_seen=f.first_seen,
            withdrawn=f.withdrawn_at is not None,
        )
        for f, v, c, r, p in session.execute(query)
    ]


def exploited_candidates(session: Session) -> list[FindingView]:
    """Open findings on released products whose vulnerability is known exploited (CISA KEV or
    EUVD): each is a candidate Article 14 case for the security team to confirm."""
    return _views(
        session,
        Finding.withdrawn_at.is_(None),
        Release.status == "released",
        (Vulnerability.kev.is_(True)) | (Vulnerability.exploited.is_(True)),
    )


def findings_for_vulnerability(session: Session, vulnerability_id: str) -> list[FindingView]:
    return _views(session, Finding.vulnerability_id == vulnerability_id)


def finding_view(session: Session, finding_id: int) -> FindingView | None:
    views = _views(session, Finding.id == finding_id)
    return views[0] if views else None


# --- matching runs -------------------------------------------------------------------------------


@dataclass
class MatchRun:
    components: int = 0
    candidates: int = 0
    matched: int = 0
    new: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    exploited_candidates: list[int] = field(default_factory=list)


def _refs(rows: list[ComponentRow]) -> list[engine.ComponentRef]:
    return [
        engine.ComponentRef(r.id, r.release_id, r.name, r.version, r.purl or None, r.cpe or None)
        for r in rows
    ]


def _index_components(session: Session, rows: list[ComponentRow]) -> None:
    """(Re)write the matching keys of these components."""
    ids = [r.id for r in rows]
    for i in range(0, len(ids), 500):
        session.execute(delete(ComponentKey).where(ComponentKey.component_id.in_(ids[i : i + 500])))
    keys = [
        {"key": key, "component_id": r.id}
        for r in rows
        for key in sorted(engine.component_keys(r.purl or None, r.cpe or None, r.name, r.version))
    ]
    for i in range(0, len(keys), 5000):
        session.execute(insert(ComponentKey), keys[i : i + 5000])


def _candidates(session: Session, keys: set[str], only: set[str] | None) -> list[engine.Candidate]:
    rows = store.candidate_rows(session, keys, only=only)
    missing = [row_id for row_id, _v, _s, digest in rows if engine.cached_record(digest) is None]
    payloads = store.record_payloads(session, missing) if missing else {}
    candidates = []
    for row_id, vulnerability_id, source, digest in rows:
        record = engine.cached_record(digest) or engine.decode_record(digest, payloads[row_id])
        candidates.append(engine.make_candidate(vulnerability_id, source, record))
    return candidates


def _release_cpes(session: Session, release_ids: set[int]) -> dict[int, frozenset[str]]:
    platform: dict[int, set[str]] = {}
    for row in sbom_service.component_rows(session, release_ids=release_ids):
        if row.cpe:
            platform.setdefault(row.release_id, set()).add(row.cpe)
    return {k: frozenset(v) for k, v in platform.items()}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one matching run.

    A run allocates many short-lived objects while the decoded-record cache holds hundreds of
    thousands of long-lived ones; every collection then walks the whole cache, which made
    full-generation collections the largest cost of a re-match. Nothing a run creates is
    cyclic garbage, so collection can wait until it ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(session: Session, rows: list[ComponentRow], only: set[str] | None) -> MatchRun:
    with _gc_paused():
        return _run_matching(session, rows, only)


def _run_matching(session: Session, rows: list[ComponentRow], only: set[str] | None) -> MatchRun:
    run = MatchRun(components=len(rows))
    keys: set[str] = set()
    for r in rows:
        keys |= engine.component_keys(r.purl or None, r.cpe or None, r.name, r.version)
    candidates = _candidates(session, keys, only)
    run.candidates = len(candidates)
    matches = engine.evaluate(
        _refs(rows), candidates, _release_cpes(session, {r.release_id for r in rows})
    )
    run.matched = len(matches)
    _persist(session, rows, matches, only, run)
    return run


def _persist(  # noqa: PLR0912 - one pass over the matches, then the events
    session: Session,
    rows: list[ComponentRow],
    matches: list[engine.Match],
    only: set[str] | None,
    run: MatchRun,
) -> None:
    now = utcnow()
    component_ids = [r.id for r in rows]
    existing: dict[tuple[int, str], Finding] = {}
    for i in range(0, len(component_ids), 500):
        query = select(Finding).where(Finding.component_id.in_(component_ids[i : i + 500]))
        if only is not None:
            query = query.where(Finding.vulnerability_id.in_(only))
        for finding in session.execute(query).scalars():
            existing[(finding.component_id, finding.vulnerability_id)] = finding
    vuln_ids = {m.vulnerability_id for m in matches}
    vulns = (
        {
            v.id: v
            for v in session.execute(
                select(Vulnerability).where(Vulnerability.id.in_(vuln_ids))
            ).scalars()
        }
        if vuln_ids
        else {}
    )
    released = set(
        session.execute(
            select(Release.id).where(
                Release.id.in_({r.release_id for r in rows}), Release.status == "released"
            )
        ).scalars()
    )
    seen: set[tuple[int, str]] = set()
    created: list[Finding] = []
    still_seen: list[int] = []
    flagged: list[Finding] = []
    for match in matches:
        key = (match.component_id, match.vulnerability_id)
        seen.add(key)
        vuln = vulns[match.vulnerability_id]
        exploited = bool((vuln.kev or vuln.exploited) and match.release_id in released)
        found = existing.get(key)
        if found is None:
            finding = Finding(
                release_id=match.release_id,
                component_id=match.component_id,
                vulnerability_id=match.vulnerability_id,
                first_seen=now,
                last_seen=now,
            )
            session.add(finding)
            created.append(finding)
        else:
            finding = found
            still_seen.append(finding.id)
            if finding.withdrawn_at is not None:
                finding.withdrawn_at = None
                events.emit(
                    session,
                    "finding.reopened",
                    subject=f"finding:{finding.id}",
                    payload={"finding_id": finding.id},
                )
        # Assigning an unchanged value writes nothing: only real changes become UPDATEs.
        finding.matched_by = match.matched_by
        finding.match_reason = match.reason
        finding.source = match.source
        finding.fixed_version = match.fixed_version
        finding.cvss_score = vuln.cvss_score
        if exploited and not finding.exploited_candidate:
            flagged.append(finding)
        finding.exploited_candidate = exploited
    session.flush()
    for finding in created:
        run.new.append(finding.id)
        events.emit(
            session,
            "finding.new",
            subject=f"finding:{finding.id}",
            payload={
                "finding_id": finding.id,
                "vulnerability_id": finding.vulnerability_id,
                "release_id": finding.release_id,
                "component_id": finding.component_id,
            },
        )
    for finding in flagged:
        run.exploited_candidates.append(finding.id)
        events.emit(
            session,
            "finding.exploited_candidate",
            subject=f"finding:{finding.id}",
            payload={"finding_id": finding.id, "vulnerability_id": finding.vulnerability_id},
        )
    for i in range(0, len(still_seen), 500):
        session.execute(
            update(Finding)
            .where(Finding.id.in_(still_seen[i : i + 500]))
            .values(last_seen=now)
            .execution_options(synchronize_session=False)
        )
    for key, finding in existing.items():
        if key not in seen and finding.withdrawn_at is None:
            finding.withdrawn_at = now
            finding.exploited_candidate = False
            run.withdrawn.append(finding.id)
            events.emit(
                session,
                "finding.withdrawn",
                subject=f"finding:{finding.id}",
                payload={"finding_id": finding.id},
            )
    session.flush()


def match_release(session: Session, release_id: int, *, reindex: bool = True) -> MatchRun:
    """Match every component of a release against the whole store; `reindex` rewrites the
    components' matching keys first (needed after an import, not for a plain re-match)."""
    rows = sbom_service.component_rows(session, release_ids=[release_id])
    if reindex:
        _index_components(session, rows)
    return _run(session, rows, only=None)


def match_all(session: Session, *, reindex: bool = False) -> MatchRun:
    """Re-match every release; `reindex` also rewrites every component's matching keys (do it
    after an upgrade of fleetcare, whose key rules may have changed)."""
    total = MatchRun()
    for release_id in sbom_service.releases_with_components(session):
        run = match_release(session, release_id, reindex=reindex)
        total.components += run.components
        total.candidates += run.candidates
        total.matched += run.matched
        total.new += run.new
        total.withdrawn += run.withdrawn
        total.exploited_candidates += run.exploited_candidates
    return total


def rematch(session: Session, vulnerability_ids: set[str]) -> MatchRun:
    """Re-evaluate only what a feed change could affect: components indexed under the changed
    records' keys, and components that already have findings for those vulnerabilities."""
    if not vulnerability_ids:
        return MatchRun()
    keys = store.keys_of(session, vulnerability_ids)
    component_ids: set[int] = set()
    key_list = sorted(keys)
    for i in range(0, len(key_list), 500):
        component_ids |= set(
            session.execute(
                select(ComponentKey.component_id).where(ComponentKey.key.in_(key_list[i : i + 500]))
            ).scalars()
        )
    ids = sorted(vulnerability_ids)
    for i in range(0, len(ids), 500):
        component_ids |= set(
            session.execute(
                select(Finding.component_id).where(Finding.vulnerability_id.in_(ids[i : i + 500]))
            ).scalars()
        )
    rows = sbom_service.component_rows(session, component_ids=component_ids)
    return _run(session, rows, only=vulnerability_ids)


def _after_sbom_import(session: Session, release_id: int) -> None:
    match_release(session, release_id)


def connect() -> None:
    """Wire matching into the other capabilities (called once at start-up)."""
    sbom_service.on_imported(_after_sbom_import)
    store.register_vulnerability_reference(Finding, "vulnerability_id")


def rematch_hook(session: Session, changed: set[str]) -> None:
    rematch(session, changed)


# --- queries for the API, pages and CLI ---------------------------------------------------------


@dataclass(frozen=True)
class FindingFilter:
    product_id: int | None = None
    release_id: int | None = None
    severity: str | None = None  # minimum severity
    kev: bool | None = None
    epss_min: float | None = None
    fix_available: bool | None = None
    include_withdrawn: bool = False
    vulnerability_id: str | None = None


def _filtered(query: Any, f: FindingFilter) -> Any:
    """Apply the filter to a select of findings joined with vulnerabilities and releases."""
    if f.product_id is not None:
        query = query.where(Release.product_id == f.product_id)
    if f.release_id is not None:
        query = query.where(Finding.release_id == f.release_id)
    if f.severity:
        wanted = [s for s, rank in SEVERITY_ORDER.items() if rank >= SEVERITY_ORDER[f.severity]]
        query = query.where(Vulnerability.severity.in_(wanted))
    if f.kev is not None:
        query = query.where(Vulnerability.kev.is_(f.kev))
    if f.epss_min is not None:
        query = query.where(Vulnerability.epss_score >= f.epss_min)
    if f.fix_available is True:
        query = query.where(Finding.fixed_version.is_not(None))
    elif f.fix_available is False:
        query = query.where(Finding.fixed_version.is_(None))
    if not f.include_withdrawn:
        query = query.where(Finding.withdrawn_at.is_(None))
    if f.vulnerability_id:
        query = query.where(Finding.vulnerability_id == f.vulnerability_id)
    return query


def list_findings(
    session: Session, f: FindingFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[FindingOut], int]:
    """Findings, most severe and most likely exploited first."""
    base = (
        select(Finding, Vulnerability, Component, Release, Product)
        .join(Vulnerability, Vulnerability.id == Finding.vulnerability_id)
        .join(Component, Component.id == Finding.component_id)
        .join(Release, Release.id == Finding.release_id)
        .join(Product, Product.id == Release.product_id)
    )
    query = _filtered(base, f)
    total = session.execute(
        _filtered(
            select(func.count(Finding.id))
            .join(Vulnerability, Vulnerability.id == Finding.vulnerability_id)
            .join(Release, Release.id == Finding.release_id),
            f,
        )
    ).scalar_one()
    rank = case(SEVERITY_ORDER, value=Vulnerability.severity, else_=0)
    rows = session.execute(
        query.order_by(
            Vulnerability.kev.desc(),
            rank.desc(),
            Vulnerability.epss_score.desc().nulls_last(),
            Finding.id,
        )
        .limit(limit)
        .offset(offset)
    )
    items = [
        FindingOut(
            id=fi.id,
            component_id=c.id,
            product=p.name,
            product_slug=p.slug,
            release=r.version,
            release_id=r.id,
            component=c.name,
            component_version=c.version,
            component_purl=c.purl,
            component_cpe=c.cpe,
            vulnerability_id=v.id,
            aliases=v.aliases,
            summary=v.summary,
            severity=v.severity,
            cvss_score=v.cvss_score,
            cvss_vector=v.cvss_vector,
            epss_score=v.epss_score,
            epss_percentile=v.epss_percentile,
            kev=v.kev,
            exploited_candidate=fi.exploited_candidate,
            matched_by=fi.matched_by,
            match_reason=fi.match_reason,
            source=fi.source,
            fixed_version=fi.fixed_version,
            first_seen=fi.first_seen,
            last_seen=fi.last_seen,
            withdrawn_at=fi.withdrawn_at,
        )
        for fi, v, c, r, p in rows
    ]
    return items, total


def vulnerability_detail(session: Session, any_id: str) -> VulnerabilityOut:
    vuln = store.resolve(session, any_id)
    if vuln is None:
        raise NotFound(f"no vulnerability {any_id!r} in the store")
    sources = [
        SourceOut(
            source=source,
            record_id=record.id,
            modified=record.modified,
            withdrawn=record.withdrawn,
            summary=record.summary or record.details[:200],
        )
        for source, record in store.source_records(session, vuln.id)
    ]
    affected = [
        AffectedRelease(
            product=p.name,
            product_slug=p.slug,
            release=r.version,
            release_status=r.status,
            component=c.name,
            component_version=c.version,
            finding_id=fi.id,
            fixed_version=fi.fixed_version,
            withdrawn=fi.withdrawn_at is not None,
        )
        for fi, c, r, p in session.execute(
            select(Finding, Component, Release, Product)
            .join(Component, Component.id == Finding.component_id)
            .join(Release, Release.id == Finding.release_id)
            .join(Product, Product.id == Release.product_id)
            .where(Finding.vulnerability_id == vuln.id)
            .order_by(Product.name, Release.release_date)
        )
    ]
    return VulnerabilityOut(
        id=vuln.id,
        aliases=vuln.aliases,
        summary=vuln.summary,
        details=vuln.details,
        published=vuln.published,
        modified=vuln.modified,
        withdrawn=vuln.withdrawn,
        severity=vuln.severity,
        cvss_score=vuln.cvss_score,
        cvss_vector=vuln.cvss_vector,
        cvss_kind=vuln.cvss_kind,
        cwes=vuln.cwes,
        references=vuln.references,
        kev=vuln.kev,
        kev_added=vuln.kev_added,
        kev_due=vuln.kev_due,
        kev_ransomware=vuln.kev_ransomware,
        exploited=vuln.exploited,
        epss_score=vuln.epss_score,
        epss_percentile=vuln.epss_percentile,
        sources=sources,
        affected=affected,
    )


def run_out(run: MatchRun) -> MatchRunOut:
    return MatchRunOut(
        components=run.components,
        candidates=run.candidates,
        matched=run.matched,
        new=len(run.new),
        withdrawn=len(run.withdrawn),
        exploited_candidates=len(run.exploited_candidates),
    )
