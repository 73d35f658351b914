"""purl -> OSV ecosystem, name normalisation, candidate keys and distribution releases."""

from __future__ import annotations

import pytest

from fleetcare.intel.records import AffectedPackage, AffectedRange, RangeEvent
from fleetcare.matching.purl import (
    InvalidPurl,
    PackageKey,
    affected_key,
    parse_purl,
    release_applies,
)
from fleetcare.matching.versions import VersionScheme as S

K = PackageKey


@pytest.mark.parametrize(
    ("purl", "ecosystem", "name", "version", "scheme"),
    [
        (
            "pkg:pypi/Django_REST.framework@3.14.0",
            "PyPI",
            "django-rest-framework",
            "3.14.0",
            S.PYPI,
        ),
        ("pkg:npm/%40Babel/Core@7.0.0", "npm", "@babel/core", "7.0.0", S.SEMVER),
        ("pkg:npm/lodash@4.17.19", "npm", "lodash", "4.17.19", S.SEMVER),
        (
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            S.MAVEN,
        ),
        (
            "pkg:golang/github.com/gin-gonic/gin@v1.6.0#binding",
            "Go",
            "github.com/gin-gonic/gin",
            "v1.6.0",
            S.GO,
        ),
        ("pkg:golang/stdlib@1.19.1", "Go", "stdlib", "1.19.1", S.GO),
        ("pkg:cargo/openssl_src@111.24.0", "crates.io", "openssl-src", "111.24.0", S.SEMVER),
        ("pkg:nuget/Newtonsoft.Json@13.0.1", "NuGet", "newtonsoft.json", "13.0.1", S.NUGET),
        ("pkg:gem/rails@7.0.4", "RubyGems", "rails", "7.0.4", S.RUBYGEMS),
        (
            "pkg:composer/laravel/framework@10.0.0",
            "Packagist",
            "laravel/framework",
            "10.0.0",
            S.COMPOSER,
        ),
        (
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64",
            "Debian",
            "zlib1g",
            "1:1.2.13.dfsg-1",
            S.DEBIAN,
        ),
        (
            "pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.10",
            "Ubuntu",
            "openssl",
            "3.0.2-0ubuntu1.10",
            S.DEBIAN,
        ),
        (
            "pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64",
            "Alpine",
            "busybox",
            "1.36.1-r5",
            S.ALPINE,
        ),
        ("pkg:apk/wolfi/curl@8.4.0-r0", "Wolfi", "curl", "8.4.0-r0", S.ALPINE),
        (
            "pkg:rpm/redhat/openssl@1.1.1k-7.el8?epoch=1&arch=x86_64",
            "Red Hat",
            "openssl",
            "1:1.1.1k-7.el8",
            S.RPM,
        ),
        ("pkg:rpm/rocky/zlib@1.2.11-40.el9", "Rocky Linux", "zlib", "1.2.11-40.el9", S.RPM),
        ("pkg:opkg/openwrt/busybox@1.36.1-1", "OpenWrt", "busybox", "1.36.1-1", S.OPKG),
        ("pkg:generic/zlib@1.2.11", "generic", "zlib", "1.2.11", S.GENERIC),
        (
            "pkg:github/Eclipse/Paho.MQTT.golang@v1.4.3",
            "GitHub Actions",
            "eclipse/paho.mqtt.golang",
            "v1.4.3",
            S.SEMVER,
        ),
        ("pkg:conda/numpy@1.26.0", "conda", "numpy", "1.26.0", None),
    ],
)
def test_purl_to_ecosystem_and_name(purl, ecosystem, name, version, scheme):
    component = parse_purl(purl)
    assert component.ecosystem == ecosystem
    assert component.name == name
    assert component.version == version
    assert component.scheme == scheme
    assert component.keys[0] == K(ecosystem, name)


@pytest.mark.parametrize(
    ("purl", "extra_key"),
    [
        (
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=debian-12&upstream=zlib",
            K("Debian", "zlib"),
        ),
        ("pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl%403.0.11-1", K("Debian", "openssl")),
        ("pkg:apk/alpine/libcrypto3@3.1.4-r1?upstream=openssl", K("Alpine", "openssl")),
        (
            "pkg:rpm/redhat/openssl-libs@1.1.1k-7.el8?upstream=openssl-1.1.1k-7.el8.src.rpm",
            K("Red Hat", "openssl"),
        ),
        ("pkg:generic/curl@7.82.0", K("OSS-Fuzz", "curl")),
        ("pkg:github/owner/repo@v1", K("git", "github.com/owner/repo")),
    ],
)
def test_extra_candidate_keys(purl, extra_key):
    assert extra_key in parse_purl(purl).keys


def test_key_text_round_trip():
    key = parse_purl("pkg:maven/org.apache/log4j@1").keys[0]
    assert key.as_text() == "Maven:org.apache:log4j"
    assert PackageKey.from_text(key.as_text()) == key


@pytest.mark.parametrize("purl", ["not a purl", "pkg:", "pkg:pypi", "https://pypi.org/x", ""])
def test_invalid_purls_raise(purl):
    with pytest.raises(InvalidPurl):
        parse_purl(purl)


