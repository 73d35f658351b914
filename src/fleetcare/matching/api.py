"""REST API for findings and vulnerabilities, and for running matching by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from fleetcare.core.auth import Principal, Role
from fleetcare.core.http import API_PREFIX, READERS, DbSession, require
from fleetcare.intel import store
from fleetcare.matching import service
from fleetcare.matching.schemas import FindingPage, MatchRunOut, Severity, VulnerabilityOut
from fleetcare.portfolio import service as portfolio

router = APIRouter(prefix=API_PREFIX, tags=["findings"])
Reader = Annotated[Principal, Depends(require(*READERS))]
Analyst = Annotated[Principal, Depends(require(Role.SECURITY))]


def _filter(
    product: str | None = Query(None, max_length=200, description="product id, slug or name"),
    release: str | None = Query(None, max_length=100, description="release version (with product)"),
    severity: Severity | None = Query(None, description="minimum severity"),
    kev: bool | None = Query(None, description="only (or no) CISA KEV vulnerabilities"),
    epss_min: float | None = Query(None, ge=0, le=1, description="minimum EPSS score"),
    fix_available: bool | None = Query(None),
    include_withdrawn: bool = Query(False),
    vulnerability: str | None = Query(None, max_length=100),
) -> dict[str, object]:
    return {
        "product": product,
        "release": release,
        "severity": severity,
        "kev": kev,
        "epss_min": epss_min,
        "fix_available": fix_available,
        "include_withdrawn": include_withdrawn,
        "vulnerability": vulnerability,
    }


@router.get("/findings", response_model=FindingPage)
def list_findings(
    session: DbSession,
    who: Reader,
    params: Annotated[dict[str, object], Depends(_filter)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FindingPage:
    """Findings across the portfolio, KEV first, then by severity and EPSS."""
    product_id = release_id = None
    if params["product"]:
        product = portfolio.get_product(session, str(params["product"]))
        product_id = product.id
        if params["release"]:
            release_id = portfolio.get_release(session, product.id, str(params["release"])).id
    vulnerability_id = None
    if params["vulnerability"]:
        vuln = store.resolve(session, str(params["vulnerability"]))
        vulnerability_id = vuln.id if vuln else str(params["vulnerability"])
    severity = params["severity"]
    criteria = service.FindingFilter(
        product_id=product_id,
        release_id=release_id,
        severity=severity.value if isinstance(severity, Severity) else None,
        kev=params["kev"] if isinstance(params["kev"], bool) else None,
        epss_min=params["epss_min"] if isinstance(params["epss_min"], float) else None,
        fix_available=params["fix_available"]
        if isinstance(params["fix_available"], bool)
        else None,
        include_withdrawn=bool(params["include_withdrawn"]),
        vulnerability_id=vulnerability_id,
    )
    items, total = service.list_findings(session, criteria, limit=limit, offset=offset)
    return FindingPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/vulnerabilities/{vulnerability_id}", response_model=VulnerabilityOut)
def show_vulnerability(vulnerability_id: str, session: DbSession, who: Reader) -> VulnerabilityOut:
    """A vulnerability by any of its ids, with what each source says and every affected release."""
    return service.vulnerability_detail(session, vulnerability_id)


@router.post("/matching/run", response_model=MatchRunOut)
def run_matching(session: DbSession, who: Analyst, reindex: bool = False) -> MatchRunOut:
    """Re-match every release against the whole store (normally not needed: imports match);
    `reindex=true` also recomputes every component's matching keys."""
    run = service.match_all(session, reindex=reindex)
    session.commit()
    return service.run_out(run)
