"""CVSS vectors to base scores, with the `cvss` package, for every feed parser.

Feeds repeat the same few thousand vectors across hundreds of thousands of records, so scores are
cached by vector. A vector that does not parse raises `ValueError`; parsers then keep the record
without that score and report a warning (see `errors.FeedWarning`).
"""

from __future__ import annotations

import functools

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from fleetcare.intel.feeds._reading import Place
from fleetcare.intel.records import Severity

#: Longer than any real vector, even with every environmental metric written out.
_MAX_VECTOR_LENGTH = 400

KINDS = ("CVSS_V2", "CVSS_V3", "CVSS_V4")


def kind_of_version(version: str) -> str | None:
    """The severity kind for a CVSS version as feeds write it ("3.1" -> "CVSS_V3")."""
    if version.startswith("2"):
        return "CVSS_V2"
    if version.startswith("3"):
        return "CVSS_V3"
    if version.startswith("4"):
        return "CVSS_V4"
    return None


@functools.lru_cache(maxsize=16384)
def base_score(kind: str, vector: str) -> float:
    """The base score of `vector`, a CVSS vector of `kind` (CVSS_V2, CVSS_V3 or CVSS_V4)."""
    if len(vector) > _MAX_VECTOR_LENGTH:
        raise ValueError("the vector is implausibly long")
    if kind == "CVSS_V3" and not vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
        raise ValueError("a CVSS v3 vector must start with CVSS:3.0/ or CVSS:3.1/")
    if kind == "CVSS_V4" and not vector.startswith("CVSS:4.0/"):
        raise ValueError("a CVSS v4 vector must start with CVSS:4.0/")
    try:
        if kind == "CVSS_V2":
            score = CVSS2(vector).base_score
        elif kind == "CVSS_V3":
            score = CVSS3(vector).base_score
        elif kind == "CVSS_V4":
            score = CVSS4(vector).base_score
        else:
            raise ValueError(f"unknown CVSS kind {kind}")
    except CVSSError as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    return float(score)


def severity(
    place: Place,
    kind: str,
    vector: str,
    *,
    given: float | None = None,
    source: str = "",
    primary: bool = False,
    rating: str = "",
) -> Severity | None:
    """A `Severity` for `vector`, or None after a warning when the vector or score is bad.

    `given` is the base score the feed states; it wins over the computed one (the feed is the
    authority on its own numbers) but must lie in 0-10. Without it the score is computed.
    """
    try:
        computed = base_score(kind, vector)
    except ValueError as exc:
        place.warn(f"dropped the {kind} score {vector[:80]!r}: {exc}")
        return None
    if given is not None and not 0.0 <= given <= 10.0:
        place.warn(f"dropped the {kind} score {vector[:80]!r}: base score {given} is not in 0-10")
        return None
    score = computed if given is None else given
    return Severity(kind, vector, score, source, primary, rating)
