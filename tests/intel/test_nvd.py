"""NVD CVE API 2.0 parsing on real CVEs and API pages, broken input, incremental-sync helpers."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from fleetcare.intel.feeds import FeedError, FeedWarning, nvd
from fleetcare.intel.records import CpeConfiguration, CpeMatch, CpeNode, Severity
from tests.intel import FIXTURES

NVD = FIXTURES / "nvd"
CVES = NVD / "cve-api-2.0"
UTC = dt.UTC


def load(name: str) -> dict[str, object]:
    return json.loads((CVES / name).read_text())


def test_kernel_cve_in_kev_is_exploited_with_both_scores_and_kernel_ranges():
    record = nvd.load_records(CVES / "CVE-2024-1086.json")[0]

    assert record.id == "CVE-2024-1086"
    assert record.source == "nvd"
    assert record.details.startswith(
        "A use-after-free vulnerability in the Linux kernel's netfilter: nf_tables component"
    )
    assert record.published == dt.datetime(2024, 1, 31, 13, 15, 10, 827000, tzinfo=UTC)
    assert record.modified == dt.datetime(2025, 10, 21, 23, 16, 19, 677000, tzinfo=UTC)
    assert record.withdrawn is None
    assert record.exploited is True
    assert record.extra["cisa_exploit_add"] == "2024-05-30"
    assert record.extra["cisa_action_due"] == "2024-06-20"
    assert record.extra["cisa_vulnerability_name"] == "Linux Kernel Use-After-Free Vulnerability"
    assert record.extra["vuln_status"] == "Undergoing Analysis"
    assert record.extra["source_identifier"] == "cve-coordination@google.com"
    vector = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
    assert record.severities == (
        Severity("CVSS_V3", vector, 7.8, "cve-coordination@google.com", False, "HIGH"),
        Severity("CVSS_V3", vector, 7.8, "nvd@nist.gov", True, "HIGH"),
    )
    assert record.cwes == ("CWE-416",)
    kernel = record.configurations[0].nodes[0]
    assert kernel.operator == "OR"
    assert kernel.matches[0] == CpeMatch(
        "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*",
        version_start_including="3.15",
        version_end_excluding="5.15.149",
    )
    assert kernel.matches[4] == CpeMatch("cpe:2.3:o:linux:linux_kernel:6.8:rc1:*:*:*:*:*:*")
    assert record.configurations[1].nodes[0].matches == (
        CpeMatch("cpe:2.3:o:fedoraproject:fedora:39:*:*:*:*:*:*:*"),
    )


def test_zlib_cve_keeps_end_including_and_running_on_configurations():
    record = nvd.parse_record(load("CVE-2022-37434.json"), source="CVE-2022-37434.json")

    assert len(record.configurations) == 10
    assert record.configurations[0] == CpeConfiguration(
        nodes=(
            CpeNode(
                "OR",
                (CpeMatch("cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:*", version_end_including="1.2.12"),),
            ),
        )
    )
    firmware = record.configurations[4]
    assert firmware.operator == "AND"
    assert firmware.nodes == (
        CpeNode("OR", (CpeMatch("cpe:2.3:o:netapp:h300s_firmware:-:*:*:*:*:*:*:*"),)),
        CpeNode("OR", (CpeMatch("cpe:2.3:h:netapp:h300s:-:*:*:*:*:*:*:*", vulnerable=False),)),
    )
    assert record.severities[0].base_score == 9.8
    assert record.exploited is False


def test_curl_cve_has_start_including_and_end_excluding():
    record = nvd.load_records(CVES / "CVE-2023-38545.json")[0]

    assert record.configurations[0].nodes[0].matches == (
        CpeMatch(
            "cpe:2.3:a:haxx:libcurl:*:*:*:*:*:*:*:*",
            version_start_including="7.69.0",
            version_end_excluding="8.4.0",
        ),
    )
    assert record.published == dt.datetime(2023, 10, 18, 4, 15, 11, 77000, tzinfo=UTC)


def test_wrapped_record_with_cvss_4():
    record = nvd.load_records(CVES / "CVE-2017-5638-cvssv4-rating.json")[0]

    assert record.id == "CVE-2017-5638"
    assert record.severities == (
        Severity(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
            10.0,
            "nvd@nist.gov",
            True,
            "CRITICAL",
        ),
    )
    assert record.exploited is True
    assert record.extra["cisa_exploit_add"] == "2021-11-03"
    assert record.cwes == ("CWE-20",)


def test_cvss_3_0_and_2_keep_their_ratings():
    record = nvd.load_records(CVES / "CVE-2016-7406.json")[0]

    assert record.severities == (
        Severity("CVSS_V3", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8,
                 "nvd@nist.gov", True, "CRITICAL"),
        Severity("CVSS_V2", "AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, "nvd@nist.gov", True, "HIGH"),
    )
    assert record.configurations[0].nodes[0].matches[0].version_end_including == "2016.73"


def test_conflicting_scores_stay_apart_and_primary_is_marked():
    record = nvd.load_records(CVES / "CVE-2024-45490.json")[0]

    assert [(s.base_score, s.primary) for s in record.severities] == [(7.5, True), (9.8, False)]


def test_api_page_with_one_result():
    path = NVD / "api-responses" / "CVE-2023-5341.json"

    records = nvd.load_records(path)
    info = nvd.page_info(json.loads(path.read_text()))

    assert [r.id for r in records] == ["CVE-2023-5341"]
    assert records[0].modified == dt.datetime(2023, 11, 20, 0, 2, 51, 467000, tzinfo=UTC)
    assert records[0].severities[0].primary is False
    assert records[0].configurations == ()
    assert info == nvd.PageInfo(
        start_index=0,
        results_per_page=1,
        total_results=1,
        timestamp=dt.datetime(2023, 11, 26, 23, 42, 27, 193000, tzinfo=UTC),
        count=1,
    )


def test_api_page_with_thirteen_results_in_order():
    records = nvd.load_records(NVD / "api-responses" / "osv.dev-nvd-test-page-13.json")

    assert [r.id for r in records] == [
        "CVE-2026-20912",
        "CVE-2023-22466",
        "CVE-2026-23522",
        "CVE-2025-4565",
        "CVE-2018-14618",
        "CVE-2023-1055",
        "CVE-2024-7264",
        "CVE-2022-33068",
        "CVE-2016-1897",
        "CVE-2016-15012",
        "CVE-2024-2002",
        "CVE-2024-31497",
        "CVE-2023-45803",
    ]


def test_directory_mixes_bare_wrapped_and_paged_files():
    records = nvd.load_records(NVD)

    assert len(records) == 6 + 1 + 13
    assert nvd.latest_modified(records) == max(r.modified for r in records if r.modified)


def test_rejected_cve_is_withdrawn_when_last_modified():
    cve = load("CVE-2023-38545.json")
    cve["vulnStatus"] = "Rejected"

    record = nvd.parse_record(cve)

    assert record.withdrawn == record.modified


def test_bad_vector_drops_the_score_with_a_warning():
    cve = load("CVE-2024-45490.json")
    metrics = cve["metrics"]
    assert isinstance(metrics, dict)
    metrics["cvssMetricV31"][0]["cvssData"]["vectorString"] = "CVSS:3.1/AV:Q"
    warnings: list[FeedWarning] = []

    record = nvd.parse_record(cve, source="page.json", warnings=warnings)

    assert [s.base_score for s in record.severities] == [9.8]
    assert len(warnings) == 1
    assert warnings[0].record == "CVE-2024-45490"
    assert "CVSS:3.1/AV:Q" in warnings[0].problem


def test_score_outside_zero_to_ten_is_dropped_with_a_warning():
    cve = load("CVE-2023-38545.json")
    cve["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = 42  # type: ignore[index]
    warnings: list[FeedWarning] = []

    record = nvd.parse_record(cve, warnings=warnings)

    assert record.severities == ()
    assert "base score 42.0 is not in 0-10" in warnings[0].problem


def broken(change) -> dict[str, object]:  # type: ignore[no-untyped-def]
    cve = copy.deepcopy(load("CVE-2024-1086.json"))
    change(cve)
    return cve


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("CVE-2024-1", "the record must be an object, not a string"),
        ({"resultsPerPage": 1}, "neither an NVD API response"),
        (broken(lambda c: c.pop("lastModified")), "the record has no 'lastModified'"),
        (broken(lambda c: c.update(published="31/01/2024")), "published is not an ISO 8601"),
        (broken(lambda c: c.update(cisaExploitAdd="2024-02-30")), "cisaExploitAdd is not a date"),
        (broken(lambda c: c.update(metrics=[])), "metrics must be an object, not a list"),
        (
            broken(lambda c: c["configurations"][0]["nodes"][0].update(operator="XOR")),
            "configurations[0].nodes[0].operator must be OR or AND, not 'XOR'",
        ),
        (
            broken(lambda c: c["configurations"][0]["nodes"][0]["cpeMatch"][0].update(
                criteria="cpe:/o:linux:linux_kernel")),
            "configurations[0].nodes[0].cpeMatch[0].criteria is not a CPE 2.3 name",
        ),
        (
            broken(lambda c: c["configurations"][0]["nodes"][0]["cpeMatch"][0].update(
                vulnerable="yes")),
            "cpeMatch[0].vulnerable must be true or false, not a string",
        ),
        (
            broken(lambda c: c["metrics"]["cvssMetricV31"][0]["cvssData"].update(baseScore="7.8")),
            "metrics.cvssMetricV31[0].cvssData.baseScore must be a number, not a string",
        ),
    ],
)
def test_broken_cves_raise_feed_error(document, problem):
    with pytest.raises(FeedError) as caught:
        nvd.parse_record(document, source="nvd.json")

    assert problem in caught.value.problem
    assert caught.value.source == "nvd.json"


def test_a_broken_cve_in_a_page_is_named_by_its_id_and_nothing_is_returned(tmp_path: Path):
    page = json.loads((NVD / "api-responses" / "osv.dev-nvd-test-page-13.json").read_text())
    page["vulnerabilities"][5]["cve"]["lastModified"] = "not a date"
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))

    with pytest.raises(FeedError) as caught:
        nvd.load_records(path)
    assert caught.value.record == "CVE-2023-1055"
    assert str(caught.value).startswith(f"{path}, record CVE-2023-1055: lastModified")


def test_an_item_without_id_is_named_by_its_position(tmp_path: Path):
    path = tmp_path / "page.json"
    path.write_text(json.dumps(
        {"resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "vulnerabilities": [{"x": 1}]}
    ))

    with pytest.raises(FeedError) as caught:
        nvd.load_records(path)
    assert caught.value.record == "vulnerabilities[0]"


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ({"startIndex": 0, "resultsPerPage": 1, "vulnerabilities": []}, "totalResults must be"),
        ({"startIndex": -1, "resultsPerPage": 1, "totalResults": 1, "vulnerabilities": []},
         "startIndex must be a whole number >= 0"),
        ({"startIndex": 0, "resultsPerPage": 1, "totalResults": 1, "vulnerabilities": {}},
         "vulnerabilities must be a list"),
    ],
)
def test_broken_page_headers(page, problem):
    with pytest.raises(FeedError, match=problem):
        list(nvd.iter_document(page, source="page.json"))


# --- incremental sync -----------------------------------------------------------------------


def test_modified_windows_respect_the_120_day_limit():
    since = dt.datetime(2024, 1, 1, tzinfo=UTC)
    until = dt.datetime(2024, 10, 27, tzinfo=UTC)  # 300 days later

    windows = nvd.modified_windows(since, until)

    assert windows == [
        (since, dt.datetime(2024, 4, 30, tzinfo=UTC)),
        (dt.datetime(2024, 4, 30, tzinfo=UTC), dt.datetime(2024, 8, 28, tzinfo=UTC)),
        (dt.datetime(2024, 8, 28, tzinfo=UTC), until),
    ]
    assert nvd.modified_windows(until, until) == []


def test_api_params_use_milliseconds_and_an_explicit_offset():
    start = dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    end = dt.datetime(2024, 3, 2, tzinfo=UTC)

    assert nvd.api_params(start, end, start_index=4000) == {
        "lastModStartDate": "2024-03-01T10:30:00.000+00:00",
        "lastModEndDate": "2024-03-02T00:00:00.000+00:00",
        "startIndex": "4000",
        "resultsPerPage": "2000",
    }


def test_api_params_refuse_what_the_api_would_refuse():
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="at most 120 days"):
        nvd.api_params(start, start + dt.timedelta(days=121))
    with pytest.raises(ValueError, match="time zone"):
        nvd.api_params(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))
    with pytest.raises(ValueError, match="results_per_page"):
        nvd.api_params(start, start, results_per_page=5000)


def test_latest_modified_of_nothing_is_none():
    assert nvd.latest_modified([]) is None
