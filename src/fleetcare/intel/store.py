"""The vulnerability store: import normalised records, merge aliases, keep what each source said.

    result = import_records(session, records, keys_for=record_keys)
    result.changed        # canonical ids whose content changed: what re-matching must look at
    import_kev(session, entries); import_epss(session, scores)

One `Vulnerability` row stands for one real vulnerability; every id it is known by (CVE, GHSA,
OSV, distro, EUVD ids) is a `VulnerabilityAlias` pointing to it. The canonical id is the CVE id
when one is known, otherwise the first id seen; when a later record reveals that two rows are the
same vulnerability, they are merged and everything that referred to the old id is moved.

Importing is idempotent: a source record whose content hash is unchanged is skipped, so
re-importing the same feed changes nothing. Nothing is committed here: the caller commits the
whole import at once, so an import that fails half way leaves the store as it was.

`keys_for` turns a record into the matching keys under which it is indexed; the matching
capability provides it (the store does not know how matching normalises names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from fleetcare.intel import codec
from fleetcare.intel.models import (
    AffectsKey,
    EpssScore,
    FeedState,
    KevEntry,
    SourceRecord,
    Vulnerability,
    VulnerabilityAlias,
)
from fleetcare.intel.records import EpssScore as EpssRecord
from fleetcare.intel.records import KevEntry as KevRecord
from fleetcare.intel.records import VulnerabilityRecord
from fleetcare.intel.severity import best_severity, severity_label

KeysFor = Callable[[VulnerabilityRecord], set[str]]
BATCH = 500

#: Other capabilities' (table, column) pairs that hold vulnerability ids, moved on a merge.
#: A capability registers its own at import time with `register_vulnerability_reference`.
_REFERENCES: list[tuple[Any, str]] = []


def register_vulnerability_reference(table: Any, column: str) -> None:
    if (table, column) not in _REFERENCES:
        _REFERENCES.append((table, column))


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    changed: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


def _is_cve(value: str) -> bool:
    return value.upper().startswith("CVE-")


def _preferred(ids: Iterable[str]) -> str:
    cves = sorted(i for i in ids if _is_cve(i))
    if cves:
        return cves[0]
    return min(ids)


def _cluster_ids(record: VulnerabilityRecord) -> set[str]:
    # `related` and `upstream` name other vulnerabilities and are never merged on.
    return {record.id, *record.aliases}


def import_records(
    session: Session, records: Iterable[VulnerabilityRecord], *, keys_for: KeysFor
) -> ImportResult:
    result = ImportResult()
    batch: list[VulnerabilityRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= BATCH:
            _import_batch(session, batch, keys_for, result)
            batch = []
    if batch:
        _import_batch(session, batch, keys_for, result)
    return result


def _import_batch(
    session: Session, batch: list[VulnerabilityRecord], keys_for: KeysFor, result: ImportResult
) -> None:
    # Later duplicates of the same (source, id) in one batch win, as they would one by one.
    unique: dict[tuple[str, str], VulnerabilityRecord] = {}
    for record in batch:
        unique[(record.source, record.id)] = record
    existing = {
        (row.source, row.record_id): row
        for row in session.execute(
            select(SourceRecord).where(
                SourceRecord.record_id.in_({rid for _s, rid in unique}),
            )
        ).scalars()
    }
    touched: set[str] = set()
    for (source, record_id), record in unique.items():
        digest = codec.content_hash(record)
        row = existing.get((source, record_id))
        if row is not None and row.content_hash == digest:
            result.unchanged += 1
            continue
        canonical = _attach(session, record, row)
        if row is None:
            row = SourceRecord(
                source=source,
                record_id=record_id,
                vulnerability_id=canonical,
                content_hash=digest,
                record={},
            )
            session.add(row)
            result.added += 1
        else:
            result.updated += 1
        row.vulnerability_id = canonical
        row.content_hash = digest
        row.record = codec.encode(record)
        row.modified = record.modified
        row.withdrawn = record.withdrawn
        session.flush()
        session.execute(delete(AffectsKey).where(AffectsKey.source_record_id == row.id))
        keys = keys_for(record)
        if keys:
            session.add_all(AffectsKey(key=key, source_record_id=row.id) for key in sorted(keys))
        touched.add(canonical)
    session.flush()
    for vulnerability_id in touched:
        final = _current_id(session, vulnerability_id)
        summarise(session, final)
        result.changed.add(final)


def _current_id(session: Session, vulnerability_id: str) -> str:
    found = session.execute(
        select(VulnerabilityAlias.vulnerability_id).where(
            VulnerabilityAlias.alias == vulnerability_id
        )
    ).scalar()
    return found or vulnerability_id


def _attach(session: Session, record: VulnerabilityRecord, row: SourceRecord | None) -> str:
    """The canonical id this record belongs to, creating or merging vulnerabilities as needed."""
    ids = _cluster_ids(record)
    found = set(
        session.execute(
            select(VulnerabilityAlias.vulnerability_id).where(VulnerabilityAlias.alias.in_(ids))
        ).scalars()
    )
    if row is not None:
        found.add(row.vulnerability_id)
    if not found:
        canonical = _preferred(ids)
        session.add(Vulnerability(id=canonical))
        session.flush()
    else:
        canonical = _preferred(found | {i for i in ids if _is_cve(i)})
        if canonical not in found:
            # A CVE id became known for a vulnerability filed under another id: rename.
            session.add(Vulnerability(id=canonical))
            session.flush()
        for other in sorted(found - {canonical}):
            _merge(session, other, into=canonical)
    known = set(
        session.execute(
            select(VulnerabilityAlias.alias).where(VulnerabilityAlias.alias.in_(ids | {canonical}))
        ).scalars()
    )
    for alias in sorted((ids | {canonical}) - known):
        session.add(VulnerabilityAlias(alias=alias, vulnerability_id=canonical))
    session.flush()
    return canonical


def _merge(session: Session, other: str, *, into: str) -> None:
    session.execute(
        update(VulnerabilityAlias)
        .where(VulnerabilityAlias.vulnerability_id == other)
        .values(vulnerability_id=into)
    )
    session.execute(
        update(SourceRecord)
        .where(SourceRecord.vulnerability_id == other)
        .values(vulnerability_id=into)
    )
    for table, column in _REFERENCES:
        _move_references(session, table, column, other, into)
    session.execute(delete(Vulnerability).where(Vulnerability.id == other))
    session.flush()
    session.expire_all()


def _move_references(session: Session, table: Any, column: str, other: str, into: str) -> None:
    col = getattr(table, column)
    hook = getattr(table, "before_vulnerability_merge", None)
    if hook is not None:
        hook(session, other, into)
    session.execute(update(table).where(col == other).values({column: into}))


# --- the summary row -------------------------------------------------------------------------


def summarise(session: Session, vulnerability_id: str) -> Vulnerability:
    """Recompute a vulnerability's summary row from all its source records and KEV/EPSS."""
    vuln = session.get(Vulnerability, vulnerability_id)
    if vuln is None:
        raise LookupError(vulnerability_id)
    rows = (
        session.execute(
            select(SourceRecord).where(SourceRecord.vulnerability_id == vulnerability_id)
        )
        .scalars()
        .all()
    )
    by_source = [(r.source, codec.decode(VulnerabilityRecord, r.record)) for r in rows]
    order = {"nvd": 0, "cve": 1, "euvd": 2, "osv": 3}
    by_source.sort(key=lambda pair: order.get(pair[0], 9))
    aliases: set[str] = {vulnerability_id}
    cwes: set[str] = set()
    references: list[str] = []
    for _source, record in by_source:
        aliases |= _cluster_ids(record)
        cwes |= set(record.cwes)
        references.extend(r for r in record.references if r not in references)
    vuln.aliases = sorted(aliases - {vulnerability_id})
    vuln.cwes = sorted(cwes)
    vuln.references = references[:50]
    vuln.summary = next((r.summary for _s, r in by_source if r.summary), "")
    if not vuln.summary:
        vuln.summary = next(
            (r.details.split("\n")[0][:300] for _s, r in by_source if r.details), ""
        )
    vuln.details = next((r.details for _s, r in by_source if r.details), "")
    published = [r.published for _s, r in by_source if r.published]
    modified = [r.modified for _s, r in by_source if r.modified]
    vuln.published = min(published) if published else None
    vuln.modified = max(modified) if modified else None
    withdrawn = [r.withdrawn for _s, r in by_source]
    vuln.withdrawn = max(w for w in withdrawn if w) if withdrawn and all(withdrawn) else None
    best = best_severity(by_source)
    vuln.cvss_score = best.base_score if best else None
    vuln.cvss_vector = best.vector if best else None
    vuln.cvss_kind = best.kind if best else None
    vuln.severity = severity_label(vuln.cvss_score)
    cves = [a for a in aliases if _is_cve(a)]
    kev = (
        session.execute(select(KevEntry).where(KevEntry.cve_id.in_(cves))).scalars().first()
        if cves
        else None
    )
    vuln.kev = kev is not None
    vuln.kev_added = kev.date_added if kev else None
    vuln.kev_due = kev.due_date if kev else None
    vuln.kev_ransomware = bool(kev and kev.known_ransomware)
    vuln.exploited = vuln.kev or any(r.exploited for _s, r in by_source)
    epss = (
        session.execute(select(EpssScore).where(EpssScore.cve_id.in_(cves))).scalars().first()
        if cves
        else None
    )
    vuln.epss_score = epss.score if epss else None
    vuln.epss_percentile = epss.percentile if epss else None
    return vuln


