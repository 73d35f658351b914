"""Pages of triage and advisories.

    GET  /triage                          overdue findings and supplier VEX proposals
    GET  /findings/{id}/triage            one finding: why it matched, scores, decision, history
    POST /findings/{id}/triage            decide (security team)
    GET  /advisories, /advisories/{id}    the security team's advisories, drafts with validation
    POST /advisories, /advisories/{id}/publish
    GET  /security/advisories[/{id}]      the public list and the human-readable advisory

Every page reads through the same services as the API; the human-readable advisory is rendered
from the very CSAF document that is published.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fleetcare.advisories import service as advisories
from fleetcare.advisories.render import advisory_view
from fleetcare.advisories.schemas import AdvisoryIn, PublishIn
from fleetcare.core.auth import Principal, Role
from fleetcare.core.db import utcnow
from fleetcare.core.errors import FleetcareError, NotFound
from fleetcare.core.http import DbSession, public
from fleetcare.core.settings import Settings
from fleetcare.portfolio import service as portfolio
from fleetcare.triage import service as triage
from fleetcare.triage.rules import Justification, VexStatus
from fleetcare.triage.schemas import BulkDecisionIn, DecisionIn
from fleetcare.updates import exposure
from fleetcare.web.auth import ANY_USER, check_csrf, page
from fleetcare.web.rendering import error_status, form_errors, render

router = APIRouter(include_in_schema=False)
AnyUser = Annotated[Principal, Depends(page(*ANY_USER))]
SecurityAnalyst = Annotated[Principal, Depends(page(Role.SECURITY))]
PublicPages = Depends(public("advisory-pages"))
STATUS_LABELS = {
    VexStatus.UNDER_INVESTIGATION.value: "Under investigation",
    VexStatus.AFFECTED.value: "Affected",
    VexStatus.NOT_AFFECTED.value: "Not affected",
    VexStatus.FIXED.value: "Fixed",
}
JUSTIFICATION_LABELS = {
    Justification.COMPONENT_NOT_PRESENT.value: "Component not present",
    Justification.VULNERABLE_CODE_NOT_PRESENT.value: "Vulnerable code not present",
    Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH.value: "Vulnerable code not in execute path",
    Justification.VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY.value: (
        "Vulnerable code cannot be controlled by adversary"
    ),
    Justification.INLINE_MITIGATIONS_ALREADY_EXIST.value: "Inline mitigations already exist",
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- triage -------------------------------------------------------------------------------------


@router.get("/triage")
def triage_board(request: Request, session: DbSession, who: AnyUser) -> Response:
    settings = _settings(request)
    return render(
        request,
        "triage_board.html",
        overdue=triage.overdue(session, settings.triage_sla_days),
        undecided=triage.triage_rows(session, undecided=True, limit=200),
        decided=triage.recent_decisions(session, limit=100),
        proposals=triage.list_proposals(session),
        sla=settings.triage_sla_days,
        status_labels_vex=STATUS_LABELS,
        psirt=who.role in (Role.SECURITY, Role.ADMIN),
    )


def _render_finding(
    request: Request,
    session: Session,
    finding_id: int,
    *,
    who: Principal,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    rows = triage.triage_rows(session, finding_ids=[finding_id], include_withdrawn=True)
    if not rows:
        raise NotFound(f"no finding {finding_id}")
    row = rows[0]
    decision = triage.finding_decision(session, finding_id, _settings(request).triage_sla_days)
    releases = portfolio.list_releases(session, row.product.id)
    proposals = [p for p in triage.list_proposals(session) if p.finding_id == finding_id]
    fleet = next(
        (
            e
            for e in exposure.exposure(session, row.vulnerability.id)
            if e.product_id == row.product.id
        ),
        None,
    )
    return render(
        request,
        "triage_finding.html",
        status_code=status_code,
        row=row,
        decision=decision,
        releases=[r.version for r in releases if r.id != row.release.id],
        proposals=proposals,
        fleet=fleet,
        form=form or {},
        errors=errors or [],
        status_labels_vex=STATUS_LABELS,
        justification_labels=JUSTIFICATION_LABELS,
        psirt=who.role in (Role.SECURITY, Role.ADMIN),
    )


@router.get("/findings/{finding_id}/triage")
def finding_page(finding_id: int, request: Request, session: DbSession, who: AnyUser) -> Response:
    return _render_finding(request, session, finding_id, who=who)


@router.post("/findings/{finding_id}/triage")
async def decide(
    finding_id: int, request: Request, session: DbSession, who: SecurityAnalyst
) -> Response:
    form = await check_csrf(request)
    fields = {k: str(v) for k, v in form.items()}
    try:
        data = DecisionIn.model_validate(
            {
                "vex_status": fields.get("vex_status", ""),
                "justification": fields.get("justification") or None,
                "impact_statement": fields.get("impact_statement", ""),
                "action_statement": fields.get("action_statement", ""),
                "fixed_release": fields.get("fixed_release") or None,
                "reason": fields.get("reason", ""),
            }
        )
        if fields.get("whole_product"):
            # Bulk triage: the same decision for this vulnerability in every open finding of
            # the product (each finding keeps its own history entry).
            row = triage.triage_rows(session, finding_ids=[finding_id])[0]
            triage.bulk_decide(
                session,
                BulkDecisionIn(
                    **data.model_dump(),
                    vulnerability=row.vulnerability.id,
                    product=row.product.slug,
                ),
                actor=who,
            )
        else:
            triage.decide(session, finding_id, data, actor=who)
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        status = error_status(exc)
        return _render_finding(
            request,
            session,
            finding_id,
            who=who,
            form=fields,
            errors=form_errors(exc),
            status_code=status,
        )
    return RedirectResponse(f"/findings/{finding_id}/triage", status_code=303)


@router.post("/triage/proposals/{proposal_id}/{action}")
async def resolve_proposal(
    proposal_id: int, action: str, request: Request, session: DbSession, who: SecurityAnalyst
) -> Response:
    await check_csrf(request)
    if action == "accept":
        triage.accept_proposal(session, proposal_id, actor=who)
    elif action == "reject":
        triage.reject_proposal(session, proposal_id, actor=who)
    else:
        raise NotFound(f"no action {action!r} on proposals; use accept or reject")
    session.commit()
    return RedirectResponse("/triage#proposals", status_code=303)


# --- advisories (dashboard) ---------------------------------------------------------------------


def _render_list(
    request: Request,
    session: Session,
    who: Principal,
    *,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = _settings(request)
    products, _ = portfolio.list_products(session, limit=1000)
    return render(
        request,
        "advisories.html",
        status_code=status_code,
        advisories=[
            advisories.advisory_out(session, a, settings)
            for a in advisories.list_advisories(session)
        ],
        imported=advisories.list_imported(session),
        products=products,
        form=form or {},
        errors=errors or [],
        psirt=who.role in (Role.SECURITY, Role.ADMIN),
    )


@router.get("/advisories")
def advisories_page(request: Request, session: DbSession, who: AnyUser) -> Response:
    return _render_list(request, session, who)


@router.post("/advisories")
async def create_advisory(request: Request, session: DbSession, who: SecurityAnalyst) -> Response:
    form = await check_csrf(request)
    fields = {k: str(v) for k, v in form.items()}
    try:
        data = AdvisoryIn.model_validate(
            {
                "title": fields.get("title", ""),
                "product": fields.get("product", ""),
                "vulnerabilities": [
                    v for v in fields.get("vulnerabilities", "").replace(",", " ").split() if v
                ],
                "summary": fields.get("summary", ""),
                "tlp": fields.get("tlp") or "WHITE",
                "reports": [r for r in fields.get("reports", "").replace(",", " ").split() if r],
            }
        )
        advisory = advisories.create_advisory(session, data, actor=who, settings=_settings(request))
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        session.rollback()
        status = error_status(exc)
        return _render_list(
            request, session, who, form=fields, errors=form_errors(exc), status_code=status
        )
    return RedirectResponse(f"/advisories/{advisory.tracking_id}", status_code=303)


@router.get("/advisories/imported/{imported_id}")
def imported_page(imported_id: int, request: Request, session: DbSession, who: AnyUser) -> Response:
    """A supplier's advisory, rendered from the document as it was received."""
    imported = advisories.get_imported(session, imported_id)
    return render(
        request,
        "advisory_imported.html",
        imported=imported,
        view=advisory_view(imported.document),
    )


