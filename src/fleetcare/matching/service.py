"""Findings as other capabilities see them (reporting, triage, updates import only this module).

exploited_candidates(session)   # KEV/EUVD-exploited vulnerabilities hitting released products
findings_for_vulnerability(session, "CVE-2024-3094")
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.intel.models import Vulnerability
from fleetcare.matching.models import Finding
from fleetcare.portfolio.models import Product, Release
from fleetcare.sbom.models import Component


@dataclass(frozen=True)
class FindingView:
    finding_id: int
    vulnerability_id: str
    product_id: int
    product_name: str
    release_id: int
    release_version: str
    release_status: str
    component_name: str
    component_version: str
    cvss_score: float | None
    kev: bool
    exploited: bool
    first_seen: dt.datetime
    withdrawn: bool


def _views(session: Session, *conditions: object) -> list[FindingView]:
    query = (
        select(Finding, Vulnerability, Component, Release, Product)
        .join(Vulnerability, Vulnerability.id == Finding.vulnerability_id)
        .join(Component, Component.id == Finding.component_id)
        .join(Release, Release.id == Finding.release_id)
        .join(Product, Product.id == Release.product_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(Finding.first_seen, Finding.id)
    )
    return [
        FindingView(
            finding_id=f.id,
            vulnerability_id=v.id,
            product_id=p.id,
            product_name=p.name,
            release_id=r.id,
            release_version=r.version,
            release_status=r.status,
            component_name=c.name,
            component_version=c.version,
            cvss_score=f.cvss_score,
            kev=v.kev,
            exploited=v.kev or v.exploited,
            first_seen=f.first_seen,
            withdrawn=f.withdrawn_at is not None,
        )
        for f, v, c, r, p in session.execute(query)
    ]


def exploited_candidates(session: Session) -> list[FindingView]:
    """Open findings on released products whose vulnerability is known exploited (CISA KEV or
    EUVD): each is a candidate Article 14 case for the security team to confirm."""
    return _views(
        session,
        Finding.withdrawn_at.is_(None),
        Release.status == "released",
        (Vulnerability.kev.is_(True)) | (Vulnerability.exploited.is_(True)),
    )


def findings_for_vulnerability(session: Session, vulnerability_id: str) -> list[FindingView]:
    return _views(session, Finding.vulnerability_id == vulnerability_id)


def finding_view(session: Session, finding_id: int) -> FindingView | None:
    views = _views(session, Finding.id == finding_id)
    return views[0] if views else None
