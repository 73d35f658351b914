"""CISA KEV catalogue and EPSS CSV parsing: the real catalogue, a hand-made EPSS file, breakage."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from fleetcare.intel.feeds import FeedError, epss, kev
from fleetcare.intel.records import EpssScore, KevEntry
from tests.intel import FIXTURES

CATALOG = FIXTURES / "kev" / "known_exploited_vulnerabilities.json"
EPSS_SAMPLE = FIXTURES / "epss" / "epss_scores-sample.csv"


@pytest.fixture(scope="module")
def catalog_json() -> dict[str, object]:
    return json.loads(CATALOG.read_text())


# --- KEV ------------------------------------------------------------------------------------


def test_real_catalogue_reads_whole():
    catalog = kev.read_catalog(CATALOG)

    assert catalog.version == "2025.08.25"
    assert catalog.released == dt.datetime(2025, 8, 25, 17, 4, 19, 979600, tzinfo=dt.UTC)
    assert len(catalog.entries) == 1404
    by_id = {entry.cve_id: entry for entry in catalog.entries}
    assert by_id["CVE-2024-1086"] == KevEntry(
        cve_id="CVE-2024-1086",
        vendor="Linux",
        product="Kernel",
        name="Linux Kernel Use-After-Free Vulnerability",
        date_added=dt.date(2024, 5, 30),
        due_date=dt.date(2024, 6, 20),
        required_action=(
            "Apply mitigations per vendor instructions or discontinue use of the product if "
            "mitigations are unavailable."
        ),
        known_ransomware=False,
        notes=by_id["CVE-2024-1086"].notes,
        short_description=(
            "Linux kernel contains a use-after-free vulnerability in the netfilter: nf_tables "
            "component that allows an attacker to achieve local privilege escalation."
        ),
        cwes=("CWE-416",),
    )
    assert by_id["CVE-2024-1086"].notes.endswith("https://nvd.nist.gov/vuln/detail/CVE-2024-1086")
    struts = by_id["CVE-2017-5638"]
    assert struts.known_ransomware is True
    assert struts.date_added == dt.date(2021, 11, 3)
    assert struts.due_date == dt.date(2022, 5, 3)
    assert {"CVE-2024-23113", "CVE-2021-44228"} <= by_id.keys()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e.pop("dueDate"), "has no 'dueDate'"),
        (lambda e: e.update(dateAdded="2024-13-01"), "dateAdded is not a date (YYYY-MM-DD)"),
        (lambda e: e.update(cveID="CVE-24-1"), "cveID 'CVE-24-1' is not a CVE id"),
        (lambda e: e.update(product=["Kernel"]), "product must be a string, not a list"),
        (lambda e: e.update(knownRansomwareCampaignUse="Maybe"),
         "knownRansomwareCampaignUse must be Known or Unknown, not 'Maybe'"),
    ],
)
def test_one_bad_entry_fails_the_catalogue(catalog_json, change, problem):
    document = copy.deepcopy(catalog_json)
    change(document["vulnerabilities"][7])

    with pytest.raises(FeedError) as caught:
        kev.parse_catalog(document, source="kev.json")
    assert problem in caught.value.problem
    assert caught.value.source == "kev.json"
    assert caught.value.record in (document["vulnerabilities"][7].get("cveID"),
                                   "vulnerabilities[7]")


def test_a_catalogue_that_lost_entries_is_refused(catalog_json):
    document = copy.deepcopy(catalog_json)
    del document["vulnerabilities"][100:]

    with pytest.raises(FeedError, match="says it has 1404 entries but holds 100"):
        kev.parse_catalog(document)


def test_a_catalogue_cut_mid_file_is_malformed_json(tmp_path: Path):
    path = tmp_path / "kev.json"
    path.write_bytes(CATALOG.read_bytes()[:50_000])

    with pytest.raises(FeedError, match="malformed JSON"):
        kev.read_catalog(path)


def test_not_a_catalogue():
    with pytest.raises(FeedError, match="has no 'catalogVersion'"):
        kev.parse_catalog({"vulnerabilities": []})
    with pytest.raises(FeedError, match="has no 'vulnerabilities'"):
        kev.parse_catalog({"catalogVersion": "1"})


# --- EPSS -----------------------------------------------------------------------------------


def test_sample_scores_carry_model_version_and_date():
    scores = epss.read_scores(EPSS_SAMPLE)

    assert len(scores) == 6
    assert scores[0] == EpssScore(
        "CVE-2024-1086", 0.8312, 0.9921, dt.date(2025, 8, 25), "v2025.03.14"
    )
    assert scores[-1] == EpssScore(
        "CVE-2016-7406", 0.00042, 0.0521, dt.date(2025, 8, 25), "v2025.03.14"
    )


def test_gzipped_file_is_recognised_by_content(tmp_path: Path):
    path = tmp_path / "scores.csv"  # no .gz on purpose
    path.write_bytes(gzip.compress(EPSS_SAMPLE.read_bytes()))

    assert epss.read_scores(path) == epss.read_scores(EPSS_SAMPLE)


def test_comment_line_is_optional():
    scores = list(epss.parse_lines(["cve,epss,percentile\n", "CVE-2021-44228,0.944,0.9999\n"]))

    assert scores == [EpssScore("CVE-2021-44228", 0.944, 0.9999, None, "")]


def test_scores_are_read_lazily_and_a_bad_row_is_named_by_line():
    lines = [
        "#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\n",
        "cve,epss,percentile\n",
        "CVE-2024-1086,0.8312,0.9921\n",
        "CVE-2024-1087,zero,0.5\n",
    ]
    scores = epss.parse_lines(lines, source="epss.csv")

    assert next(scores).cve_id == "CVE-2024-1086"
    with pytest.raises(FeedError) as caught:
        next(scores)
    assert str(caught.value) == "epss.csv, record line 4: epss 'zero' is not a number"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("CVE-2024-1086,1.5,0.9", "epss 1.5 is not in 0-1"),
        ("CVE-2024-1086,0.5,nan", "percentile nan is not in 0-1"),
        ("CVE-2024-1086,0.5", "expected 3 fields"),
        ("cve-2024-1086,0.5,0.5", "'cve-2024-1086' is not a CVE id"),
    ],
)
def test_bad_rows(line, problem):
    with pytest.raises(FeedError, match=problem):
        list(epss.parse_lines(["cve,epss,percentile", line]))


def test_not_an_epss_file():
    with pytest.raises(FeedError, match="the header must be 'cve,epss,percentile'"):
        list(epss.parse_lines(["id,score\n", "CVE-2024-1,0.5\n"]))
    with pytest.raises(FeedError, match="no 'cve,epss,percentile' header"):
        list(epss.parse_lines(["#model_version:v1\n"]))
    with pytest.raises(FeedError, match="score_date 'someday' is not a date"):
        list(epss.parse_lines(["#model_version:v1,score_date:someday\n"]))


def test_truncated_gzip_raises_feed_error(tmp_path: Path):
    path = tmp_path / "epss.csv.gz"
    path.write_bytes(gzip.compress(EPSS_SAMPLE.read_bytes())[:-30])

    with pytest.raises(FeedError, match="cannot read the file"):
        epss.read_scores(path)


def test_binary_garbage_raises_feed_error(tmp_path: Path):
    path = tmp_path / "epss.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\x80")

    with pytest.raises(FeedError):
        epss.read_scores(path)
