"""Package identity for matching: purl type -> OSV ecosystem, normalised names, distro releases.

An SBOM names a component by purl (`pkg:pypi/Django_REST@1.0`); an OSV record names the affected
package by ecosystem and name (`PyPI`, `django-rest`) and sometimes a purl. Both are reduced to
a `PackageKey(ecosystem, name)` with the name normalised the way that ecosystem compares names
(PEP 503 for PyPI, lower case where the registry is case-insensitive, `group:artifact` for Maven,
`@scope/name` for npm, the module path for Go). The engine indexes affected packages by key and
looks a component's keys up to find its candidate records.

    >>> component = parse_purl(
    ...     "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=debian-12&upstream=zlib")
    >>> component.keys
    (PackageKey(ecosystem='Debian', name='zlib1g'), PackageKey(ecosystem='Debian', name='zlib'))
    >>> release_applies("Debian:12", component.release)
    True

Distribution releases. Debian, Ubuntu, Alpine and the RPM distributions publish one affected
entry per release ("Debian:12", "Alpine:v3.18", "Rocky Linux:9"). A component's release comes
from its purl `distro` qualifier ("debian-12", "bookworm", "alpine-3.18.4", "rhel-9.2"). An entry
applies when the numbers of its release are a prefix of the component's ("12" fits "12.4";
"3.18" fits "3.18.4"; codenames are translated first). When the purl has no `distro` qualifier
the release is unknown: `release_applies` returns None and the entry is still evaluated, because
a silently missed vulnerability costs more than a finding the analyst dismisses; the reason then
says which release was assumed.

Extra keys: a distro purl with an `upstream` qualifier also yields the source package's key
(OSV distro advisories name source packages); a `generic` purl also yields an `OSS-Fuzz` key
(OSS-Fuzz names C projects like curl or dnsmasq by their own name); a `github` purl yields a
`GitHub Actions` key and a `git` key for records that only give a repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from packageurl import PackageURL

from fleetcare.intel.records import AffectedPackage
from fleetcare.matching.versions import VersionScheme, scheme_for_ecosystem

__all__ = [
    "ComponentPurl",
    "InvalidPurl",
    "PackageKey",
    "affected_key",
    "normalise_name",
    "parse_purl",
    "release_applies",
    "split_ecosystem",
]


class InvalidPurl(ValueError):
    """The string is not a package URL we can read; the message says what is wrong."""


class PackageKey(NamedTuple):
    """Candidate-selection key: OSV ecosystem without release, and the normalised name."""

    ecosystem: str
    name: str

    def as_text(self) -> str:
        """One string for a database column: "PyPI:urllib3", "Maven:org.apache:log4j"."""
        return f"{self.ecosystem}:{self.name}"

    @classmethod
    def from_text(cls, text: str) -> PackageKey:
        ecosystem, _, name = text.partition(":")
        return cls(ecosystem, name)


@dataclass(frozen=True, slots=True)
class ComponentPurl:
    """A component as identified by its purl, normalised for matching."""

    purl: str
    #: OSV ecosystem without release ("PyPI", "Debian"), or the purl type when OSV has none.
    ecosystem: str
    #: The name as `ecosystem` compares names ("django-rest", "org.apache:log4j", "@scope/pkg").
    name: str
    #: The version as the ecosystem writes it (an rpm `epoch` qualifier folded in), or None.
    version: str | None
    #: How `version` is ordered; None when fleetcare knows no ordering for this purl type.
    scheme: VersionScheme | None
    #: The `distro` qualifier as given ("debian-12", "bookworm"), or None.
    release: str | None
    #: Every key under which candidate records are looked up; the first is (ecosystem, name).
    keys: tuple[PackageKey, ...]


# purl type -> OSV ecosystem, for types whose namespace does not change the ecosystem.
_TYPE_ECOSYSTEMS = {
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "nuget": "NuGet",
    "gem": "RubyGems",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
    "swift": "SwiftURL",
    "hackage": "Hackage",
    "cran": "CRAN",
    "conan": "ConanCenter",
    "bitnami": "Bitnami",
    "github": "GitHub Actions",
    "opkg": "OpenWrt",
    "generic": "generic",
}
_DEB_ECOSYSTEMS = {"debian": "Debian", "raspbian": "Debian", "ubuntu": "Ubuntu"}
_APK_ECOSYSTEMS = {
    "alpine": "Alpine",
    "wolfi": "Wolfi",
    "chainguard": "Chainguard",
    "openwrt": "OpenWrt",
}
_RPM_ECOSYSTEMS = {
    "redhat": "Red Hat",
    "rhel": "Red Hat",
    "almalinux": "AlmaLinux",
    "alma": "AlmaLinux",
    "rocky": "Rocky Linux",
    "rockylinux": "Rocky Linux",
    "opensuse": "openSUSE",
    "suse": "SUSE",
    "sles": "SUSE",
    "mageia": "Mageia",
    "openeuler": "openEuler",
    "photon": "Photon OS",
    "azurelinux": "Azure Linux",
    "mariner": "Azure Linux",
}
#: Ecosystems whose ":suffix" is a distribution release (elsewhere it is a registry URL).
_RELEASE_ECOSYSTEMS = frozenset(
    {*_DEB_ECOSYSTEMS.values(), *_APK_ECOSYSTEMS.values(), *_RPM_ECOSYSTEMS.values()}
    | {"Alpaquita", "BellSoft Hardened Containers", "TuxCare", "Echo", "MinimOS"}
)
_CASE_INSENSITIVE = frozenset(
    {
        "npm",
        "Maven",
        "Go",
        "NuGet",
        "RubyGems",
        "Packagist",
        "Hex",
        "Pub",
        "CRAN",
        "ConanCenter",
        "Bitnami",
        "GitHub Actions",
        "OpenWrt",
        "generic",
        "OSS-Fuzz",
        "git",
    }
    | _RELEASE_ECOSYSTEMS
)
_PEP503_SEPARATORS = re.compile(r"[-_.]+")
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def normalise_name(ecosystem: str, name: str) -> str:
    """`name` as `ecosystem` (without release suffix) compares package names."""
    name = name.strip()
    if ecosystem == "PyPI":
        return _PEP503_SEPARATORS.sub("-", name).lower()
    if ecosystem == "crates.io":  # crates.io treats "-" and "_" as the same name
        return name.lower().replace("_", "-")
    if ecosystem in {"SwiftURL", "git"}:
        return _repository_path(name)
    if ecosystem in _CASE_INSENSITIVE:
        # Go module paths are case-sensitive in theory; in practice a differently-cased path is
        # the same repository, and a missed candidate costs more than an extra evaluation.
        return name.lower()
    return name


def _repository_path(url: str) -> str:
    """`https://github.com/Owner/Repo.git` -> `github.com/owner/repo`."""
    path = _URL_SCHEME.sub("", url.strip().lower())
    if path.startswith("git@"):  # scp-like "git@github.com:owner/repo.git"
        path = path[4:].replace(":", "/", 1)
    return path.removesuffix("/").removesuffix(".git")


def split_ecosystem(ecosystem: str) -> tuple[str, str | None]:
    """`"Debian:12"` -> `("Debian", "12")`; `"Maven:https://..."` -> `("Maven", None)`."""
    base, colon, suffix = ecosystem.partition(":")
    if colon and base in _RELEASE_ECOSYSTEMS and suffix:
        return base, suffix
    return base, None


def affected_key(affected: AffectedPackage) -> PackageKey | None:
    """The candidate key of an OSV `affected[]` entry; None if it names no package.

    The ecosystem and name are preferred over the purl: OSV requires them, and purls in real
    records are sometimes malformed (`pkg:alpine/mariadb`). Entries that only give a GIT range
    are keyed by repository (`("git", "github.com/owner/repo")`).
    """
    base, _ = split_ecosystem(affected.ecosystem)
    if base and affected.name:
        return PackageKey(base, normalise_name(base, affected.name))
    if affected.purl:
        try:
            return parse_purl(affected.purl).keys[0]
        except InvalidPurl:
            pass
    for affected_range in affected.ranges:
        if affected_range.type == "GIT" and affected_range.repo:
            return PackageKey("git", normalise_name("git", affected_range.repo))
    return None


def parse_purl(purl: str) -> ComponentPurl:
    """Read a component's purl; raises InvalidPurl if it cannot be read. Cached."""
    return _parse_purl_cached(purl)


