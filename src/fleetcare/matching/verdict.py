"""The answer of every matching rule: match, no match, or cannot decide, and why.

`ranges` (OSV affected packages) and `cpe` (NVD configurations) both return a `MatchResult`.
The engine records a finding for `Verdict.MATCH` and keeps the reason of the other two, so that
"why is this CVE not reported for busybox?" has an answer. `UNDECIDED` means the data does not
allow a decision (unparsable version, a GIT-only range, a CPE without a version); the engine
reports it as no match with that reason, never as a match.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fleetcare.intel.records import CpeMatch

__all__ = ["MatchResult", "Verdict"]


class Verdict(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class MatchResult:
    verdict: Verdict
    #: One or two sentences for a security analyst, naming the version and the bound it met.
    reason: str
    #: CPE rules only: the vulnerable cpeMatch the component met, then the platform cpeMatches
    #: that other components of the release met (AND configurations).
    criteria: tuple[CpeMatch, ...] = ()
    #: On a match, the first version outside the matched range when the source names one
    #: (OSV `fixed`, NVD `versionEndExcluding`); None for last_affected/versionEndIncluding.
    fixed_version: str | None = None

    @property
    def matched(self) -> bool:
        return self.verdict is Verdict.MATCH

    @property
    def undecided(self) -> bool:
        return self.verdict is Verdict.UNDECIDED
