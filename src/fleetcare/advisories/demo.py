"""Demo triage and advisories for `fleetcare demo`: decisions on the demo findings, a supplier's
VEX as proposals, and two published advisories (one with a second revision), so that the
triage board, the advisory pages and the CSAF provider directory have something to show."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from fleetcare.advisories import service
from fleetcare.advisories.schemas import AdvisoryIn, AdvisoryPatch, PublishIn
from fleetcare.core.auth import Principal
from fleetcare.core.errors import FleetcareError
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service as disclosure
from fleetcare.triage import service as triage
from fleetcare.triage.schemas import DecisionIn

#: (product slug, release, component, vulnerability) -> decision.
DECISIONS = [
    (
        ("gateway-gx-500", "23.05.5-gx3", "libcurl", "CVE-2023-38545"),
        {
            "vex_status": "fixed",
            "fixed_release": "24.10.2-gx5",
            "reason": "curl 8.4.0 ships in 24.10.2-gx5",
        },
    ),
    (
        ("gateway-gx-500", "23.05.5-gx3", "linux", "CVE-2024-1086"),
        {
            "vex_status": "affected",
            "action_statement": "Update to 24.10.2-gx5; until then keep the local shell disabled "
            "(the default) and allow management access only from the LAN.",
            "reason": "nf_tables is built in; exploitation needs local code execution",
        },
    ),
    (
        ("gateway-gx-500", "23.05.5-gx3", "busybox", "CVE-2022-48174"),
        {
            "vex_status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "reason": "ash is not reachable: no shell is exposed on any interface",
        },
    ),
    (
        ("thermostat-t2", "2.4.9", "zlib", "CVE-2022-37434"),
        {
            "vex_status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "reason": "the firmware never calls inflateGetHeader",
        },
    ),
    (
        ("thermostat-t2", "2.4.9", "libcurl", "CVE-2023-38545"),
        {
            "vex_status": "affected",
            "action_statement": "No SOCKS5 proxy is configured by default; do not configure one "
            "until the fixed firmware is available.",
            "reason": "proxy setting exists in the installer menu",
        },
    ),
]
SUPPLIER_VEX = {
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": "https://busybox-builds.example/vex/2026-014",
    "author": "Example BusyBox Builds Ltd",
    "timestamp": "2026-10-01T08:00:00Z",
    "version": 1,
    "statements": [
        {
            "vulnerability": {"name": "CVE-2022-48174"},
            "products": [{"@id": "pkg:generic/busybox@1.35.0"}, {"@id": "busybox@1.35.0"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
            "impact_statement": "Our 1.35.0 build is configured without the ash shell.",
        }
    ],
}


def _finding(session: Session, key: tuple[str, str, str, str]) -> int | None:
    product, release, component, vulnerability = key
    for row in triage.triage_rows(session, vulnerability_id=vulnerability):
        if (row.product.slug, row.release.version, row.component.name) == (
            product,
            release,
            component,
        ):
            return row.finding.id
    return None


def _credited_reports(session: Session, product_name: str) -> list[str]:
    reports, _total = disclosure.list_reports(session, limit=100)
    return [
        r.tracking_id
        for r in reports
        if r.product_text == product_name and any(c.public for c in r.credits)
    ]


def load_demo(session: Session, *, actor: Principal, settings: Settings) -> list[str]:
    if service.list_advisories(session):
        return ["demo advisories already loaded"]
    decided = 0
    for key, decision in DECISIONS:
        finding = _finding(session, key)
        if finding is not None:
            triage.decide(session, finding, DecisionIn.model_validate(decision), actor=actor)
            decided += 1
    imported = triage.import_supplier_vex(
        session, json.dumps(SUPPLIER_VEX).encode(), actor=actor, source_name="busybox-2026-014"
    )
    gateway = service.create_advisory(
        session,
        AdvisoryIn(
            title="Gateway GX-500: curl SOCKS5 heap overflow and Linux nf_tables use-after-free",
            product="gateway-gx-500",
            vulnerabilities=["CVE-2023-38545", "CVE-2024-1086", "CVE-2022-48174"],
            summary="Firmware 23.05.5-gx3 contains curl and Linux kernel vulnerabilities. Firmware "
            "24.10.2-gx5 fixes them and is delivered as an automatic security update.",
            reports=_credited_reports(session, "Gateway GX-500"),
        ),
        actor=actor,
        settings=settings,
    )
    thermostat = service.create_advisory(
        session,
        AdvisoryIn(
            title="Thermostat T2: curl and zlib vulnerabilities",
            product="thermostat-t2",
            vulnerabilities=["CVE-2023-38545", "CVE-2022-37434"],
            summary="Firmware 2.4.9 contains curl 7.82.0 and zlib 1.2.11.",
        ),
        actor=actor,
        settings=settings,
    )
    lines = []
    try:
        service.publish(session, gateway, PublishIn(status="final"), actor=actor, settings=settings)
        service.publish(
            session, thermostat, PublishIn(status="interim"), actor=actor, settings=settings
        )
        service.update_advisory(
            session,
            thermostat,
            AdvisoryPatch(
                summary="Firmware 2.4.9 contains curl 7.82.0 and zlib 1.2.11. zlib is not "
                "affected in this product; curl is, when a SOCKS5 proxy is configured."
            ),
            actor=actor,
        )
        service.publish(
            session,
            thermostat,
            PublishIn(status="final", summary="zlib assessed as not affected; advice for curl."),
            actor=actor,
            settings=settings,
        )
        lines.append(
            f"demo advisories published: {gateway.tracking_id} (final), "
            f"{thermostat.tracking_id} (revision 2) at "
            f"{settings.base_url}/.well-known/csaf/provider-metadata.json"
        )
    except FleetcareError as exc:  # no gpg on this machine: keep the drafts
        lines.append(f"demo advisories left as drafts: {exc.message}")
    lines.append(
        f"demo triage: {decided} decisions, {imported.proposals} supplier VEX proposals; VEX at "
        f"{settings.base_url}/api/v1/products/gateway-gx-500/vex?format=csaf"
    )
    return lines
