"""EUVD parsing on hand-made answers in the API's documented shape (see fixtures SOURCES.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fleetcare.intel.feeds import FeedError, FeedWarning, euvd
from fleetcare.intel.records import Severity
from tests.intel import FIXTURES

EUVD = FIXTURES / "euvd"
UTC = dt.UTC


def test_search_page_gives_exploited_flag_aliases_scores_and_dates():
    kernel, curl, unscored = euvd.load_records(EUVD / "search-page.json")

    assert kernel.id == "EUVD-2024-9000001"
    assert kernel.source == "euvd"
    assert kernel.aliases == ("CVE-2024-1086",)
    assert kernel.exploited is True
    assert kernel.extra["exploited_since"] == "2024-05-30T00:00:00+00:00"
    assert kernel.published == dt.datetime(2024, 1, 31, 12, 14, 25, tzinfo=UTC)
    assert kernel.modified == dt.datetime(2025, 6, 27, 16, 52, 10, tzinfo=UTC)
    assert kernel.severities == (
        Severity(
            "CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "ENISA", True
        ),
    )
    assert kernel.references == (
        "https://kernel.dance/f342de4e2f33e0e39165d8639387aa6c19dff660",
        "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/"
        "?id=f342de4e2f33e0e39165d8639387aa6c19dff660",
    )
    assert kernel.extra["assigner"] == "Google"
    assert kernel.extra["epss"] == "83.12"
    assert kernel.extra["vendors"] == "Linux"
    assert kernel.extra["products"] == "Linux kernel 3.15 <6.1.76; Linux kernel 6.2 <6.6.15"

    assert curl.exploited is False
    assert "exploited_since" not in curl.extra
    # Written with the narrow no-break space newer Java versions put before AM/PM.
    assert curl.published == dt.datetime(2023, 10, 18, 4, 15, tzinfo=UTC)
    assert curl.modified == dt.datetime(2025, 11, 3, 22, 9, 47, tzinfo=UTC)
    assert curl.severities[0].base_score == 9.8

    assert unscored.severities == ()  # baseScore 0 and no vector: not scored yet
    assert unscored.aliases == ("CVE-2025-99999", "GHSA-xxxx-xxxx-xxxx")
    assert "vendors" not in unscored.extra


def test_bare_list_answer():
    records = euvd.load_records(EUVD / "lastvulnerabilities.json")

    assert [r.id for r in records] == ["EUVD-2025-9000003", "EUVD-2023-9000002"]


def test_single_record_with_linked_vulnerability_and_advisory():
    record = euvd.load_records(EUVD / "enisaid-record.json")[0]

    assert record.id == "EUVD-2022-9000004"
    assert record.aliases == ("CVE-2022-37434",)  # in aliases and linked: once
    assert record.related == ("WID-SEC-W-2022-9999",)
    assert record.severities[0].base_score == 9.8
    assert record.exploited is False


def test_directory_reads_every_answer():
    assert len(euvd.load_records(EUVD)) == 3 + 2 + 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Apr 16, 2025, 7:00:16 AM", dt.datetime(2025, 4, 16, 7, 0, 16, tzinfo=UTC)),
        ("Apr 16, 2025, 12:00:16 AM", dt.datetime(2025, 4, 16, 0, 0, 16, tzinfo=UTC)),
        ("Apr 16, 2025, 12:30:00 PM", dt.datetime(2025, 4, 16, 12, 30, tzinfo=UTC)),
        ("Dec 1, 2024, 11:59:59\u202fPM", dt.datetime(2024, 12, 1, 23, 59, 59, tzinfo=UTC)),
        ("2025-04-16T07:00:16Z", dt.datetime(2025, 4, 16, 7, 0, 16, tzinfo=UTC)),
    ],
)
def test_euvd_times(text, expected):
    assert euvd.euvd_time(text, "dateUpdated") == expected


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"description": "x"}, "the record has no 'id'"),
        ({"id": "EUVD-2025-1", "dateUpdated": "Feb 30, 2025, 1:00:00 AM"},
         "dateUpdated is not a valid date and time"),
        ({"id": "EUVD-2025-1", "dateUpdated": "Foo 3, 2025, 1:00:00 AM"},
         "dateUpdated is not a valid date and time"),
        ({"id": "EUVD-2025-1", "datePublished": "yesterday"}, "datePublished is not an ISO 8601"),
        ({"id": "EUVD-2025-1", "aliases": {"cve": "CVE-2025-1"}},
         "aliases must be a newline-separated string, not an object"),
        ({"id": "EUVD-2025-1", "baseScore": "9.8"}, "baseScore must be a number, not a string"),
        ({"id": "EUVD-2025-1", "enisaIdVendor": [{"vendor": "Linux"}]},
         "enisaIdVendor[0].vendor must be an object, not a string"),
    ],
)
def test_broken_items_name_the_position_or_id(item, problem):
    with pytest.raises(FeedError) as caught:
        list(euvd.iter_document({"items": [item], "total": 1}, source="page.json"))

    assert problem in caught.value.problem
    assert caught.value.record == item.get("id", "items[0]")


def test_broken_page_shapes():
    with pytest.raises(FeedError, match="items must be a list, not an object"):
        list(euvd.iter_document({"items": {}, "total": 0}))
    with pytest.raises(FeedError, match="total must be a number"):
        list(euvd.iter_document({"items": [], "total": "many"}))


def test_a_bad_vector_is_dropped_with_a_warning():
    warnings: list[FeedWarning] = []
    item = {
        "id": "EUVD-2025-1",
        "baseScore": 9.1,
        "baseScoreVersion": "3.1",
        "baseScoreVector": "CVSS:3.1/AV:N/AC:L",
    }

    record = euvd.parse_record(item, source="page.json", warnings=warnings)

    assert record.severities == ()
    assert warnings[0].record == "EUVD-2025-1"


def test_vector_without_prefix_is_completed_from_the_version():
    record = euvd.parse_record(
        {
            "id": "EUVD-2025-2",
            "baseScore": 5.3,
            "baseScoreVersion": "3.0",
            "baseScoreVector": "AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
        }
    )

    assert record.severities[0].vector == "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
    assert record.severities[0].base_score == 5.3


def test_fixture_is_in_the_documented_shape():
    page = json.loads((EUVD / "search-page.json").read_text())

    assert set(page) == {"items", "total"}
    assert set(page["items"][0]) >= {
        "id", "description", "datePublished", "dateUpdated", "baseScore", "baseScoreVersion",
        "baseScoreVector", "references", "aliases", "assigner", "epss", "exploitedSince",
        "enisaIdProduct", "enisaIdVendor",
    }