@pytest.mark.parametrize(
    ("affected", "key"),
    [
        (AffectedPackage("PyPI", "PyYAML"), K("PyPI", "pyyaml")),
        (AffectedPackage("PyPI", "zope.interface"), K("PyPI", "zope-interface")),
        (AffectedPackage("Debian:12", "intel-microcode"), K("Debian", "intel-microcode")),
        (
            AffectedPackage("Alpine:v3.12", "mariadb", purl="pkg:alpine/mariadb"),
            K("Alpine", "mariadb"),
        ),  # the malformed purl of a real record is not used
        (
            AffectedPackage("Maven:https://maven.google.com", "androidx.core:core"),
            K("Maven", "androidx.core:core"),
        ),
        (AffectedPackage("crates.io", "openssl-src"), K("crates.io", "openssl-src")),
        (AffectedPackage("npm", "@Babel/Core"), K("npm", "@babel/core")),
        (
            AffectedPackage("OSS-Fuzz", "dnsmasq", purl="pkg:generic/dnsmasq"),
            K("OSS-Fuzz", "dnsmasq"),
        ),
        (AffectedPackage("Ubuntu:Pro:14.04:LTS", "linux"), K("Ubuntu", "linux")),
        (AffectedPackage("", "", purl="pkg:pypi/Requests"), K("PyPI", "requests")),
        (
            AffectedPackage(
                "",
                "",
                ranges=(
                    AffectedRange(
                        "GIT",
                        (RangeEvent("introduced", "0"),),
                        repo="https://github.com/Owner/Repo.git",
                    ),
                ),
            ),
            K("git", "github.com/owner/repo"),
        ),
        (AffectedPackage("", ""), None),
    ],
)
def test_affected_key(affected, key):
    assert affected_key(affected) == key


@pytest.mark.parametrize(
    ("purl", "affected"),
    [
        ("pkg:pypi/pyyaml@5.3", AffectedPackage("PyPI", "PyYAML")),
        ("pkg:pypi/zope.interface@5.0", AffectedPackage("PyPI", "zope_interface")),
        ("pkg:cargo/openssl_src@111.0.0", AffectedPackage("crates.io", "openssl-src")),
        (
            "pkg:golang/GitHub.com/Sirupsen/logrus@v1.8.0",
            AffectedPackage("Go", "github.com/sirupsen/logrus"),
        ),
        (
            "pkg:deb/debian/intel-microcode@3.2?distro=bookworm",
            AffectedPackage("Debian:12", "intel-microcode"),
        ),
        ("pkg:generic/dnsmasq@2.85", AffectedPackage("OSS-Fuzz", "dnsmasq")),
    ],
)
def test_component_and_affected_package_meet_on_a_key(purl, affected):
    assert affected_key(affected) in parse_purl(purl).keys


@pytest.mark.parametrize(
    ("purl", "affected"),
    [
        ("pkg:npm/zlib@1.0.0", AffectedPackage("PyPI", "zlib")),  # same name, other ecosystem
        ("pkg:deb/ubuntu/openssl@3.0.2", AffectedPackage("Debian:12", "openssl")),
        ("pkg:pypi/requests-oauth@1.0", AffectedPackage("PyPI", "requests")),
    ],
)
def test_different_packages_do_not_meet(purl, affected):
    assert affected_key(affected) not in parse_purl(purl).keys


@pytest.mark.parametrize(
    ("ecosystem", "distro", "applies"),
    [
        ("Debian:12", "debian-12", True),
        ("Debian:12", "bookworm", True),
        ("Debian:12", "debian-12.4", True),
        ("Debian:12", "debian-11", False),
        ("Debian:12", "bullseye", False),
        ("Debian:11", "bullseye", True),
        ("Debian:sid", "debian-sid", True),
        ("Debian:sid", "debian-12", False),
        ("Debian", "debian-12", True),  # no release: every release
        ("Debian:12", None, None),  # unknown release: the caller assumes it applies
        ("Alpine:v3.18", "alpine-3.18.4", True),
        ("Alpine:v3.18", "3.18", True),
        ("Alpine:v3.18", "alpine-3.19.0", False),
        ("Alpine:v3.1", "alpine-3.18", False),  # 3.1 is not a prefix of 3.18
        ("Ubuntu:22.04:LTS", "jammy", True),
        ("Ubuntu:22.04:LTS", "ubuntu-22.04", True),
        ("Ubuntu:Pro:14.04:LTS", "esm-infra-legacy/trusty", True),
        ("Ubuntu:22.04:LTS", "noble", False),
        ("Rocky Linux:9", "rocky-9.2", True),
        ("Red Hat:enterprise_linux:8::appstream", "rhel-8.6", True),
        ("Red Hat:enterprise_linux:8::appstream", "rhel-9.2", False),
        ("PyPI", None, True),
        ("Maven:https://maven.google.com", None, True),  # a registry URL, not a release
    ],
)
def test_release_applies(ecosystem, distro, applies):
    assert release_applies(ecosystem, distro) is applies
