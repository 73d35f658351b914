"""Checks and normal forms for the values every SBOM format shares: purl, CPE, licence expression,
hash, timestamp and creator strings.

Each `check_*` function returns the normal form or raises `ValueError` with a message that ends
the sentence `<path>: ...`; the format readers turn that into a `Problem`.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache, lru_cache

from license_expression import (
    ExpressionError,
    Licensing,
    get_spdx_licensing,
)
from packageurl import PackageURL

from fleetcare.sbom.model import Party, PartyKind

# SBOMs repeat the same licences and identifiers thousands of times; the checks are pure, so
# their results are remembered (a bounded number, as the strings come from uploads).
_CACHED = 16384

# --- purl ----------------------------------------------------------------------------------


@lru_cache(maxsize=_CACHED)
def check_purl(text: str) -> str:
    """The canonical form of a package URL, refusing what packageurl-python lets through.

    packageurl-python silently repairs some broken purls that generators emit
    (`pkg:deb//libjpeg@8b`, `pkg:deb/vendor/@1.0`, `pkg:deb/gnu/ncurses@`); a repaired purl
    names a different package than the author meant, so those are refused here.
    """
    if not text.startswith("pkg:"):
        raise ValueError(f"invalid purl {text!r}: it must start with 'pkg:'")
    try:
        purl = PackageURL.from_string(text)
    except ValueError as exc:
        raise ValueError(f"invalid purl {text!r}: {exc}") from None
    remainder = text[4:].lstrip("/").split("#", 1)[0].split("?", 1)[0]
    path, _, version = remainder.partition("@")
    if path.endswith("/"):
        raise ValueError(f"invalid purl {text!r}: its name is empty")
    if "//" in path:
        raise ValueError(f"invalid purl {text!r}: empty segment in its namespace")
    if "@" in remainder and not version:
        raise ValueError(f"invalid purl {text!r}: empty version after '@'")
    return str(purl.to_string())


# --- CPE -----------------------------------------------------------------------------------

# The grammar of NISTIR 7695 (CPE 2.3 naming): in the formatted string binding a value is ANY
# ("*"), NA ("-"), or letters, digits, "_", "-", "." and backslash-escaped punctuation, with
# "?"/"*" wildcards only at either end; the language is an RFC 5646 tag. The cpe package checks
# the same but takes about half a millisecond per name and answers a broken one with
# NotImplementedError, which for a 20 000-component SBOM is seconds and no useful message.
_CPE23_VALUE = re.compile(
    r"^(?:[*-]|(?:\?+|\*)?(?:[A-Za-z0-9._-]|\\[\\*?!\"#$%&'()+,/:;<=>@\[\]^`{|}~])+(?:\?+|\*)?)$"
)
_CPE23_LANGUAGE = re.compile(r"^(?:[*-]|[A-Za-z]{2,3}(?:-(?:[A-Za-z]{2}|[0-9]{3}))?)$")
# CPE 2.2 (the URI binding): components of unreserved characters or %-escapes.
_CPE22_VALUE = re.compile(r"^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})*$")
_CPE_FIELDS = (
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
)
_CPE23_PARTS = 13


@lru_cache(maxsize=_CACHED)
def check_cpe(text: str) -> str:
    """A CPE 2.2 URI (`cpe:/a:vendor:product:1.0`) or 2.3 formatted string, kept as written."""
    if text.lower().startswith("cpe:2.3:"):
        values = re.split(r"(?<!\\):", text)[2:]
        if len(values) != _CPE23_PARTS - 2:
            raise ValueError(
                f"invalid CPE {text!r}: a CPE 2.3 name has 13 colon-separated parts, "
                f"this one has {len(values) + 2}"
            )
        if values[0] not in {"a", "o", "h", "*", "-"}:
            raise ValueError(f"invalid CPE {text!r}: part must be a, o or h, not {values[0]!r}")
        pattern = {6: _CPE23_LANGUAGE}
        for index, value in enumerate(values[1:], start=1):
            if not value and index in (1, 2):
                raise ValueError(f"invalid CPE {text!r}: vendor and product must not be empty")
            if not pattern.get(index, _CPE23_VALUE).match(value):
                raise ValueError(
                    f"invalid CPE {text!r}: {_CPE_FIELDS[index]} {value!r} is not a CPE 2.3 "
                    "value (other characters than letters, digits, '.', '_' and '-' must be "
                    "escaped with a backslash)"
                )
        return text
    if text.lower().startswith("cpe:/"):
        values = text[5:].split(":")
        if len(values) > len(_CPE_FIELDS) - 4 or values[0].lower() not in {"a", "o", "h"}:
            raise ValueError(
                f"invalid CPE {text!r}: a CPE 2.2 URI looks like cpe:/a:vendor:product:version"
            )
        if len(values) < 3 or not values[1] or not values[2]:
            raise ValueError(f"invalid CPE {text!r}: vendor and product must not be empty")
        for index, value in enumerate(values[1:], start=1):
            if not _CPE22_VALUE.match(value):
                raise ValueError(
                    f"invalid CPE {text!r}: {_CPE_FIELDS[index]} {value!r} is not a CPE 2.2 "
                    "value (other characters than letters, digits, '.', '_', '-' and '~' must "
                    "be %-encoded)"
                )
        return text
    raise ValueError(f"invalid CPE {text!r}: it must start with 'cpe:2.3:' or 'cpe:/'")


# --- licences ------------------------------------------------------------------------------

# SPDX 2.3 Annex D: idstring = 1*(ALPHA / DIGIT / "-" / "." ), with an optional "+".
_LICENSE_SYMBOL = re.compile(r"^(DocumentRef-[A-Za-z0-9.-]+:)?[A-Za-z0-9.-]+\+?$")
NO_ASSERTION = {"NOASSERTION", "NONE"}


@cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


def is_spdx_expression(text: str, *, known_only: bool = False) -> bool:
    """Whether `text` is a valid SPDX expression; with `known_only`, one made only of
    identifiers on the SPDX licence list (or LicenseRef-s), as free-text licence names are
    worth promoting only then."""
    try:
        expression = check_license_expression(text)
    except ValueError:
        return False
    if not known_only:
        return True
    if expression in NO_ASSERTION:
        return False
    parsed = _licensing().parse(expression, validate=False, strict=False)
    unknown = _licensing().unknown_license_keys(parsed, unique=True)
    return all(str(key).startswith(("LicenseRef-", "DocumentRef-")) for key in unknown)


@lru_cache(maxsize=_CACHED)
def check_license_expression(text: str) -> str:
    """A syntactically valid SPDX licence expression, kept as written (trimmed).

    Identifiers unknown to the bundled licence list are accepted when well-formed: the list
    grows faster than installed packages are upgraded.
    """
    expression = text.strip()
    if not expression:
        raise ValueError("empty licence expression")
    if expression in NO_ASSERTION:
        return expression
    try:
        parsed = _licensing().parse(expression, validate=False, strict=False)
    except (ExpressionError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"invalid SPDX licence expression {text!r}: {exc}") from None
    if parsed is None:
        raise ValueError(f"invalid SPDX licence expression {text!r}")
    for symbol in _licensing().license_symbols(parsed, unique=True, decompose=True):
        key = str(symbol.key)
        if not _LICENSE_SYMBOL.match(key):
            raise ValueError(
                f"invalid SPDX licence expression {text!r}: {key!r} is not an SPDX identifier"
            )
    return expression


# --- hashes --------------------------------------------------------------------------------

# Canonical names are CycloneDX's; the key is the name lower-cased without '-' or '_', which
# covers SPDX 2 (SHA512, SHA3_256, BLAKE2b-256) and SPDX 3 (sha512, sha3_256, blake2b256).
_HASH_NAMES = {
    "md2": "MD2",
    "md4": "MD4",
    "md5": "MD5",
    "md6": "MD6",
    "sha1": "SHA-1",
    "sha224": "SHA-224",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
    "sha3224": "SHA3-224",
    "sha3256": "SHA3-256",
    "sha3384": "SHA3-384",
    "sha3512": "SHA3-512",
    "blake2b256": "BLAKE2b-256",
    "blake2b384": "BLAKE2b-384",
    "blake2b512": "BLAKE2b-512",
    "blake3": "BLAKE3",
    "adler32": "ADLER32",
}
_HASH_HEX_LENGTH = {
    "MD5": 32,
    "SHA-1": 40,
    "SHA-224": 56,
    "SHA-256": 64,
    "SHA-384": 96,
    "SHA-512": 128,
    "SHA3-224": 56,
    "SHA3-256": 64,
    "SHA3-384": 96,
    "SHA3-512": 128,
    "BLAKE2b-256": 64,
    "BLAKE2b-384": 96,
    "BLAKE2b-512": 128,
    "ADLER32": 8,
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def check_hash(algorithm: str, value: str) -> tuple[str, str]:
    """`(canonical algorithm, lower-case hex)`; unknown algorithms and non-hex values refused."""
    key = re.sub(r"[-_ ]", "", algorithm).lower()
    name = _HASH_NAMES.get(key)
    if name is None:
        raise ValueError(f"unknown hash algorithm {algorithm!r}")
    digest = value.strip()
    if not _HEX.match(digest):
        raise ValueError(f"{name} value {value!r} is not hexadecimal")
    expected = _HASH_HEX_LENGTH.get(name)
    if expected is not None and len(digest) != expected:
        raise ValueError(f"{name} value {value!r} has {len(digest)} hex digits, not {expected}")
    return name, digest.lower()


# --- timestamps ----------------------------------------------------------------------------


def check_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 / RFC 3339 date-time, made timezone-aware (UTC when none is given)."""
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(candidate)
    except ValueError:
        raise ValueError(
            f"invalid date-time {text!r}: expected e.g. 2025-01-31T12:00:00Z"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


# --- creators ------------------------------------------------------------------------------

_ACTOR = re.compile(r"^\s*(Person|Organization|Tool)\s*:\s*(.*?)\s*(?:\(([^()]*)\))?\s*$")


def parse_actor(text: str) -> Party | None:
    """An SPDX 2 actor string (`Organization: Acme (security@acme.example)`), as CycloneDX
    suppliers sometimes carry it too; None for NOASSERTION or text of another shape."""
    match = _ACTOR.match(text)
    if not match:
        return None
    kind_word, name, contact = match.groups()
    kind = {
        "Person": PartyKind.PERSON,
        "Organization": PartyKind.ORGANIZATION,
        "Tool": PartyKind.TOOL,
    }[kind_word]
    contact = (contact or "").strip() or None
    email = contact if contact and "@" in contact and "://" not in contact else None
    url = contact if contact and "://" in contact else None
    return Party(name=name or None, kind=kind, email=email, url=url)
