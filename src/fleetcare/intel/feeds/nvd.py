"""NVD CVE API 2.0 JSON into `VulnerabilityRecord`s, and the arithmetic of incremental sync.

Three shapes are read, alone or as a directory of such files:

- a CVE object as the API nests it (`{"id": "CVE-...", "descriptions": ...}`),
- the same wrapped as `{"cve": {...}}` (one item of `vulnerabilities[]`),
- an API response page (`resultsPerPage`, `startIndex`, `totalResults`, `vulnerabilities[]`).

Usage::

    from fleetcare.intel.feeds import nvd

    for record in nvd.iter_records(Path("nvd-pages/")):   # lazily, file by file
        store(record)                                     # in one transaction
    since = nvd.latest_modified(records)                  # where the next sync starts

    for start, end in nvd.modified_windows(since, now):   # each at most 120 days
        params = nvd.api_params(start, end, start_index=0)

`fetch.download_nvd` does that paging against the API. As everywhere in `feeds`, an iterator
raises `FeedError` at the first broken record and `load_records` gives all records or none.

How a CVE maps:

- `descriptions`: the English one becomes `details`. `published` and `lastModified` (required)
  become `published` and `modified`; NVD writes them without an offset, in UTC.
- `metrics`: cvssMetricV40, V31, V30 and V2 in that order, each as a `Severity` with the stated
  base score, the scoring `source`, `primary` for NVD's "Primary" type and the base severity
  as `rating`. A vector that does not parse drops that score with a warning.
- `weaknesses`: CWE ids without repeats; NVD-CWE-Other and NVD-CWE-noinfo are not CWE ids.
- `configurations` -> `CpeConfiguration` / `CpeNode` / `CpeMatch` with every version bound.
- `references[].url`; `cisaExploitAdd` (in CISA's KEV) sets `exploited` and is kept with the
  other cisa* fields in `extra`. A "Rejected" CVE gets `withdrawn` = its last modification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fleetcare.intel.feeds._configurations import configuration
from fleetcare.intel.feeds._cvss import severity
from fleetcare.intel.feeds._reading import (
    JsonObject,
    Place,
    RecordProblem,
    as_object,
    at,
    cwe_id,
    date,
    fail,
    json_files,
    number,
    objects,
    optional_timestamp,
    read_json_file,
    required_text,
    text,
    timestamp,
    unique,
)
from fleetcare.intel.feeds.errors import FeedError, FeedWarning
from fleetcare.intel.records import Severity, VulnerabilityRecord

__all__ = [
    "API_URL",
    "MAX_RESULTS_PER_PAGE",
    "MAX_WINDOW",
    "PageInfo",
    "api_params",
    "iter_document",
    "iter_records",
    "latest_modified",
    "load_records",
    "modified_windows",
    "page_info",
    "parse_record",
]

API_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
#: The API refuses lastModStartDate..lastModEndDate ranges longer than this.
MAX_WINDOW = dt.timedelta(days=120)
MAX_RESULTS_PER_PAGE = 2000

_METRICS = (
    ("cvssMetricV40", "CVSS_V4"),
    ("cvssMetricV31", "CVSS_V3"),
    ("cvssMetricV30", "CVSS_V3"),
    ("cvssMetricV2", "CVSS_V2"),
)
_CISA_FIELDS = (
    ("cisaExploitAdd", "cisa_exploit_add"),
    ("cisaActionDue", "cisa_action_due"),
)
_CISA_TEXT = (
    ("cisaVulnerabilityName", "cisa_vulnerability_name"),
    ("cisaRequiredAction", "cisa_required_action"),
)


@dataclass(frozen=True)
class PageInfo:
    """The paging fields of an API response."""

    start_index: int
    results_per_page: int
    total_results: int
    timestamp: dt.datetime | None
    #: How many CVEs this page holds (the last page holds fewer than results_per_page).
    count: int


def parse_record(
    document: object, *, source: str = "<memory>", warnings: list[FeedWarning] | None = None
) -> VulnerabilityRecord:
    """One CVE, bare or wrapped as `{"cve": {...}}`; `source` names it in errors."""
    place = Place(source, None, warnings)
    try:
        return _record(_unwrap(document, ""), place)
    except RecordProblem as problem:
        raise place.error(str(problem)) from None


def iter_document(
    document: object, *, source: str = "<memory>", warnings: list[FeedWarning] | None = None
) -> Iterator[VulnerabilityRecord]:
    """The records of one decoded document: an API response page, or a single CVE."""
    if isinstance(document, dict) and "vulnerabilities" in document:
        page_info(document, source=source)
        items = document["vulnerabilities"]
        if not isinstance(items, list):
            raise FeedError("vulnerabilities must be a list", source=source)
        for index, item in enumerate(items):
            place = Place(source, f"vulnerabilities[{index}]", warnings)
            try:
                yield _record(_unwrap(item, f"vulnerabilities[{index}]"), place)
            except RecordProblem as problem:
                raise place.error(str(problem)) from None
    else:
        yield parse_record(document, source=source, warnings=warnings)


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


def page_info(document: object, *, source: str = "<memory>") -> PageInfo:
    """The paging fields of an API response page, checked."""
    try:
        page = as_object(document, "the response")
        counts = []
        for key in ("startIndex", "resultsPerPage", "totalResults"):
            value = page.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                fail(f"{key} must be a whole number >= 0, not {value!r:.40}")
            counts.append(value)
        items = page.get("vulnerabilities")
        if not isinstance(items, list):
            fail("vulnerabilities must be a list")
        stamp = optional_timestamp(page, "timestamp", "")
        return PageInfo(counts[0], counts[1], counts[2], stamp, len(items))
    except RecordProblem as problem:
        raise FeedError(str(problem), source=source) from None


def latest_modified(records: Iterable[VulnerabilityRecord]) -> dt.datetime | None:
    """The newest `modified` among `records`: the next incremental sync starts there."""
    return max((r.modified for r in records if r.modified is not None), default=None)


def modified_windows(
    since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """[since, until] cut into consecutive windows the API accepts (at most `MAX_WINDOW`)."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("give since and until with a time zone")
    windows = []
    start = since
    while start < until:
        end = min(start + MAX_WINDOW, until)
        windows.append((start, end))
        start = end
    return windows


