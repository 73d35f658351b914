"""Version ordering per ecosystem: known orders, "cannot decide", and the hand-written keys
checked against univers (dpkg) and against their own documented rules (generic)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from univers.debian import Version as UniversDebian

from fleetcare.matching.versions import (
    VersionScheme,
    compare_versions,
    parse_version,
    scheme_for_ecosystem,
    upstream_version,
)

S = VersionScheme


@pytest.mark.parametrize(
    ("scheme", "lower", "higher"),
    [
        (S.PYPI, "2.0.6", "2.0.7"),
        (S.PYPI, "1.0rc1", "1.0"),
        (S.PYPI, "1.0", "1.0.post1"),
        (S.PYPI, "1.26.18", "2.0.0"),
        (S.PYPI, "9.0", "1!1.0"),  # epoch
        (S.SEMVER, "1.2.3-alpha.1", "1.2.3-alpha.beta"),
        (S.SEMVER, "1.2.3-rc.1", "1.2.3"),
        (S.SEMVER, "0.0.0-0", "0.0.0"),
        (S.SEMVER, "1.9.0", "1.10.0"),
        (S.GO, "v0.0.0-20210101000000-abcdefabcdef", "v0.1.0"),
        (S.GO, "1.19.0-0", "v1.19.0"),
        (S.GO, "go1.18.6", "1.19.1"),
        (S.MAVEN, "2.15.0-rc1", "2.15.0"),
        (S.MAVEN, "1.0-SNAPSHOT", "1.0"),
        (S.NUGET, "1.2.3-beta", "1.2.3"),
        (S.RUBYGEMS, "1.2.3.pre", "1.2.3"),
        (S.COMPOSER, "v1.2.3", "1.2.4"),
        (S.DEBIAN, "1.0~rc1", "1.0"),
        (S.DEBIAN, "1:1.2.11.dfsg-2+deb11u1", "1:1.2.11.dfsg-2+deb11u2"),
        (S.DEBIAN, "2.0-1", "1:1.0-1"),  # epoch wins
        (S.DEBIAN, "3.20230808.1~deb11u1", "3.20230808.1"),
        (S.DEBIAN, "1.2.1-2.2+wheezy2", "1.2.1-2.2+wheezy3"),
        (S.ALPINE, "1.0.2p-r5", "1.0.2q-r0"),
        (S.ALPINE, "1.2.3_rc1-r0", "1.2.3-r0"),
        (S.ALPINE, "10.4.24-r0", "10.4.25-r0"),
        (S.RPM, "1.0~rc1-1", "1.0-1"),
        (S.RPM, "1.2.11-30.el8", "1.2.11-31.el8"),
        (S.RPM, "2.0-1", "1:1.0-1"),
        (S.OPKG, "1.36.1-1", "1.36.1-2"),
        (S.OPKG, "2022-12-01-abcd1234-3", "2023-01-16-1dd1f3b6-1"),
        (S.OPKG, "r20028-43d71ad93e", "r20029-0000000000"),  # dpkg would reject these
        (S.OPKG, "2.86-3", "1:2.80-1"),
        (S.GENERIC, "1.2.11", "1.2.12"),
        (S.GENERIC, "1.9", "1.10"),
        (S.GENERIC, "1.1.1", "1.1.1w"),
        (S.GENERIC, "1.1.1w", "1.1.2"),
        (S.GENERIC, "1.0.2z", "1.0.2za"),
        (S.GENERIC, "1.0.2za", "1.0.2zg"),
        (S.GENERIC, "9.3", "9.3p1"),
        (S.GENERIC, "9.3p1", "9.3p2"),
        (S.GENERIC, "3.0.0-alpha1", "3.0.0-beta1"),
        (S.GENERIC, "3.0.0-beta1", "3.0.0-rc1"),
        (S.GENERIC, "3.0.0-rc1", "3.0.0"),
        (S.GENERIC, "6.8-rc1", "6.8"),
        (S.GENERIC, "6.7.3", "6.8-rc1"),
        (S.GENERIC, "2.87test9", "2.87rc1"),
        (S.GENERIC, "2.87rc1", "2.87"),
        (S.GENERIC, "2022.82", "2022.83"),
        (S.GENERIC, "2020.81", "2022.82"),
        (S.GENERIC, "7.82.0", "8.4.0"),
        (S.GENERIC, "1.33.2", "1.36.1"),
        (S.GENERIC, "2.4.57", "2.4.58"),
        (S.GENERIC, "0.9.33.2", "1.0.40"),
        (S.GENERIC, "1.2.11", "1.2.11.1"),
        (S.GENERIC, "2020-06-08-5a8b3662", "2021-05-22-b8e9ea02"),
    ],
)
def test_orders(scheme, lower, higher):
    low, high = parse_version(scheme, lower), parse_version(scheme, higher)
    assert low is not None
    assert high is not None
    assert low < high
    assert high > low
    assert low <= high
    assert not high <= low
    assert low != high
    assert compare_versions(scheme, lower, higher) == -1
    assert compare_versions(scheme, higher, lower) == 1


@pytest.mark.parametrize(
    ("scheme", "one", "other"),
    [
        (S.PYPI, "2.0", "2.0.0"),
        (S.SEMVER, "1.2.3+build.5", "1.2.3"),  # build metadata has no precedence
        (S.SEMVER, "v1.2.3", "1.2.3"),
        (S.GO, "v2.0.0+incompatible", "2.0.0"),
        (S.MAVEN, "1.0", "1.0.0"),
        (S.DEBIAN, "1.0", "1.0-0"),
        (S.DEBIAN, "0:1.0", "1.0"),
        (S.OPKG, "1.0-0", "1.0"),
        (S.GENERIC, "1.2", "1.2.0"),
        (S.GENERIC, "v1.2.0", "1.2"),
        (S.GENERIC, "1.0.0-rc1", "1.0-rc1"),
        (S.GENERIC, "6.8-rc1", "6.8rc1"),
        (S.GENERIC, "1.1.1W", "1.1.1w"),
    ],
)
def test_equal(scheme, one, other):
    assert parse_version(scheme, one) == parse_version(scheme, other)
    assert compare_versions(scheme, one, other) == 0


@pytest.mark.parametrize(
    ("scheme", "text"),
    [
        (S.PYPI, "junk!!"),
        (S.PYPI, ""),
        (S.SEMVER, "not-a-version"),
        (S.DEBIAN, "r1234"),  # Debian upstream versions start with a digit
        (S.DEBIAN, "abc"),
        (S.ALPINE, "foo"),
        (S.OPKG, "1.0 beta"),
        (S.OPKG, "x:1.0"),
        (S.GENERIC, "abc"),
        (S.GENERIC, "r1234"),
        (S.GENERIC, "1:2.0"),
        (S.GENERIC, "1.2 3"),
        (S.GENERIC, "*"),
        (S.GENERIC, "-"),
        (S.GENERIC, ""),
        (S.GENERIC, "   "),
    ],
)
def test_unparsable_versions_cannot_be_decided(scheme, text):
    assert parse_version(scheme, text) is None
    assert compare_versions(scheme, text, "1.0") is None


@pytest.mark.parametrize("scheme", list(S))
def test_no_input_crashes_the_parser(scheme):
    for text in ["", "\x00", "💥", "1" * 300, "v", "~", "1..2", "-1", "1.0-", ":", "+", "1+"]:
        result = parse_version(scheme, text)
        assert result is None or result.text == text


def test_versions_of_different_schemes_do_not_compare():
    with pytest.raises(TypeError):
        _ = parse_version(S.PYPI, "1.0") < parse_version(S.GENERIC, "1.0")


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("PyPI", S.PYPI),
        ("npm", S.SEMVER),
        ("crates.io", S.SEMVER),
        ("Go", S.GO),
        ("Maven", S.MAVEN),
        ("Maven:https://maven.google.com", S.MAVEN),
        ("NuGet", S.NUGET),
        ("RubyGems", S.RUBYGEMS),
        ("Debian:12", S.DEBIAN),
        ("Ubuntu:Pro:14.04:LTS", S.DEBIAN),
        ("Alpine:v3.18", S.ALPINE),
        ("Red Hat:enterprise_linux:8::appstream", S.RPM),
        ("Rocky Linux:9", S.RPM),
        ("OpenWrt", S.OPKG),
        ("OSS-Fuzz", None),
        ("Bitnami", None),
        ("", None),
    ],
)
def test_scheme_for_ecosystem(ecosystem, scheme):
    assert scheme_for_ecosystem(ecosystem) == scheme


# --- dpkg key against univers ----------------------------------------------------------------

_DPKG_CHARS = "0123456789abcz.+~-"
upstream_text = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("0123456789"),
    st.text(alphabet=_DPKG_CHARS.replace("-", ""), max_size=8),
)
revision_text = st.text(alphabet="0123456789abz.+~", min_size=1, max_size=6)
debian_version = st.builds(
    lambda epoch, upstream, revision: (
        (f"{epoch}:" if epoch is not None else "") + upstream + (f"-{revision}" if revision else "")
    ),
    st.one_of(st.none(), st.integers(0, 3)),
    upstream_text,
    st.one_of(st.none(), revision_text),
)


@settings(max_examples=400)
@given(debian_version, debian_version)
def test_debian_key_agrees_with_univers(a, b):
    ours = compare_versions(S.DEBIAN, a, b)
    if not (UniversDebian.is_valid(a) and UniversDebian.is_valid(b)):
        return
    assert ours is not None
    theirs_a, theirs_b = UniversDebian.from_string(a), UniversDebian.from_string(b)
    expected = -1 if theirs_a < theirs_b else (1 if theirs_b < theirs_a else 0)
    assert ours == expected, (a, b)


@settings(max_examples=200)
@given(st.lists(debian_version, min_size=2, max_size=8))
def test_opkg_orders_debian_versions_like_dpkg(texts):
    valid = [t for t in texts if UniversDebian.is_valid(t)]
    for a, b in itertools.pairwise(valid):
        assert compare_versions(S.OPKG, a, b) == compare_versions(S.DEBIAN, a, b)


# --- generic ordering properties -------------------------------------------------------------

generic_version = st.builds(
    lambda numbers, suffix, pre: ".".join(map(str, numbers)) + suffix + pre,
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.sampled_from(["", "", "", "a", "w", "z", "za", "p1", "p2"]),
    st.sampled_from(["", "", "", "-rc1", "-rc2", "-beta1", "-alpha", "test3"]),
)


@settings(max_examples=300)
@given(st.lists(generic_version, min_size=1, max_size=12))
def test_generic_order_is_total_and_consistent(texts):
    versions = [parse_version(S.GENERIC, t) for t in texts]
    assert all(v is not None for v in versions)
    ordered = sorted(versions)
    for a, b in itertools.pairwise(ordered):
        assert a <= b
        assert (a == b) == (compare_versions(S.GENERIC, a.text, b.text) == 0)


@given(st.lists(st.integers(0, 500), min_size=1, max_size=5), st.integers(1, 500))
def test_generic_numbers_compare_as_numbers(numbers, bump):
    base = ".".join(map(str, numbers))
    higher = ".".join(map(str, [*numbers[:-1], numbers[-1] + bump]))
    assert compare_versions(S.GENERIC, base, higher) == -1
    assert compare_versions(S.GENERIC, base, base + ".0") == 0
    assert compare_versions(S.GENERIC, base + "-rc1", base) == -1
    assert compare_versions(S.GENERIC, base, base + "a") == -1


@pytest.mark.parametrize(
    ("scheme", "text", "upstream"),
    [
        (S.DEBIAN, "1:1.2.13.dfsg-1+deb12u1", "1.2.13"),
        (S.DEBIAN, "7.88.1-10+deb12u5", "7.88.1"),
        (S.DEBIAN, "1.36.1", "1.36.1"),
        (S.DEBIAN, "2.4.57-2+ds1-1", "2.4.57-2"),  # upstream may contain "-": only the last goes
        (S.ALPINE, "1.36.1-r5", "1.36.1"),
        (S.ALPINE, "1.1.1w-r1", "1.1.1w"),
        (S.OPKG, "1.36.1-1", "1.36.1"),
        (S.OPKG, "2020-06-08-5a8b3662-2", "2020-06-08-5a8b3662"),
        (S.RPM, "1:1.1.1k-7.el8", "1.1.1k"),
        (S.PYPI, "2.0.6", "2.0.6"),
        (None, "1.2.3-4", "1.2.3-4"),
    ],
)
def test_upstream_version(scheme, text, upstream):
    assert upstream_version(scheme, text) == upstream
