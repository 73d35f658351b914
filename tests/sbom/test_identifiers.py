"""The checks every format shares: purl, CPE, licence expression, hash, timestamp, actor."""

import datetime as dt
import re

import pytest

from fleetcare.sbom._identifiers import (
    check_cpe,
    check_hash,
    check_license_expression,
    check_purl,
    check_timestamp,
    is_spdx_expression,
    parse_actor,
)
from fleetcare.sbom.model import Party, PartyKind


@pytest.mark.parametrize(
    ("purl", "canonical"),
    [
        ("pkg:npm/debug@4.1.1", "pkg:npm/debug@4.1.1"),
        ("pkg:NPM/Debug@4.1.1", "pkg:npm/debug@4.1.1"),  # npm names are lower case
        ("pkg:npm/%40angular/core@16.0.0", "pkg:npm/%40angular/core@16.0.0"),
        (
            "pkg:deb/debian/curl@7.88.1-10?distro=bookworm&arch=amd64",
            "pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=bookworm",
        ),
        ("pkg:golang/github.com/foo/bar@v1.0.0", "pkg:golang/github.com/foo/bar@v1.0.0"),
        ("pkg:generic/openssl", "pkg:generic/openssl"),
    ],
)
def test_valid_purls_in_canonical_form(purl, canonical):
    assert check_purl(purl) == canonical


@pytest.mark.parametrize(
    ("purl", "reason"),
    [
        ("npm/debug@4.1.1", "it must start with 'pkg:'"),
        ("pkg:/foo", "purl is missing the required type component"),
        ("pkg:pypi/", "purl is missing the required name component"),
        ("pkg:deb//libjpeg@8b", "empty segment in its namespace"),
        ("pkg:deb/vendor/@1.0", "its name is empty"),
        ("pkg:deb/gnu/ncurses@", "empty version after '@'"),
    ],
)
def test_invalid_purls(purl, reason):
    with pytest.raises(ValueError, match=re.escape(reason)) as caught:
        check_purl(purl)
    assert str(caught.value).startswith(f"invalid purl {purl!r}: ")


@pytest.mark.parametrize(
    "cpe",
    [
        "cpe:/a:busybox:busybox:1.36.1",
        "cpe:/o:linux:linux_kernel",
        "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
        "cpe:2.3:h:acme:gateway\\:x2:-:*:*:*:*:*:*:*",  # an escaped colon in the product
        "cpe:2.3:a:gnu:g\\+\\+:13.2:*:*:*:*:*:*:*",
        "cpe:2.3:a:vendor:product:1.*:*:*:en-us:*:*:*:*",  # a wildcard and a language tag
        "cpe:/a:vendor:p%20q:1.0",
        "cpe:/h:acme:gateway_x2:-:~~~~x86~",
    ],
)
def test_valid_cpes_are_kept_as_written(cpe):
    assert check_cpe(cpe) == cpe


@pytest.mark.parametrize(
    ("cpe", "reason"),
    [
        ("cpe:::libjpeg:8b", "it must start with 'cpe:2.3:' or 'cpe:/'"),
        ("cpe:/", "a CPE 2.2 URI looks like cpe:/a:vendor:product:version"),
        ("cpe:/a::zlib:1.2", "vendor and product must not be empty"),
        ("cpe:/a:zlib", "vendor and product must not be empty"),
        ("cpe:2.3:a:zlib:zlib:1.3", "has 13 colon-separated parts, this one has 6"),
        ("cpe:2.3:x:zlib:zlib:1.3:*:*:*:*:*:*:*", "part must be a, o or h, not 'x'"),
        ("cpe:2.3:a:gnu:g++:13.2:*:*:*:*:*:*:*", "product 'g++' is not a CPE 2.3 value"),
        ("cpe:2.3:a:v:p:1 beta:*:*:*:*:*:*:*", "version '1 beta' is not a CPE 2.3 value"),
        ("cpe:2.3:a:v:p:1:*:*:english:*:*:*:*", "language 'english' is not a CPE 2.3 value"),
        ("cpe:/a:vendor:prod uct", "product 'prod uct' is not a CPE 2.2 value"),
        ("cpe:/a:v:p:1:2:3:4:5", "a CPE 2.2 URI looks like cpe:/a:vendor:product:version"),
    ],
)
def test_invalid_cpes(cpe, reason):
    with pytest.raises(ValueError, match=re.escape(reason)) as caught:
        check_cpe(cpe)
    assert str(caught.value).startswith(f"invalid CPE {cpe!r}: ")


