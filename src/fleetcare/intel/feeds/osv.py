"""OSV records (schema 1.x) into `VulnerabilityRecord`s: one file, a directory, or an all.zip.

OSV is the format of osv.dev and of the databases it gathers (GitHub advisories, PyPA, Go,
RustSec, OSS-Fuzz, Debian, Alpine, Ubuntu, ...). osv.dev publishes one `all.zip` per ecosystem;
`fetch.download_osv` downloads it and this module reads it without extracting it::

    from fleetcare.intel.feeds import osv

    warnings: list[FeedWarning] = []
    for record in osv.iter_records(Path("PyPI-all.zip"), warnings=warnings):
        store(record)             # inside one transaction: on FeedError, roll back
    records = osv.load_records(Path("advisories/"))   # a list of all of them, or FeedError

`iter_records` reads lazily (one archive member or file at a time) and raises `FeedError` at the
first broken record, after the ones before it have been yielded: consume it inside one
transaction so that a broken feed changes nothing. `load_records` returns a complete list or
raises.

How a record maps:

- `id`, `aliases`, `related`, `upstream`, `summary`, `details`, `published`, `modified` and
  `withdrawn` are kept as they are; `modified` is required (as in the schema). Go's zero time
  (`0001-01-01T00:00:00Z`, "not set") reads as None.
- `severity[]`: CVSS_V2/V3/V4 vectors are scored with the `cvss` package. A vector that does
  not parse is dropped with a warning; the record is kept. Other kinds (`Ubuntu`) keep their
  word in `Severity.rating`. `affected[].severity` goes to `AffectedPackage.severities`.
- `affected[]`: package ecosystem, name and purl; every range (SEMVER, ECOSYSTEM, GIT with its
  repo) with its events in order; `versions`. An entry without a package (allowed for GIT
  ranges) has ecosystem and name "".
- CWE ids come from `database_specific.cwe_ids` (GitHub's convention); GitHub's qualitative
  `database_specific.severity` is kept in `extra["database_severity"]`.
- `references[].url` without repeats.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from fleetcare.intel.feeds._archive import ZipLimits, json_members
from fleetcare.intel.feeds._cvss import KINDS, severity
from fleetcare.intel.feeds._reading import (
    JsonObject,
    Place,
    RecordProblem,
    as_object,
    at,
    cwe_id,
    fail,
    json_files,
    load_json,
    objects,
    optional_timestamp,
    read_json_file,
    required_text,
    strings,
    text,
    timestamp,
    unique,
)
from fleetcare.intel.feeds.errors import FeedWarning
from fleetcare.intel.records import (
    AffectedPackage,
    AffectedRange,
    EventKind,
    RangeEvent,
    RangeType,
    Severity,
    VulnerabilityRecord,
)

__all__ = [
    "ZipLimits",
    "iter_directory",
    "iter_records",
    "iter_zip",
    "load_records",
    "parse_record",
    "read_record",
]

_RANGE_TYPES: dict[str, RangeType] = {"SEMVER": "SEMVER", "ECOSYSTEM": "ECOSYSTEM", "GIT": "GIT"}
_EVENT_KINDS: dict[str, EventKind] = {
    "introduced": "introduced",
    "fixed": "fixed",
    "last_affected": "last_affected",
    "limit": "limit",
}


def parse_record(
    document: object, *, source: str = "<memory>", warnings: list[FeedWarning] | None = None
) -> VulnerabilityRecord:
    """One decoded OSV document as a record; `source` names it in errors and warnings."""
    place = Place(source, None, warnings)
    try:
        return _record(document, place)
    except RecordProblem as problem:
        raise place.error(str(problem)) from None


def read_record(path: Path, *, warnings: list[FeedWarning] | None = None) -> VulnerabilityRecord:
    """The OSV record in the JSON file at `path`."""
    return parse_record(read_json_file(path), source=str(path), warnings=warnings)


def iter_directory(
    path: Path, *, warnings: list[FeedWarning] | None = None
) -> Iterator[VulnerabilityRecord]:
    """Every OSV record in the `*.json` files under the directory `path`, one file at a time."""
    for file in json_files(path):
        yield read_record(file, warnings=warnings)


def iter_zip(
    path: Path, *, limits: ZipLimits | None = None, warnings: list[FeedWarning] | None = None
) -> Iterator[VulnerabilityRecord]:
    """Every OSV record in the zip archive at `path` (osv.dev's all.zip), one member at a time.

    The archive is checked against `limits` before the first record is yielded.
    """
    source = str(path)
    for name, content in json_members(path, limits or ZipLimits()):
        place = Place(source, name, warnings)
        document = load_json(content, source, record=name)
        try:
            yield _record(document, place)
        except RecordProblem as problem:
            raise place.error(str(problem)) from None


def iter_records(
    path: Path, *, warnings: list[FeedWarning] | None = None
) -> Iterator[VulnerabilityRecord]:
    """The records at `path`: a directory, a zip archive, or a single JSON record."""
    if path.is_dir():
        yield from iter_directory(path, warnings=warnings)
    elif zipfile.is_zipfile(path):
        yield from iter_zip(path, warnings=warnings)
    else:
        yield read_record(path, warnings=warnings)


def load_records(
    path: Path, *, warnings: list[FeedWarning] | None = None
) -> list[VulnerabilityRecord]:
    """All records at `path` (see `iter_records`), or `FeedError` and none of them."""
    return list(iter_records(path, warnings=warnings))


def _record(document: object, place: Place) -> VulnerabilityRecord:
    doc = as_object(document, "")
    ident = required_text(doc, "id", "")
    place.record = ident
    modified_text = required_text(doc, "modified", "")
    extra: dict[str, str] = {}
    schema_version = text(doc, "schema_version", "")
    if schema_version:
        extra["schema_version"] = schema_version
    cwes: list[str] = []
    database = doc.get("database_specific")
    if isinstance(database, dict):
        cwes = _database_cwes(database, place)
        database_severity = database.get("severity")
        if isinstance(database_severity, str) and database_severity:
            extra["database_severity"] = database_severity
    return VulnerabilityRecord(
        id=ident,
        source="osv",
        aliases=strings(doc, "aliases", ""),
        summary=text(doc, "summary", "") or "",
        details=text(doc, "details", "") or "",
        published=optional_timestamp(doc, "published", ""),
        modified=timestamp(modified_text, "modified"),
        withdrawn=optional_timestamp(doc, "withdrawn", ""),
        severities=_severities(doc, "", place),
        cwes=tuple(cwes),
        affected=_affected(doc, place),
        references=_references(doc),
        extra=extra,
        related=strings(doc, "related", ""),
        upstream=strings(doc, "upstream", ""),
    )


def _severities(container: JsonObject, where: str, place: Place) -> tuple[Severity, ...]:
    found: list[Severity] = []
    for index, entry in enumerate(objects(container, "severity", where)):
        here = f"{at(where, 'severity')}[{index}]"
        kind = required_text(entry, "type", here)
        score = required_text(entry, "score", here)
        if kind in KINDS:
            scored = severity(place, kind, score)
            if scored is not None:
                found.append(scored)
        else:
            found.append(Severity(kind, None, None, rating=score))
    return tuple(found)


def _database_cwes(database: JsonObject, place: Place) -> list[str]:
    # database_specific is free-form in the schema, so an odd value is dropped, not an error.
    raw = database.get("cwe_ids")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        place.warn("ignored database_specific.cwe_ids: not a list of strings")
        return []
    cwes = []
    for item in raw:
        if cwe_id(item):
            cwes.append(item)
        else:
            place.warn(f"ignored {item[:40]!r} in database_specific.cwe_ids: not a CWE id")
    return list(unique(cwes))


def _affected(doc: JsonObject, place: Place) -> tuple[AffectedPackage, ...]:
    packages = []
    for index, entry in enumerate(objects(doc, "affected", "")):
        where = f"affected[{index}]"
        raw_ranges = objects(entry, "ranges", where)
        ranges = tuple(_range(raw, f"{where}.ranges[{n}]") for n, raw in enumerate(raw_ranges))
        raw_package = entry.get("package")
        if raw_package is None:
            if not any(r.type == "GIT" for r in ranges):
                place.warn(f"ignored {where}: it names no package and has no GIT range")
                continue
            ecosystem, name, purl = "", "", None
        else:
            package = as_object(raw_package, f"{where}.package")
            ecosystem = required_text(package, "ecosystem", f"{where}.package")
            name = required_text(package, "name", f"{where}.package")
            purl = text(package, "purl", f"{where}.package") or None
        packages.append(
            AffectedPackage(
                ecosystem=ecosystem,
                name=name,
                purl=purl,
                ranges=ranges,
                versions=strings(entry, "versions", where),
                severities=_severities(entry, where, place),
            )
        )
    return tuple(packages)


def _range(raw: JsonObject, where: str) -> AffectedRange:
    type_text = required_text(raw, "type", where)
    range_type = _RANGE_TYPES.get(type_text)
    if range_type is None:
        fail(f"{where}.type must be SEMVER, ECOSYSTEM or GIT, not {type_text[:40]!r}")
    repo = text(raw, "repo", where) or None
    if range_type == "GIT" and repo is None:
        fail(f"{where} is a GIT range without a repo")
    raw_events = objects(raw, "events", where)
    if not raw_events:
        fail(f"{where} has no events")
    events = []
    for index, event in enumerate(raw_events):
        found = [(_EVENT_KINDS[key], value) for key, value in event.items() if key in _EVENT_KINDS]
        if len(found) != 1:
            fail(
                f"{where}.events[{index}] must have exactly one of introduced, fixed, "
                "last_affected, limit"
            )
        kind, value = found[0]
        if not isinstance(value, str):
            fail(f"{where}.events[{index}].{kind} must be a string")
        events.append(RangeEvent(kind, value))
    if not any(event.kind == "introduced" for event in events):
        fail(f"{where} has no introduced event")
    return AffectedRange(range_type, tuple(events), repo)


def _references(doc: JsonObject) -> tuple[str, ...]:
    urls = []
    for index, reference in enumerate(objects(doc, "references", "")):
        url = reference.get("url")
        if isinstance(url, str) and url and not url.isspace():
            urls.append(url)
        else:
            urls.append(required_text(reference, "url", f"references[{index}]"))  # raises
    return unique(urls)
