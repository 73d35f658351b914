"""CVE JSON 5 parsing on real cvelistV5 records, and what of `affected` converts."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from fleetcare.intel.feeds import FeedError, FeedWarning, cve5
from fleetcare.intel.records import AffectedPackage, AffectedRange, CpeMatch, RangeEvent, Severity
from tests.intel import FIXTURES

CVE5 = FIXTURES / "cve5"
UTC = dt.UTC
KERNEL_GIT = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"


def load(name: str) -> dict[str, object]:
    return json.loads((CVE5 / name).read_text())


def ev(kind: str, value: str) -> RangeEvent:
    return RangeEvent(kind, value)  # type: ignore[arg-type]


def test_kernel_record_gives_git_ranges_and_cpe_applicability():
    record = cve5.load_records(CVE5 / "CVE-2025-21772.json")[0]

    assert record.id == "CVE-2025-21772"
    assert record.source == "cve"
    assert record.summary == "partitions: mac: fix handling of bogus partition table"
    assert record.details.startswith("In the Linux kernel, the following vulnerability")
    assert record.published == dt.datetime(2025, 2, 27, 2, 18, 19, 528000, tzinfo=UTC)
    assert record.modified == dt.datetime(2025, 5, 4, 7, 20, 46, 575000, tzinfo=UTC)
    assert record.extra["assigner"] == "Linux"
    # The second affected entry lists unaffected versions under defaultStatus "affected":
    # not convertible, so only the git entry becomes a package.
    (package,) = record.affected
    assert (package.ecosystem, package.name) == ("", "")
    assert len(package.ranges) == 8
    assert package.ranges[0] == AffectedRange(
        "GIT",
        (
            ev("introduced", "1da177e4c3f41524e886b7f1b8a0c1fc7321cac2"),
            ev("fixed", "a3e77da9f843e4ab93917d30c314f0283e28c124"),
        ),
        repo=KERNEL_GIT,
    )
    (configuration,) = record.configurations
    matches = configuration.nodes[0].matches
    assert len(matches) == 8
    assert matches[0] == CpeMatch(
        "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*", version_end_excluding="5.4.291"
    )
    assert matches[-1].version_end_excluding == "6.14"
    assert record.severities == ()


def test_pypi_collection_url_becomes_an_ecosystem_package_and_cvss_4_is_scored():
    record = cve5.load_records(CVE5 / "CVE-2025-4565.json")[0]

    # The first entry points at GitHub (no registry) and stays unconverted.
    assert record.affected == (
        AffectedPackage(
            "PyPI",
            "protobuf",
            ranges=(
                AffectedRange("ECOSYSTEM", (ev("introduced", "0"), ev("fixed", "4.25.8"))),
                AffectedRange("ECOSYSTEM", (ev("introduced", "0"), ev("fixed", "5.29.5"))),
                AffectedRange("ECOSYSTEM", (ev("introduced", "0"), ev("fixed", "6.31.1"))),
            ),
        ),
    )
    (severity,) = record.severities
    assert (severity.kind, severity.base_score, severity.source, severity.primary) == (
        "CVSS_V4",
        8.2,
        "Google",
        True,
    )
    assert record.cwes == ("CWE-674",)
    assert record.extra["products"] == "protocolbuffers Python-Protobuf"


def test_log4shell_adp_score_cwes_and_exploitation():
    record = cve5.load_records(CVE5 / "CVE-2021-44228.json")[0]

    assert record.exploited is True  # CISA ADP: SSVC Exploitation "active" and a KEV note
    assert record.severities == (
        Severity(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            10.0,
            "CISA-ADP",
            False,
            "CRITICAL",
        ),
    )
    assert record.cwes == ("CWE-502", "CWE-400", "CWE-20")
    assert record.summary.startswith("Apache Log4j2 JNDI features do not protect")
    # Free-text vendor/product: nothing matchable, only the label for people.
    assert record.affected == ()
    assert record.extra["products"] == "Apache Software Foundation Apache Log4j2"
    assert len(record.references) > 40


def test_red_hat_rating_and_unaffected_platform_cpes():
    record = cve5.load_records(CVE5 / "CVE-2024-2002.json")[0]

    assert Severity("Red Hat severity rating", None, None, "redhat", True, "Moderate") in (
        record.severities
    )
    assert record.cwes == ("CWE-415",)
    # RHEL entries carry CPEs but defaultStatus unknown/unaffected and no affected versions.
    assert record.configurations == ()
    assert record.affected == ()


def test_cwe_taken_from_a_description_without_cwe_id():
    record = cve5.load_records(CVE5 / "CVE-2024-7264.json")[0]

    assert record.cwes == ("CWE-125",)
    assert record.severities[0].source == "CISA-ADP"


def test_record_version_5_0_with_naive_dates():
    record = cve5.load_records(CVE5 / "CVE-2023-38408.json")[0]

    assert record.modified == dt.datetime(2023, 8, 3, tzinfo=UTC)
    assert record.published == dt.datetime(2023, 7, 20, tzinfo=UTC)
    assert record.severities == ()
    assert record.cwes == ()
    assert record.details.startswith("The PKCS#11 feature in ssh-agent in OpenSSH before 9.3p2")
    assert "products" not in record.extra  # vendor and product are "n/a"


def test_directory_of_records():
    assert len(cve5.load_records(CVE5)) == 6


def test_rejected_record_is_withdrawn_with_its_reason():
    record = cve5.parse_record(
        {
            "dataType": "CVE_RECORD",
            "dataVersion": "5.1",
            "cveMetadata": {
                "cveId": "CVE-2024-0001",
                "state": "REJECTED",
                "dateUpdated": "2024-02-01T00:00:00Z",
                "dateRejected": "2024-01-15T10:00:00Z",
            },
            "containers": {
                "cna": {
                    "rejectedReasons": [{"lang": "en", "value": "Duplicate of CVE-2024-0002."}]
                }
            },
        }
    )

    assert record.withdrawn == dt.datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert record.details == "Duplicate of CVE-2024-0002."


def test_cpes_with_affected_bounds_become_cpe_matches():
    warnings: list[FeedWarning] = []
    document = load("CVE-2023-38408.json")
    document["containers"]["cna"]["affected"] = [  # type: ignore[index]
        {
            "vendor": "openbsd",
            "product": "openssh",
            "cpes": ["cpe:/a:openbsd:openssh", "cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*",
                     "not a cpe"],
            "versions": [
                {"version": "0", "lessThan": "9.3p2", "status": "affected", "versionType": "custom"},
                {"version": "9.3p2", "status": "affected"},
                {"version": "9.4", "lessThanOrEqual": "9.4.*", "status": "affected"},
            ],
        }
    ]

    record = cve5.parse_record(document, warnings=warnings)

    (configuration,) = record.configurations
    assert configuration.nodes[0].matches == (
        CpeMatch("cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*", version_end_excluding="9.3p2"),
        CpeMatch("cpe:2.3:a:openbsd:openssh:9.3p2:*:*:*:*:*:*:*"),
        CpeMatch("cpe:2.3:a:openbsd:openssh:*:*:*:*:*:*:*:*", version_end_excluding="9.3p2"),
        CpeMatch("cpe:2.3:a:openbsd:openssh:9.3p2:*:*:*:*:*:*:*"),
    )
    assert [w.problem for w in warnings] == [
        "ignored 'not a cpe' in containers.cna.affected[0].cpes: not a CPE name"
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(dataVersion="4.0"), "not a CVE JSON 5 record"),
        (lambda d: d["cveMetadata"].pop("cveId"), "cveMetadata has no 'cveId'"),
        (lambda d: d["cveMetadata"].update(state="RESERVED"), "state must be PUBLISHED or REJECTED"),
        (lambda d: d["cveMetadata"].update(dateUpdated="soon"), "dateUpdated is not an ISO 8601"),
        (lambda d: d["containers"].pop("cna"), "containers.cna must be an object, not null"),
        (lambda d: d["containers"]["cna"].update(metrics={}), "containers.cna.metrics must be a list"),
        (
            lambda d: d["containers"]["cna"]["metrics"][0]["cvssV4_0"].update(baseScore="high"),
            "cvssV4_0.baseScore must be a number, not a string",
        ),
    ],
)
def test_broken_records_raise_feed_error(change, problem):
    document = copy.deepcopy(load("CVE-2025-4565.json"))
    change(document)

    with pytest.raises(FeedError) as caught:
        cve5.parse_record(document, source="CVE-2025-4565.json")
    assert problem in caught.value.problem


def test_an_nvd_record_is_not_a_cve_record():
    nvd_cve = json.loads((FIXTURES / "nvd" / "cve-api-2.0" / "CVE-2024-1086.json").read_text())

    with pytest.raises(FeedError, match="not a CVE JSON 5 record"):
        cve5.parse_record(nvd_cve)