def _render_advisory(
    request: Request,
    session: Session,
    tracking_id: str,
    who: Principal,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = _settings(request)
    advisory = advisories.get_advisory(session, tracking_id)
    document = advisories.current_document(session, advisory, settings)
    return render(
        request,
        "advisory.html",
        status_code=status_code,
        advisory=advisories.advisory_out(session, advisory, settings),
        view=advisory_view(document),
        problems=advisories.validate_advisory(session, advisory, settings),
        embargoed=advisory.disclosure_at is not None and advisory.disclosure_at > utcnow(),
        errors=errors or [],
        psirt=who.role in (Role.SECURITY, Role.ADMIN),
    )


@router.get("/advisories/{tracking_id}")
def advisory_page(tracking_id: str, request: Request, session: DbSession, who: AnyUser) -> Response:
    return _render_advisory(request, session, tracking_id, who)


@router.post("/advisories/{tracking_id}/publish")
async def publish_advisory(
    tracking_id: str, request: Request, session: DbSession, who: SecurityAnalyst
) -> Response:
    form = await check_csrf(request)
    try:
        data = PublishIn.model_validate(
            {"status": str(form.get("status") or "final"), "summary": str(form.get("summary", ""))}
        )
        advisory = advisories.get_advisory(session, tracking_id)
        advisories.publish(session, advisory, data, actor=who, settings=_settings(request))
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        session.rollback()
        if isinstance(exc, NotFound):
            raise
        status = error_status(exc)
        return _render_advisory(
            request, session, tracking_id, who, errors=form_errors(exc), status_code=status
        )
    return RedirectResponse(f"/advisories/{tracking_id}", status_code=303)


# --- public -------------------------------------------------------------------------------------


@router.get("/security/advisories", dependencies=[PublicPages])
def public_list(request: Request, session: DbSession) -> Response:
    settings = _settings(request)
    return render(
        request,
        "security_advisories.html",
        advisories=[
            advisories.advisory_out(session, a, settings)
            for a in advisories.public_advisories(session)
        ],
        manufacturer=settings.manufacturer_name,
    )


@router.get("/security/advisories/{tracking_id}", dependencies=[PublicPages])
def public_advisory(tracking_id: str, request: Request, session: DbSession) -> Response:
    settings = _settings(request)
    advisory = advisories.get_advisory(session, tracking_id)
    if advisory.status == "draft" or advisory.tlp != advisories.PUBLIC_TLP:
        raise NotFound(f"no public advisory {tracking_id!r}")
    return render(
        request,
        "security_advisory.html",
        advisory=advisories.advisory_out(session, advisory, settings),
        view=advisory_view(advisories.current_document(session, advisory, settings)),
        manufacturer=settings.manufacturer_name,
    )
