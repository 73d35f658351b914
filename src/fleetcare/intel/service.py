"""Feed synchronisation: read a source's files (or download them), import, report what changed.

    result = sync(session, "osv", Path("feeds/osv"))          # offline, from files
    result = sync(session, "kev")                              # online, official URL
    result = sync_directory(session, Path("feeds"))            # osv/ nvd/ kev/ epss/ euvd/ cve/

The caller commits once at the end, so a feed that breaks half way (`FeedError`) leaves the
store as it was. Changed vulnerabilities are handed to the hooks registered with `on_changed`
(matching re-matches exactly those), in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from fleetcare.core import audit
from fleetcare.core.errors import InvalidInput
from fleetcare.intel import store
from fleetcare.intel.feeds import FeedWarning, cve5, epss, euvd, fetch, kev, nvd, osv
from fleetcare.intel.models import FeedState
from fleetcare.intel.records import VulnerabilityRecord

log = logging.getLogger("fleetcare.intel")

SOURCES = ("osv", "nvd", "cve", "euvd", "kev", "epss")
#: OSV ecosystems fetched online unless configured otherwise: what firmware is made of.
DEFAULT_OSV_ECOSYSTEMS = (
    "OSS-Fuzz",
    "Debian",
    "Alpine",
    "OpenWrt",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
)

Progress = Callable[[int], None]
ChangedHook = Callable[[Session, set[str]], None]
T = TypeVar("T")

_changed_hooks: list[ChangedHook] = []
_keys_for: list[store.KeysFor] = []


def on_changed(hook: ChangedHook) -> None:
    if hook not in _changed_hooks:
        _changed_hooks.append(hook)


def use_keys(keys_for: store.KeysFor) -> None:
    """Set how records are indexed for matching (matching provides it at start-up)."""
    _keys_for[:] = [keys_for]


def _keys(record: VulnerabilityRecord) -> set[str]:
    if not _keys_for:
        raise RuntimeError(
            "intel.service.use_keys() was not called; call fleetcare.wiring.connect()"
        )
    return _keys_for[0](record)


@dataclass
class SyncResult:
    source: str
    records: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    changed: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.source}: {self.records} records, {self.added} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.changed)} vulnerabilities changed"
        )


def _counted(items: Iterable[T], progress: Progress | None) -> Iterator[T]:
    for n, item in enumerate(items, 1):
        if progress is not None and n % 100 == 0:
            progress(100)
        yield item


def sync(
    session: Session,
    source: str,
    path: Path | None = None,
    *,
    progress: Progress | None = None,
    osv_ecosystems: Iterable[str] = DEFAULT_OSV_ECOSYSTEMS,
    nvd_api_key: str | None = None,
    actor: str = "system:feeds",
) -> SyncResult:
    """Import one source from `path` (file or directory), or download it when `path` is None."""
    if source not in SOURCES:
        raise InvalidInput(f"unknown feed source {source!r}; choose one of: {', '.join(SOURCES)}")
    if path is not None and not path.exists():
        raise InvalidInput(f"{path} does not exist")
    if path is None:
        with tempfile.TemporaryDirectory(prefix=f"fleetcare-{source}-") as tmp:
            files = _download(session, source, Path(tmp), osv_ecosystems, nvd_api_key)
            return _import_paths(session, source, files, progress, actor)
    return _import_paths(session, source, [path], progress, actor)


def sync_directory(
    session: Session,
    root: Path,
    *,
    progress: Progress | None = None,
    actor: str = "system:feeds",
) -> list[SyncResult]:
    """Import every source found as a sub-directory (or file) of `root` named after it.

    Order matters: records first, then KEV and EPSS, which annotate the stored vulnerabilities.
    """
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a directory")
    results = []
    for source in ("osv", "nvd", "cve", "euvd", "kev", "epss"):
        candidates = [p for p in root.iterdir() if source in (p.name, p.stem)]
        for path in sorted(candidates):
            results.append(_import_paths(session, source, [path], progress, actor))
    if not results:
        raise InvalidInput(f"{root} has none of the sub-directories {', '.join(SOURCES)}")
    return results


def _download(
    session: Session, source: str, dest: Path, ecosystems: Iterable[str], api_key: str | None
) -> list[Path]:
    if source == "osv":
        return [fetch.download_osv(ecosystem, dest) for ecosystem in ecosystems]
    if source == "kev":
        return [fetch.download_kev(dest)]
    if source == "epss":
        return [fetch.download_epss(dest)]
    state = session.get(FeedState, source)
    since = (
        dt.datetime.fromisoformat(state.cursor)
        if state is not None and state.cursor
        else dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    )
    if source == "nvd":
        return fetch.download_nvd(dest, since=since, api_key=api_key)
    if source == "euvd":
        return fetch.download_euvd(dest, since=since.date())
    raise InvalidInput(f"feed source {source!r} cannot be downloaded; pass --from PATH")


def _records(source: str, path: Path, warnings: list[FeedWarning]) -> Iterator[VulnerabilityRecord]:
    readers: dict[str, Callable[..., Iterator[VulnerabilityRecord]]] = {
        "osv": osv.iter_records,
        "nvd": nvd.iter_records,
        "cve": cve5.iter_records,
        "euvd": euvd.iter_records,
    }
    return readers[source](path, warnings=warnings)


def _newest(
    records: Iterator[VulnerabilityRecord], latest: list[dt.datetime]
) -> Iterator[VulnerabilityRecord]:
    """Pass records through, keeping the newest `modified` in `latest` (the sync cursor)."""
    for record in records:
        if record.modified is not None and (not latest or record.modified > latest[0]):
            latest[:] = [record.modified]
        yield record


def _expand(source: str, paths: list[Path]) -> list[Path]:
    """KEV and EPSS come as single files; accept a directory holding them too."""
    if source not in ("kev", "epss"):
        return paths
    patterns = ("*.json",) if source == "kev" else ("*.csv", "*.csv.gz", "*.gz")
    expanded: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted({f for pattern in patterns for f in path.glob(pattern)})
            if not found:
                raise InvalidInput(f"{path} holds no {source.upper()} file ({', '.join(patterns)})")
            expanded.extend(found)
        else:
            expanded.append(path)
    return expanded


def _import_paths(
    session: Session, source: str, paths: list[Path], progress: Progress | None, actor: str
) -> SyncResult:
    result = SyncResult(source)
    paths = _expand(source, paths)
    warnings: list[FeedWarning] = []
    cursor = ""
    for path in paths:
        if source == "kev":
            catalog = kev.read_catalog(path)
            result.records += len(catalog.entries)
            result.changed |= store.import_kev(session, catalog.entries)
            result.updated += len(result.changed)
        elif source == "epss":
            result.records += store.import_epss(session, _counted(epss.iter_scores(path), progress))
        else:
            latest: list[dt.datetime] = []
            imported = store.import_records(
                session,
                _counted(_newest(_records(source, path, warnings), latest), progress),
                keys_for=_keys,
            )
            result.records += imported.total
            result.added += imported.added
            result.updated += imported.updated
            result.unchanged += imported.unchanged
            result.changed |= imported.changed
            if latest:
                cursor = max(cursor, latest[0].isoformat()) if cursor else latest[0].isoformat()
    result.warnings = [str(w) for w in warnings]
    for hook in _changed_hooks:
        hook(session, result.changed)
    audit.record(
        session,
        actor=actor,
        action="feed.sync",
        object_type="feed",
        object_id=source,
        after={
            "records": result.records,
            "added": result.added,
            "updated": result.updated,
            "changed": len(result.changed),
        },
    )
    store.record_feed_state(
        session,
        source,
        records=result.records,
        cursor=cursor,
        status=f"ok, {len(warnings)} warnings" if warnings else "ok",
    )
    log.info(
        "feed synced",
        extra={"source": source, "records": result.records, "changed": len(result.changed)},
    )
    return result
