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


def _chunks(items: list[Any], size: int = BATCH) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _import_batch(  # noqa: PLR0912 - one pass, in the order the statements must run
    session: Session, batch: list[VulnerabilityRecord], keys_for: KeysFor, result: ImportResult
) -> None:
    """Import up to BATCH records with a handful of statements.

    Aliases known to the database are read once for the whole batch into `alias_map`, which is
    then kept current in memory as records create vulnerabilities and aliases, so that records in
    the same batch that name each other land in the same vulnerability without a flush per record.
    """
    # Later duplicates of the same (source, id) in one batch win, as they would one by one.
    unique: dict[tuple[str, str], VulnerabilityRecord] = {}
    for record in batch:
        unique[(record.source, record.id)] = record
    existing: dict[tuple[str, str], SourceRecord] = {}
    for chunk in _chunks(sorted({rid for _s, rid in unique})):
        for stored in session.execute(
            select(SourceRecord).where(SourceRecord.record_id.in_(chunk))
        ).scalars():
            existing[(stored.source, stored.record_id)] = stored
    changed: list[tuple[VulnerabilityRecord, str, SourceRecord | None]] = []
    for key, record in unique.items():
        digest = codec.content_hash(record)
        previous = existing.get(key)
        if previous is not None and previous.content_hash == digest:
            result.unchanged += 1
        else:
            changed.append((record, digest, previous))
    if not changed:
        return
    wanted = sorted({i for record, _d, _r in changed for i in _cluster_ids(record)})
    alias_map: dict[str, str] = {}
    for chunk in _chunks(wanted):
        query = select(VulnerabilityAlias.alias, VulnerabilityAlias.vulnerability_id).where(
            VulnerabilityAlias.alias.in_(chunk)
        )
        alias_map.update((alias, target) for alias, target in session.execute(query))
    new_ids: set[str] = set()
    rows: list[tuple[SourceRecord, VulnerabilityRecord, bool]] = []
    with session.no_autoflush:
        canonicals = [
            _attach(session, record, previous, alias_map, new_ids)
            for record, _digest, previous in changed
        ]
    # Vulnerabilities and aliases first: the source rows below refer to them.
    session.flush()
    for (record, digest, previous), canonical in zip(changed, canonicals, strict=True):
        if previous is None:
            row = SourceRecord(source=record.source, record_id=record.id)
            session.add(row)
            result.added += 1
        else:
            row = previous
            result.updated += 1
        row.vulnerability_id = alias_map.get(canonical, canonical)
        row.content_hash = digest
        row.record = codec.encode(record)
        row.modified = record.modified
        row.withdrawn = record.withdrawn
        rows.append((row, record, previous is None))
    session.flush()
    stale = [row.id for row, _record, is_new in rows if not is_new]
    for chunk in _chunks(stale):
        session.execute(delete(AffectsKey).where(AffectsKey.source_record_id.in_(chunk)))
    keys = [
        {"key": key, "source_record_id": row.id}
        for row, record, _new in rows
        for key in sorted(keys_for(record))
    ]
    for chunk in _chunks(keys, 5000):
        session.execute(insert(AffectsKey), chunk)
    touched = {alias_map.get(row.vulnerability_id, row.vulnerability_id) for row, _r, _n in rows}
    summarise_many(session, touched)
    result.changed |= touched


def _attach(
    session: Session,
    record: VulnerabilityRecord,
    row: SourceRecord | None,
    alias_map: dict[str, str],
    new_ids: set[str],
) -> str:
    """The canonical id this record belongs to, creating or merging vulnerabilities as needed."""
    ids = _cluster_ids(record)
    found = {alias_map[i] for i in ids if i in alias_map}
    if row is not None:
        found.add(alias_map.get(row.vulnerability_id, row.vulnerability_id))
    if not found:
        canonical = _preferred(ids)
        session.add(Vulnerability(id=canonical))
        new_ids.add(canonical)
    else:
        canonical = _preferred(found | {i for i in ids if _is_cve(i)})
        if canonical not in found:
            # A CVE id became known for a vulnerability filed under another id: rename.
            session.add(Vulnerability(id=canonical))
            new_ids.add(canonical)
        others = sorted(found - {canonical})
        if others:
            session.flush()
            for other in others:
                _merge(session, other, into=canonical)
                for alias, target in list(alias_map.items()):
                    if target == other:
                        alias_map[alias] = canonical
    for alias in sorted(ids | {canonical}):
        if alias not in alias_map:
            session.add(VulnerabilityAlias(alias=alias, vulnerability_id=canonical))
            alias_map[alias] = canonical
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
    """Recompute one vulnerability's summary row (see `summarise_many`)."""
    summarise_many(session, {vulnerability_id})
    vuln = session.get(Vulnerability, vulnerability_id)
    if vuln is None:
        raise LookupError(vulnerability_id)
    return vuln


