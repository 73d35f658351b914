"""OSV affected evaluation: table-driven cases, real records, and two oracles under hypothesis
(a brute-force sort of all versions, and the OSV schema's pseudocode written out literally)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetcare.intel.records import AffectedPackage, AffectedRange, RangeEvent, VulnerabilityRecord
from fleetcare.matching.purl import parse_purl
from fleetcare.matching.ranges import compile_affected, match_affected, match_osv_record
from fleetcare.matching.verdict import Verdict
from fleetcare.matching.versions import VersionScheme, parse_version
from tests.matching.fixture_records import osv_record

KINDS = {"i": "introduced", "f": "fixed", "la": "last_affected", "l": "limit"}


def events(*specs: str) -> tuple[RangeEvent, ...]:
    """`events("i:0", "f:1.0.2")`"""
    return tuple(RangeEvent(KINDS[s.split(":", 1)[0]], s.split(":", 1)[1]) for s in specs)  # type: ignore[arg-type]


def pypi(
    *specs: str, range_type: str = "ECOSYSTEM", versions: tuple[str, ...] = ()
) -> AffectedPackage:
    ranges = (AffectedRange(range_type, events(*specs)),) if specs else ()  # type: ignore[arg-type]
    return AffectedPackage("PyPI", "example", ranges=ranges, versions=versions)


M, N, U = Verdict.MATCH, Verdict.NO_MATCH, Verdict.UNDECIDED


@pytest.mark.parametrize(
    ("affected", "version", "verdict"),
    [
        # introduced "0": every version before the fix
        (pypi("i:0", "f:1.0.2"), "0.0.1", M),
        (pypi("i:0", "f:1.0.2"), "1.0.1", M),
        (pypi("i:0", "f:1.0.2"), "1.0.2", N),  # exactly at fixed
        (pypi("i:0", "f:1.0.2"), "1.0.3", N),
        (pypi("i:0"), "999.0", M),  # never fixed
        # introduced is inclusive
        (pypi("i:1.0.0", "f:1.0.2"), "1.0.0", M),
        (pypi("i:1.0.0", "f:1.0.2"), "0.9.9", N),
        # several introduced/fixed pairs
        (pypi("i:1.0.0", "f:1.0.2", "i:3.0.0", "f:3.2.5"), "3.1.0", M),
        (pypi("i:1.0.0", "f:1.0.2", "i:3.0.0", "f:3.2.5"), "2.0.0", N),
        (pypi("i:1.0.0", "f:1.0.2", "i:3.0.0", "f:3.2.5"), "3.2.5", N),
        # events in any order: sorted by version first
        (pypi("i:3.0.0", "f:3.2.5", "i:1.0.0", "f:1.0.2"), "1.0.1", M),
        (pypi("f:3.2.5", "f:1.0.2", "i:3.0.0", "i:1.0.0"), "3.0.0", M),
        (pypi("f:3.2.5", "f:1.0.2", "i:3.0.0", "i:1.0.0"), "2.5", N),
        # last_affected is inclusive
        (pypi("i:0", "la:2.1.214"), "2.1.214", M),
        (pypi("i:0", "la:2.1.214"), "2.1.215", N),
        (pypi("i:1.0", "la:1.0"), "1.0", M),
        # limit: versions at or above every limit are out
        (pypi("i:1.0", "l:2.0"), "1.5", M),
        (pypi("i:1.0", "l:2.0"), "2.0", N),
        (pypi("i:1.0", "l:2.0"), "2.5", N),
        (pypi("i:1.0", "l:2.0", "l:3.0"), "2.5", M),  # below some limit
        (pypi("i:1.0", "l:*"), "50.0", M),  # "*" is infinity
        (pypi("i:0", "f:2.0", "l:1.5"), "1.7", N),
        # pre-releases and PEP 440 normalisation
        (pypi("i:0", "f:2.0"), "2.0rc1", M),
        (pypi("i:0", "f:2.0"), "2.0.0", N),
        # the versions list, alone or beside ranges
        (pypi(versions=("0.0.1",)), "0.0.1", M),
        (pypi(versions=("0.0.1",)), "0.0.2", N),
        (pypi(versions=("2.0",)), "2.0.0", M),  # equal as PEP 440 versions
        (pypi("i:0", "f:1.0", versions=("5.0",)), "5.0", M),
        # cannot decide
        (pypi("i:0", "f:1.0"), "not a version!", U),
        (pypi("i:0", "f:not a version!"), "1.0", U),
        (pypi("i:0", "f:1.0"), "", U),
        (pypi(), "1.0", U),  # neither ranges nor versions
    ],
)
def test_affected_versions(affected, version, verdict):
    assert compile_affected(affected).evaluate(version).verdict is verdict


def test_git_ranges_cannot_be_evaluated_from_a_version():
    git_only = AffectedPackage(
        "", "", ranges=(AffectedRange("GIT", events("i:0", "f:466af814523c"), repo="https://x"),)
    )
    result = compile_affected(git_only).evaluate("1.0")
    assert result.verdict is U
    assert "GIT ranges (commits)" in result.reason


def test_commit_hashes_in_the_versions_list_are_not_tags():
    """CVE 5 records put affected commits in `versions`; they must not read as versions."""
    affected = AffectedPackage(
        "",
        "",
        ranges=(AffectedRange("GIT", events("i:0"), repo="https://github.com/a/b"),),
        versions=("4e98d57809dacab1cbe625fddeec1a290c478ea9", "1234567abc", "20230101"),
    )
    rule = compile_affected(affected)
    assert rule.evaluate("1234567abc").verdict is M  # the exact string is still listed
    assert rule.evaluate("1234567abc.0").verdict is N
    assert rule.evaluate("4").verdict is N
    assert rule.evaluate("v20230101").verdict is M  # a date tag is a tag


def test_git_ranges_match_through_the_versions_list():
    affected = AffectedPackage(
        "PyPI",
        "requests",
        ranges=(
            AffectedRange(
                "GIT", events("i:0", "f:74ea7cf7"), repo="https://github.com/psf/requests"
            ),
        ),
        versions=("2.30.0",),
    )
    rule = compile_affected(affected)
    assert rule.evaluate("2.30.0").verdict is M
    refused = rule.evaluate("2.31.0")
    assert refused.verdict is N
    assert "evaluated only through that list" in refused.reason


@pytest.mark.parametrize(
    ("ecosystem", "range_type"),
    [("Bitnami", "ECOSYSTEM"), ("OSS-Fuzz", "ECOSYSTEM"), ("Hackage", "ECOSYSTEM")],
)
def test_ecosystem_without_ordering_cannot_decide(ecosystem, range_type):
    affected = AffectedPackage(
        ecosystem, "x", ranges=(AffectedRange(range_type, events("i:0", "f:2.0")),)
    )
    result = compile_affected(affected).evaluate("1.0")
    assert result.verdict is U
    assert "no version ordering" in result.reason


def test_semver_ranges_use_semver_whatever_the_ecosystem():
    affected = AffectedPackage(
        "PyPI", "x", ranges=(AffectedRange("SEMVER", events("i:0", "f:1.2.3")),)
    )
    rule = compile_affected(affected)
    assert rule.evaluate("1.2.3-rc.1").verdict is M  # semver pre-release
    assert rule.evaluate("1.2.3").verdict is N


# --- reasons -----------------------------------------------------------------------------


def test_reason_names_package_version_interval_and_range_type():
    record = osv_record("PYSEC-2023-212")
    result = match_osv_record(parse_purl("pkg:pypi/urllib3@2.0.6"), record)
    assert result.verdict is M
    assert result.reason == "PyPI urllib3 2.0.6 in [2.0.0, 2.0.7) (ECOSYSTEM range)"
    assert result.fixed_version == "2.0.7"


def test_last_affected_has_no_fixed_version():
    result = compile_affected(pypi("i:0", "la:2.1.214")).evaluate("2.1.0")
    assert result.reason == "PyPI example 2.1.0 in [0, 2.1.214] (ECOSYSTEM range)"
    assert result.fixed_version is None


def test_listed_version_reason():
    result = compile_affected(pypi(versions=("0.0.1",))).evaluate("0.0.1")
    assert result.reason == "PyPI example 0.0.1 is listed in the affected versions"


def test_no_match_reason_lists_the_intervals():
    result = match_osv_record(parse_purl("pkg:pypi/urllib3@2.0.7"), osv_record("PYSEC-2023-212"))
    assert result.verdict is N
    assert "outside [0, 1.26.18), [2.0.0, 2.0.7) (ECOSYSTEM range)" in result.reason


# --- real records ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record_id", "purl", "verdict"),
    [
        # urllib3: ECOSYSTEM events out of order (2.0.0, 2.0.7, 0, 1.26.18) beside a GIT range
        ("PYSEC-2023-212", "pkg:pypi/urllib3@1.26.17", M),
        ("PYSEC-2023-212", "pkg:pypi/urllib3@1.26.18", N),
        ("PYSEC-2023-212", "pkg:pypi/urllib3@2.0.6", M),
        ("PYSEC-2023-212", "pkg:pypi/urllib3@2.0.7", N),
        ("PYSEC-2023-212", "pkg:pypi/URLLIB3@2.0.0", M),
        ("PYSEC-2023-212", "pkg:npm/urllib3@2.0.6", N),  # other ecosystem
        # Go: SEMVER with introduced "1.19.0-0" and pseudo-versions
        ("GO-2022-0969", "pkg:golang/stdlib@1.18.5", M),
        ("GO-2022-0969", "pkg:golang/stdlib@1.18.6", N),
        ("GO-2022-0969", "pkg:golang/stdlib@go1.19.0", M),
        ("GO-2022-0969", "pkg:golang/stdlib@1.19.1", N),
        ("GO-2022-0969", "pkg:golang/golang.org/x/net@v0.0.0-20220906000000-aaaaaaaaaaaa", M),
        ("GO-2022-0969", "pkg:golang/golang.org/x/net@v0.1.0", N),
        # crates.io: introduced "0.0.0-0", two pairs
        ("RUSTSEC-2023-0006", "pkg:cargo/openssl-src@111.24.0%2B1.1.1s", M),
        ("RUSTSEC-2023-0006", "pkg:cargo/openssl-src@111.25.0", N),
        ("RUSTSEC-2023-0006", "pkg:cargo/openssl-src@300.0.11", M),
        ("RUSTSEC-2023-0006", "pkg:cargo/openssl-src@300.0.12", N),
        # Alpine, one entry per release branch
        ("CVE-2018-5407", "pkg:apk/alpine/openssl@1.0.2p-r0?distro=alpine-3.8.1", M),
        ("CVE-2018-5407", "pkg:apk/alpine/openssl@1.0.2q-r0?distro=alpine-3.8.1", N),
        ("CVE-2018-5407", "pkg:apk/alpine/openssl@1.0.2p-r0?distro=alpine-3.9.0", N),
        # Debian, per release, with the release from the distro qualifier
        ("DSA-5474-1", "pkg:deb/debian/intel-microcode@3.20230512.1?distro=debian-12", M),
        ("DSA-5474-1", "pkg:deb/debian/intel-microcode@3.20230808.1~deb12u1?distro=bookworm", N),
        ("DSA-5474-1", "pkg:deb/debian/intel-microcode@3.20230808.1~deb11u1?distro=bullseye", N),
        ("DSA-5474-1", "pkg:deb/debian/intel-microcode@3.20230808.1~deb11u1?distro=debian-12", M),
        # OSS-Fuzz C projects: GIT ranges, matched through the tags in the versions list
        ("OSV-2017-79", "pkg:generic/curl@7.58.0", M),
        ("OSV-2017-79", "pkg:generic/curl@7.74.0", M),
        ("OSV-2017-79", "pkg:generic/curl@7.75.0", N),
        ("OSV-2017-79", "pkg:generic/curl@7.56.1", N),
        ("OSV-2022-312", "pkg:generic/dnsmasq@2.87", M),
        ("OSV-2022-312", "pkg:generic/dnsmasq@2.91rc3", M),
        ("OSV-2022-312", "pkg:generic/dnsmasq@2.86", N),
        ("OSV-2022-312", "pkg:generic/dnsmasq@2.85", N),
    ],
)
def test_real_records(record_id, purl, verdict):
    name = "osv-DSA-5474-1" if record_id == "DSA-5474-1" else record_id
    assert match_osv_record(parse_purl(purl), osv_record(name)).verdict is verdict


def test_git_tag_match_says_so():
    result = match_osv_record(parse_purl("pkg:generic/curl@7.58.0"), osv_record("OSV-2017-79"))
    assert "git tag 'curl-7_58_0'" in result.reason


def test_purl_without_distro_assumes_the_release_and_says_so():
    record = osv_record("osv-DSA-5474-1")
    result = match_osv_record(parse_purl("pkg:deb/debian/intel-microcode@3.20230512.1"), record)
    assert result.verdict is M
    assert "no distro qualifier" in result.reason
    assert "Debian:11 assumed" in result.reason


def test_other_release_only():
    record = osv_record("CVE-2018-5407")
    result = match_osv_record(parse_purl("pkg:apk/alpine/openssl@1.0.2a-r0?distro=3.9"), record)
    assert result.verdict is N
    assert "only for other releases" in result.reason


def test_record_without_affected_packages_does_not_crash():
    empty = VulnerabilityRecord(id="GHSA-cfmr-vrgj-vqwv", source="osv")
    result = match_osv_record(parse_purl("pkg:generic/zlib@1.2.11"), empty)
    assert result.verdict is N


def test_match_affected_checks_the_package_key():
    affected = pypi("i:0")
    assert match_affected(parse_purl("pkg:pypi/other@1.0"), affected).verdict is N
    assert match_affected(parse_purl("pkg:pypi/example@1.0"), affected).verdict is M


def test_withdrawn_records_are_left_to_the_engine():
    """The rules evaluate what they are given; the engine skips withdrawn records."""
    import datetime as dt

    record = VulnerabilityRecord(
        id="X",
        source="osv",
        withdrawn=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        affected=(pypi("i:0"),),
    )
    assert match_osv_record(parse_purl("pkg:pypi/example@1.0"), record).verdict is M


# --- oracles ---------------------------------------------------------------------------------

version_text = st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)).map(
    lambda t: ".".join(map(str, t))
)


def _key(text: str):
    parsed = parse_version(VersionScheme.PYPI, text)
    assert parsed is not None
    return parsed.key


@settings(max_examples=300)
@given(st.lists(version_text, min_size=2, max_size=15, unique=True), st.data())
def test_introduced_fixed_pair_agrees_with_sorting(versions, data):
    introduced, fixed = sorted(
        data.draw(st.lists(st.sampled_from(versions), min_size=2, max_size=2, unique=True)),
        key=_key,
    )
    affected = pypi(f"i:{introduced}", f"f:{fixed}")
    ordered = sorted(versions, key=_key)
    expected = set(ordered[ordered.index(introduced) : ordered.index(fixed)])
    rule = compile_affected(affected)
    got = {v for v in versions if rule.evaluate(v).verdict is M}
    assert got == expected


def _pseudocode(version: str, specs: list[tuple[str, str]]) -> bool:
    """The OSV schema's IncludedInRanges/BeforeLimits for one range, written out literally."""
    v = _key(version)
    limits = [value for kind, value in specs if kind == "limit"]
    if limits and not any("*" in value or v < _key(value) for value in limits):
        return False
    order = sorted(
        (spec for spec in specs if spec[0] != "limit"),
        key=lambda spec: (0, 0) if spec == ("introduced", "0") else (1, _key(spec[1])),
    )  # a stable sort: equal versions keep their order
    vulnerable = False
    for kind, value in order:
        if kind == "introduced" and (value == "0" or v >= _key(value)):
            vulnerable = True
        elif kind == "fixed" and v >= _key(value):  # noqa: SIM114 - kept as the schema writes it
            vulnerable = False
        elif kind == "last_affected" and v > _key(value):
            vulnerable = False
    return vulnerable