# --- KEV and EPSS ------------------------------------------------------------------------------


def import_kev(session: Session, entries: Iterable[KevRecord]) -> set[str]:
    """Replace the KEV catalogue; returns canonical ids whose KEV flag or dates changed."""
    incoming = {e.cve_id.upper(): e for e in entries}
    stored = {k.cve_id: k for k in session.execute(select(KevEntry)).scalars()}
    changed_cves: set[str] = set()
    for cve_id, entry in incoming.items():
        row = stored.get(cve_id)
        values = {
            "vendor": entry.vendor,
            "product": entry.product,
            "name": entry.name,
            "date_added": entry.date_added,
            "due_date": entry.due_date,
            "required_action": entry.required_action,
            "known_ransomware": entry.known_ransomware,
            "notes": entry.notes,
        }
        if row is None:
            session.add(KevEntry(cve_id=cve_id, **values))
            changed_cves.add(cve_id)
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed_cves.add(cve_id)
    for cve_id in set(stored) - set(incoming):
        session.delete(stored[cve_id])
        changed_cves.add(cve_id)
    session.flush()
    return _resummarise_cves(session, changed_cves)


def _resummarise_cves(session: Session, cves: set[str]) -> set[str]:
    changed: set[str] = set()
    cve_list = sorted(cves)
    for i in range(0, len(cve_list), BATCH):
        chunk = cve_list[i : i + BATCH]
        ids = set(
            session.execute(
                select(VulnerabilityAlias.vulnerability_id).where(
                    VulnerabilityAlias.alias.in_(chunk)
                )
            ).scalars()
        )
        for vulnerability_id in ids:
            summarise(session, vulnerability_id)
            changed.add(vulnerability_id)
    return changed