def api_params(
    start: dt.datetime,
    end: dt.datetime,
    *,
    start_index: int = 0,
    results_per_page: int = MAX_RESULTS_PER_PAGE,
) -> dict[str, str]:
    """Query parameters for the CVEs modified in [start, end], one page of them."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("give start and end with a time zone")
    if end - start > MAX_WINDOW:
        raise ValueError(f"the NVD API accepts at most {MAX_WINDOW.days} days per request")
    if not 1 <= results_per_page <= MAX_RESULTS_PER_PAGE:
        raise ValueError(f"results_per_page must be 1-{MAX_RESULTS_PER_PAGE}")
    return {
        "lastModStartDate": _api_time(start),
        "lastModEndDate": _api_time(end),
        "startIndex": str(start_index),
        "resultsPerPage": str(results_per_page),
    }


def _api_time(moment: dt.datetime) -> str:
    # The API wants milliseconds and an explicit offset, e.g. 2024-01-31T13:15:10.000+00:00.
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _unwrap(document: object, where: str) -> JsonObject:
    doc = as_object(document, where)
    if "cve" in doc:
        return as_object(doc["cve"], at(where, "cve"))
    if "id" in doc:
        return doc
    fail(
        f"{where or 'the document'} is neither an NVD API response, a {{'cve': ...}} object "
        "nor a CVE object with an id"
    )


def _record(cve: JsonObject, place: Place) -> VulnerabilityRecord:
    ident = required_text(cve, "id", "")
    place.record = ident
    modified = timestamp(required_text(cve, "lastModified", ""), "lastModified")
    extra: dict[str, str] = {}
    for key, name in (("sourceIdentifier", "source_identifier"), ("vulnStatus", "vuln_status")):
        value = text(cve, key, "")
        if value:
            extra[name] = value
    for key, name in _CISA_FIELDS:
        value = text(cve, key, "")
        if value:
            extra[name] = date(value, key).isoformat()
    for key, name in _CISA_TEXT:
        value = text(cve, key, "")
        if value:
            extra[name] = value
    return VulnerabilityRecord(
        id=ident,
        source="nvd",
        details=_english(cve),
        published=optional_timestamp(cve, "published", ""),
        modified=modified,
        withdrawn=modified if extra.get("vuln_status") == "Rejected" else None,
        severities=_severities(cve, place),
        cwes=_cwes(cve),
        configurations=tuple(
            configuration(raw, f"configurations[{index}]")
            for index, raw in enumerate(objects(cve, "configurations", ""))
        ),
        references=unique(
            [
                required_text(ref, "url", f"references[{index}]")
                for index, ref in enumerate(objects(cve, "references", ""))
            ]
        ),
        exploited="cisa_exploit_add" in extra,
        extra=extra,
    )


def _english(cve: JsonObject) -> str:
    for index, description in enumerate(objects(cve, "descriptions", "")):
        if text(description, "lang", f"descriptions[{index}]") == "en":
            return text(description, "value", f"descriptions[{index}]") or ""
    return ""


def _severities(cve: JsonObject, place: Place) -> tuple[Severity, ...]:
    metrics = cve.get("metrics")
    if metrics is None:
        return ()
    metrics = as_object(metrics, "metrics")
    found = []
    for key, kind in _METRICS:
        for index, metric in enumerate(objects(metrics, key, "metrics")):
            where = f"metrics.{key}[{index}]"
            data = as_object(metric.get("cvssData"), f"{where}.cvssData")
            vector = required_text(data, "vectorString", f"{where}.cvssData")
            # CVSS v2 puts baseSeverity beside cvssData, v3 and v4 inside it.
            rating = text(data, "baseSeverity", f"{where}.cvssData") or text(
                metric, "baseSeverity", where
            )
            scored = severity(
                place,
                kind,
                vector,
                given=number(data, "baseScore", f"{where}.cvssData"),
                source=text(metric, "source", where) or "",
                primary=text(metric, "type", where) == "Primary",
                rating=rating or "",
            )
            if scored is not None:
                found.append(scored)
    return tuple(found)


def _cwes(cve: JsonObject) -> tuple[str, ...]:
    found = []
    for index, weakness in enumerate(objects(cve, "weaknesses", "")):
        where = f"weaknesses[{index}]"
        for n, description in enumerate(objects(weakness, "description", where)):
            value = text(description, "value", f"{where}.description[{n}]")
            if value and cwe_id(value):
                found.append(value)
    return unique(found)
