"""CISA's Known Exploited Vulnerabilities catalogue into `KevEntry`s.

A CVE in KEV is being exploited in the wild: for a manufacturer under the CRA that is the
trigger for an Article 14 early warning if the CVE affects a product. Read the catalogue file
that `fetch.download_kev` saves::

    from fleetcare.intel.feeds import kev

    catalog = kev.read_catalog(Path("known_exploited_vulnerabilities.json"))
    catalog.version, catalog.released, len(catalog.entries)

Every entry is checked against CISA's schema: the required fields (cveID, vendorProject,
product, vulnerabilityName, dateAdded, shortDescription, requiredAction, dueDate) must be
strings, the CVE id must look like one and the dates must be dates. One bad entry makes the
whole catalogue a `FeedError`: the catalogue is replaced as a whole, never in part.
`knownRansomwareCampaignUse` is "Known" or "Unknown"; only "Known" sets `known_ransomware`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from fleetcare.intel.feeds._reading import (
    JsonObject,
    Place,
    RecordProblem,
    as_object,
    cwe_id,
    date,
    fail,
    objects,
    read_json_file,
    required_text,
    strings,
    text,
    timestamp,
)
from fleetcare.intel.feeds.errors import FeedError
from fleetcare.intel.records import KevEntry

__all__ = ["KevCatalog", "parse_catalog", "read_catalog"]

_CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
_RANSOMWARE = {"Known": True, "Unknown": False}


@dataclass(frozen=True)
class KevCatalog:
    """One release of the catalogue."""

    version: str
    released: dt.datetime | None
    entries: tuple[KevEntry, ...]


def parse_catalog(document: object, *, source: str = "<memory>") -> KevCatalog:
    """The decoded catalogue JSON; `source` names it in errors."""
    try:
        catalog = as_object(document, "the catalogue")
        version = required_text(catalog, "catalogVersion", "")
        released = text(catalog, "dateReleased", "")
        if "vulnerabilities" not in catalog:
            fail("the catalogue has no 'vulnerabilities'")
        items = objects(catalog, "vulnerabilities", "")
        released_at = timestamp(released, "dateReleased") if released else None
    except RecordProblem as problem:
        raise FeedError(str(problem), source=source) from None
    entries = []
    for index, item in enumerate(items):
        place = Place(source, f"vulnerabilities[{index}]", None)
        try:
            entries.append(_entry(item, place))
        except RecordProblem as problem:
            raise place.error(str(problem)) from None
    count = catalog.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count != len(entries):
        raise FeedError(
            f"the catalogue says it has {count} entries but holds {len(entries)}: "
            "it is probably cut short",
            source=source,
        )
    return KevCatalog(version, released_at, tuple(entries))


def read_catalog(path: Path) -> KevCatalog:
    """The catalogue in the JSON file at `path`."""
    return parse_catalog(read_json_file(path), source=str(path))


def _entry(item: JsonObject, place: Place) -> KevEntry:
    cve_id = required_text(item, "cveID", "")
    if not _CVE_ID.fullmatch(cve_id):
        fail(f"cveID {cve_id[:40]!r} is not a CVE id")
    place.record = cve_id
    ransomware_text = text(item, "knownRansomwareCampaignUse", "") or "Unknown"
    ransomware = _RANSOMWARE.get(ransomware_text)
    if ransomware is None:
        fail(f"knownRansomwareCampaignUse must be Known or Unknown, not {ransomware_text[:20]!r}")
    return KevEntry(
        cve_id=cve_id,
        vendor=required_text(item, "vendorProject", ""),
        product=required_text(item, "product", ""),
        name=required_text(item, "vulnerabilityName", ""),
        date_added=date(required_text(item, "dateAdded", ""), "dateAdded"),
        due_date=date(required_text(item, "dueDate", ""), "dueDate"),
        required_action=required_text(item, "requiredAction", ""),
        known_ransomware=ransomware,
        notes=text(item, "notes", "") or "",
        short_description=required_text(item, "shortDescription", ""),
        cwes=tuple(cwe for cwe in strings(item, "cwes", "") if cwe_id(cwe)),
    )