@lru_cache(maxsize=1 << 14)
def _parse_purl_cached(purl: str) -> ComponentPurl:
    try:
        parsed = PackageURL.from_string(purl.strip())
    except ValueError as error:
        raise InvalidPurl(f"{purl!r} is not a package URL: {error}") from None
    purl_type = parsed.type.lower()
    namespace = parsed.namespace or ""
    qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    ecosystem = _ecosystem_of(purl_type, namespace.lower())
    name = normalise_name(ecosystem, _package_name(purl_type, namespace, parsed.name))
    version = parsed.version or None
    epoch = qualifiers.get("epoch")
    if purl_type == "rpm" and version and epoch and ":" not in version:
        version = f"{epoch}:{version}"
    keys = [PackageKey(ecosystem, name)]
    source = _source_package(purl_type, qualifiers.get("upstream"))
    if source:
        keys.append(PackageKey(ecosystem, normalise_name(ecosystem, source)))
    if purl_type == "generic":
        keys.append(PackageKey("OSS-Fuzz", name))
    if purl_type == "github":
        keys.append(PackageKey("git", f"github.com/{name}"))
    return ComponentPurl(
        purl=purl,
        ecosystem=ecosystem,
        name=name,
        version=version,
        scheme=_scheme_of(purl_type, ecosystem),
        release=qualifiers.get("distro") or None,
        keys=tuple(dict.fromkeys(keys)),
    )