def summarise_many(session: Session, vulnerability_ids: set[str]) -> None:
    """Recompute the summary rows of these vulnerabilities from all their source records and
    from KEV and EPSS, reading each table once per chunk."""
    for chunk in _chunks(sorted(vulnerability_ids)):
        vulns = {
            v.id: v
            for v in session.execute(
                select(Vulnerability).where(Vulnerability.id.in_(chunk))
            ).scalars()
        }
        records: dict[str, list[tuple[str, VulnerabilityRecord]]] = {v: [] for v in vulns}
        for vulnerability_id, source, digest, payload in session.execute(
            select(
                SourceRecord.vulnerability_id,
                SourceRecord.source,
                SourceRecord.content_hash,
                SourceRecord.record,
            ).where(SourceRecord.vulnerability_id.in_(chunk))
        ):
            records[vulnerability_id].append((source, _decoded(digest, payload)))
        cves = sorted(
            {
                i
                for pairs in records.values()
                for _s, r in pairs
                for i in _cluster_ids(r)
                if _is_cve(i)
            }
            | {v for v in vulns if _is_cve(v)}
        )
        kev: dict[str, KevEntry] = {}
        epss: dict[str, EpssScore] = {}
        for cve_chunk in _chunks(cves):
            kev.update(
                (k.cve_id, k)
                for k in session.execute(
                    select(KevEntry).where(KevEntry.cve_id.in_(cve_chunk))
                ).scalars()
            )
            epss.update(
                (e.cve_id, e)
                for e in session.execute(
                    select(EpssScore).where(EpssScore.cve_id.in_(cve_chunk))
                ).scalars()
            )
        for vulnerability_id, vuln in vulns.items():
            _apply_summary(vuln, records[vulnerability_id], kev, epss)
    session.flush()


_decode_cache: dict[str, VulnerabilityRecord] = {}


def _decoded(digest: str, payload: dict[str, Any]) -> VulnerabilityRecord:
    record = _decode_cache.get(digest)
    if record is None:
        if len(_decode_cache) > 50_000:
            _decode_cache.clear()
        record = _decode_cache[digest] = codec.decode(VulnerabilityRecord, payload)
    return record


_SOURCE_ORDER = {"nvd": 0, "cve": 1, "euvd": 2, "osv": 3}


def _apply_summary(
    vuln: Vulnerability,
    by_source: list[tuple[str, VulnerabilityRecord]],
    kev_entries: dict[str, KevEntry],
    epss_scores: dict[str, EpssScore],
) -> None:
    by_source = sorted(by_source, key=lambda pair: _SOURCE_ORDER.get(pair[0], 9))
    aliases: set[str] = {vuln.id}
    cwes: set[str] = set()
    references: list[str] = []
    for _source, record in by_source:
        aliases |= _cluster_ids(record)
        cwes |= set(record.cwes)
        references.extend(r for r in record.references if r not in references)
    vuln.aliases = sorted(aliases - {vuln.id})
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
    cves = sorted(a for a in aliases if _is_cve(a))
    kev = next((kev_entries[c] for c in cves if c in kev_entries), None)
    vuln.kev = kev is not None
    vuln.kev_added = kev.date_added if kev else None
    vuln.kev_due = kev.due_date if kev else None
    vuln.kev_ransomware = bool(kev and kev.known_ransomware)
    vuln.exploited = vuln.kev or any(r.exploited for _s, r in by_source)
    epss = next((epss_scores[c] for c in cves if c in epss_scores), None)
    vuln.epss_score = epss.score if epss else None
    vuln.epss_percentile = epss.percentile if epss else None


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
        summarise_many(session, ids)
        changed |= ids
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


def record_feed_failure(session: Session, source: str, problem: str) -> None:
    """Note a failed sync (in its own transaction: the failed import itself was rolled back)."""
    state = session.get(FeedState, source) or FeedState(source=source, records=0)
    state.last_sync_at = dt.datetime.now(dt.UTC)
    state.last_status = f"failed: {problem}"[:2000]
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
