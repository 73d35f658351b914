"""VEX export of a release with 1,000 findings, as a ratio to schema-validating the document alone.

A temporary SQLite database gets one product with two releases, 1,000 components in the first,
1,000 vulnerabilities (CVSS 3.1 vectors, a few in KEV) and one finding per component, with
decisions spread over the four VEX statuses (fixed ones name the second release). For each
format the export (read the findings and decisions, build the document, validate it against its
schema; for CSAF also the mandatory tests) is timed against validating the finished document
only. Best of three runs each.

    python -m bench vex_export
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fleetcare.core import migrations
from fleetcare.core.auth import system_principal
from fleetcare.core.db import Database
from fleetcare.core.settings import Settings
from fleetcare.intel.models import Vulnerability
from fleetcare.matching.models import Finding
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductIn, ReleaseIn
from fleetcare.sbom.models import Component, SbomDocument
from fleetcare.triage import service as triage
from fleetcare.triage import vex
from fleetcare.triage.models import Decision

FINDINGS = 1_000
RUNS = 3
ACTOR = system_principal("bench", via="cli")
STATUSES: list[dict[str, Any]] = [
    {"vex_status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
    {"vex_status": "not_affected", "impact_statement": "The feature is compiled out."},
    {"vex_status": "affected", "action_statement": "Update to 2.0.0."},
    {"vex_status": "fixed"},
    {"vex_status": "under_investigation"},
]


def load(db: Database) -> None:
    with db.session() as session:
        product = portfolio.create_product(
            session,
            ProductIn(
                name="Bench Router",
                placed_on_market=dt.date(2025, 1, 1),
                support_end=dt.date(2031, 1, 1),
            ),
            actor=ACTOR,
        )
        first = portfolio.create_release(
            session,
            product.id,
            ReleaseIn(
                version="1.0.0", release_date=dt.date(2025, 1, 1), kind="feature", status="released"
            ),
            actor=ACTOR,
        )
        fixed = portfolio.create_release(
            session,
            product.id,
            ReleaseIn(
                version="2.0.0",
                release_date=dt.date(2026, 1, 1),
                kind="security",
                status="released",
            ),
            actor=ACTOR,
        )
        sbom = SbomDocument(
            release_id=first.id,
            sha256="0" * 64,
            format="cyclonedx",
            spec_version="1.6",
            encoding="json",
        )
        session.add(sbom)
        session.flush()
        components = [
            Component(
                sbom_id=sbom.id,
                release_id=first.id,
                ref=f"c{i}",
                name=f"lib{i}",
                version=f"1.{i % 40}.{i % 7}",
                purl=f"pkg:generic/lib{i}@1.{i % 40}.{i % 7}",
            )
            for i in range(FINDINGS)
        ]
        session.add_all(components)
        session.add_all(
            [
                Vulnerability(
                    id=f"CVE-2025-{10000 + i}",
                    summary=f"Buffer overflow in lib{i}.",
                    severity="high",
                    cvss_score=8.8,
                    kev=i % 50 == 0,
                    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                    aliases=[f"GHSA-bench-{i:04d}"],
                )
                for i in range(FINDINGS)
            ]
        )
        session.flush()
        findings = [
            Finding(
                release_id=first.id,
                component_id=c.id,
                vulnerability_id=f"CVE-2025-{10000 + i}",
                matched_by="purl",
                match_reason=f"lib{i} in range <2.0",
                source="osv",
            )
            for i, c in enumerate(components)
        ]
        session.add_all(findings)
        session.flush()
        for i, finding in enumerate(findings):
            spec = STATUSES[i % len(STATUSES)]
            if spec["vex_status"] == "under_investigation":
                continue
            session.add(
                Decision(
                    finding_id=finding.id,
                    vex_status=spec["vex_status"],
                    justification=spec.get("justification"),
                    impact_statement=spec.get("impact_statement", ""),
                    action_statement=spec.get("action_statement", ""),
                    fixed_release_id=fixed.id if spec["vex_status"] == "fixed" else None,
                    decided_by="bench",
                    decided_at=dt.datetime.now(dt.UTC),
                )
            )
        session.commit()


def best(fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrations.upgrade(db.engine)
        load(db)
        settings = Settings(data_dir=Path(tmp), secret_key="bench")
        print(f"VEX export of one release with {FINDINGS} findings (best of {RUNS})")
        print(f"{'format':<10} {'export s':>9} {'validate s':>11} {'ratio':>6} {'size KiB':>9}")
        with db.session() as session:
            for fmt in vex.FORMATS:
                document = triage.export_vex(session, "bench-router", "1.0.0", fmt, settings)

                def validate(f: str = fmt, d: dict[str, Any] = document) -> None:
                    vex.validate_export(f, d)

                def export_once(f: str = fmt) -> None:
                    triage.export_vex(session, "bench-router", "1.0.0", f, settings)

                validate_only = best(validate)
                export = best(export_once)
                size = len(json.dumps(document)) / 1024
                print(
                    f"{fmt:<10} {export:>9.3f} {validate_only:>11.3f} "
                    f"{export / validate_only:>6.2f} {size:>9.0f}"
                )
        db.dispose()


if __name__ == "__main__":
    main()
