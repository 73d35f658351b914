"""Per-call cost of the matching rules, as a ratio to a plain tuple range check.

The baseline is the least a Python range check can cost: a function call comparing a version
tuple with two bound tuples. Against it: version parsing (first time and cached), OSV range
evaluation of compiled rules for several orderings, a whole-record OSV match from a purl, CPE
parsing (ours and the `cpe` package), and CPE configuration matching for a one-criterion record,
a 28-configuration record (zlib, CVE-2022-37434) and an AND configuration with a platform.
The last line estimates a 1,000-component SBOM against its candidate records.

Run: `python -m bench.matching_rules` (or `make bench`).
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from fleetcare.intel.records import (
    AffectedPackage,
    AffectedRange,
    CpeConfiguration,
    CpeMatch,
    CpeNode,
    RangeEvent,
    VulnerabilityRecord,
)
from fleetcare.matching import versions
from fleetcare.matching.cpe import (
    CpeInventory,
    compile_cpe_rule,
    match_configurations,
    parse_cpe,
)
from fleetcare.matching.purl import parse_purl
from fleetcare.matching.ranges import compile_affected, match_osv_record
from fleetcare.matching.versions import VersionScheme

NVD_FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "matching" / "nvd"


def per_second(call: Callable[[], Any], *, budget: float = 0.25) -> float:
    """Calls per second, best of five runs of about `budget / 5` seconds each."""
    loops = 1
    while True:  # find a loop count that takes ~10 ms
        start = time.perf_counter()
        for _ in range(loops):
            call()
        if time.perf_counter() - start > 0.01:
            break
        loops *= 2
    best = float("inf")
    rounds = max(1, int(budget / 5 / 0.01))
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(loops * rounds):
            call()
        best = min(best, (time.perf_counter() - start) / (loops * rounds))
    return 1.0 / best


def line(label: str, rate: float, baseline: float) -> str:
    return f"{label:<58} {rate:>13,.0f}/s {1e6 / rate:>8.2f} µs  x{baseline / rate:>6.1f}"


def events(*pairs: tuple[str, str]) -> tuple[RangeEvent, ...]:
    return tuple(RangeEvent(kind, value) for kind, value in pairs)  # type: ignore[arg-type]


def nvd_configurations(cve_id: str) -> tuple[CpeConfiguration, ...]:
    cve = json.loads((NVD_FIXTURES / f"{cve_id}.json").read_text())
    cve = cve.get("cve", cve)
    return tuple(
        CpeConfiguration(
            nodes=tuple(
                CpeNode(
                    operator=n["operator"],
                    negate=n.get("negate", False),
                    matches=tuple(
                        CpeMatch(
                            m["criteria"],
                            m["vulnerable"],
                            m.get("versionStartIncluding"),
                            m.get("versionStartExcluding"),
                            m.get("versionEndIncluding"),
                            m.get("versionEndExcluding"),
                        )
                        for m in n["cpeMatch"]
                    ),
                )
                for n in c["nodes"]
            ),
            operator=c.get("operator", "OR"),
            negate=c.get("negate", False),
        )
        for c in cve["configurations"]
    )


def in_tuple_range(
    version: tuple[int, ...], lower: tuple[int, ...], upper: tuple[int, ...]
) -> bool:
    return lower <= version < upper


def main() -> None:
    v, lo, hi = (2, 0, 6), (2, 0, 0), (2, 0, 7)
    baseline = per_second(lambda: in_tuple_range(v, lo, hi))
    print(line("baseline: tuple range check in a function", baseline, baseline))

    print("\nversions")
    counter = iter(range(10**9))
    generic = VersionScheme.GENERIC
    print(
        line(
            "parse generic, first time (cache miss)",
            per_second(lambda: versions.parse_version(generic, f"1.2.{next(counter)}")),
            baseline,
        )
    )
    print(
        line(
            "parse generic, cached",
            per_second(lambda: versions.parse_version(generic, "1.1.1w")),
            baseline,
        )
    )
    for scheme, a, b in [
        (VersionScheme.GENERIC, "1.2.11", "1.2.12"),
        (VersionScheme.PYPI, "2.0.6", "2.0.7"),
        (VersionScheme.SEMVER, "1.18.5", "1.18.6"),
        (VersionScheme.DEBIAN, "3.20230512.1", "3.20230808.1~deb12u1"),
        (VersionScheme.ALPINE, "1.0.2p-r0", "1.0.2q-r0"),
        (VersionScheme.RPM, "1.2.11-30.el8", "1.2.11-31.el8"),
        (VersionScheme.MAVEN, "2.14.1", "2.15.0"),
    ]:
        ka = versions.parse_version(scheme, a).key  # type: ignore[union-attr]
        kb = versions.parse_version(scheme, b).key  # type: ignore[union-attr]
        print(line(f"compare keys, {scheme}", per_second(partial(operator.lt, ka, kb)), baseline))

    print("\nOSV ranges (compiled rule, rule.evaluate(version))")
    cases = [
        (
            "PyPI, 2 intervals (urllib3)",
            AffectedPackage(
                "PyPI",
                "urllib3",
                ranges=(
                    AffectedRange(
                        "ECOSYSTEM",
                        events(
                            ("introduced", "2.0.0"),
                            ("fixed", "2.0.7"),
                            ("introduced", "0"),
                            ("fixed", "1.26.18"),
                        ),
                    ),
                ),
            ),
            "2.0.6",
        ),
        (
            "Go SEMVER, 2 intervals",
            AffectedPackage(
                "Go",
                "stdlib",
                ranges=(
                    AffectedRange(
                        "SEMVER",
                        events(
                            ("introduced", "0"),
                            ("fixed", "1.18.6"),
                            ("introduced", "1.19.0-0"),
                            ("fixed", "1.19.1"),
                        ),
                    ),
                ),
            ),
            "1.18.5",
        ),
        (
            "Debian",
            AffectedPackage(
                "Debian:12",
                "intel-microcode",
                ranges=(
                    AffectedRange(
                        "ECOSYSTEM", events(("introduced", "0"), ("fixed", "3.20230808.1~deb12u1"))
                    ),
                ),
            ),
            "3.20230512.1",
        ),
        (
            "Alpine",
            AffectedPackage(
                "Alpine:v3.8",
                "openssl",
                ranges=(
                    AffectedRange("ECOSYSTEM", events(("introduced", "0"), ("fixed", "1.0.2q-r0"))),
                ),
            ),
            "1.0.2p-r0",
        ),
        (
            "OSS-Fuzz, git tags in the versions list (76)",
            AffectedPackage(
                "OSS-Fuzz",
                "dnsmasq",
                ranges=(AffectedRange("GIT", events(("introduced", "03345ecefeb0")), repo="x"),),
                versions=tuple(f"v2.{n}" for n in range(87, 163)),
            ),
            "2.87",
        ),
        (
            "no match, outside (reason built)",
            AffectedPackage(
                "PyPI",
                "urllib3",
                ranges=(
                    AffectedRange("ECOSYSTEM", events(("introduced", "2.0.0"), ("fixed", "2.0.7"))),
                ),
            ),
            "2.0.7",
        ),
    ]
    for label, affected, version in cases:
        rule = compile_affected(affected)
        assert rule.evaluate(version).verdict is not None
        print(line(label, per_second(partial(rule.evaluate, version)), baseline))
    record = VulnerabilityRecord("PYSEC-2023-212", "osv", affected=(cases[0][1],))
    component = parse_purl("pkg:pypi/urllib3@2.0.6")
    osv_rate = per_second(lambda: match_osv_record(component, record))
    print(line("match_osv_record(purl component, record)", osv_rate, baseline))
    print(
        line(
            "compile_affected, same entry object again (cache hit)",
            per_second(lambda: compile_affected(cases[0][1])),
            baseline,
        )
    )
    print(
        line(
            "parse_purl, cached", per_second(lambda: parse_purl("pkg:pypi/urllib3@2.0.6")), baseline
        )
    )

    print("\nCPE")
    counter_cpe = iter(range(10**9))
    print(
        line(
            "parse_cpe 2.3, first time (cache miss)",
            per_second(
                lambda: parse_cpe(f"cpe:2.3:a:haxx:libcurl:7.{next(counter_cpe)}.0:*:*:*:*:*:*:*")
            ),
            baseline,
        )
    )
    print(
        line(
            "parse_cpe 2.2 URI, first time (cache miss)",
            per_second(lambda: parse_cpe(f"cpe:/a:busybox:busybox:1.{next(counter_cpe)}.2")),
            baseline,
        )
    )
    try:
        from cpe import CPE

        print(
            line(
                "the `cpe` package, CPE(...) 2.3 (for comparison)",
                per_second(lambda: CPE("cpe:2.3:a:haxx:libcurl:7.82.0:*:*:*:*:*:*:*"), budget=0.1),
                baseline,
            )
        )
    except ImportError:
        pass
    curl = parse_cpe("cpe:/a:haxx:libcurl:7.82.0")
    curl_rule = compile_cpe_rule(nvd_configurations("CVE-2023-38545"))
    cpe_rate = per_second(lambda: curl_rule.match(curl))
    print(line("rule.match, curl (1 criterion for libcurl)", cpe_rate, baseline))
    zlib = parse_cpe("cpe:/a:zlib:zlib:1.2.11")
    zlib_configurations = nvd_configurations("CVE-2022-37434")
    zlib_rule = compile_cpe_rule(zlib_configurations)
    release = CpeInventory(["cpe:2.3:h:netapp:h300s:-:*:*:*:*:*:*:*", zlib.text, curl.text])
    print(
        line(
            f"rule.match, zlib ({len(zlib_configurations)} configurations)",
            per_second(lambda: zlib_rule.match(zlib, release)),
            baseline,
        )
    )
    outside = parse_cpe("cpe:/a:zlib:zlib:1.2.13")
    print(
        line(
            "rule.match, zlib 1.2.13, no match (reason built)",
            per_second(lambda: zlib_rule.match(outside, release)),
            baseline,
        )
    )
    app = CpeMatch("cpe:2.3:a:acme:webui:*:*:*:*:*:*:*:*", version_end_excluding="2.0")
    board = CpeMatch("cpe:2.3:h:acme:router_x1:-:*:*:*:*:*:*:*", vulnerable=False)
    and_rule = compile_cpe_rule(
        (CpeConfiguration((CpeNode("OR", (app,)), CpeNode("OR", (board,))), "AND"),)
    )
    webui = parse_cpe("cpe:2.3:a:acme:webui:1.5:*:*:*:*:*:*:*")
    board_release = CpeInventory([board.criteria, webui.text])
    print(
        line(
            "rule.match, AND configuration with its platform",
            per_second(lambda: and_rule.match(webui, board_release)),
            baseline,
        )
    )
    frozen = frozenset({"cpe:2.3:h:netapp:h300s:-:*:*:*:*:*:*:*", zlib.text})
    print(
        line(
            "match_configurations(str, configurations, frozenset), zlib",
            per_second(lambda: match_configurations(zlib.text, zlib_configurations, frozen)),
            baseline,
        )
    )

    # 1,000 components, each compared with its candidate records (selected by key): say 20
    # OSV records and 20 NVD records per component, i.e. 40,000 evaluations.
    estimate = 1000 * 20 * (1 / osv_rate + 1 / cpe_rate)
    print(f"\nestimate, 1,000 components x (20 OSV + 20 NVD candidates): {estimate * 1000:.0f} ms")


if __name__ == "__main__":
    main()