@pytest.mark.parametrize(
    "expression",
    [
        "MIT",
        "GPL-2.0-or-later WITH Classpath-exception-2.0",
        "(MIT OR Apache-2.0) AND BSD-3-Clause",
        "LicenseRef-Acme-Proprietary",
        "DocumentRef-other:LicenseRef-1",
        "GPL-2.0+",
        "NOASSERTION",
    ],
)
def test_valid_license_expressions_are_kept_as_written(expression):
    assert check_license_expression(f"  {expression} ") == expression


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "empty licence expression"),
        ("MIT AND (", "invalid SPDX licence expression"),
        ("Apache 2.0", "'Apache 2.0' is not an SPDX identifier"),
        ("MIT OR BSD license", "is not an SPDX identifier"),
    ],
)
def test_invalid_license_expressions(expression, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        check_license_expression(expression)


@pytest.mark.parametrize(
    ("name", "known_only", "expected"),
    [
        ("GPL-2.0-or-later", True, True),
        ("MIT OR LicenseRef-x", True, True),
        ("BSD", True, False),  # well-formed, but not on the SPDX licence list
        ("BSD", False, True),
        ("NOASSERTION", True, False),
        ("ISC license", False, False),
    ],
)
def test_free_text_licence_names_promoted_only_when_they_are_spdx(name, known_only, expected):
    assert is_spdx_expression(name, known_only=known_only) is expected


@pytest.mark.parametrize(
    ("algorithm", "value", "expected"),
    [
        ("SHA-256", "AB" * 32, ("SHA-256", "ab" * 32)),
        ("SHA256", "ab" * 32, ("SHA-256", "ab" * 32)),  # SPDX 2
        ("sha512", "cd" * 64, ("SHA-512", "cd" * 64)),  # SPDX 3
        ("SHA3_256", "ef" * 32, ("SHA3-256", "ef" * 32)),
        ("BLAKE2b-384", "01" * 48, ("BLAKE2b-384", "01" * 48)),
        ("blake2b512", "01" * 64, ("BLAKE2b-512", "01" * 64)),
        ("BLAKE3", "02" * 40, ("BLAKE3", "02" * 40)),  # any length
        ("MD5", " " + "0f" * 16 + "\n", ("MD5", "0f" * 16)),
    ],
)
def test_hashes_get_cyclonedx_names_and_lower_case_hex(algorithm, value, expected):
    assert check_hash(algorithm, value) == expected


@pytest.mark.parametrize(
    ("algorithm", "value", "reason"),
    [
        ("CRC32", "abcd", "unknown hash algorithm 'CRC32'"),
        ("SHA-1", "not-hex", "SHA-1 value 'not-hex' is not hexadecimal"),
        ("SHA-1", "ab" * 19, "has 38 hex digits, not 40"),
    ],
)
def test_invalid_hashes(algorithm, value, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        check_hash(algorithm, value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:30:00Z", dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)),
        ("2025-03-14T09:30:00.123z", dt.datetime(2025, 3, 14, 9, 30, 0, 123000, tzinfo=dt.UTC)),
        ("2025-03-14T10:30:00+01:00", dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)),
        ("2025-03-14T09:30:00", dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)),  # no zone: UTC
    ],
)
def test_timestamps_are_timezone_aware(text, expected):
    value = check_timestamp(text)
    assert value == expected
    assert value.tzinfo is not None


def test_invalid_timestamp():
    with pytest.raises(ValueError, match=r"^invalid date-time '14/03/2025'"):
        check_timestamp("14/03/2025")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Organization: Acme (psirt@acme.example)",
            Party("Acme", PartyKind.ORGANIZATION, email="psirt@acme.example"),
        ),
        ("Person: Jane Doe ()", Party("Jane Doe", PartyKind.PERSON)),
        ("Tool: syft-0.90", Party("syft-0.90", PartyKind.TOOL)),
        (
            "Organization: FreeRTOS (https://www.freertos.org)",
            Party("FreeRTOS", url="https://www.freertos.org"),
        ),
        ("Acme GmbH", None),
        ("NOASSERTION", None),
    ],
)
def test_spdx_actor_strings(text, expected):
    assert parse_actor(text) == expected
