"""Findings across the portfolio, and one vulnerability with everything it affects.

    GET /findings?severity=high&kev=true&product=gateway-gx-500    filtered, KEV first
    GET /vulnerabilities/{id}                                       by any id or alias

Both read through `fleetcare.matching.service` (the vulnerability page also shows each source's
own record from `fleetcare.intel.store`), with the filters of `GET /api/v1/findings`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fleetcare.core.errors import FleetcareError
from fleetcare.core.http import DbSession
from fleetcare.intel import store
from fleetcare.intel.records import AffectedPackage, CpeConfiguration, VulnerabilityRecord
from fleetcare.matching import service as matching
from fleetcare.portfolio import service as portfolio
from fleetcare.web.auth import AnyUser
from fleetcare.web.finding_filters import PAGE_SIZE, FindingQuery
from fleetcare.web.rendering import render

router = APIRouter(include_in_schema=False)

#: Affected packages and CPE criteria listed per source record before "and N more".
SHOWN_PER_SOURCE = 12

#: Where a person reads a source's own record of a vulnerability.
RECORD_PAGES = {
    "nvd": "https://nvd.nist.gov/vuln/detail/{id}",
    "osv": "https://osv.dev/vulnerability/{id}",
    "cve": "https://www.cve.org/CVERecord?id={id}",
    "euvd": "https://euvd.enisa.europa.eu/vulnerability/{id}",
}


@router.get("/findings")
def findings_page(request: Request, session: DbSession, who: AnyUser) -> Response:
    query, problems = FindingQuery.from_params(request.query_params)
    products, _ = portfolio.list_products(session, limit=1000)
    product_id = release_id = None
    scope = ""
    if query.product:
        try:
            product = portfolio.get_product_by_slug(session, query.product)
            product_id = product.id
            scope = product.name
            if query.release:
                release_id = portfolio.get_release(session, product.id, query.release).id
                scope += f" {query.release}"
        except FleetcareError as exc:
            problems.append(f"Product: {exc.message}; showing every product")
            query = replace(query, product=None, release=None)
            product_id = release_id = None
            scope = ""
    findings, total = matching.list_findings(
        session,
        query.criteria(product_id=product_id, release_id=release_id),
        limit=PAGE_SIZE,
        offset=query.offset,
    )
    candidates = [
        c
        for c in matching.exploited_candidates(session)
        if product_id is None or c.product_id == product_id
    ]
    if release_id is not None:
        candidates = [c for c in candidates if c.release_id == release_id]
    return render(
        request,
        "findings.html",
        findings=findings,
        total=total,
        query=query,
        problems=problems,
        products=sorted(products, key=lambda p: p.name.lower()),
        scope=scope,
        candidates=len(candidates),
        page_size=PAGE_SIZE,
    )


# --- one vulnerability -----------------------------------------------------------------------


def safe_link(url: str) -> str | None:
    """`url` if it may be a link on our page (http or https), else None: feeds are not trusted."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _bounds(match: Any) -> str:
    bounds = []
    if match.version_start_including:
        bounds.append(f">= {match.version_start_including}")
    if match.version_start_excluding:
        bounds.append(f"> {match.version_start_excluding}")
    if match.version_end_including:
        bounds.append(f"<= {match.version_end_including}")
    if match.version_end_excluding:
        bounds.append(f"< {match.version_end_excluding}")
    return ", ".join(bounds)


def _package_lines(affected: tuple[AffectedPackage, ...]) -> list[str]:
    """One line per affected range (and per versions list) of each package, OSV style."""
    lines = []
    for package in affected:
        where = package.purl or f"{package.ecosystem} {package.name}"
        for affected_range in package.ranges:
            events = ", ".join(f"{e.kind} {e.value}" for e in affected_range.events)
            lines.append(f"{where} — {affected_range.type.lower()} range: {events}")
        if package.versions:
            shown = ", ".join(package.versions[:8])
            more = len(package.versions) - 8
            lines.append(f"{where} — versions {shown}{f' and {more} more' if more > 0 else ''}")
        if not package.ranges and not package.versions:
            lines.append(f"{where} — all versions")
    return lines


def _cpe_lines(configurations: tuple[CpeConfiguration, ...]) -> list[str]:
    lines = []
    for configuration in configurations:
        for node in configuration.nodes:
            for match in node.matches:
                if not match.vulnerable:
                    continue  # platforms of an AND-configuration, not what is vulnerable
                bounds = _bounds(match)
                lines.append(f"{match.criteria}{f' ({bounds})' if bounds else ''}")
    return lines


@dataclass(frozen=True)
class SourceView:
    """What one source says, as the vulnerability page shows it."""

    source: str
    record_id: str
    link: str | None
    record: VulnerabilityRecord
    affects: list[str]
    more: int


def _source_views(records: list[tuple[str, VulnerabilityRecord]]) -> list[SourceView]:
    views = []
    for source, record in records:
        affects = _package_lines(record.affected) + _cpe_lines(record.configurations)
        page = RECORD_PAGES.get(source)
        views.append(
            SourceView(
                source=source,
                record_id=record.id,
                link=page.format(id=record.id) if page else None,
                record=record,
                affects=affects[:SHOWN_PER_SOURCE],
                more=max(0, len(affects) - SHOWN_PER_SOURCE),
            )
        )
    return views


#: A lead longer than this is cut at the end of its first sentence.
LEAD_LENGTH = 320


def _description(summary: str, details: str) -> dict[str, Any]:
    """The lead under the heading and the paragraphs of details below it, without saying the
    same thing twice (a summary is often the start of the details, cut short)."""
    paragraphs = [p.strip() for p in details.split("\n\n") if p.strip()]
    if summary and not details.startswith(summary.rstrip(".… ")):
        return {"lead": summary, "paragraphs": paragraphs}
    if not paragraphs:
        return {"lead": summary, "paragraphs": []}
    first = paragraphs[0]
    if len(first) <= LEAD_LENGTH:
        return {"lead": first, "paragraphs": paragraphs[1:]}
    end = first.find(". ", 0, LEAD_LENGTH)
    return {"lead": first[: end + 1] if end > 0 else "", "paragraphs": paragraphs}


@router.get("/vulnerabilities/{vulnerability_id}")
def vulnerability_page(
    request: Request, vulnerability_id: str, session: DbSession, who: AnyUser
) -> Response:
    vulnerability = matching.vulnerability_detail(session, vulnerability_id[:100])
    affected = sorted(
        vulnerability.affected, key=lambda a: (a.withdrawn, a.product.lower(), a.release)
    )
    exploited = vulnerability.kev or vulnerability.exploited
    candidates = [
        a for a in affected if exploited and a.release_status == "released" and not a.withdrawn
    ]
    return render(
        request,
        "vulnerability.html",
        vulnerability=vulnerability,
        asked_for=vulnerability_id,
        affected=affected,
        open_count=sum(1 for a in affected if not a.withdrawn),
        products=sorted({a.product for a in affected if not a.withdrawn}),
        candidates=candidates,
        sources=_source_views(store.source_records(session, vulnerability.id)),
        references=[(url, safe_link(url)) for url in vulnerability.references],
        **_description(vulnerability.summary, vulnerability.details),
    )
