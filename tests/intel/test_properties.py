"""Whatever a feed sends, the parsers answer with records or `FeedError`, never anything else.

Two kinds of input: arbitrary JSON (with the field names of the real formats mixed in, so that
parsing gets past the first check), and real samples with one value somewhere replaced by
arbitrary JSON or removed, which reaches the deep corners of each format.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetcare.intel.feeds import FeedError, FeedWarning, cve5, epss, euvd, kev, nvd, osv
from fleetcare.intel.feeds._reading import load_json
from fleetcare.intel.records import KevEntry, VulnerabilityRecord
from tests.intel import FIXTURES

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

FIELD_NAMES = [
    # OSV
    "id", "modified", "published", "withdrawn", "aliases", "related", "upstream", "summary",
    "details", "severity", "type", "score", "affected", "package", "ecosystem", "name", "purl",
    "ranges", "repo", "events", "introduced", "fixed", "last_affected", "limit", "versions",
    "references", "url", "database_specific", "cwe_ids",
    # NVD
    "cve", "vulnerabilities", "resultsPerPage", "startIndex", "totalResults", "lastModified",
    "descriptions", "lang", "value", "metrics", "cvssMetricV31", "cvssData", "vectorString",
    "baseScore", "weaknesses", "description", "configurations", "nodes", "operator", "negate",
    "cpeMatch", "criteria", "vulnerable", "versionEndExcluding", "cisaExploitAdd", "vulnStatus",
    # CVE 5
    "dataType", "dataVersion", "cveMetadata", "cveId", "state", "containers", "cna", "adp",
    "problemTypes", "cweId", "cpes", "collectionURL", "packageName", "lessThan", "status",
    "versionType", "other", "content", "options", "cpeApplicability",
    # EUVD, KEV
    "items", "total", "baseScoreVector", "baseScoreVersion", "exploitedSince", "dateUpdated",
    "enisaIdProduct", "enisaIdVendor", "enisaIdVulnerability", "enisaIdAdvisory",
    "catalogVersion", "dateReleased", "count", "cveID", "dateAdded", "dueDate",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson can decode
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "2024-05-01T00:00:00Z", "0001-01-01T00:00:00Z", "2024-02-30", "Apr 16, 2025, 7:00:16 AM",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS_V3",
            "CVSS_V2", "CVSS_V4", "GIT", "SEMVER", "ECOSYSTEM", "OR", "AND", "Primary", "5.1",
            "CVE_RECORD", "PUBLISHED", "REJECTED", "affected", "git", "en", "CVE-2024-1086",
            "cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:*", "cpe:/a:zlib:zlib", "https://pypi.org/project/x/",
            "Known", "Unknown", "ssvc", "kev",
        ]
    )
)
KEYS = st.sampled_from(FIELD_NAMES) | st.text(max_size=8)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=40,
)


def sample(relative: str) -> object:
    return json.loads((FIXTURES / relative).read_text())


SAMPLES: dict[str, list[object]] = {
    "osv": [sample(f"osv/{name}") for name in (
        "PYSEC-2023-212.json", "RUSTSEC-2022-0014.json", "CVE-2018-5407.json",
        "GHSA-9v2f-6vcg-3hgv.json", "UBUNTU-CVE-2025-38094.json",
    )],
    "nvd": [sample("nvd/cve-api-2.0/CVE-2024-1086.json"),
            sample("nvd/cve-api-2.0/CVE-2017-5638-cvssv4-rating.json"),
            sample("nvd/api-responses/CVE-2023-5341.json")],
    "cve5": [sample(f"cve5/{name}") for name in (
        "CVE-2025-4565.json", "CVE-2021-44228.json", "CVE-2024-2002.json", "CVE-2025-21772.json",
    )],
    "euvd": [sample("euvd/search-page.json"), sample("euvd/enisaid-record.json")],
    "kev": [],
}
_catalog = sample("kev/known_exploited_vulnerabilities.json")
assert isinstance(_catalog, dict)
SAMPLES["kev"] = [dict(_catalog, vulnerabilities=_catalog["vulnerabilities"][:3], count=3)]


def parse_osv(document: object) -> list[VulnerabilityRecord]:
    return [osv.parse_record(document, warnings=[])]


def parse_nvd(document: object) -> list[VulnerabilityRecord]:
    return list(nvd.iter_document(document, warnings=[]))


def parse_cve5(document: object) -> list[VulnerabilityRecord]:
    return [cve5.parse_record(document, warnings=[])]


def parse_euvd(document: object) -> list[VulnerabilityRecord]:
    return list(euvd.iter_document(document, warnings=[]))


def parse_kev(document: object) -> list[KevEntry]:
    catalog = kev.parse_catalog(document)
    assert all(entry.cve_id.startswith("CVE-") for entry in catalog.entries)
    return list(catalog.entries)


PARSERS: dict[str, Callable[[object], list[VulnerabilityRecord] | list[KevEntry]]] = {
    "osv": parse_osv,
    "nvd": parse_nvd,
    "cve5": parse_cve5,
    "euvd": parse_euvd,
    "kev": parse_kev,
}


def only_feed_errors(
    parse: Callable[[object], list[VulnerabilityRecord] | list[KevEntry]], document: object
) -> None:
    """Parse; a `FeedError` is a fine answer, anything else fails. Records must be sound."""
    try:
        records = parse(document)
    except FeedError:
        return
    for record in records:
        if isinstance(record, VulnerabilityRecord):
            assert record.id.strip()
            for moment in (record.published, record.modified, record.withdrawn):
                assert moment is None or moment.utcoffset() == dt.timedelta(0)
            for severity in record.severities:
                assert severity.base_score is None or 0.0 <= severity.base_score <= 10.0


def paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every place in a JSON document where a value sits."""
    found: list[tuple[object, ...]] = []
    items: list[tuple[object, object]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


@st.composite
def mutated(draw: st.DrawFn, source: str) -> object:
    document = copy.deepcopy(draw(st.sampled_from(SAMPLES[source])))
    places = paths(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = draw(st.sampled_from(places))
        try:
            parent = document
            for key in where[:-1]:
                parent = parent[key]  # type: ignore[index]
            last = where[-1]
            if isinstance(parent, dict) and draw(st.booleans()):
                del parent[last]
            else:
                parent[last] = draw(JSON)  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change already removed or replaced this place
    return document


@PROPERTY
@given(source=st.sampled_from(sorted(PARSERS)), document=JSON)
def test_arbitrary_json_gives_a_record_or_feed_error(source: str, document: object) -> None:
    only_feed_errors(PARSERS[source], document)


@PROPERTY
@given(data=st.data(), source=st.sampled_from(sorted(PARSERS)))
def test_damaged_real_samples_give_a_record_or_feed_error(data: st.DataObject, source: str) -> None:
    only_feed_errors(PARSERS[source], data.draw(mutated(source)))


@PROPERTY
@given(payload=st.binary(max_size=200))
def test_arbitrary_bytes_are_json_or_feed_error(payload: bytes) -> None:
    with contextlib.suppress(FeedError):
        load_json(payload, "bytes")


@PROPERTY
@given(lines=st.lists(st.text(max_size=40), max_size=8), header=st.booleans())
def test_arbitrary_epss_lines_give_scores_or_feed_error(lines: list[str], header: bool) -> None:
    if header:
        lines = ["cve,epss,percentile", *lines]
    with contextlib.suppress(FeedError):
        for score in epss.parse_lines(lines):
            assert 0.0 <= score.score <= 1.0


@PROPERTY
@given(members=st.dictionaries(st.from_regex(r"[A-Za-z0-9_/-]{1,10}\.json", fullmatch=True),
                               st.binary(max_size=100) | JSON.map(lambda v: json.dumps(v).encode()),
                               max_size=4))
def test_arbitrary_zip_members_give_records_or_feed_error(
    tmp_path_factory, members: dict[str, bytes]
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    path: Path = tmp_path_factory.mktemp("zip") / "all.zip"
    path.write_bytes(buffer.getvalue())
    warnings: list[FeedWarning] = []
    with contextlib.suppress(FeedError):
        for record in osv.iter_zip(path, warnings=warnings):
            assert record.id.strip()
