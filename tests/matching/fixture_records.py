"""Real records from tests/fixtures/matching, read into `fleetcare.intel.records` shapes.

The readers here are deliberately small and independent of `fleetcare.intel.feeds`, so that
a change in a feed parser cannot hide or cause a failure of the matching rules.
"""

from __future__ import annotations

import json
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

FIXTURES = Path(__file__).parent.parent / "fixtures" / "matching"


def nvd_configurations(cve_id: str) -> tuple[CpeConfiguration, ...]:
    data: dict[str, Any] = json.loads((FIXTURES / "nvd" / f"{cve_id}.json").read_text())
    cve = data.get("cve", data)
    return tuple(
        CpeConfiguration(
            nodes=tuple(
                CpeNode(
                    operator=node["operator"],
                    negate=node.get("negate", False),
                    matches=tuple(
                        CpeMatch(
                            criteria=match["criteria"],
                            vulnerable=match["vulnerable"],
                            version_start_including=match.get("versionStartIncluding"),
                            version_start_excluding=match.get("versionStartExcluding"),
                            version_end_including=match.get("versionEndIncluding"),
                            version_end_excluding=match.get("versionEndExcluding"),
                        )
                        for match in node["cpeMatch"]
                    ),
                )
                for node in configuration["nodes"]
            ),
            operator=configuration.get("operator", "OR"),
            negate=configuration.get("negate", False),
        )
        for configuration in cve.get("configurations", [])
    )


def osv_record(name: str) -> VulnerabilityRecord:
    data: dict[str, Any] = json.loads((FIXTURES / "osv" / f"{name}.json").read_text())
    affected = []
    for entry in data.get("affected", []):
        package = entry.get("package", {})
        ranges = tuple(
            AffectedRange(
                type=r["type"],
                repo=r.get("repo"),
                events=tuple(
                    RangeEvent(kind, value)
                    for event in r["events"]
                    for kind, value in event.items()
                ),
            )
            for r in entry.get("ranges", [])
        )
        affected.append(
            AffectedPackage(
                ecosystem=package.get("ecosystem", ""),
                name=package.get("name", ""),
                purl=package.get("purl"),
                ranges=ranges,
                versions=tuple(entry.get("versions", [])),
            )
        )
    return VulnerabilityRecord(id=data["id"], source="osv", affected=tuple(affected))