def import_epss(session: Session, scores: Iterable[EpssRecord]) -> int:
    """Replace EPSS scores (a daily full snapshot) and refresh them on every vulnerability."""
    session.execute(delete(EpssScore))
    rows = [
        {
            "cve_id": s.cve_id.upper(),
            "score": s.score,
            "percentile": s.percentile,
            "scored_on": s.scored_on,
        }
        for s in scores
    ]
    for i in range(0, len(rows), 5000):
        session.execute(insert(EpssScore), rows[i : i + 5000])
    # One statement for all vulnerabilities: the score of any CVE alias.
    score = (
        select(EpssScore.score)
        .join(VulnerabilityAlias, VulnerabilityAlias.alias == EpssScore.cve_id)
        .where(VulnerabilityAlias.vulnerability_id == Vulnerability.id)
        .limit(1)
        .scalar_subquery()
    )
    percentile = (
        select(EpssScore.percentile)
        .join(VulnerabilityAlias, VulnerabilityAlias.alias == EpssScore.cve_id)
        .where(VulnerabilityAlias.vulnerability_id == Vulnerability.id)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(update(Vulnerability).values(epss_score=score, epss_percentile=percentile))
    session.flush()
    return len(rows)


# --- reading ---------------------------------------------------------------------------------


def resolve(session: Session, any_id: str) -> Vulnerability | None:
    """The vulnerability known by this id or alias (case-insensitive for CVE ids)."""
    wanted = any_id.strip()
    if _is_cve(wanted):
        wanted = wanted.upper()
    canonical = session.execute(
        select(VulnerabilityAlias.vulnerability_id).where(VulnerabilityAlias.alias == wanted)
    ).scalar()
    return session.get(Vulnerability, canonical or wanted)


def source_records(
    session: Session, vulnerability_id: str
) -> list[tuple[str, VulnerabilityRecord]]:
    rows = session.execute(
        select(SourceRecord)
        .where(SourceRecord.vulnerability_id == vulnerability_id)
        .order_by(SourceRecord.source, SourceRecord.record_id)
    ).scalars()
    return [(r.source, codec.decode(VulnerabilityRecord, r.record)) for r in rows]


def candidate_rows(
    session: Session, keys: set[str], *, only: set[str] | None = None
) -> list[tuple[int, str, str, str]]:
    """(source row id, canonical vulnerability id, source, content hash) of the records indexed
    under `keys`, optionally only those of the vulnerabilities in `only`."""
    out: list[tuple[int, str, str, str]] = []
    key_list = sorted(keys)
    seen: set[int] = set()
    for i in range(0, len(key_list), BATCH):
        query = (
            select(
                SourceRecord.id,
                SourceRecord.vulnerability_id,
                SourceRecord.source,
                SourceRecord.content_hash,
            )
            .join(AffectsKey, AffectsKey.source_record_id == SourceRecord.id)
            .where(AffectsKey.key.in_(key_list[i : i + BATCH]))
        )
        for row_id, vulnerability_id, source, digest in session.execute(query):
            if row_id in seen or (only is not None and vulnerability_id not in only):
                continue
            seen.add(row_id)
            out.append((row_id, vulnerability_id, source, digest))
    return out


def record_payloads(session: Session, row_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored JSON of these source records (read only for records not already decoded)."""
    payloads: dict[int, dict[str, Any]] = {}
    for i in range(0, len(row_ids), BATCH):
        query = select(SourceRecord.id, SourceRecord.record).where(
            SourceRecord.id.in_(row_ids[i : i + BATCH])
        )
        payloads.update(dict(session.execute(query).all()))
    return payloads


def keys_of(session: Session, vulnerability_ids: set[str]) -> set[str]:
    """Every matching key under which these vulnerabilities' records are indexed."""
    ids = sorted(vulnerability_ids)
    keys: set[str] = set()
    for i in range(0, len(ids), BATCH):
        keys |= set(
            session.execute(
                select(AffectsKey.key)
                .join(SourceRecord, SourceRecord.id == AffectsKey.source_record_id)
                .where(SourceRecord.vulnerability_id.in_(ids[i : i + BATCH]))
            ).scalars()
        )
    return keys


def record_feed_state(
    session: Session, source: str, *, records: int, cursor: str = "", status: str = "ok"
) -> None:
    state = session.get(FeedState, source) or FeedState(source=source)
    state.last_sync_at = dt.datetime.now(dt.UTC)
    state.records = records
    if cursor:
        state.cursor = cursor
    state.last_status = status
    session.add(state)


def feed_states(session: Session) -> list[FeedState]:
    return list(session.execute(select(FeedState).order_by(FeedState.source)).scalars())


def counts(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    return {
        "vulnerabilities": session.execute(
            select(func.count()).select_from(Vulnerability)
        ).scalar_one(),
        "source_records": session.execute(
            select(func.count()).select_from(SourceRecord)
        ).scalar_one(),
        "kev": session.execute(select(func.count()).select_from(KevEntry)).scalar_one(),
        "epss": session.execute(select(func.count()).select_from(EpssScore)).scalar_one(),
    }


def all_ids(session: Session) -> list[str]:
    return list(session.execute(select(Vulnerability.id).order_by(Vulnerability.id)).scalars())