event_spec = st.one_of(
    st.tuples(st.just("introduced"), st.one_of(st.just("0"), version_text)),
    st.tuples(st.sampled_from(["fixed", "last_affected", "introduced"]), version_text),
    st.tuples(st.just("limit"), version_text),
)


@settings(max_examples=500)
@given(st.lists(event_spec, min_size=1, max_size=8), st.lists(version_text, max_size=12))
def test_evaluation_follows_the_osv_pseudocode(specs, probes):
    affected = AffectedPackage(
        "PyPI",
        "example",
        ranges=(AffectedRange("ECOSYSTEM", tuple(RangeEvent(k, v) for k, v in specs)),),  # type: ignore[arg-type]
    )
    rule = compile_affected(affected)
    for version in [*probes, *(v for _, v in specs if v != "0")]:
        expected = _pseudocode(version, specs)
        assert (rule.evaluate(version).verdict is M) == expected, (version, specs)


@settings(max_examples=200)
@given(
    st.lists(version_text, min_size=2, max_size=8, unique=True),
    st.lists(version_text),
    st.randoms(),
)
def test_event_order_does_not_matter(bounds, probes, rnd: random.Random):
    ordered = sorted(bounds, key=_key)
    specs = [f"{'i' if n % 2 == 0 else 'f'}:{v}" for n, v in enumerate(ordered)]
    shuffled = specs[:]
    rnd.shuffle(shuffled)
    sorted_rule, shuffled_rule = compile_affected(pypi(*specs)), compile_affected(pypi(*shuffled))
    for version in probes + bounds:
        assert sorted_rule.evaluate(version).verdict is shuffled_rule.evaluate(version).verdict
