"""CPE matching: a component's CPE against NVD configurations, and why it matched.

NVD describes affected products as configurations: nodes of `cpeMatch` criteria (a CPE 2.3
pattern with optional version bounds), combined with OR/AND and possibly negated. An AND
configuration usually reads "this vulnerable application/firmware, running on this (not
vulnerable) platform", so it can only be decided with the other components of the release.

    component = parse_cpe("cpe:/a:haxx:libcurl:7.82.0")      # CPE 2.2 URI or 2.3 string
    release = CpeInventory(["cpe:2.3:h:netapp:h300s:-:*:*:*:*:*:*:*", ...])
    rule = compile_cpe_rule(record.configurations)            # cached; keep it if you like
    result = rule.match(component, release)                  # MatchResult
    rule.keys                                                 # {CpeKey("haxx", "libcurl")}
    match_configurations(cpe_string, record.configurations, frozenset(release_cpe_strings))

Rules, in the words of the tests:

- part, vendor and product must be equal (case-insensitive, after unescaping `\\.` and `%2e`);
- bounds (`versionStart/End Including/Excluding`) are checked with the generic upstream ordering
  of `versions`; a criterion with a concrete version matches only that version, and only the
  `update` it gives (`9.3:p1` is met by `9.3:p1` or by version `9.3p1`, `6.8:rc1` by `6.8-rc1`,
  not by `6.8`); a criterion version `*` without bounds means every version;
- a component CPE whose version is `*`, `-` or empty never matches a vulnerable criterion: the
  result is UNDECIDED, as it is for a criterion version `-` (NVD knows no version) and for
  versions the ordering cannot read;
- other attributes (edition, target_sw, ...) must be equal when both sides give a value;
- an AND configuration matches only when every node holds, non-vulnerable criteria (the
  platform) being met by some CPE of the release; a platform criterion without version or
  bounds accepts any version of that product, hardware with version `-` included;
- `negate` on a node or configuration inverts it; the component must meet a vulnerable
  criterion of a node that is not negated.

`parse_cpe` is hand-written: the `cpe` package takes ~70 µs per string and keeps the escapes,
this parser takes ~2 µs (see bench/matching_rules.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

from fleetcare.intel.records import CpeConfiguration, CpeMatch, CpeNode
from fleetcare.matching._identity_cache import IdentityCache
from fleetcare.matching.verdict import MatchResult, Verdict
from fleetcare.matching.versions import SortKey, Version, VersionScheme, parse_version

__all__ = [
    "Cpe",
    "CpeInventory",
    "CpeKey",
    "CpeRule",
    "InvalidCpe",
    "candidate_key",
    "compile_cpe_rule",
    "configuration_keys",
    "match_configurations",
    "parse_cpe",
]

ANY = "*"
NA = "-"
_NO_VERSION = frozenset({ANY, NA, ""})
_ATTRIBUTES = (
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
#: Attributes compared only when both sides give a value (version and update have own rules).
_QUALIFYING = ("edition", "language", "sw_edition", "target_sw", "target_hw", "other")
_PARTS = frozenset({"a", "o", "h", ANY})


class InvalidCpe(ValueError):
    """The string is not a CPE 2.3 formatted string or CPE 2.2 URI; the message says why."""


class CpeKey(NamedTuple):
    """Candidate-selection key: vendor and product, lower case, unescaped."""

    vendor: str
    product: str

    def as_text(self) -> str:
        """One string for a database column: "zlib:zlib"."""
        return f"{self.vendor}:{self.product}"


@dataclass(frozen=True, slots=True)
class Cpe:
    """A CPE name with unescaped, lower-case attributes; `*` is ANY and `-` is NA."""

    part: str
    vendor: str
    product: str
    version: str
    update: str
    edition: str
    language: str
    sw_edition: str
    target_sw: str
    target_hw: str
    other: str
    #: The string as given.
    text: str
    #: `version` in the generic upstream ordering; None for `*`, `-` or an unreadable version.
    parsed_version: Version | None
    #: (vendor, product): the candidate-selection key.
    key: CpeKey

    @property
    def has_version(self) -> bool:
        return self.version not in _NO_VERSION


def parse_cpe(text: str) -> Cpe:
    """Read a CPE 2.3 formatted string or a CPE 2.2 URI; raises InvalidCpe. Cached."""
    return _parse_cpe_cached(text)


_UNESCAPE_23 = re.compile(r"\\(.)")


@lru_cache(maxsize=1 << 16)
def _parse_cpe_cached(text: str) -> Cpe:
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith("cpe:2.3:"):
        body = lowered[8:]
        if "\\" in body:
            values = [_UNESCAPE_23.sub(r"\1", v) for v in _split_escaped(body)]
        else:
            values = body.split(":")
        if len(values) > 11:
            raise InvalidCpe(f"{text!r} has {len(values)} attributes; CPE 2.3 has 11")
        values += [ANY] * (11 - len(values))  # some SBOM tools drop trailing ANY attributes
        values = [v or ANY for v in values]
    elif lowered.startswith("cpe:/"):
        values = _uri_values(lowered[5:], text)
    else:
        raise InvalidCpe(f"{text!r} is not a CPE: it must start with 'cpe:2.3:' or 'cpe:/'")
    if values[0] not in _PARTS:
        raise InvalidCpe(f"{text!r} has part {values[0]!r}; expected a, o or h")
    if values[1] in {ANY, NA} or values[2] in {ANY, NA}:
        raise InvalidCpe(f"{text!r} names no vendor or product")
    version = values[3]
    parsed = None if version in _NO_VERSION else parse_version(VersionScheme.GENERIC, version)
    part, vendor, product, _, update, edition, language, sw_ed, target_sw, target_hw, other = values
    return Cpe(
        part,
        vendor,
        product,
        version,
        update,
        edition,
        language,
        sw_ed,
        target_sw,
        target_hw,
        other,
        text=text,
        parsed_version=parsed,
        key=CpeKey(vendor, product),
    )


def _split_escaped(body: str) -> list[str]:
    # A colon is a separator unless escaped; "\\\\:" (escaped backslash, then colon) separates.
    values: list[str] = []
    current: list[str] = []
    escaped = False
    for char in body:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return values


def _uri_values(body: str, text: str) -> list[str]:
    """CPE 2.2 URI: part:vendor:product:version:update:edition:language, %-encoded, where an
    empty attribute means ANY and the edition may pack "~edition~sw_edition~target_sw~..."."""
    raw = body.split(":")
    if len(raw) > 7:
        raise InvalidCpe(f"{text!r} has {len(raw)} attributes; a CPE 2.2 URI has at most 7")
    raw += [""] * (7 - len(raw))
    part, vendor, product, version, update, edition, language = (unquote(v) for v in raw)
    extended = [ANY] * 4
    if edition.startswith("~"):
        packed = edition.split("~")[1:]
        if len(packed) != 5:
            raise InvalidCpe(f"{text!r} has a packed edition without five fields")
        edition, *rest = packed
        extended = [v or ANY for v in rest]
    values = [part, vendor, product, version, update, edition, language, *extended]
    return [v or ANY for v in values]


class CpeInventory:
    """The CPEs of every component of one release, indexed by vendor and product.

    Strings that are not CPEs are skipped and kept in `invalid`, so that one bad SBOM entry
    does not stop a release from being matched.
    """

    __slots__ = ("_by_key", "invalid")

    def __init__(self, cpes: Iterable[Cpe | str] = ()) -> None:
        self._by_key: dict[CpeKey, list[Cpe]] = {}
        self.invalid: list[str] = []
        for item in cpes:
            if isinstance(item, Cpe):
                cpe = item
            else:
                try:
                    cpe = parse_cpe(item)
                except InvalidCpe:
                    self.invalid.append(item)
                    continue
            self._by_key.setdefault(cpe.key, []).append(cpe)

    def get(self, key: CpeKey) -> Sequence[Cpe]:
        return self._by_key.get(key, ())

    def __len__(self) -> int:
        return sum(len(cpes) for cpes in self._by_key.values())


_EMPTY_INVENTORY = CpeInventory()


# --- compiled criteria ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bound:
    key: SortKey
    text: str
    inclusive: bool


@dataclass(frozen=True, slots=True)
class _Criterion:
    match: CpeMatch
    cpe: Cpe
    key: CpeKey
    start: _Bound | None
    end: _Bound | None
    has_bounds: bool
    #: Why this criterion cannot be evaluated (an unreadable bound), or None.
    problem: str | None
    #: (attribute, value) of edition, language, ... where the criterion gives a value.
    qualifiers: tuple[tuple[str, str], ...]
    #: For reasons: "cpe:2.3:a:haxx:libcurl:*:... (versions >= 7.69.0, < 8.4.0)".
    description: str = ""

    def bounds_text(self) -> str:
        if not self.has_bounds:
            if self.cpe.version == ANY:
                return "all versions"
            if self.cpe.version == NA:
                return "version '-', i.e. no version information"
            update = "" if self.cpe.update in {ANY, NA} else f" update {self.cpe.update}"
            return f"version {self.cpe.version}{update}"
        parts = []
        m = self.match
        if m.version_start_including:
            parts.append(f">= {m.version_start_including}")
        if m.version_start_excluding:
            parts.append(f"> {m.version_start_excluding}")
        if m.version_end_including:
            parts.append(f"<= {m.version_end_including}")
        if m.version_end_excluding:
            parts.append(f"< {m.version_end_excluding}")
        return "versions " + ", ".join(parts)

    def describe(self) -> str:
        return self.description


def _compile_criterion(match: CpeMatch) -> _Criterion:
    cpe = parse_cpe(match.criteria)
    problem = None
    bounds: list[_Bound | None] = []
    for text, inclusive in (
        (match.version_start_including, True),
        (match.version_start_excluding, False),
        (match.version_end_including, True),
        (match.version_end_excluding, False),
    ):
        bound = None
        if text:
            parsed = parse_version(VersionScheme.GENERIC, text)
            if parsed is None:
                problem = f"NVD bound {text!r} is not a version fleetcare can order"
            else:
                bound = _Bound(parsed.key, text, inclusive)
        bounds.append(bound)
    start = bounds[0] or bounds[1]
    end = bounds[2] or bounds[3]
    has_bounds = any(
        (
            match.version_start_including,
            match.version_start_excluding,
            match.version_end_including,
            match.version_end_excluding,
        )
    )
    qualifiers = tuple(
        (name, getattr(cpe, name)) for name in _QUALIFYING if getattr(cpe, name) != ANY
    )
    criterion = _Criterion(match, cpe, cpe.key, start, end, has_bounds, problem, qualifiers)
    return replace(criterion, description=f"{match.criteria} ({criterion.bounds_text()})")


def _evaluate(criterion: _Criterion, cpe: Cpe, *, platform: bool) -> Verdict:
    """Whether `cpe` meets `criterion`; `platform` relaxes the version rule for environments."""
    wanted = criterion.cpe
    if wanted.part != cpe.part and ANY not in (wanted.part, cpe.part):
        return Verdict.NO_MATCH
    for name, expected in criterion.qualifiers:
        if getattr(cpe, name) not in (ANY, expected):
            return Verdict.NO_MATCH
    if criterion.has_bounds:
        return _in_bounds(criterion, cpe)
    return _version_verdict(wanted, cpe, platform=platform)


def _version_verdict(wanted: Cpe, cpe: Cpe, *, platform: bool) -> Verdict:
    if wanted.version == ANY:
        return Verdict.MATCH if cpe.has_version or platform else Verdict.UNDECIDED
    if wanted.version == NA:
        return Verdict.MATCH if platform else Verdict.UNDECIDED
    if not cpe.has_version:
        return Verdict.UNDECIDED
    return _same_version(wanted, cpe)


def _in_bounds(criterion: _Criterion, cpe: Cpe) -> Verdict:
    version = cpe.parsed_version
    if criterion.problem is not None or version is None:
        return Verdict.UNDECIDED
    key = version.key
    start, end = criterion.start, criterion.end
    if start is not None and (key < start.key or (not start.inclusive and not start.key < key)):
        return Verdict.NO_MATCH
    if end is not None and (end.key < key or (not end.inclusive and not key < end.key)):
        return Verdict.NO_MATCH
    if criterion.cpe.version not in _NO_VERSION:  # bounds and a version: both must hold
        return _same_version(criterion.cpe, cpe)
    return Verdict.MATCH


def _same_version(wanted: Cpe, cpe: Cpe) -> Verdict:
    # A criterion's update must be the component's: "6.8:rc1" is not the 6.8 release. An update
    # "-" (none) accepts a component that gives none.
    update_given = wanted.update not in (ANY, NA)
    if _versions_equal(wanted.version, cpe):
        if update_given and cpe.update != wanted.update:
            return Verdict.NO_MATCH
        if wanted.update == NA and cpe.update not in (ANY, NA):
            return Verdict.NO_MATCH
        return Verdict.MATCH
    # "9.3:p1" in NVD is often "9.3p1" in an SBOM, "6.8:rc1" is "6.8-rc1".
    if (
        update_given
        and cpe.update in (ANY, NA)
        and _versions_equal(wanted.version + wanted.update, cpe)
    ):
        return Verdict.MATCH
    if cpe.parsed_version is None:
        return Verdict.UNDECIDED
    return Verdict.NO_MATCH


def _versions_equal(wanted: str, cpe: Cpe) -> bool:
    if wanted == cpe.version:
        return True
    parsed = parse_version(VersionScheme.GENERIC, wanted)
    return (
        parsed is not None
        and cpe.parsed_version is not None
        and (parsed.key == cpe.parsed_version.key)
    )


# --- configurations ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    operator: str
    negate: bool
    criteria: tuple[_Criterion, ...]


@dataclass(frozen=True, slots=True)
class _Configuration:
    operator: str
    negate: bool
    nodes: tuple[_Node, ...]
    #: One OR node, nothing negated: NVD's most common shape, where only the component's own
    #: vulnerable criteria can make it affected, so the release need not be consulted.
    simple: bool
    #: The vulnerable criteria of non-negated nodes, by vendor/product.
    own: dict[CpeKey, tuple[_Criterion, ...]]


def _combine(operator: str, verdicts: Iterable[Verdict], negate: bool) -> Verdict:
    """Kleene's three-valued AND/OR (UNDECIDED as unknown), then negation.

    Nothing to combine (a node whose criteria were all unreadable) is UNDECIDED.
    """
    seen = set(verdicts)
    if not seen:
        return Verdict.UNDECIDED
    if operator == "AND":
        decisive, other = Verdict.NO_MATCH, Verdict.MATCH
    else:
        decisive, other = Verdict.MATCH, Verdict.NO_MATCH
    if decisive in seen:
        result = decisive
    elif Verdict.UNDECIDED in seen:
        result = Verdict.UNDECIDED
    else:
        result = other
    if negate and result is not Verdict.UNDECIDED:
        result = Verdict.NO_MATCH if result is Verdict.MATCH else Verdict.MATCH
    return result


@dataclass(slots=True)
class _Outcome:
    """What one configuration says about the component, with what is needed for a reason."""

    verdict: Verdict
    own: _Criterion | None = None  # the component's vulnerable criterion that decided
    platform: tuple[_Criterion, ...] = ()  # platform criteria met by the release
    missing: tuple[_Criterion, ...] = ()  # criteria of nodes that did not hold
    excluded: tuple[_Criterion, ...] = ()  # criteria of negated nodes the release meets
    outside: tuple[_Criterion, ...] = ()  # the component's criteria it does not meet


@dataclass(frozen=True, slots=True)
class CpeRule:
    """The NVD configurations of one record, compiled for repeated matching."""

    configurations: tuple[_Configuration, ...]
    #: Vendor/product of every vulnerable criterion: the record's candidate keys.
    keys: frozenset[CpeKey]
    _by_key: dict[CpeKey, tuple[_Configuration, ...]]

    def match(self, component: Cpe, release: CpeInventory | None = None) -> MatchResult:
        """Whether the record affects `component`, a CPE of a release whose CPEs are `release`.

        Without `release`, configurations that need a platform do not match (the reason says
        which platform was missing).
        """
        configurations = self._by_key.get(component.key)
        if not configurations:
            return MatchResult(
                Verdict.NO_MATCH,
                f"no vulnerable criterion names {component.vendor}:{component.product}",
            )
        inventory = release if release is not None else _EMPTY_INVENTORY
        outcomes = []
        for configuration in configurations:
            if configuration.simple:
                outcome = _decide_simple(configuration, component)
            else:
                outcome = _decide(configuration, component, inventory)
            if outcome.verdict is Verdict.MATCH and outcome.own is not None:
                return _match_result(component, outcome.own, outcome.platform)
            outcomes.append(outcome)
        return _no_match_result(component, outcomes)


def _decide_simple(configuration: _Configuration, component: Cpe) -> _Outcome:
    undecided = None
    outside = []
    for criterion in configuration.own.get(component.key, ()):
        verdict = _evaluate(criterion, component, platform=False)
        if verdict is Verdict.MATCH:
            return _Outcome(Verdict.MATCH, criterion)
        if verdict is Verdict.UNDECIDED:
            undecided = undecided or criterion
        else:
            outside.append(criterion)
    if undecided is not None:
        return _Outcome(Verdict.UNDECIDED, undecided)
    return _Outcome(Verdict.NO_MATCH, outside=tuple(outside))


def _decide(configuration: _Configuration, component: Cpe, inventory: CpeInventory) -> _Outcome:
    node_verdicts: list[Verdict] = []
    own: list[tuple[_Criterion, Verdict, Verdict]] = []  # (criterion, its verdict, node verdict)
    platform: list[_Criterion] = []
    missing: list[_Criterion] = []
    excluded: list[_Criterion] = []
    key = component.key
    for node in configuration.nodes:
        verdicts = []
        node_own: list[tuple[_Criterion, Verdict]] = []
        for criterion in node.criteria:
            if criterion.match.vulnerable and criterion.key == key:
                verdict = _evaluate(criterion, component, platform=False)
                node_own.append((criterion, verdict))
            else:
                verdict = _in_release(criterion, component, inventory)
                if verdict is Verdict.MATCH and not criterion.match.vulnerable:
                    platform.append(criterion)
            verdicts.append(verdict)
        node_verdict = _combine(node.operator, verdicts, node.negate)
        node_verdicts.append(node_verdict)
        if node_verdict is not Verdict.MATCH:
            others = (c for c in node.criteria if c.key != key)
            (excluded if node.negate else missing).extend(others)
        if not node.negate:
            own.extend((c, v, node_verdict) for c, v in node_own)
    verdict = _combine(configuration.operator, node_verdicts, configuration.negate)
    for criterion, own_verdict, node_verdict in own:
        if (
            own_verdict is Verdict.MATCH
            and node_verdict is Verdict.MATCH
            and (verdict is Verdict.MATCH)
        ):
            return _Outcome(Verdict.MATCH, criterion, tuple(platform))
    for criterion, own_verdict, node_verdict in own:
        if Verdict.NO_MATCH not in (own_verdict, node_verdict, verdict):
            return _Outcome(Verdict.UNDECIDED, criterion, tuple(platform), tuple(missing))
    # The component meets (or may meet) its criterion, but the rest of the configuration fails.
    met = next((c for c, v, _ in own if v is not Verdict.NO_MATCH), None)
    outside = tuple(c for c, v, _ in own if v is Verdict.NO_MATCH)
    return _Outcome(
        Verdict.NO_MATCH, met, tuple(platform), tuple(missing), tuple(excluded), outside
    )


def _in_release(criterion: _Criterion, component: Cpe, inventory: CpeInventory) -> Verdict:
    platform = not criterion.match.vulnerable
    candidates = list(inventory.get(criterion.key))
    if criterion.key == component.key:
        candidates.append(component)
    if not candidates:
        return Verdict.NO_MATCH
    verdicts = {_evaluate(criterion, cpe, platform=platform) for cpe in candidates}
    return _combine("OR", verdicts, negate=False)


def _match_result(component: Cpe, own: _Criterion, platform: Sequence[_Criterion]) -> MatchResult:
    reason = f"{_name(component)} matches {own.describe()}"
    if platform:
        reason += "; running on " + ", ".join(c.match.criteria for c in platform)
        reason += ", which the release contains"
    return MatchResult(
        Verdict.MATCH,
        reason,
        criteria=(own.match, *(c.match for c in platform)),
        fixed_version=own.match.version_end_excluding,
    )


def _no_match_result(component: Cpe, outcomes: list[_Outcome]) -> MatchResult:
    name = _name(component)
    undecided = next((o for o in outcomes if o.verdict is Verdict.UNDECIDED), None)
    if undecided is not None and undecided.own is not None:
        own = undecided.own
        if _evaluate(own, component, platform=False) is Verdict.UNDECIDED:
            reason = f"cannot decide whether {name} meets {own.describe()}: "
            reason += _why_undecided(own, component)
        else:
            reason = f"{name} matches {own.describe()}, but cannot decide whether the release "
            reason += "contains " + _list(undecided.missing)
        return MatchResult(Verdict.UNDECIDED, reason, criteria=(own.match,))
    needs_platform = next((o for o in outcomes if o.own is not None), None)
    if needs_platform is not None and needs_platform.own is not None:
        why = []
        if needs_platform.missing:
            why.append(
                f"also needs {_list(needs_platform.missing)}, which the release does not contain"
            )
        if needs_platform.excluded:
            why.append(f"excludes releases with {_list(needs_platform.excluded)}")
        return MatchResult(
            Verdict.NO_MATCH,
            f"{name}: the configuration with {needs_platform.own.describe()} "
            + " and ".join(why or ["does not hold"]),
        )
    outside = [c for o in outcomes for c in o.outside]
    return MatchResult(
        Verdict.NO_MATCH,
        f"{name} is outside {_list(outside, describe=True, joiner='; ')}",
    )


def _why_undecided(criterion: _Criterion, component: Cpe) -> str:
    if criterion.problem is not None:
        return criterion.problem
    if not component.has_version:
        return f"the component CPE has no version ({component.version!r})"
    if criterion.cpe.version == NA and not criterion.has_bounds:
        return "NVD lists the product with version '-', without version information"
    return f"{component.version!r} is not a version fleetcare can order"


def _name(component: Cpe) -> str:
    return f"{component.vendor}:{component.product} {component.version}"


def _list(
    criteria: Sequence[_Criterion], limit: int = 3, *, describe: bool = False, joiner: str = " or "
) -> str:
    texts = list(dict.fromkeys(c.describe() if describe else c.match.criteria for c in criteria))
    shown = joiner.join(texts[:limit]) or "another product"
    if len(texts) > limit:
        shown += f" (or {len(texts) - limit} more)"
    return shown


def compile_cpe_rule(configurations: tuple[CpeConfiguration, ...]) -> CpeRule:
    """Compile a record's configurations, once: the same or an equal tuple hits a cache.

    Criteria that are not CPEs are dropped: they can match nothing.
    """
    return _compiled_rules(configurations)


@lru_cache(maxsize=1 << 15)
def _compile_cpe_rule(configurations: tuple[CpeConfiguration, ...]) -> CpeRule:
    compiled: list[_Configuration] = []
    by_key: dict[CpeKey, list[_Configuration]] = {}
    for configuration in configurations:
        nodes = tuple(_compile_node(node) for node in configuration.nodes)
        own: dict[CpeKey, list[_Criterion]] = {}
        for node in nodes:
            if not node.negate:
                for criterion in node.criteria:
                    if criterion.match.vulnerable:
                        own.setdefault(criterion.key, []).append(criterion)
        simple = (
            not configuration.negate
            and len(nodes) == 1
            and nodes[0].operator == "OR"
            and not nodes[0].negate
        )
        config = _Configuration(
            configuration.operator,
            configuration.negate,
            nodes,
            simple,
            {key: tuple(criteria) for key, criteria in own.items()},
        )
        compiled.append(config)
        for key in own:
            by_key.setdefault(key, []).append(config)
    return CpeRule(
        configurations=tuple(compiled),
        keys=frozenset(by_key),
        _by_key={k: tuple(v) for k, v in by_key.items()},
    )


_compiled_rules: IdentityCache[tuple[CpeConfiguration, ...], CpeRule] = IdentityCache(
    _compile_cpe_rule, limit=1 << 18
)


def _compile_node(node: CpeNode) -> _Node:
    criteria = []
    for match in node.matches:
        try:
            criteria.append(_compile_criterion(match))
        except InvalidCpe:
            continue
    return _Node(node.operator, node.negate, tuple(criteria))


def candidate_key(cpe: Cpe | str) -> CpeKey | None:
    """The (vendor, product) under which a component's candidate records are found; None if
    `cpe` is not a CPE."""
    if isinstance(cpe, Cpe):
        return cpe.key
    try:
        return parse_cpe(cpe).key
    except InvalidCpe:
        return None


def configuration_keys(configurations: Sequence[CpeConfiguration]) -> frozenset[CpeKey]:
    """The (vendor, product) of every vulnerable criterion: a record's candidate keys."""
    return compile_cpe_rule(tuple(configurations)).keys


@lru_cache(maxsize=256)
def _inventory_of(cpes: frozenset[str]) -> CpeInventory:
    # A release's CPE set is passed for every component of the release: build its index once.
    return CpeInventory(cpes)


def match_configurations(
    component: Cpe | str,
    configurations: Sequence[CpeConfiguration],
    release: CpeInventory | frozenset[str] | None = None,
) -> MatchResult:
    """`compile_cpe_rule(configurations).match(component, release)` for plain arguments.

    `release` is the release's CPEs, as an inventory or a frozenset of strings (indexed once
    per set and cached). A component string that is not a CPE raises InvalidCpe.
    """
    if isinstance(component, str):
        component = parse_cpe(component)
    if isinstance(release, frozenset):
        release = _inventory_of(release)
    return compile_cpe_rule(tuple(configurations)).match(component, release)
