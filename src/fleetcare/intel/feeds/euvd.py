"""ENISA's EU Vulnerability Database (EUVD) records into `VulnerabilityRecord`s.

The EUVD (run by ENISA under NIS2 Article 12) is the EU's own vulnerability database: it gives
each vulnerability an EUVD id, aliases it to CVE and GHSA ids, and flags exploited ones. Its
JSON API (https://euvdservices.enisa.europa.eu/api/) answers in three shapes, all read here:

- `/api/search?...` pages: `{"items": [record, ...], "total": N}`,
- `/api/lastvulnerabilities` and friends: a bare list of records,
- `/api/enisaid?id=EUVD-...`: one record, with `enisaIdVulnerability` and `enisaIdAdvisory`.

Usage::

    from fleetcare.intel.feeds import euvd

    for record in euvd.iter_records(Path("euvd-pages/")):   # the files fetch.download_euvd saved
        store(record)                                        # in one transaction

How a record maps (`source="euvd"`):

- `id` (EUVD-YYYY-N); `aliases` and `references` are newline-separated strings in the API and
  become tuples; the CVE ids of `enisaIdVulnerability` are aliases too, and the ids of
  `enisaIdAdvisory` (national CSIRT advisories) are `related`.
- `description` -> `details`; `datePublished` / `dateUpdated` ("Apr 16, 2025, 7:00:16 AM",
  UTC) -> `published` / `modified`.
- `baseScore` with `baseScoreVersion` and `baseScoreVector` -> one `Severity` from ENISA
  (a bad vector drops it with a warning; a score of 0 without a vector means "not scored").
- `exploitedSince` present -> `exploited`, its date kept in `extra["exploited_since"]`.
- `assigner`, `epss` (as ENISA gives it, in percent) and the vendor and product names (for
  people; they are not CPEs or purls) are kept in `extra`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

from fleetcare.intel.feeds._cvss import kind_of_version, severity
from fleetcare.intel.feeds._reading import (
    JsonObject,
    Place,
    RecordProblem,
    as_object,
    fail,
    json_files,
    number,
    objects,
    read_json_file,
    required_text,
    text,
    timestamp,
    type_name,
    unique,
)
from fleetcare.intel.feeds.errors import FeedError, FeedWarning
from fleetcare.intel.records import Severity, VulnerabilityRecord

__all__ = ["SEARCH_URL", "iter_document", "iter_records", "load_records", "parse_record"]

SEARCH_URL = "https://euvdservices.enisa.europa.eu/api/search"
#: The API answers at most this many records per page.
MAX_PAGE_SIZE = 100

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
# Java's default US date format; newer JDKs put a narrow no-break space before AM/PM.
_EUVD_TIME = re.compile(
    r"([A-Z][a-z]{2}) ([0-9]{1,2}), ([0-9]{4}),? ([0-9]{1,2}):([0-9]{2}):([0-9]{2}) ?([AP]M)"
)
_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})


def parse_record(
    document: object, *, source: str = "<memory>", warnings: list[FeedWarning] | None = None
) -> VulnerabilityRecord:
    """One decoded EUVD record; `source` names it in errors and warnings."""
    place = Place(source, None, warnings)
    try:
        return _record(document, place)
    except RecordProblem as problem:
        raise place.error(str(problem)) from None


def iter_document(
    document: object, *, source: str = "<memory>", warnings: list[FeedWarning] | None = None
) -> Iterator[VulnerabilityRecord]:
    """The records of one decoded API answer: a search page, a list, or one record."""
    if isinstance(document, dict) and "items" in document:
        items = document["items"]
        total = document.get("total")
        if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
            raise FeedError(f"total must be a number, not {type_name(total)}", source=source)
    elif isinstance(document, list):
        items = document
    else:
        yield parse_record(document, source=source, warnings=warnings)
        return
    if not isinstance(items, list):
        raise FeedError(f"items must be a list, not {type_name(items)}", source=source)
    for index, item in enumerate(items):
        place = Place(source, f"items[{index}]", warnings)
        try:
            yield _record(item, place)
        except RecordProblem as problem:
            raise place.error(str(problem)) from None


def iter_records(
    path: Path, *, warnings: list[FeedWarning] | None = None
) -> Iterator[VulnerabilityRecord]:
    """The records in the file at `path`, or in every `*.json` file under the directory."""
    files = json_files(path) if path.is_dir() else [path]
    for file in files:
        yield from iter_document(read_json_file(file), source=str(file), warnings=warnings)


def load_records(
    path: Path, *, warnings: list[FeedWarning] | None = None
) -> list[VulnerabilityRecord]:
    """All records at `path` (see `iter_records`), or `FeedError` and none of them."""
    return list(iter_records(path, warnings=warnings))


def euvd_time(value: str, where: str) -> dt.datetime | None:
    """An EUVD timestamp ("Apr 16, 2025, 7:00:16 AM", UTC); ISO 8601 is accepted too."""
    match = _EUVD_TIME.fullmatch(value.translate(_SPACES).strip())
    if match is None:
        return timestamp(value, where)
    month_name, day, year, hour, minute, second, half = match.groups()
    month = _MONTHS.get(month_name)
    hour_of_day = int(hour) % 12 + (12 if half == "PM" else 0)
    try:
        if month is None or int(hour) > 12:
            raise ValueError
        return dt.datetime(
            int(year), month, int(day), hour_of_day, int(minute), int(second), tzinfo=dt.UTC
        )
    except ValueError:
        fail(f"{where} is not a valid date and time: {value[:60]!r}")


def _record(document: object, place: Place) -> VulnerabilityRecord:
    doc = as_object(document, "")
    ident = required_text(doc, "id", "")
    place.record = ident
    extra: dict[str, str] = {}
    assigner = text(doc, "assigner", "")
    if assigner:
        extra["assigner"] = assigner
    epss = number(doc, "epss", "")
    if epss is not None:
        extra["epss"] = f"{epss:g}"
    exploited_since = _time(doc, "exploitedSince")
    if exploited_since is not None:
        extra["exploited_since"] = exploited_since.isoformat()
    vendors = _names(doc, "enisaIdVendor", "vendor")
    if vendors:
        extra["vendors"] = "; ".join(vendors)
    products = _products(doc)
    if products:
        extra["products"] = "; ".join(products)
    aliases = list(_lines(doc, "aliases"))
    for index, link in enumerate(objects(doc, "enisaIdVulnerability", "")):
        vulnerability = link.get("vulnerability")
        if vulnerability is not None:
            where = f"enisaIdVulnerability[{index}].vulnerability"
            alias = text(as_object(vulnerability, where), "id", where)
            if alias:
                aliases.append(alias.strip())
    related = []
    for index, link in enumerate(objects(doc, "enisaIdAdvisory", "")):
        advisory = link.get("advisory")
        if advisory is not None:
            where = f"enisaIdAdvisory[{index}].advisory"
            advisory_id = text(as_object(advisory, where), "id", where)
            if advisory_id:
                related.append(advisory_id.strip())
    return VulnerabilityRecord(
        id=ident,
        source="euvd",
        aliases=tuple(alias for alias in unique(aliases) if alias != ident),
        details=text(doc, "description", "") or "",
        published=_time(doc, "datePublished"),
        modified=_time(doc, "dateUpdated"),
        severities=_severity(doc, place),
        references=_lines(doc, "references"),
        exploited=exploited_since is not None,
        extra=extra,
        related=unique(related),
    )


def _time(doc: JsonObject, key: str) -> dt.datetime | None:
    value = text(doc, key, "")
    if value is None or not value.strip():
        return None
    return euvd_time(value, key)


def _lines(doc: JsonObject, key: str) -> tuple[str, ...]:
    """A newline-separated list (the API's way), or a JSON list of strings."""
    value = doc.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return unique([line.strip() for line in value.splitlines() if line.strip()])
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return unique([item.strip() for item in value if item.strip()])
    fail(f"{key} must be a newline-separated string, not {type_name(value)}")


def _names(doc: JsonObject, key: str, inner: str) -> list[str]:
    names = []
    for index, link in enumerate(objects(doc, key, "")):
        named = link.get(inner)
        if named is None:
            continue
        where = f"{key}[{index}].{inner}"
        name = text(as_object(named, where), "name", where)
        if name:
            names.append(name)
    return list(unique(names))


def _products(doc: JsonObject) -> list[str]:
    products = []
    for index, link in enumerate(objects(doc, "enisaIdProduct", "")):
        named = link.get("product")
        if named is None:
            continue
        where = f"enisaIdProduct[{index}]"
        name = text(as_object(named, f"{where}.product"), "name", f"{where}.product") or ""
        version = text(link, "product_version", where) or ""
        label = f"{name} {version}".strip()
        if label:
            products.append(label)
    return list(unique(products))


def _severity(doc: JsonObject, place: Place) -> tuple[Severity, ...]:
    score = number(doc, "baseScore", "")
    vector = text(doc, "baseScoreVector", "")
    version = text(doc, "baseScoreVersion", "") or ""
    if not vector:
        return ()  # EUVD writes baseScore 0 (or -1) for "not scored"
    if vector.startswith("CVSS:"):
        kind = kind_of_version(vector.removeprefix("CVSS:"))
    else:
        kind = kind_of_version(version)
        if kind == "CVSS_V3":
            vector = f"CVSS:{version}/{vector}"  # some CNAs drop the prefix; the version says it
    if kind is None:
        place.warn(f"dropped the score {vector[:80]!r}: its CVSS version is unknown")
        return ()
    given = score if score is not None and score > 0 else None
    scored = severity(place, kind, vector, given=given, source="ENISA", primary=True)
    return () if scored is None else (scored,)
