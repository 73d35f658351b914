"""OSV `affected[]` evaluation: is this component version inside the record's ranges, and why.

The rules are the OSV schema's own (see "Evaluation" in the schema): a version is affected if it
is listed in `versions`, or if some `SEMVER`/`ECOSYSTEM` range holds it. Within a range the
events are sorted by version (`introduced: "0"` first, equal versions in source order), then
`introduced` switches "affected" on at its version, `fixed` off at its version, `last_affected`
off just after its version; a range with `limit` events only covers versions below some limit.
`GIT` ranges are commit hashes and cannot be evaluated from a version string: such entries match
only through the `versions` list (OSV.dev fills it with the repository's affected tags, which we
compare after normalising `curl-7_58_0` or `v2.87` to `7.58.0` and `2.87`).

Use:

    rule = compile_affected(affected)           # cached; the engine may keep rules itself
    result = rule.evaluate("2.0.6")             # MatchResult(verdict, reason)
    result = match_osv_record(parse_purl("pkg:pypi/urllib3@2.0.6"), record)

`match_osv_record` also checks the package key and the distribution release (see `purl`).
Unparsable versions, unknown orderings and GIT-only entries give `Verdict.UNDECIDED`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cmp_to_key, lru_cache

from fleetcare.intel.records import AffectedPackage, AffectedRange, VulnerabilityRecord
from fleetcare.matching._identity_cache import IdentityCache
from fleetcare.matching.purl import (
    ComponentPurl,
    PackageKey,
    affected_key,
    release_applies,
)
from fleetcare.matching.verdict import MatchResult, Verdict
from fleetcare.matching.versions import (
    SortKey,
    VersionScheme,
    parse_version,
    scheme_for_ecosystem,
)

__all__ = [
    "AffectedRule",
    "compile_affected",
    "match_affected",
    "match_osv_record",
]


@dataclass(frozen=True, slots=True)
class _Interval:
    """Affected versions from `lower` (inclusive; None = introduced "0") to `upper`."""

    lower: SortKey | None
    upper: SortKey | None  # None: no fix yet
    upper_inclusive: bool
    #: For reasons: "[2.0.0, 2.0.7)", "[0, 2.1.214]", "[1.0, *)".
    text: str
    #: The version that fixes it (OSV `fixed`), None for last_affected or no fix.
    fixed: str | None


def _interval(
    lower: SortKey | None,
    lower_text: str,
    upper: SortKey | None,
    upper_text: str,
    upper_inclusive: bool,
) -> _Interval:
    if upper is None:
        return _Interval(lower, None, False, f"[{lower_text}, *)", None)
    closing = "]" if upper_inclusive else ")"
    return _Interval(
        lower,
        upper,
        upper_inclusive,
        f"[{lower_text}, {upper_text}{closing}",
        None if upper_inclusive else upper_text,
    )


@dataclass(frozen=True, slots=True)
class _Range:
    """One SEMVER/ECOSYSTEM range, compiled; `problem` says why it cannot be evaluated."""

    type: str
    scheme: VersionScheme | None
    #: Sorted and disjoint.
    intervals: tuple[_Interval, ...] = ()
    #: Keys of the `limit` events; empty when there are none or one is "*" (infinity).
    limits: tuple[SortKey, ...] = ()
    #: For reasons: " below limit 2.0" or "".
    limit_text: str = ""
    problem: str | None = None
    #: For reasons: "[0, 1.26.18), [2.0.0, 2.0.7) (ECOSYSTEM range)".
    text: str = ""

    def find(self, key: SortKey) -> _Interval | None:
        """The interval holding `key`, or None. The hot loop of OSV matching."""
        if self.limits and not any(key < limit for limit in self.limits):
            return None
        for interval in self.intervals:
            lower = interval.lower
            if lower is not None and key < lower:
                return None  # below this interval, so below every later one
            upper = interval.upper
            if upper is None:
                return interval
            if interval.upper_inclusive:
                if not upper < key:
                    return interval
            elif key < upper:
                return interval
        return None


#: An event: (key, kind, text); key None stands for introduced "0", before every version.
_Event = tuple[SortKey | None, str, str]


def _compile_range(
    affected_range: AffectedRange, ecosystem_scheme: VersionScheme | None, ecosystem: str
) -> _Range:
    if affected_range.type == "GIT":
        return _Range("GIT", None, problem="GIT ranges name commits, not versions")
    scheme = ecosystem_scheme
    if affected_range.type == "SEMVER" and ecosystem_scheme is not VersionScheme.GO:
        scheme = VersionScheme.SEMVER  # Go's ordering is semver that also reads "go1.21", "v1.2"
    if scheme is None:
        return _Range(
            affected_range.type,
            None,
            problem=f"fleetcare has no version ordering for the {ecosystem!r} ecosystem",
        )
    events: list[_Event] = []
    limits: list[SortKey] = []
    limit_texts: list[str] = []
    unlimited = False
    for event in affected_range.events:
        if event.kind == "limit":
            if "*" in event.value:
                unlimited = True
                continue
        elif event.kind == "introduced" and event.value.strip() == "0":
            events.append((None, event.kind, "0"))
            continue
        parsed = parse_version(scheme, event.value)
        if parsed is None:
            return _Range(
                affected_range.type,
                scheme,
                problem=f"its {event.kind} event {event.value!r} is not a {scheme} version",
            )
        if event.kind == "limit":
            limits.append(parsed.key)
            limit_texts.append(event.value)
        else:
            events.append((parsed.key, event.kind, event.value))
    if unlimited:
        limits, limit_texts = [], []
    intervals = _intervals(events)
    limit_text = f" below limit {' or '.join(limit_texts)}" if limit_texts else ""
    spans = ", ".join(i.text for i in intervals) or "no affected interval"
    return _Range(
        affected_range.type,
        scheme,
        intervals,
        tuple(limits),
        limit_text,
        text=f"{spans}{limit_text} ({affected_range.type} range)",
    )


def _event_order(a: _Event, b: _Event) -> int:
    key_a, key_b = a[0], b[0]
    if key_a is None or key_b is None:
        return (key_b is None) - (key_a is None)
    if key_a < key_b:
        return -1
    return 1 if key_b < key_a else 0


def _intervals(events: list[_Event]) -> tuple[_Interval, ...]:
    """The versions the OSV algorithm calls affected, as intervals.

    OSV's loop leaves "affected" as set by the last event (in sorted order) whose test holds:
    `v >= introduced`, `v >= fixed`, `v > last_affected`. So at an event version `x` the state
    is the one before `x` updated by the introduced/fixed events at `x`, and just above `x` it is
    updated by all events at `x`. Walking the distinct event versions with those two states
    gives the intervals; they always start inclusive and end exclusive (fixed) or inclusive
    (last_affected).
    """
    ordered = sorted(events, key=cmp_to_key(_event_order))  # stable: ties keep source order
    intervals: list[_Interval] = []
    open_lower: tuple[SortKey | None, str] | None = None  # lower end of the interval being built
    below = False  # state on the segment just below the current event version
    index = 0
    while index < len(ordered):
        group_end = index + 1
        while group_end < len(ordered) and _event_order(ordered[index], ordered[group_end]) == 0:
            group_end += 1
        group = ordered[index:group_end]
        key, text = group[0][0], group[0][2]
        at = below
        for _, kind, _ in group:
            if kind == "introduced":
                at = True
            elif kind == "fixed":
                at = False
        above = below
        for _, kind, _ in group:
            above = kind == "introduced"
        if key is None:
            at = above  # no version equals "0"; only the state above it matters
        if at and not below:
            open_lower = (key, text)
        if open_lower is not None and not above:
            lower_key, lower_text = open_lower
            intervals.append(_interval(lower_key, lower_text, key, text, upper_inclusive=at))
            open_lower = None
        below = above
        index = group_end
    if open_lower is not None:
        lower_key, lower_text = open_lower
        intervals.append(_interval(lower_key, lower_text, None, "", upper_inclusive=False))
    return tuple(intervals)


# --- versions lists and git tags -------------------------------------------------------------

_TAG_PREFIX = re.compile(r"^[a-z]+[-_.]", re.ASCII)
#: A full commit hash, or an abbreviated one (with a letter, so "20230101" stays a tag).
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}|(?=[0-9]*[a-f])[0-9a-f]{7,39}", re.ASCII)


def _tag_version(tag: str, package: str) -> str:
    """`curl-7_58_0` -> `7.58.0`, `OpenSSL_1_1_1-pre1` -> `1.1.1-pre1`, `v2.87` -> `2.87`."""
    text = tag.strip().lower()
    package = package.lower()
    if package and text.startswith(package) and text[len(package) : len(package) + 1] in "-_.":
        text = text[len(package) + 1 :]
    else:
        text = _TAG_PREFIX.sub("", text, count=1)
    if text[:1] == "v" and text[1:2].isdigit():
        text = text[1:]
    return text.replace("_", ".")


@dataclass(frozen=True, slots=True)
class AffectedRule:
    """An OSV `affected[]` entry compiled for fast, repeated evaluation."""

    affected: AffectedPackage
    #: The package as the record names it, for reasons: "PyPI urllib3".
    where: str
    key: PackageKey | None
    #: The ordering of ECOSYSTEM ranges (from the ecosystem); SEMVER ranges always use semver.
    scheme: VersionScheme | None
    ranges: tuple[_Range, ...]
    listed: frozenset[str]
    #: The versions list by ordering key, where equal keys mean equal versions ("1.0" == "1.0.0").
    listed_keys: frozenset[object]
    #: Git tags of the versions list by generic-version key, for entries evaluated through tags.
    tags: dict[object, str]

    def evaluate(self, version: str | None) -> MatchResult:
        """Whether `version` of this package is affected, by the OSV evaluation rules."""
        if not version:
            return MatchResult(Verdict.UNDECIDED, f"{self.where}: the component has no version")
        undecided: list[str] = []
        outside: list[str] = []
        found = self._in_ranges(version, undecided, outside) or self._listed_match(version)
        if found is not None:
            return found
        return self._not_matched(version, undecided, outside)

    def _in_ranges(
        self, version: str, undecided: list[str], outside: list[str]
    ) -> MatchResult | None:
        for compiled in self.ranges:
            if compiled.problem is not None or compiled.scheme is None:
                if compiled.type != "GIT":
                    undecided.append(f"{compiled.type} range not evaluated: {compiled.problem}")
                continue
            parsed = parse_version(compiled.scheme, version)
            if parsed is None:
                undecided.append(f"{version!r} is not a {compiled.scheme} version")
                continue
            interval = compiled.find(parsed.key)
            if interval is None:
                outside.append(compiled.text)
                continue
            return MatchResult(
                Verdict.MATCH,
                f"{self.where} {version} in {interval.text}{compiled.limit_text} "
                f"({compiled.type} range)",
                fixed_version=interval.fixed,
            )
        return None

    def _not_matched(self, version: str, undecided: list[str], outside: list[str]) -> MatchResult:
        where = f"{self.where} {version}"
        git_only = all(r.type == "GIT" for r in self.ranges)
        if undecided:
            return MatchResult(Verdict.UNDECIDED, f"{where}: " + "; ".join(undecided))
        if not self.listed:
            if not self.ranges:
                why = "the entry lists neither ranges nor versions"
            else:
                why = (
                    "only GIT ranges (commits), which cannot be evaluated from a version "
                    "string, and no affected versions list"
                )
            if not self.ranges or git_only:
                return MatchResult(Verdict.UNDECIDED, f"{where}: {why}")
        parts = []
        if outside:
            parts.append("outside " + "; ".join(outside))
        if self.listed:
            parts.append(f"not among the {len(self.listed)} affected versions listed")
            if git_only:
                parts.append("GIT ranges are evaluated only through that list")
        return MatchResult(Verdict.NO_MATCH, f"{where} " + ", ".join(parts))

    def _listed_match(self, version: str) -> MatchResult | None:
        # After the ranges: a range match gives the better reason (the interval, the fix).
        where = self.where
        if version in self.listed:
            return MatchResult(
                Verdict.MATCH, f"{where} {version} is listed in the affected versions"
            )
        if self.listed_keys and self.scheme is not None:
            parsed = parse_version(self.scheme, version)
            if parsed is not None and parsed.key in self.listed_keys:
                return MatchResult(
                    Verdict.MATCH,
                    f"{where} {version} equals a version listed in the affected versions",
                )
        if self.tags:
            parsed = parse_version(VersionScheme.GENERIC, _tag_version(version, ""))
            tag = self.tags.get(parsed.key) if parsed is not None else None
            if tag is not None:
                return MatchResult(
                    Verdict.MATCH,
                    f"{where} {version} matches the affected git tag {tag!r} "
                    "(the entry's GIT ranges are evaluated through its versions list)",
                )
        return None


# Keys of these orderings are hashable and hash equal when they compare equal.
_HASHABLE_KEYS = frozenset(
    {VersionScheme.PYPI, VersionScheme.DEBIAN, VersionScheme.OPKG, VersionScheme.GENERIC}
)


def compile_affected(affected: AffectedPackage) -> AffectedRule:
    """Compile an `affected[]` entry, once: the same or an equal entry hits a cache."""
    return _compiled_rules(affected)


@lru_cache(maxsize=1 << 16)
def _compile_affected(affected: AffectedPackage) -> AffectedRule:
    scheme = scheme_for_ecosystem(affected.ecosystem) if affected.ecosystem else None
    ranges = tuple(_compile_range(r, scheme, affected.ecosystem) for r in affected.ranges)
    listed = frozenset(v for v in affected.versions if v)
    listed_keys: set[object] = set()
    if scheme is not None and scheme in _HASHABLE_KEYS:
        for text in listed:
            parsed = parse_version(scheme, text)
            if parsed is not None:
                listed_keys.add(parsed.key)
    tags: dict[object, str] = {}
    # Git-derived lists: the entry has GIT ranges, or an ecosystem without a version ordering.
    if listed and (scheme is None or any(r.type == "GIT" for r in affected.ranges)):
        for tag in sorted(listed):
            if _COMMIT.fullmatch(tag):
                continue  # CVE 5 records list affected commits here, not tags
            parsed = parse_version(VersionScheme.GENERIC, _tag_version(tag, affected.name))
            if parsed is not None:
                tags.setdefault(parsed.key, tag)
    return AffectedRule(
        affected=affected,
        where=f"{affected.ecosystem} {affected.name}".strip(),
        key=affected_key(affected),
        scheme=scheme,
        ranges=ranges,
        listed=listed,
        listed_keys=frozenset(listed_keys),
        tags=tags,
    )


_compiled_rules: IdentityCache[AffectedPackage, AffectedRule] = IdentityCache(
    _compile_affected, limit=1 << 19
)


def match_affected(component: ComponentPurl, affected: AffectedPackage) -> MatchResult:
    """Evaluate one `affected[]` entry for a component: package key, release, then version."""
    rule = compile_affected(affected)
    if rule.key is None or rule.key not in component.keys:
        return MatchResult(
            Verdict.NO_MATCH,
            f"{affected.ecosystem} {affected.name} is a different package from {component.purl}",
        )
    applies = release_applies(affected.ecosystem, component.release)
    if applies is False:
        return MatchResult(
            Verdict.NO_MATCH,
            f"{affected.ecosystem} {affected.name} is for another release than "
            f"the component's {component.release!r}",
        )
    result = rule.evaluate(component.version)
    if applies is None and ":" in affected.ecosystem and result.verdict is not Verdict.NO_MATCH:
        result = replace(
            result,
            reason=f"{result.reason} (the purl has no distro qualifier; release "
            f"{affected.ecosystem} assumed)",
        )
    return result


def match_osv_record(component: ComponentPurl, record: VulnerabilityRecord) -> MatchResult:
    """Whether `record` affects `component`, over all its `affected[]` entries.

    The first matching entry wins; otherwise the result is UNDECIDED if any entry for this
    package could not be decided, else NO_MATCH. Withdrawn records are the engine's concern.
    """
    undecided: MatchResult | None = None
    outside: list[str] = []
    other_releases: list[str] = []
    for affected in record.affected:
        rule = compile_affected(affected)
        if rule.key is None or rule.key not in component.keys:
            continue
        if release_applies(affected.ecosystem, component.release) is False:
            other_releases.append(affected.ecosystem)
            continue
        result = match_affected(component, affected)
        if result.verdict is Verdict.MATCH:
            return result
        if result.verdict is Verdict.UNDECIDED:
            undecided = undecided or result
        else:
            outside.append(result.reason)
    if undecided is not None:
        return undecided
    if outside:
        return MatchResult(Verdict.NO_MATCH, "; ".join(outside))
    if other_releases:
        return MatchResult(
            Verdict.NO_MATCH,
            f"{record.id} lists {component.name} only for other releases "
            f"({', '.join(other_releases)}) than the component's {component.release!r}",
        )
    return MatchResult(Verdict.NO_MATCH, f"{record.id} has no affected entry for {component.purl}")
