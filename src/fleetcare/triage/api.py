"""REST API of triage: decisions, bulk triage, SLA and overdue lists, supplier VEX, VEX export.

Everyone with an account reads; the security team decides, imports and accepts proposals.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from fleetcare.core.auth import Principal, Role
from fleetcare.core.http import API_PREFIX, READERS, DbSession, read_limited, require
from fleetcare.core.settings import Settings
from fleetcare.portfolio import service as portfolio
from fleetcare.triage import service
from fleetcare.triage.schemas import (
    BulkDecisionIn,
    BulkResult,
    DecisionIn,
    DecisionOut,
    ImportResult,
    ProposalOut,
    SlaOut,
    VexFormat,
)

router = APIRouter(prefix=API_PREFIX, tags=["triage"])
Reader = Annotated[Principal, Depends(require(*READERS))]
Analyst = Annotated[Principal, Depends(require(Role.SECURITY))]
MAX_VEX_BYTES = 10 * 1024 * 1024
MEDIA_TYPES = {
    "openvex": "application/json",
    "cyclonedx": "application/vnd.cyclonedx+json",
    "csaf": "application/json",
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/findings/{finding_id}/decision", response_model=DecisionOut)
def get_decision(finding_id: int, request: Request, session: DbSession, who: Reader) -> DecisionOut:
    """The finding's VEX status, SLA dates and the history of its decisions."""
    return service.finding_decision(session, finding_id, _settings(request).triage_sla_days)


@router.put("/findings/{finding_id}/decision", response_model=DecisionOut)
def put_decision(
    finding_id: int, data: DecisionIn, request: Request, session: DbSession, who: Analyst
) -> DecisionOut:
    """Decide; refused with 422 when the decision misses what its status needs."""
    service.decide(session, finding_id, data, actor=who)
    session.commit()
    return service.finding_decision(session, finding_id, _settings(request).triage_sla_days)


@router.post("/triage/bulk", response_model=BulkResult)
def bulk(data: BulkDecisionIn, session: DbSession, who: Analyst) -> BulkResult:
    """The same decision for one vulnerability across a product's releases."""
    decided = service.bulk_decide(session, data, actor=who)
    session.commit()
    return BulkResult(decided=decided)


@router.get("/triage/sla", response_model=SlaOut)
def sla(request: Request, who: Reader) -> SlaOut:
    return SlaOut(days=_settings(request).triage_sla_days)


@router.get("/triage/overdue", response_model=list[DecisionOut])
def overdue(
    request: Request,
    session: DbSession,
    who: Reader,
    product: Annotated[str | None, Query(max_length=200)] = None,
) -> list[DecisionOut]:
    """Findings past their SLA: no decision in time, or affected and not fixed in time."""
    product_id = portfolio.get_product(session, product).id if product else None
    return service.overdue(session, _settings(request).triage_sla_days, product_id=product_id)


@router.post("/triage/vex-imports", response_model=ImportResult, status_code=201)
async def import_vex(
    request: Request,
    session: DbSession,
    who: Analyst,
    source: Annotated[str, Query(max_length=300)] = "",
) -> ImportResult:
    """A supplier's OpenVEX, CycloneDX VEX or CSAF document (the request body): its statements
    become proposals on matching findings."""
    raw = await read_limited(request, MAX_VEX_BYTES)
    result = service.import_supplier_vex(session, raw, actor=who, source_name=source)
    session.commit()
    return result


@router.get("/triage/proposals", response_model=list[ProposalOut])
def proposals(
    session: DbSession,
    who: Reader,
    state: Literal["open", "accepted", "rejected"] = "open",
) -> list[ProposalOut]:
    return service.list_proposals(session, state)


@router.post("/triage/proposals/{proposal_id}/accept", response_model=DecisionOut)
def accept(
    proposal_id: int,
    request: Request,
    session: DbSession,
    who: Analyst,
    fixed_release: Annotated[str | None, Query(max_length=100)] = None,
) -> DecisionOut:
    decision = service.accept_proposal(session, proposal_id, actor=who, fixed_release=fixed_release)
    session.commit()
    return service.finding_decision(
        session, decision.finding_id, _settings(request).triage_sla_days
    )


@router.post("/triage/proposals/{proposal_id}/reject", status_code=204)
def reject(proposal_id: int, session: DbSession, who: Analyst) -> Response:
    service.reject_proposal(session, proposal_id, actor=who)
    session.commit()
    return Response(status_code=204)


@router.get("/products/{product_ref}/vex")
def export(
    product_ref: str,
    request: Request,
    session: DbSession,
    who: Reader,
    format: VexFormat = "openvex",
    release: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """VEX for a product (all releases) or one release, in OpenVEX 0.2.0, CycloneDX 1.6 or
    CSAF 2.0 (csaf_vex), validated against its schema before it is sent."""
    document = service.export_vex(session, product_ref, release, format, _settings(request))
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{product_ref}-vex.{format}.json"'},
    )
