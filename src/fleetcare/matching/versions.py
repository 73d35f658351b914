"""Version ordering for every ecosystem fleetcare matches, with "cannot decide" for the rest.

A vulnerability range is only as good as the ordering it is evaluated with: `1.10 > 1.9` for
semver, `1.0~rc1 < 1.0` for dpkg, `1.1.1w > 1.1.1` for OpenSSL. This module turns a version string
into a `Version` whose `key` orders correctly within its `VersionScheme`, and says `None` when the
string is not a version of that scheme, so that callers report "cannot decide" instead of guessing.

    >>> v = parse_version(VersionScheme.PYPI, "2.0.6")
    >>> v < parse_version(VersionScheme.PYPI, "2.0.7")
    True
    >>> parse_version(VersionScheme.DEBIAN, "not a version") is None
    True
    >>> scheme_for_ecosystem("Debian:12")
    <VersionScheme.DEBIAN: 'debian'>

Where the orderings come from:

- univers implements PyPI (PEP 440 via packaging), semver, Go, Maven, NuGet, RubyGems, Composer,
  Alpine apk and RPM; we use it for those.
- Debian dpkg: univers validates and splits the version, but its comparison runs in pure Python
  at ~8 µs per comparison, which is too slow for the matching engine. We turn the parts into a
  tuple that sorts exactly like dpkg's `verrevcmp`, so that a comparison is a tuple comparison.
  The tests check this against univers on random versions.
- OpenWrt (opkg): no library implements it. opkg compares like dpkg but accepts version strings
  dpkg rejects (git hashes, leading letters), so it shares the dpkg key without dpkg's checks.
- Generic (C libraries in firmware and CPE bounds, e.g. `1.2.11`, `1.1.1w`, `9.3p1`, `2022.82`,
  `3.0.0-rc1`): univers' GenericVersion compares strings, so `1.10 < 1.9` and `3.0.0-rc1 >= 3.0.0`.
  Ours compares numbers as numbers, treats rc/beta/alpha/dev/pre/test as pre-releases and a
  letter after a number as a later patch (OpenSSL letters, OpenSSH `p1`).

Parsing is cached; compare keys (`a.key < b.key`) in hot loops, and only with `<` and `==`,
which are the operators every key type implements correctly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

from univers import versions as univers_versions
from univers.debian import Version as UniversDebianVersion

__all__ = [
    "SortKey",
    "Version",
    "VersionScheme",
    "compare_versions",
    "parse_version",
    "scheme_for_ecosystem",
    "upstream_version",
]


class SortKey(Protocol):
    """What a `Version.key` supports: `<` and `==` against keys of the same scheme."""

    def __lt__(self, other: Any, /) -> bool: ...


class VersionScheme(StrEnum):
    PYPI = "pypi"
    #: SemVer 2.0: npm, crates.io, Hex, Pub, SwiftURL, GitHub Actions and OSV `SEMVER` ranges.
    SEMVER = "semver"
    GO = "go"
    MAVEN = "maven"
    NUGET = "nuget"
    RUBYGEMS = "rubygems"
    COMPOSER = "composer"
    #: dpkg: Debian, Ubuntu.
    DEBIAN = "debian"
    #: apk: Alpine, Wolfi, Chainguard.
    ALPINE = "alpine"
    #: rpmvercmp with epoch: Red Hat, AlmaLinux, Rocky, SUSE, openSUSE, Mageia, openEuler...
    RPM = "rpm"
    #: OpenWrt packages.
    OPKG = "opkg"
    #: Upstream versions of C libraries, firmware components and NVD CPE bounds.
    GENERIC = "generic"


# OSV ecosystem (the part before any ":release" suffix) -> ordering.  Ecosystems absent here
# (OSS-Fuzz, Linux distributions we do not know, Bitnami, Hackage, ...) have no ordering we
# trust: their ECOSYSTEM ranges give "cannot decide" and only the `versions` list can match.
_ECOSYSTEM_SCHEMES: dict[str, VersionScheme] = {
    "PyPI": VersionScheme.PYPI,
    "npm": VersionScheme.SEMVER,
    "crates.io": VersionScheme.SEMVER,
    "Hex": VersionScheme.SEMVER,
    "Pub": VersionScheme.SEMVER,
    "SwiftURL": VersionScheme.SEMVER,
    "GitHub Actions": VersionScheme.SEMVER,
    "Go": VersionScheme.GO,
    "Maven": VersionScheme.MAVEN,
    "NuGet": VersionScheme.NUGET,
    "RubyGems": VersionScheme.RUBYGEMS,
    "Packagist": VersionScheme.COMPOSER,
    "Debian": VersionScheme.DEBIAN,
    "Ubuntu": VersionScheme.DEBIAN,
    "Alpine": VersionScheme.ALPINE,
    "Wolfi": VersionScheme.ALPINE,
    "Chainguard": VersionScheme.ALPINE,
    "Red Hat": VersionScheme.RPM,
    "AlmaLinux": VersionScheme.RPM,
    "Rocky Linux": VersionScheme.RPM,
    "SUSE": VersionScheme.RPM,
    "openSUSE": VersionScheme.RPM,
    "Mageia": VersionScheme.RPM,
    "openEuler": VersionScheme.RPM,
    "Photon OS": VersionScheme.RPM,
    "Azure Linux": VersionScheme.RPM,
    "OpenWrt": VersionScheme.OPKG,
    "Linux": VersionScheme.GENERIC,
    "generic": VersionScheme.GENERIC,
}


def scheme_for_ecosystem(ecosystem: str) -> VersionScheme | None:
    """The ordering of an OSV ecosystem such as "PyPI" or "Debian:12"; None if we have none."""
    base = ecosystem.partition(":")[0]
    return _ECOSYSTEM_SCHEMES.get(base)


class Version:
    """A parsed version: `text` as given, `key` ordering it within `scheme`.

    Versions of the same scheme compare with `<`, `<=`, `==`...; comparing versions of two
    different schemes is a programming error and raises TypeError.
    """

    __slots__ = ("key", "scheme", "text")

    def __init__(self, scheme: VersionScheme, text: str, key: SortKey) -> None:
        self.scheme = scheme
        self.text = text
        self.key = key

    def __repr__(self) -> str:
        return f"Version({self.scheme.value}, {self.text!r})"

    def _other_key(self, other: object) -> SortKey:
        if not isinstance(other, Version):
            raise TypeError(f"cannot compare Version with {type(other).__name__}")
        if other.scheme is not self.scheme:
            raise TypeError(f"cannot compare {self.scheme} and {other.scheme} versions")
        return other.key

    def __lt__(self, other: object) -> bool:
        return bool(self.key < self._other_key(other))

    def __gt__(self, other: object) -> bool:
        return bool(self._other_key(other) < self.key)

    def __le__(self, other: object) -> bool:
        return not self._other_key(other) < self.key

    def __ge__(self, other: object) -> bool:
        return not self.key < self._other_key(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version) or other.scheme is not self.scheme:
            return NotImplemented
        return bool(self.key == other.key)

    # Equal versions may have different texts ("1.0" == "1.0.0") and some keys hash by text.
    __hash__ = None  # type: ignore[assignment]


def parse_version(scheme: VersionScheme, text: str) -> Version | None:
    """Parse `text` in `scheme`; None if it is not a version of that scheme. Never raises."""
    return _parse_cached(scheme, text)


def compare_versions(scheme: VersionScheme, a: str, b: str) -> int | None:
    """-1, 0 or 1 as `a` sorts before, equal to or after `b`; None if either does not parse."""
    va, vb = _parse_cached(scheme, a), _parse_cached(scheme, b)
    if va is None or vb is None:
        return None
    if va.key < vb.key:
        return -1
    if vb.key < va.key:
        return 1
    return 0


_REPACK_SUFFIX = re.compile(r"[.+~](?:dfsg|ds|repack)[0-9]*$", re.IGNORECASE)
_APK_RELEASE = re.compile(r"-r[0-9]+$")


def upstream_version(scheme: VersionScheme | None, text: str) -> str:
    """The upstream part of a distribution package version, to compare with NVD CPE bounds.

    `1:1.2.13.dfsg-1+deb12u1` (Debian) -> `1.2.13`, `1.36.1-r5` (Alpine) -> `1.36.1`,
    `1.36.1-1` (OpenWrt) -> `1.36.1`, `1:1.1.1k-7.el8` (RPM) -> `1.1.1k`. NVD bounds name
    upstream releases; without this, a packaging revision reads as a later patch release.
    Other schemes return `text` unchanged.
    """
    text = text.strip()
    if scheme in (VersionScheme.DEBIAN, VersionScheme.OPKG, VersionScheme.RPM):
        epoch, colon, rest = text.partition(":")
        if colon and epoch.isdigit():
            text = rest
        if "-" in text:
            text = text.rpartition("-")[0]
        return _REPACK_SUFFIX.sub("", text)
    if scheme is VersionScheme.ALPINE:
        return _APK_RELEASE.sub("", text)
    return text


@lru_cache(maxsize=1 << 17)
def _parse_cached(scheme: VersionScheme, text: str) -> Version | None:
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if not stripped or len(stripped) > 256:
        return None
    try:
        key = _KEY_BUILDERS[scheme](stripped)
    except Exception:  # univers raises many kinds of errors on odd input; none may escape
        return None
    if key is None:
        return None
    return Version(scheme, text, key)


# --- univers-backed schemes ------------------------------------------------------------------


def _pypi_key(text: str) -> SortKey:
    # packaging's Version: its own comparison is a tuple comparison, ~0.1 µs.
    value: SortKey = univers_versions.PypiVersion(text).value
    return value


def _semver_key(text: str) -> SortKey:
    # SemVer ignores build metadata in precedence (section 10), univers does not: drop it.
    core = text.partition("+")[0]
    value: SortKey = univers_versions.SemverVersion(core).value
    return value


def _go_key(text: str) -> SortKey:
    # Go toolchain versions are written "go1.21.3"; modules "v1.2.3" or "v2.0.0+incompatible".
    if text.startswith("go"):
        text = text[2:]
    return _semver_key(text)


def _maven_key(text: str) -> SortKey:
    value: SortKey = univers_versions.MavenVersion(text).value
    return value


def _nuget_key(text: str) -> SortKey:
    value: SortKey = univers_versions.NugetVersion(text).value
    return value


def _rubygems_key(text: str) -> SortKey:
    value: SortKey = univers_versions.RubygemsVersion(text).value
    return value


def _composer_key(text: str) -> SortKey:
    value: SortKey = univers_versions.ComposerVersion(text.partition("+")[0]).value
    return value


def _alpine_key(text: str) -> SortKey:
    # The wrapper object itself: its `<` and `==` run apk's comparison (its `.value` is the raw
    # string, and its `<=` compares those strings, hence the rule to use only `<` and `==`).
    value: SortKey = univers_versions.AlpineLinuxVersion(text)
    return value


def _rpm_key(text: str) -> SortKey:
    value: SortKey = univers_versions.RpmVersion(text).value
    return value


# --- dpkg ordering as a tuple (Debian and OpenWrt) -------------------------------------------

_DIGITS_RUN = re.compile(r"([^0-9]*)([0-9]*)", re.ASCII)
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DPKG_END = ((0,), 0)


def _dpkg_char_weight(char: str) -> int:
    # dpkg: "~" sorts before the end of a part, letters before everything else, and the end
    # of a part (weight 0) before letters.
    if char == "~":
        return -1
    if char in _ASCII_LETTERS:
        return ord(char)
    return ord(char) + 256


def _dpkg_string_key(text: str) -> tuple[tuple[tuple[int, ...], int], ...]:
    """A tuple that sorts like dpkg's `verrevcmp` on one version part.

    The part alternates non-digit runs (compared character by character with the weights
    above, padded with weight 0) and digit runs (compared as numbers, missing = 0). Each run
    pair becomes `(weights + (0,), number)`; a final `((0,), 0)` stands for the padding of the
    shorter string, so plain tuple comparison gives dpkg's answer. Only the first pair can equal
    the padding, which is why no pair is ever stripped.
    """
    pairs: list[tuple[tuple[int, ...], int]] = []
    for non_digits, digits in _DIGITS_RUN.findall(text):
        if not non_digits and not digits:
            continue
        weights = (*(_dpkg_char_weight(c) for c in non_digits), 0)
        pairs.append((weights, int(digits) if digits else 0))
    if not pairs:
        pairs.append(_DPKG_END)
    pairs.append(_DPKG_END)
    return tuple(pairs)


# univers' Debian parser is untyped; these are the two entry points we use.
_debian_is_valid: Callable[[str], bool] = UniversDebianVersion.is_valid
_debian_parts: Callable[[str], Any] = UniversDebianVersion.from_string


def _debian_key(text: str) -> SortKey | None:
    # univers applies Debian policy's syntax rules (upstream starts with a digit, allowed
    # characters); only its parts are used, the comparison is ours.
    if not _debian_is_valid(text):
        return None
    parsed = _debian_parts(text)
    return (
        int(parsed.epoch or 0),
        _dpkg_string_key(parsed.upstream or ""),
        _dpkg_string_key(parsed.revision or ""),
    )


_WHITESPACE = re.compile(r"\s")


def _opkg_key(text: str) -> SortKey | None:
    # opkg splits "[epoch:]version[-revision]" like dpkg (revision after the last "-") and
    # compares each part with dpkg's algorithm, but accepts any characters in them.
    if _WHITESPACE.search(text):
        return None
    epoch_text, colon, rest = text.partition(":")
    if colon:
        if not epoch_text.isdigit() or not epoch_text.isascii():
            return None
        epoch = int(epoch_text)
    else:
        epoch, rest = 0, text
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    if not upstream:
        return None
    return (epoch, _dpkg_string_key(upstream), _dpkg_string_key(revision))


# --- generic upstream versions -----------------------------------------------------------------

_GENERIC_ALLOWED = re.compile(r"[0-9A-Za-z._+~-]+", re.ASCII)
_GENERIC_TOKENS = re.compile(r"[0-9]+|[a-z]+", re.ASCII)
#: Words that mark a pre-release when they follow a number: "3.0.0-rc1" < "3.0.0".
_PRE_RELEASE_RANK = {
    "dev": 0,
    "snapshot": 0,
    "alpha": 1,
    "beta": 2,
    "pre": 3,
    "preview": 3,
    "test": 3,
    "rc": 4,
}
_PRE, _END, _NUMBER = 0, 1, 2
_GENERIC_END = (_END, 0, "")
_GENERIC_ZERO = (_NUMBER, 0, "")


def _generic_key(text: str) -> SortKey | None:
    """Order upstream versions the way their projects mean them.

    Items are `(kind, number, letters)`: a number with the letters that follow it
    (`1w`, `3p`, `11dfsg`), a pre-release word, or the end of the version. Kinds sort
    pre-release < end < number, so `1.0-rc1 < 1.0 < 1.0.1` and `1.1.1 < 1.1.1w < 1.1.2`.
    Zeros right before a pre-release word or the end are dropped: `1.2.0 == 1.2`.
    """
    if _GENERIC_ALLOWED.fullmatch(text) is None:
        return None
    lowered = text.lower()
    if lowered[0] == "v":
        lowered = lowered[1:]
    if not lowered or not lowered[0].isdigit():
        return None
    items: list[tuple[int, int, str]] = []
    for token in _GENERIC_TOKENS.findall(lowered):
        if token[0].isdigit():
            items.append((_NUMBER, int(token), ""))
            continue
        rank = _PRE_RELEASE_RANK.get(token)
        if rank is not None:
            _drop_trailing_zeros(items)
            items.append((_PRE, rank, token))
        elif items[-1][0] == _NUMBER:
            kind, number, letters = items[-1]
            items[-1] = (kind, number, letters + token)
        else:  # letters after a pre-release word: "1.0-beta-x"
            items.append((_END, 0, token))
    _drop_trailing_zeros(items)
    items.append(_GENERIC_END)
    return tuple(items)


def _drop_trailing_zeros(items: list[tuple[int, int, str]]) -> None:
    while len(items) > 1 and items[-1] == _GENERIC_ZERO:
        items.pop()


_KEY_BUILDERS = {
    VersionScheme.PYPI: _pypi_key,
    VersionScheme.SEMVER: _semver_key,
    VersionScheme.GO: _go_key,
    VersionScheme.MAVEN: _maven_key,
    VersionScheme.NUGET: _nuget_key,
    VersionScheme.RUBYGEMS: _rubygems_key,
    VersionScheme.COMPOSER: _composer_key,
    VersionScheme.DEBIAN: _debian_key,
    VersionScheme.ALPINE: _alpine_key,
    VersionScheme.RPM: _rpm_key,
    VersionScheme.OPKG: _opkg_key,
    VersionScheme.GENERIC: _generic_key,
}
