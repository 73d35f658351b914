"""CVE JSON 5.x records (the CVE Program's own, as in cvelistV5) into `VulnerabilityRecord`s.

The CVE record is what the CNA published, before and whatever NVD adds to it; with NVD's backlog
it is often the only source of scores and affected versions for a fresh CVE. Records get
`source="cve"`. Read one file or a directory tree (cvelistV5's `cves/`)::

    from fleetcare.intel.feeds import cve5

    for record in cve5.iter_records(Path("cvelistV5/cves")):
        store(record)                       # in one transaction; FeedError means roll back

How a record maps (CNA container first, then ADP containers such as CISA's):

- `cveMetadata`: `cveId`, `datePublished`, `dateUpdated`; a REJECTED record is withdrawn at
  `dateRejected` (or `dateUpdated`) and keeps its rejection reason as `details`.
- `title` -> `summary`; the English description -> `details`.
- `metrics`: cvssV4_0, V3_1, V3_0 and V2_0 with their stated base scores (the CNA's are
  `primary`); an `other` metric with a plain `content.value` (Red Hat's rating) keeps that word as
  `rating`. CISA's SSVC decision "Exploitation: active", or its "kev" note, sets `exploited`.
- `problemTypes`: `cweId`, or a description starting with a CWE id.
- `cpeApplicability` -> `configurations`, as NVD's.
- `affected[]`, where it converts without guessing:
  - versions of type "git" with a `repo` -> a GIT range on a package-less `AffectedPackage`;
  - a package registry `collectionURL` (PyPI, npm, crates.io, Go, Maven, RubyGems, NuGet,
    Packagist, Hex, Pub) -> an `AffectedPackage` in that OSV ecosystem with ECOSYSTEM ranges;
  - `cpes` -> CPE matches carrying the affected version bounds.
  Free-text vendor/product pairs convert to nothing matchable; they are listed, for people, in
  `extra["products"]`. Entries that list unaffected versions under defaultStatus "affected"
  are not converted either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cpe import CPE

from fleetcare.intel.feeds._configurations import configuration
from fleetcare.intel.feeds._cvss import severity
from fleetcare.intel.feeds._reading import (
    JsonObject,
    Place,
    RecordProblem,
    as_object,
    cwe_id,
    fail,
    json_files,
    leading_cwe,
    number,
    objects,
    optional_timestamp,
    read_json_file,
    required_text,
    text,
    unique,
)
from fleetcare.intel.feeds.errors import FeedWarning
from fleetcare.intel.records import (
    AffectedPackage,
    AffectedRange,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    RangeEvent,
    Severity,
    VulnerabilityRecord,
)

__all__ = ["iter_records", "load_records", "parse_record"]

_METRICS = (
    ("cvssV4_0", "CVSS_V4"),
    ("cvssV3_1", "CVSS_V3"),
    ("cvssV3_0", "CVSS_V3"),
    ("cvssV2_0", "CVSS_V2"),
)

#: Hosts of package registries, as a CNA writes them in `collectionURL`, to OSV ecosystems.
_REGISTRIES = {
    "pypi.org": "PyPI",
    "pypi.python.org": "PyPI",
    "www.npmjs.com": "npm",
    "npmjs.com": "npm",
    "registry.npmjs.org": "npm",
    "crates.io": "crates.io",
    "pkg.go.dev": "Go",
    "proxy.golang.org": "Go",
    "repo.maven.apache.org": "Maven",
    "repo1.maven.org": "Maven",
    "central.sonatype.com": "Maven",
    "rubygems.org": "RubyGems",
    "www.nuget.org": "NuGet",
    "nuget.org": "NuGet",
    "api.nuget.org": "NuGet",
    "packagist.org": "Packagist",
    "hex.pm": "Hex",
    "pub.dev": "Pub",
}
#: Registry pages that carry the package name in their path (https://pypi.org/project/NAME/).
_NAME_IN_PATH = re.compile(r"^/(?:project|package|packages|crates|gems)/([^/]+)")
#: Values CNAs write for "no bound" / "all versions".
_UNBOUNDED = frozenset({"", "0", "*", "-", "n/a", "unspecified", "unknown"})
_CPE23_SPECIAL = re.compile(r"([^A-Za-z0-9._\-])")
_CPE23_SPLIT = re.compile(r"(?<!\\):")


def parse_record(
    document: object, *, source: str = "<memory>", warnings: list[FeedWarning] | None = None
) -> VulnerabilityRecord:
    """One decoded CVE JSON 5 record; `source` names it in errors and warnings."""
    place = Place(source, None, warnings)
    try:
        return _record(document, place)
    except RecordProblem as problem:
        raise place.error(str(problem)) from None


def iter_records(
    path: Path, *, warnings: list[FeedWarning] | None = None
) -> Iterator[VulnerabilityRecord]:
    """The record in the file at `path`, or in every `*.json` file under the directory."""
    files = json_files(path) if path.is_dir() else [path]
    for file in files:
        yield parse_record(read_json_file(file), source=str(file), warnings=warnings)


def load_records(
    path: Path, *, warnings: list[FeedWarning] | None = None
) -> list[VulnerabilityRecord]:
    """All records at `path` (see `iter_records`), or `FeedError` and none of them."""
    return list(iter_records(path, warnings=warnings))


@dataclass
class _Gathered:
    """What the containers of one record add up to."""

    severities: list[Severity]
    cwes: list[str]
    references: list[str]
    configurations: list[CpeConfiguration]
    exploited: bool = False


def _record(document: object, place: Place) -> VulnerabilityRecord:
    doc = as_object(document, "")
    version = text(doc, "dataVersion", "")
    if text(doc, "dataType", "") != "CVE_RECORD" or not version or not version.startswith("5."):
        fail("not a CVE JSON 5 record (dataType CVE_RECORD, dataVersion 5.x)")
    metadata = as_object(doc.get("cveMetadata"), "cveMetadata")
    ident = required_text(metadata, "cveId", "cveMetadata")
    place.record = ident
    state = required_text(metadata, "state", "cveMetadata")
    if state not in ("PUBLISHED", "REJECTED"):
        fail(f"cveMetadata.state must be PUBLISHED or REJECTED, not {state[:20]!r}")
    updated = optional_timestamp(metadata, "dateUpdated", "cveMetadata")
    containers = as_object(doc.get("containers"), "containers")
    cna = as_object(containers.get("cna"), "containers.cna")
    gathered = _Gathered([], [], [], [])
    _gather(cna, "containers.cna", place, gathered, primary=True)
    for index, adp in enumerate(objects(containers, "adp", "containers")):
        _gather(adp, f"containers.adp[{index}]", place, gathered, primary=False)
    withdrawn = None
    if state == "REJECTED":
        withdrawn = optional_timestamp(metadata, "dateRejected", "cveMetadata") or updated
        details = _english(cna, "rejectedReasons", "containers.cna")
    else:
        details = _english(cna, "descriptions", "containers.cna")
    affected, configurations, products = _affected(cna, place)
    extra = {}
    assigner = text(metadata, "assignerShortName", "cveMetadata")
    if assigner:
        extra["assigner"] = assigner
    if products:
        extra["products"] = "; ".join(products)
    return VulnerabilityRecord(
        id=ident,
        source="cve",
        summary=text(cna, "title", "containers.cna") or "",
        details=details,
        published=optional_timestamp(metadata, "datePublished", "cveMetadata"),
        modified=updated,
        withdrawn=withdrawn,
        severities=tuple(gathered.severities),
        cwes=unique(gathered.cwes),
        affected=affected,
        configurations=tuple(configurations + gathered.configurations),
        references=unique(gathered.references),
        exploited=gathered.exploited,
        extra=extra,
    )


def _english(container: JsonObject, key: str, where: str) -> str:
    for index, description in enumerate(objects(container, key, where)):
        lang = text(description, "lang", f"{where}.{key}[{index}]") or ""
        if lang.lower().startswith("en"):
            return text(description, "value", f"{where}.{key}[{index}]") or ""
    return ""


def _gather(
    container: JsonObject, where: str, place: Place, gathered: _Gathered, *, primary: bool
) -> None:
    provider = container.get("providerMetadata")
    short_name = ""
    if isinstance(provider, dict):
        short_name = text(provider, "shortName", f"{where}.providerMetadata") or ""
    for index, metric in enumerate(objects(container, "metrics", where)):
        _metric(metric, f"{where}.metrics[{index}]", place, gathered, short_name, primary)
    for index, problem in enumerate(objects(container, "problemTypes", where)):
        here = f"{where}.problemTypes[{index}]"
        for n, description in enumerate(objects(problem, "descriptions", here)):
            there = f"{here}.descriptions[{n}]"
            cwe = text(description, "cweId", there)
            if cwe and cwe_id(cwe):
                gathered.cwes.append(cwe)
                continue
            found = leading_cwe(text(description, "description", there) or "")
            if found:
                gathered.cwes.append(found)
    for index, reference in enumerate(objects(container, "references", where)):
        gathered.references.append(required_text(reference, "url", f"{where}.references[{index}]"))
    for index, applicability in enumerate(objects(container, "cpeApplicability", where)):
        # Same shape as NVD's configurations.
        gathered.configurations.append(
            configuration(applicability, f"{where}.cpeApplicability[{index}]")
        )


def _metric(
    metric: JsonObject,
    where: str,
    place: Place,
    gathered: _Gathered,
    short_name: str,
    primary: bool,
) -> None:
    for key, kind in _METRICS:
        data = metric.get(key)
        if data is None:
            continue
        data = as_object(data, f"{where}.{key}")
        vector = required_text(data, "vectorString", f"{where}.{key}")
        scored = severity(
            place,
            kind,
            vector,
            given=number(data, "baseScore", f"{where}.{key}"),
            source=short_name,
            primary=primary,
            rating=text(data, "baseSeverity", f"{where}.{key}") or "",
        )
        if scored is not None:
            gathered.severities.append(scored)
    other = metric.get("other")
    if not isinstance(other, dict):
        return
    # "other" metrics are free-form: read the two kinds that mean something here, skip the rest.
    label = other.get("type")
    content = other.get("content")
    if not isinstance(label, str) or not isinstance(content, dict):
        return
    if label == "ssvc":
        options = content.get("options")
        if isinstance(options, list) and {"Exploitation": "active"} in options:
            gathered.exploited = True
        return
    if label == "kev":
        gathered.exploited = True  # CISA's ADP container notes that the CVE is in KEV
        return
    value = content.get("value")
    if isinstance(value, str) and value:
        gathered.severities.append(
            Severity(label, None, None, source=short_name, primary=primary, rating=value)
        )


def _affected(
    cna: JsonObject, place: Place
) -> tuple[tuple[AffectedPackage, ...], list[CpeConfiguration], list[str]]:
    packages: list[AffectedPackage] = []
    configurations: list[CpeConfiguration] = []
    products: list[str] = []
    for index, entry in enumerate(objects(cna, "affected", "containers.cna")):
        where = f"containers.cna.affected[{index}]"
        vendor = text(entry, "vendor", where) or ""
        product = text(entry, "product", where) or text(entry, "packageName", where) or ""
        label = " ".join(p for p in (vendor, product) if p.lower() not in ("", "n/a"))
        if label:
            products.append(label)
        versions = objects(entry, "versions", where)
        default_status = text(entry, "defaultStatus", where) or "unaffected"
        affected = [v for v in versions if v.get("status") == "affected"]
        if default_status == "affected" and len(affected) != len(versions):
            continue  # "all but these" does not fit ranges of affected versions
        repo = text(entry, "repo", where)
        git = [v for v in affected if v.get("versionType") == "git"]
        if git and repo:
            packages.append(_git_package(git, repo, f"{where}.versions"))
            continue
        package = _registry_package(entry, where, affected, default_status)
        if package is not None:
            packages.append(package)
        cpes = _cpe_matches(entry, where, affected, default_status, place)
        if cpes:
            configurations.append(CpeConfiguration(nodes=(CpeNode("OR", tuple(cpes)),)))
    return tuple(packages), configurations, list(unique(products))


def _bounds(version: JsonObject, where: str) -> tuple[str, str | None, str | None]:
    """(start, less than, less than or equal) of one affected version item."""
    start = text(version, "version", where) or ""
    less_than = text(version, "lessThan", where)
    at_most = text(version, "lessThanOrEqual", where)
    return start, less_than, at_most


def _wildcard(bound: str | None) -> bool:
    """True for bounds such as 5.4.*, which name a branch, not a version."""
    return bound is not None and bound not in _UNBOUNDED and "*" in bound


def _git_package(versions: list[JsonObject], repo: str, where: str) -> AffectedPackage:
    """Commit ranges in `repo`; a commit without an upper bound is that one commit."""
    ranges = []
    commits = []
    for version in versions:
        start, less_than, at_most = _bounds(version, where)
        if less_than is None and at_most is None:
            if start not in _UNBOUNDED:
                commits.append(start)
            continue
        events = [RangeEvent("introduced", "0" if start in _UNBOUNDED else start)]
        if less_than and less_than not in _UNBOUNDED:
            events.append(RangeEvent("fixed", less_than))
        elif at_most and at_most not in _UNBOUNDED:
            events.append(RangeEvent("last_affected", at_most))
        ranges.append(AffectedRange("GIT", tuple(events), repo))
    return AffectedPackage("", "", ranges=tuple(ranges), versions=tuple(commits))


def _registry_package(
    entry: JsonObject, where: str, affected: list[JsonObject], default_status: str
) -> AffectedPackage | None:
    url = text(entry, "collectionURL", where)
    if not url:
        return None
    parts = urlsplit(url)
    ecosystem = _REGISTRIES.get(parts.hostname or "")
    if ecosystem is None:
        return None
    name = text(entry, "packageName", where)
    if not name:
        found = _NAME_IN_PATH.match(parts.path)
        name = found.group(1) if found else None
    if not name:
        return None
    ranges: list[AffectedRange] = []
    exact: list[str] = []
    for version in affected:
        start, less_than, at_most = _bounds(version, f"{where}.versions")
        if less_than is None and at_most is None:
            if start not in _UNBOUNDED:
                exact.append(start)
            continue
        if _wildcard(less_than) or _wildcard(at_most):
            continue
        events = [RangeEvent("introduced", "0" if start in _UNBOUNDED else start)]
        if less_than is not None and less_than not in _UNBOUNDED:
            events.append(RangeEvent("fixed", less_than))
        elif at_most is not None and at_most not in _UNBOUNDED:
            events.append(RangeEvent("last_affected", at_most))
        ranges.append(AffectedRange("ECOSYSTEM", tuple(events)))
    if not affected and default_status == "affected":
        ranges.append(AffectedRange("ECOSYSTEM", (RangeEvent("introduced", "0"),)))
    if not ranges and not exact:
        return None
    return AffectedPackage(ecosystem, name, ranges=tuple(ranges), versions=tuple(exact))


def _cpe_matches(
    entry: JsonObject, where: str, affected: list[JsonObject], default_status: str, place: Place
) -> list[CpeMatch]:
    raw = entry.get("cpes")
    if not isinstance(raw, list):
        return []
    matches: list[CpeMatch] = []
    for item in raw:
        if not isinstance(item, str):
            continue
        name = _cpe23(item)
        if name is None:
            place.warn(f"ignored {item[:80]!r} in {where}.cpes: not a CPE name")
            continue
        if not affected:
            if default_status == "affected":
                matches.append(CpeMatch(name))
            continue
        for version in affected:
            match = _cpe_match(name, version, f"{where}.versions")
            if match is not None:
                matches.append(match)
    return matches


def _cpe_match(name: str, version: JsonObject, where: str) -> CpeMatch | None:
    start, less_than, at_most = _bounds(version, where)
    if _wildcard(less_than) or _wildcard(at_most):
        return None
    fields = _CPE23_SPLIT.split(name)
    if len(fields) != 13:
        return None
    if less_than is None and at_most is None:
        if start in _UNBOUNDED:
            return CpeMatch(name)
        fields[5] = _CPE23_SPECIAL.sub(r"\\\1", start)
        return CpeMatch(":".join(fields))
    fields[5] = "*"
    return CpeMatch(
        ":".join(fields),
        version_start_including=None if start in _UNBOUNDED else start,
        version_end_excluding=None if less_than in _UNBOUNDED else less_than,
        version_end_including=None if at_most in _UNBOUNDED else at_most,
    )


def _cpe23(name: str) -> str | None:
    """`name` as a CPE 2.3 formatted string, converting a CPE 2.2 URI."""
    if name.startswith("cpe:2.3:"):
        return name if len(_CPE23_SPLIT.split(name)) == 13 else None
    if not name.startswith("cpe:/"):
        return None
    try:
        converted = CPE(name).as_fs()
    # The cpe package reports bad names with assorted exception types (NotImplementedError,
    # IndexError, ...).
    except Exception:
        return None
    return converted if isinstance(converted, str) else None
