"""`fleetcare findings|vulns|scan|match`: what threatens the portfolio, from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetcare.clitools import JsonOpt, fail, out, print_json, session_scope, table
from fleetcare.core.errors import FleetcareError
from fleetcare.matching.scan import FeedSet
from fleetcare.matching.schemas import SEVERITY_ORDER

findings_app = typer.Typer(
    help="Findings: vulnerabilities matched to release components.", no_args_is_help=True
)
vulns_app = typer.Typer(help="The vulnerability store.", no_args_is_help=True)

SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "green",
    "none": "dim",
    "unknown": "dim",
}


def _check_severity(value: str | None) -> str | None:
    if value is not None and value not in SEVERITY_ORDER:
        raise fail(f"unknown severity {value!r}; choose one of: {', '.join(SEVERITY_ORDER)}")
    return value


@findings_app.command("list")
def list_findings(
    product: Annotated[str | None, typer.Option(help="Product id, slug or name.")] = None,
    release: Annotated[str | None, typer.Option(help="Release version (needs --product).")] = None,
    severity: Annotated[str | None, typer.Option(help="Minimum severity.")] = None,
    kev: Annotated[bool | None, typer.Option("--kev/--no-kev", help="Only (or no) KEV.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000)] = 200,
    as_json: JsonOpt = False,
) -> None:
    """List open findings, KEV first, then by severity and EPSS."""
    from fleetcare.matching import service
    from fleetcare.portfolio import service as portfolio

    _check_severity(severity)
    if release and not product:
        raise fail("--release needs --product")
    with session_scope(write=False) as session:
        product_id = release_id = None
        if product:
            product_id = portfolio.get_product(session, product).id
            if release:
                release_id = portfolio.get_release(session, product_id, release).id
        items, total = service.list_findings(
            session,
            service.FindingFilter(
                product_id=product_id, release_id=release_id, severity=severity, kev=kev
            ),
            limit=limit,
        )
    if as_json:
        print_json(items)
        return
    table(
        f"Findings ({total})",
        ["vulnerability", "sev", "cvss", "epss", "kev", "product", "release", "component", "fix"],
        [
            [
                f.vulnerability_id,
                f.severity.value,
                f.cvss_score,
                f.epss_score,
                "KEV" if f.kev else "",
                f.product,
                f.release,
                f"{f.component} {f.component_version}",
                f.fixed_version,
            ]
            for f in items
        ],
        styles={1: lambda s: SEVERITY_STYLE.get(str(s), "white")},
    )


@vulns_app.command("show")
def show_vulnerability(vulnerability_id: str, as_json: JsonOpt = False) -> None:
    """A vulnerability by any id or alias: scores, sources and every affected release."""
    from fleetcare.matching import service

    with session_scope(write=False) as session:
        detail = service.vulnerability_detail(session, vulnerability_id)
    if as_json:
        print_json(detail)
        return
    out.print(f"[bold]{detail.id}[/bold]  {', '.join(detail.aliases)}")
    out.print(detail.summary, highlight=False)
    kev = f"in CISA KEV since {detail.kev_added}" if detail.kev else "not in KEV"
    out.print(
        f"severity {detail.severity.value} (CVSS {detail.cvss_score} {detail.cvss_vector or ''}); "
        f"EPSS {detail.epss_score}; {kev}"
    )
    table(
        "Affected releases",
        ["product", "release", "status", "component", "fix", "withdrawn"],
        [
            [
                a.product,
                a.release,
                a.release_status,
                f"{a.component} {a.component_version}",
                a.fixed_version,
                a.withdrawn,
            ]
            for a in detail.affected
        ],
    )


def scan(
    sbom_file: Annotated[Path, typer.Argument(help="SBOM file (CycloneDX or SPDX).")],
    feeds: Annotated[
        Path | None,
        typer.Option(
            help="Directory with osv/ nvd/ cve/ euvd/ kev/ epss/ feed files; "
            "without it, the local fleetcare database's store is used."
        ),
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    fail_on: Annotated[
        str | None, typer.Option(help="Exit 1 when a finding at or above this severity exists.")
    ] = None,
) -> None:
    """Scan one SBOM for known vulnerabilities without a server (like osv-scanner or grype)."""
    from fleetcare.matching import scan as scanning
    from fleetcare.sbom.parse import parse_sbom_file

    _check_severity(fail_on)
    if output not in ("table", "json"):
        raise fail("--format must be table or json")
    try:
        sbom = parse_sbom_file(sbom_file)
        feed_set = scanning.load_feeds(feeds) if feeds is not None else _feeds_from_database()
        findings = scanning.scan(sbom, feed_set)
    except FleetcareError as exc:
        raise fail(exc.message) from None
    if output == "json":
        print_json([f.to_dict() for f in findings])
    else:
        table(
            f"{len(findings)} findings in {sbom_file.name} ({len(sbom.components)} components)",
            ["vulnerability", "sev", "cvss", "epss", "kev", "component", "fixed in", "why"],
            [
                [
                    f.vulnerability_id,
                    f.severity,
                    f.cvss_score,
                    f.epss,
                    "KEV" if f.kev else "",
                    f"{f.component} {f.version}",
                    f.fixed_version,
                    f.reason,
                ]
                for f in findings
            ],
            styles={1: lambda s: SEVERITY_STYLE.get(str(s), "white")},
        )
    if fail_on is not None and scanning.at_or_above(findings, fail_on):
        raise typer.Exit(code=1)


def _feeds_from_database() -> FeedSet:
    from fleetcare.intel import store
    from fleetcare.intel.models import EpssScore, KevEntry
    from fleetcare.intel.records import EpssScore as EpssRecord
    from fleetcare.intel.records import KevEntry as KevRecord

    feed_set = FeedSet()
    with session_scope(write=False) as session:
        for vulnerability_id in store.all_ids(session):
            feed_set.records.extend(store.source_records(session, vulnerability_id))
        for k in session.query(KevEntry):
            feed_set.kev[k.cve_id] = KevRecord(
                k.cve_id,
                k.vendor,
                k.product,
                k.name,
                k.date_added,
                k.due_date,
                k.required_action,
                k.known_ransomware,
            )
        for e in session.query(EpssScore):
            feed_set.epss[e.cve_id] = EpssRecord(e.cve_id, e.score, e.percentile, e.scored_on)
    return feed_set


def match(
    reindex: Annotated[
        bool,
        typer.Option(
            "--reindex", help="Also recompute every component's matching keys (after an upgrade)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Re-match every release against the whole store (imports and syncs do this themselves)."""
    from fleetcare.matching import service
    from fleetcare.wiring import connect

    connect()
    with session_scope() as session:
        run = service.run_out(service.match_all(session, reindex=reindex))
    if as_json:
        print_json(run)
    else:
        out.print(
            f"{run.components} components checked against {run.candidates} candidate records: "
            f"{run.matched} findings, {run.new} new, {run.withdrawn} withdrawn, "
            f"{run.exploited_candidates} new KEV candidates"
        )
