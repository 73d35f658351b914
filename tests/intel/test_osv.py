"""OSV parsing: real records from six databases, hand-made edge cases, broken input, all.zip."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest

from fleetcare.core.errors import InvalidInput
from fleetcare.intel.feeds import FeedError, FeedWarning, osv
from fleetcare.intel.feeds.osv import ZipLimits
from fleetcare.intel.records import AffectedPackage, AffectedRange, RangeEvent, Severity
from tests.intel import FIXTURES

OSV = FIXTURES / "osv"
UTC = dt.UTC


def minimal(**fields: object) -> dict[str, object]:
    record: dict[str, object] = {"id": "TEST-2024-1", "modified": "2024-05-01T00:00:00Z"}
    record.update(fields)
    return record


def ev(kind: str, value: str) -> RangeEvent:
    return RangeEvent(kind, value)  # type: ignore[arg-type]


# --- real records -------------------------------------------------------------------------


def test_oss_fuzz_record_keeps_git_range_repo_and_versions():
    record = osv.read_record(OSV / "OSV-2017-79.json")

    assert record.id == "OSV-2017-79"
    assert record.source == "osv"
    assert record.aliases == ()
    assert record.summary == "Heap-buffer-overflow in fuzz_read_callback"
    assert record.published == dt.datetime(2021, 1, 13, 21, 57, 35, 291125, tzinfo=UTC)
    assert record.modified == dt.datetime(2022, 4, 13, 3, 4, 42, 850130, tzinfo=UTC)
    assert record.references == ("https://bugs.chromium.org/p/oss-fuzz/issues/detail?id=4785",)
    (package,) = record.affected
    assert (package.ecosystem, package.name, package.purl) == ("OSS-Fuzz", "curl", None)
    assert package.ranges == (
        AffectedRange(
            "GIT",
            (
                ev("introduced", "7ee59512f875604eb468fb6f3d26e39290f781c9"),
                ev("fixed", "ab6eb2ec0744074004980d0f98677e52b215941f"),
            ),
            repo="https://github.com/curl/curl.git",
        ),
    )
    assert len(package.versions) == 26
    assert package.versions[0] == "curl-7_57_0"
    assert package.versions[-1] == "tiny-curl-7_72_0"


def test_pypa_record_has_aliases_purl_both_range_types_and_a_scored_vector():
    record = osv.read_record(OSV / "PYSEC-2023-212.json")

    assert record.aliases == ("CVE-2023-45803", "GHSA-g4mx-q9vg-27p4")
    (package,) = record.affected
    assert (package.ecosystem, package.name, package.purl) == ("PyPI", "urllib3", "pkg:pypi/urllib3")
    git, ecosystem = package.ranges
    assert git == AffectedRange(
        "GIT",
        (ev("introduced", "0"), ev("fixed", "4e98d57809dacab1cbe625fddeec1a290c478ea9")),
        repo="https://github.com/urllib3/urllib3",
    )
    assert ecosystem == AffectedRange(
        "ECOSYSTEM",
        (
            ev("introduced", "2.0.0"),
            ev("fixed", "2.0.7"),
            ev("introduced", "0"),
            ev("fixed", "1.26.18"),
        ),
    )
    assert "2.0.6" in package.versions
    assert record.severities == (
        Severity("CVSS_V3", "CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.2),
    )
    assert len(record.references) == 4


def test_rustsec_record_has_two_semver_intervals_and_no_severity():
    record = osv.read_record(OSV / "RUSTSEC-2022-0014.json")

    assert record.aliases == ("CVE-2022-0778", "GHSA-x3mh-jvjw-3xwx")
    assert record.severities == ()
    assert record.affected == (
        AffectedPackage(
            ecosystem="crates.io",
            name="openssl-src",
            purl="pkg:cargo/openssl-src",
            ranges=(
                AffectedRange(
                    "SEMVER",
                    (
                        ev("introduced", "0.0.0-0"),
                        ev("fixed", "111.18.0"),
                        ev("introduced", "300.0.0"),
                        ev("fixed", "300.0.5"),
                    ),
                ),
            ),
        ),
    )


def test_ghsa_with_empty_affected_and_severity_still_gives_its_alias():
    record = osv.read_record(OSV / "GHSA-cfmr-vrgj-vqwv.json")

    assert record.aliases == ("CVE-2022-37434",)
    assert record.affected == ()
    assert record.severities == ()
    assert record.cwes == ()
    assert record.extra["schema_version"] == "1.2.0"


def test_alpine_record_with_a_package_less_git_entry():
    record = osv.read_record(OSV / "CVE-2018-5407.json")

    assert len(record.affected) == 7
    first = record.affected[0]
    assert (first.ecosystem, first.name, first.purl) == (
        "Alpine:v3.3",
        "openssl",
        "pkg:apk/alpine/openssl?arch=source",
    )
    assert first.ranges[0].events == (ev("introduced", "0"), ev("fixed", "1.0.2q-r0"))
    node = record.affected[-1]
    assert (node.ecosystem, node.name, node.purl) == ("", "", None)
    assert node.ranges == (
        AffectedRange(
            "GIT",
            (
                ev("introduced", "cf41627411886000429bde058a6594fb7f6d6d47"),
                ev("fixed", "03b825811ed4af0addcdf6e75bacb3dc1c4c5940"),
            ),
            repo="https://github.com/nodejs/node",
        ),
    )
    assert record.severities[0].base_score == 4.7
    # The record lists some URLs under several reference types; each is kept once.
    assert len(record.references) == len(set(record.references))
    assert record.references.count("https://www.exploit-db.com/exploits/45785/") == 1


def test_ubuntu_record_keeps_upstream_and_its_word_severity():
    record = osv.read_record(OSV / "UBUNTU-CVE-2025-38094.json")

    assert record.upstream == ("CVE-2025-38094",)
    assert record.related == ()
    assert record.severities == (Severity("Ubuntu", None, None, rating="medium"),)
    assert record.affected[0].ecosystem == "Ubuntu:Pro:14.04:LTS"
    assert record.affected[0].ranges[0].events == (ev("introduced", "0"),)


def test_go_zero_time_reads_as_unknown():
    record = osv.read_record(OSV / "GO-2022-0969.json")

    assert record.modified is None  # the file says 0001-01-01T00:00:00Z
    assert record.published == dt.datetime(2022, 9, 12, 20, 23, 6, tzinfo=UTC)
    stdlib, net = record.affected
    assert (stdlib.ecosystem, stdlib.name) == ("Go", "stdlib")
    assert stdlib.ranges[0].events == (
        ev("introduced", "0"),
        ev("fixed", "1.18.6"),
        ev("introduced", "1.19.0-0"),
        ev("fixed", "1.19.1"),
    )
    assert net.name == "golang.org/x/net"
    assert net.ranges[0].events[-1] == ev("fixed", "0.0.0-20220906165146-f3363e06e74c")


def test_github_record_gives_cwe_and_database_severity():
    record = osv.read_record(OSV / "GHSA-9v2f-6vcg-3hgv.json")

    assert record.cwes == ("CWE-94",)
    assert record.extra["database_severity"] == "CRITICAL"
    assert record.severities[0].base_score == 9.8
    (package,) = record.affected
    assert (package.ecosystem, package.name) == ("PyPI", "Gradio")
    assert package.ranges == ()
    assert package.versions == ("4.36.1", "4.36.-1")


def test_red_hat_record_keeps_related_ids_apart_from_aliases():
    record = osv.read_record(OSV / "RHSA-2022_0216.json")

    assert record.id == "RHSA-2022:0216"
    assert record.aliases == ()
    assert record.related == ("CVE-2021-44832", "CVE-2021-45046", "CVE-2021-45105")
    assert record.severities[0].base_score == 8.1


def test_git_range_with_two_fixed_commits():
    record = osv.read_record(OSV / "CVE-2023-41045.json")

    assert record.affected[0].ranges[0].events == (
        ev("introduced", "0"),
        ev("fixed", "466af814523cffae9fbc7e77bab7472988f03c3e"),
        ev("fixed", "a101f4f12180fd3dfa7d3345188a099877a3c327"),
    )


def test_directory_gives_every_record():
    records = osv.load_records(OSV)

    assert len(records) == 10
    assert {r.id for r in records} >= {"OSV-2017-79", "PYSEC-2023-212", "RHSA-2022:0216"}


# --- hand-made edge cases ------------------------------------------------------------------


def test_withdrawn_and_other_scores_and_event_kinds():
    record = osv.parse_record(
        minimal(
            withdrawn="2024-06-01T12:00:00.123456789Z",
            severity=[
                {"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
                {
                    "type": "CVSS_V4",
                    "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                },
            ],
            affected=[
                {
                    "package": {"ecosystem": "npm", "name": "left-pad"},
                    "ranges": [
                        {
                            "type": "SEMVER",
                            "events": [{"introduced": "1.0.0"}, {"last_affected": "1.3.0"}],
                        },
                        {
                            "type": "GIT",
                            "repo": "https://example.org/left-pad.git",
                            "events": [{"introduced": "0"}, {"limit": "a" * 40}],
                        },
                    ],
                    "severity": [
                        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}
                    ],
                }
            ],
        )
    )

    assert record.withdrawn == dt.datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert [(s.kind, s.base_score) for s in record.severities] == [
        ("CVSS_V2", 7.5),
        ("CVSS_V4", 9.3),
    ]
    (package,) = record.affected
    assert package.ranges[0].events == (ev("introduced", "1.0.0"), ev("last_affected", "1.3.0"))
    assert package.ranges[1].events == (ev("introduced", "0"), ev("limit", "a" * 40))
    assert [(s.kind, s.base_score) for s in package.severities] == [("CVSS_V3", 7.5)]


def test_a_bad_vector_drops_that_score_only_and_warns():
    warnings: list[FeedWarning] = []
    record = osv.parse_record(
        minimal(
            severity=[
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"},
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                {"type": "CVSS_V4", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
            ]
        ),
        source="feed.json",
        warnings=warnings,
    )

    assert [s.base_score for s in record.severities] == [9.8]
    assert len(warnings) == 2
    assert warnings[0].source == "feed.json"
    assert warnings[0].record == "TEST-2024-1"
    assert "CVSS_V3" in warnings[0].problem
    assert "CVSS:4.0" in warnings[1].problem


def test_without_a_warning_list_dropped_scores_are_logged(caplog):
    osv.parse_record(minimal(severity=[{"type": "CVSS_V2", "score": "nonsense"}]))

    assert "dropped the CVSS_V2 score 'nonsense'" in caplog.text


def test_odd_cwe_ids_are_ignored_with_a_warning():
    warnings: list[FeedWarning] = []
    record = osv.parse_record(
        minimal(database_specific={"cwe_ids": ["CWE-79", "NVD-CWE-Other", "CWE-79"]}),
        warnings=warnings,
    )

    assert record.cwes == ("CWE-79",)
    assert [w.problem for w in warnings] == [
        "ignored 'NVD-CWE-Other' in database_specific.cwe_ids: not a CWE id"
    ]


def test_an_entry_with_neither_package_nor_git_range_is_dropped_with_a_warning():
    warnings: list[FeedWarning] = []
    record = osv.parse_record(
        minimal(affected=[{"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]),
        warnings=warnings,
    )

    assert record.affected == ()
    assert "names no package" in warnings[0].problem


# --- broken records ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "the record must be an object, not a list"),
        ({"modified": "2024-05-01T00:00:00Z"}, "the record has no 'id'"),
        ({"id": 7, "modified": "2024-05-01T00:00:00Z"}, "id must be a string, not a number"),
        ({"id": "X-1"}, "the record has no 'modified'"),
        (minimal(modified="yesterday"), "modified is not an ISO 8601 timestamp: 'yesterday'"),
        (minimal(published="2024-13-01T00:00:00Z"), "published is not an ISO 8601 timestamp"),
        (minimal(aliases="CVE-2024-1"), "aliases must be a list of strings, not a string"),
        (minimal(aliases=["CVE-2024-1", 2]), "aliases[1] must be a string, not a number"),
        (minimal(affected={"package": {}}), "affected must be a list, not an object"),
        (minimal(affected=[{"package": {"name": "x"}}]), "affected[0].package has no 'ecosystem'"),
        (
            minimal(affected=[{"package": {"ecosystem": "npm", "name": "x"},
                               "ranges": [{"type": "PEP440", "events": [{"introduced": "0"}]}]}]),
            "affected[0].ranges[0].type must be SEMVER, ECOSYSTEM or GIT, not 'PEP440'",
        ),
        (
            minimal(affected=[{"package": {"ecosystem": "npm", "name": "x"},
                               "ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]}]),
            "affected[0].ranges[0] is a GIT range without a repo",
        ),
        (
            minimal(affected=[{"package": {"ecosystem": "npm", "name": "x"},
                               "ranges": [{"type": "SEMVER",
                                           "events": [{"introduced": "0", "fixed": "1"}]}]}]),
            "affected[0].ranges[0].events[0] must have exactly one of introduced, fixed",
        ),
        (
            minimal(affected=[{"package": {"ecosystem": "npm", "name": "x"},
                               "ranges": [{"type": "SEMVER", "events": [{"fixed": "1"}]}]}]),
            "affected[0].ranges[0] has no introduced event",
        ),
        (
            minimal(affected=[{"package": {"ecosystem": "npm", "name": "x"},
                               "ranges": [{"type": "SEMVER", "events": [{"introduced": 0}]}]}]),
            "affected[0].ranges[0].events[0].introduced must be a string",
        ),
        (minimal(severity=[{"type": "CVSS_V3"}]), "severity[0] has no 'score'"),
        (minimal(references=[{"type": "WEB"}]), "references[0] has no 'url'"),
    ],
)
def test_broken_records_raise_feed_error_naming_file_record_and_problem(document, problem):
    with pytest.raises(FeedError) as caught:
        osv.parse_record(document, source="feeds/broken.json")

    error = caught.value
    assert isinstance(error, InvalidInput)
    assert problem in error.problem
    assert error.source == "feeds/broken.json"
    assert str(error).startswith("feeds/broken.json")
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        assert error.record == document["id"]
        assert f"record {document['id']}" in str(error)


def test_malformed_json_file_names_the_file(tmp_path: Path):
    path = tmp_path / "GHSA-bad.json"
    path.write_text('{"id": "GHSA-bad", "modified": ')

    with pytest.raises(FeedError, match=r"GHSA-bad\.json: malformed JSON"):
        osv.read_record(path)


def test_a_broken_file_in_a_directory_fails_the_whole_load(tmp_path: Path):
    (tmp_path / "a.json").write_bytes((OSV / "OSV-2017-79.json").read_bytes())
    (tmp_path / "b.json").write_text(json.dumps({"id": "B-1"}))

    with pytest.raises(FeedError) as caught:
        osv.load_records(tmp_path)
    assert caught.value.source == str(tmp_path / "b.json")
    assert caught.value.record == "B-1"


# --- all.zip --------------------------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def real_members() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(OSV.glob("*.json"))}


def test_all_zip_is_read_member_by_member(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", real_members())

    records = osv.load_records(archive)

    assert len(records) == 10
    assert [r.id for r in records][:2] == ["CVE-2018-5407", "CVE-2023-41045"]


def test_zip_iteration_is_lazy_and_a_late_broken_member_raises_with_its_name(tmp_path: Path):
    members = real_members()
    members["zz-broken.json"] = b'{"id": "ZZ-1", "modified": 42}'
    archive = make_zip(tmp_path / "all.zip", members)

    records = osv.iter_zip(archive)
    first = next(records)
    assert first.id == "CVE-2018-5407"
    with pytest.raises(FeedError) as caught:
        list(records)
    assert caught.value.record == "ZZ-1"
    assert caught.value.source == str(archive)
    assert "modified must be a string" in caught.value.problem


def test_zip_member_with_malformed_json_is_named(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", {"A-1.json": b"{not json"})

    with pytest.raises(FeedError) as caught:
        osv.load_records(archive)
    assert caught.value.record == "A-1.json"
    assert "malformed JSON" in caught.value.problem


def test_zip_with_too_many_members_is_refused_before_any_record(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", real_members())

    records = osv.iter_zip(archive, limits=ZipLimits(max_members=3))
    with pytest.raises(FeedError, match="the archive has 10 members, more than the 3 allowed"):
        next(records)


def test_zip_member_over_the_size_limit_is_refused(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", real_members())

    with pytest.raises(FeedError) as caught:
        list(osv.iter_zip(archive, limits=ZipLimits(max_member_bytes=2000)))
    assert "more than the 2000 allowed" in caught.value.problem
    assert caught.value.record is not None
    assert caught.value.record.endswith(".json")


def test_zip_bomb_is_refused_by_its_ratio(tmp_path: Path):
    padding = b" " * 5_000_000
    bomb = b'{"id": "BOMB-1", "modified": "2024-01-01T00:00:00Z"' + padding + b"}"
    archive = make_zip(tmp_path / "bomb.zip", {"BOMB-1.json": bomb})

    with pytest.raises(FeedError, match="refusing a likely zip bomb") as caught:
        list(osv.iter_zip(archive))
    assert caught.value.record == "BOMB-1.json"


def test_zip_whose_total_would_be_too_large_is_refused(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", real_members())

    with pytest.raises(FeedError, match="would inflate to"):
        list(osv.iter_zip(archive, limits=ZipLimits(max_total_bytes=10_000)))


def test_zip_member_that_lies_about_its_size_is_caught_while_reading(tmp_path: Path):
    content = b'{"id": "LIAR-1", "modified": "2024-01-01T00:00:00Z"}' + b" " * 4000
    archive = make_zip(tmp_path / "liar.zip", {"LIAR-1.json": content})
    data = bytearray(archive.read_bytes())
    # Rewrite the uncompressed size (4 bytes) in the local header and the central directory.
    true_size = len(content).to_bytes(4, "little")
    for offset in (i for i in range(len(data) - 4) if data[i : i + 4] == true_size):
        data[offset : offset + 4] = (60).to_bytes(4, "little")
    archive.write_bytes(bytes(data))

    with pytest.raises(FeedError) as caught:
        list(osv.iter_zip(archive))
    assert caught.value.record == "LIAR-1.json"


def test_truncated_or_corrupt_archives_raise_feed_error(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", real_members())
    data = archive.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])

    with pytest.raises(FeedError, match="not a readable zip archive"):
        list(osv.iter_zip(cut))

    flipped = bytearray(data)
    flipped[200] ^= 0xFF  # inside the first member's deflated data
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(flipped))
    with pytest.raises(FeedError):
        list(osv.iter_zip(corrupt))


def test_non_json_members_and_directories_are_skipped(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("PyPI/", b"")
        archive.writestr("README.txt", b"not a record")
        archive.writestr("PyPI/PYSEC-2023-212.json", (OSV / "PYSEC-2023-212.json").read_bytes())
    path = tmp_path / "all.zip"
    path.write_bytes(buffer.getvalue())

    assert [r.id for r in osv.load_records(path)] == ["PYSEC-2023-212"]


def test_forged_member_count_is_refused_before_the_directory_is_read(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", real_members())
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (60000).to_bytes(2, "little") * 2  # entries on disk, in total
    archive.write_bytes(bytes(data))

    with pytest.raises(FeedError, match="the archive has 60000 members, more than the 1000"):
        list(osv.iter_zip(archive, limits=ZipLimits(max_members=1000)))


def test_forged_directory_size_is_refused(tmp_path: Path):
    archive = make_zip(tmp_path / "all.zip", real_members())
    data = bytearray(archive.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = (3_000_000_000).to_bytes(4, "little")
    archive.write_bytes(bytes(data))

    with pytest.raises(FeedError, match="directory is 3000000000 bytes, too large"):
        list(osv.iter_zip(archive))


def test_zip64_member_count_is_read_from_the_zip64_record(tmp_path: Path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for n in range(65_600):  # past 65,535 entries the count only exists in zip64 form
            archive.writestr(f"{n}.json", b"{}")

    with pytest.raises(FeedError, match="the archive has 65600 members, more than the 65000"):
        list(osv.iter_zip(path, limits=ZipLimits(max_members=65_000)))