def _ecosystem_of(purl_type: str, namespace: str) -> str:
    if purl_type == "deb":
        return _DEB_ECOSYSTEMS.get(namespace, "Debian")
    if purl_type == "apk":
        return _APK_ECOSYSTEMS.get(namespace, "Alpine")
    if purl_type == "rpm":
        return _RPM_ECOSYSTEMS.get(namespace, namespace or "rpm")
    return _TYPE_ECOSYSTEMS.get(purl_type, purl_type)


def _scheme_of(purl_type: str, ecosystem: str) -> VersionScheme | None:
    if purl_type == "rpm":
        return VersionScheme.RPM
    if purl_type == "apk" and ecosystem != "OpenWrt":
        return VersionScheme.ALPINE
    return scheme_for_ecosystem(ecosystem)


def _package_name(purl_type: str, namespace: str, name: str) -> str:
    if not namespace:
        return name
    if purl_type == "maven":
        return f"{namespace}:{name}"
    if purl_type in {"npm", "golang", "composer", "github", "swift"}:
        return f"{namespace}/{name}"
    # deb/apk/rpm namespaces are the vendor; pypi, cargo, gem and generic have none that OSV uses.
    return name


def _source_package(purl_type: str, upstream: str | None) -> str | None:
    """The source package named by an `upstream` qualifier (syft writes these)."""
    if not upstream or purl_type not in {"deb", "apk", "rpm"}:
        return None
    if purl_type == "rpm" and upstream.endswith(".src.rpm"):
        # "openssl-1.1.1k-7.el8.src.rpm": name, then version and release after the last dashes.
        parts = upstream.removesuffix(".src.rpm").rsplit("-", 2)
        return parts[0] if len(parts) == 3 else None
    return upstream.partition("@")[0].strip() or None


# --- distribution releases -----------------------------------------------------------------

_CODENAMES = {
    # Debian
    "buzz": "1.1",
    "rex": "1.2",
    "bo": "1.3",
    "hamm": "2.0",
    "slink": "2.1",
    "potato": "2.2",
    "woody": "3.0",
    "sarge": "3.1",
    "etch": "4",
    "lenny": "5",
    "squeeze": "6",
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
    # Ubuntu
    "trusty": "14.04",
    "xenial": "16.04",
    "bionic": "18.04",
    "focal": "20.04",
    "groovy": "20.10",
    "hirsute": "21.04",
    "impish": "21.10",
    "jammy": "22.04",
    "kinetic": "22.10",
    "lunar": "23.04",
    "mantic": "23.10",
    "noble": "24.04",
    "oracular": "24.10",
    "plucky": "25.04",
    "questing": "25.10",
}
_NUMBERS = re.compile(r"[0-9]+", re.ASCII)
_WORDS = re.compile(r"[a-z]+")


def _release_numbers(release: str) -> tuple[int, ...]:
    """The release's version numbers after translating codenames: "bookworm" -> (12,)."""
    lowered = release.lower()
    for word in _WORDS.findall(lowered):
        codename = _CODENAMES.get(word)
        if codename:
            return tuple(int(n) for n in codename.split("."))
    # "Ubuntu:Pro:14.04:LTS", "alpine-3.18.4", "rhel-9.2", "enterprise_linux:8::appstream"
    return tuple(int(n) for n in _NUMBERS.findall(lowered))


def release_applies(affected_ecosystem: str, component_release: str | None) -> bool | None:
    """Whether an affected entry's release covers the component's.

    True when the entry has no release or its release numbers prefix the component's;
    False when both are known and differ; None when the component's release is unknown.
    """
    _, release = split_ecosystem(affected_ecosystem)
    if release is None:
        return True
    if not component_release:
        return None
    wanted = _release_numbers(release)
    have = _release_numbers(component_release)
    if wanted and have:
        return have[: len(wanted)] == wanted
    # Releases without numbers ("sid", "edge", "stream"): compare the words.
    return set(_WORDS.findall(release.lower())) <= set(_WORDS.findall(component_release.lower()))
