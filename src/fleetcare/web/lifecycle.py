"""Pages of the end-of-life capability: the calendar, each product's plan with its notices,
the delivery log, ceasing operations, and the public end-of-life notice of each product.

Everyone with an account reads the calendar, plans and log; product managers change plans and
send due notices at once; ceasing operations is for admins. The public page needs no login and
is rate-limited like the support page; a notice's link lands there and records that it was
opened.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from fleetcare.core.auth import Principal, Role
from fleetcare.core.errors import FleetcareError, InvalidInput
from fleetcare.core.http import DbSession, public
from fleetcare.core.settings import Settings
from fleetcare.lifecycle import rules, service
from fleetcare.lifecycle.schemas import CessationIn, PlanIn
from fleetcare.lifecycle.tasks import dispatch_notices
from fleetcare.portfolio import service as portfolio
from fleetcare.web.auth import ANY_USER, allowed, check_csrf, page
from fleetcare.web.rendering import refused, render

router = APIRouter(include_in_schema=False)
AnyUser = Annotated[Principal, Depends(page(*ANY_USER))]
ProductManager = Annotated[Principal, Depends(page(Role.PRODUCT))]
Admin = Annotated[Principal, Depends(page())]
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/eol")
def calendar_page(request: Request, session: DbSession, who: AnyUser) -> Response:
    rows = service.calendar(session, _settings(request))
    return render(
        request,
        "eol_calendar.html",
        rows=rows,
        warnings=service.upstream_warnings(session),
        notices=service.list_notices(session, limit=10),
        in_field=sum(r.devices_in_field for r in rows),
        out_of_support=sum(r.out_of_support_devices for r in rows),
    )


def _plan_form(session: Session, slug: str) -> dict[str, Any]:
    product = portfolio.get_product(session, slug)
    plan = service.get_plan(session, product.id)
    form: dict[str, Any] = {
        "milestones": ", ".join(str(m) for m in rules.DEFAULT_MILESTONES),
        "send_hour": "9",
        "support_end": product.support_end.isoformat(),
        "end_of_sale": product.end_of_sale.isoformat() if product.end_of_sale else "",
        "successor": product.successor.name if product.successor else "",
        "published": "on",
    }
    if plan is not None:
        form.update(
            milestones=", ".join(str(m) for m in plan.milestones),
            send_hour=str(plan.send_hour),
            upgrade_path=plan.upgrade_path,
            transition_offer=plan.transition_offer,
            published="on" if plan.published else "",
            **{f"decommissioning_{k}": v for k, v in plan.decommissioning.items()},
            **{f"annex_ii_{k}": v for k, v in plan.annex_ii.items()},
        )
    return form


def _render_plan(
    request: Request,
    session: Session,
    slug: str,
    *,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    product = portfolio.get_product(session, slug)
    has_plan = service.get_plan(session, product.id) is not None
    plan = service.plan_out(session, product.id, _settings(request)) if has_plan else None
    successors = [
        p.name for p in portfolio.list_products(session, limit=10_000)[0] if p.id != product.id
    ]
    return render(
        request,
        "eol_plan.html",
        status_code=status_code,
        product=portfolio.product_out(product),
        plan=plan,
        form=form or _plan_form(session, slug),
        errors=errors or [],
        successors=successors,
        notices=service.list_notices(session, product_ref=product.id),
        steps=rules.DECOMMISSIONING_STEPS,
        annex_points=rules.ANNEX_II_POINTS,
        can_edit=allowed(getattr(request.state, "principal", None), ProductManager),
    )


@router.get("/eol/plans/{slug}")
def plan_page(request: Request, slug: str, session: DbSession, who: AnyUser) -> Response:
    return _render_plan(request, session, slug)


def _plan_data(form: dict[str, Any]) -> PlanIn:
    raw = str(form.get("milestones", ""))
    try:
        milestones = [int(part) for part in raw.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(
            f"Milestones: give whole months separated by commas, such as 24, 12, 6; not {raw!r}"
        ) from None
    data: dict[str, Any] = {
        "milestones": milestones,
        "send_hour": str(form.get("send_hour", "9")) or "9",
        "upgrade_path": str(form.get("upgrade_path", "")),
        "transition_offer": str(form.get("transition_offer", "")),
        "decommissioning": {
            k: str(form.get(f"decommissioning_{k}", "")) for k in rules.DECOMMISSIONING_STEPS
        },
        "annex_ii": {k: str(form.get(f"annex_ii_{k}", "")) for k in rules.ANNEX_II_POINTS},
        "published": bool(form.get("published")),
        "end_of_sale": str(form.get("end_of_sale", "")) or None,
        "successor": str(form.get("successor", "")) or None,
    }
    if form.get("support_end"):
        data["support_end"] = str(form["support_end"])
    return PlanIn.model_validate(data)


@router.post("/eol/plans/{slug}")
async def save_plan(
    request: Request, slug: str, session: DbSession, who: ProductManager
) -> Response:
    form = await check_csrf(request)
    product = portfolio.get_product(session, slug)
    try:
        service.save_plan(session, product.id, _plan_data(form), actor=who)
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        errors, status = refused(session, exc)
        return _render_plan(request, session, slug, form=form, errors=errors, status_code=status)
    return RedirectResponse(f"/eol/plans/{product.slug}", status_code=303)


@router.post("/eol/plans/{slug}/send")
async def send_due(
    request: Request, slug: str, session: DbSession, who: ProductManager
) -> Response:
    """Announce every milestone due now, without waiting for the ten-minute job."""
    await check_csrf(request)
    ids = service.schedule_notices(session, _settings(request))
    session.commit()
    dispatch_notices(ids)
    return RedirectResponse(f"/eol/plans/{slug}#notices", status_code=303)


@router.get("/eol/deliveries")
def deliveries_page(
    request: Request,
    session: DbSession,
    who: AnyUser,
    notice: int | None = None,
    product: str | None = None,
    status: str | None = None,
) -> Response:
    if status and status not in DELIVERY_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    deliveries = service.list_deliveries(
        session, notice_id=notice, product_ref=product or None, status=status or None, limit=1000
    )
    return render(
        request,
        "eol_deliveries.html",
        deliveries=deliveries,
        notice=notice,
        product=product or "",
        status=status or "",
        statuses=DELIVERY_STATUSES,
        products=[p.slug for p in portfolio.list_products(session, limit=10_000)[0]],
    )


CSV_MAX_BYTES = 50 * 1024 * 1024


def _render_customers(
    request: Request,
    session: Session,
    *,
    q: str = "",
    errors: list[str] | None = None,
    result: str = "",
    secrets: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    customers, total = service.list_customers(session, search=q or None, limit=200)
    return render(
        request,
        "eol_customers.html",
        status_code=status_code,
        customers=customers,
        total=total,
        q=q,
        errors=errors or [],
        result=result,
        secrets=secrets or {},
    )


@router.get("/eol/customers")
def customers_page(
    request: Request, session: DbSession, who: ProductManager, q: str | None = None
) -> Response:
    """Customers and their devices; personal data, so for product managers only."""
    return _render_customers(request, session, q=(q or "")[:200])


@router.post("/eol/customers/import")
async def import_csv(request: Request, session: DbSession, who: ProductManager) -> Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > CSV_MAX_BYTES:
        return _render_customers(
            request, session, errors=["the file is larger than 50 MiB; split it"], status_code=413
        )
    form = await check_csrf(request)
    upload = form.get("file")
    what = str(form.get("what", ""))
    if what not in ("customers", "devices") or not isinstance(upload, UploadFile):
        return _render_customers(
            request, session, errors=["choose a CSV file to import"], status_code=422
        )
    try:
        raw = await upload.read()
    finally:
        await upload.close()
    try:
        text = raw.decode("utf-8")
        if what == "customers":
            report = service.import_customers_csv(
                session, text, actor=who, settings=_settings(request)
            )
        else:
            report = service.import_devices_csv(session, text, actor=who)
        session.commit()
    except UnicodeDecodeError:
        return _render_customers(
            request, session, errors=["the file must be UTF-8 text"], status_code=422
        )
    except FleetcareError as exc:
        errors, status = refused(session, exc)
        return _render_customers(request, session, errors=errors, status_code=status)
    noun = "customers" if what == "customers" else "devices"
    return _render_customers(
        request,
        session,
        result=f"{report.created} {noun} added, {report.updated} updated.",
        secrets=report.webhook_secrets,
    )


@router.get("/eol/cessation")
def cessation_page(request: Request, session: DbSession, who: Admin) -> Response:
    return render(
        request,
        "eol_cessation.html",
        cessations=service.list_cessations(session),
        form={},
        errors=[],
    )


@router.post("/eol/cessation")
async def prepare_cessation(request: Request, session: DbSession, who: Admin) -> Response:
    form = await check_csrf(request)
    try:
        data = CessationIn.model_validate(
            {
                k: str(form.get(k, ""))
                for k in ("effective_on", "reason", "authority_name", "authority_email")
            }
        )
        service.prepare_cessation(session, data, actor=who, settings=_settings(request))
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        errors, status = refused(session, exc)
        return render(
            request,
            "eol_cessation.html",
            status_code=status,
            cessations=service.list_cessations(session),
            form=form,
            errors=errors,
        )
    return RedirectResponse("/eol/cessation", status_code=303)


@router.post("/eol/cessation/{cessation_id}/checklist/{index}")
async def tick_checklist(
    request: Request, cessation_id: int, index: int, session: DbSession, who: Admin
) -> Response:
    form = await check_csrf(request)
    service.tick_checklist(session, cessation_id, index, form.get("done") == "yes", actor=who)
    session.commit()
    return RedirectResponse(f"/eol/cessation#cessation-{cessation_id}", status_code=303)


@router.post("/eol/cessation/{cessation_id}/send")
async def send_cessation(
    request: Request, cessation_id: int, session: DbSession, who: Admin
) -> Response:
    from fleetcare.core import notify

    await check_csrf(request)
    notice_id, emails = service.send_cessation(
        session, cessation_id, actor=who, settings=_settings(request)
    )
    session.commit()
    notify.dispatch(emails)
    dispatch_notices([notice_id])
    return RedirectResponse(f"/eol/cessation#cessation-{cessation_id}", status_code=303)


# --- public ------------------------------------------------------------------------------


@router.get("/end-of-life/read/{token}", dependencies=[Depends(public("support"))])
def follow_notice_link(token: str, session: DbSession) -> Response:
    """The link in a notice: records that it was opened, then shows the product's page."""
    delivery = service.mark_opened(session, token)
    if delivery is None:
        return RedirectResponse("/support", status_code=303)
    slug = service.notice_product_slug(session, delivery.notice_id)
    session.commit()
    return RedirectResponse(f"/end-of-life/{slug}" if slug else "/support", status_code=303)


@router.get("/end-of-life/{slug}", dependencies=[Depends(public("support"))])
def public_notice_page(request: Request, slug: str, session: DbSession) -> Response:
    product, plan = service.published_plan(session, slug)
    return render(
        request,
        "eol_public.html",
        user=None,
        notice=service.public_notice(product, plan),
        slug=product.slug,
        steps=rules.DECOMMISSIONING_STEPS,
        manufacturer=_settings(request).manufacturer_name,
        today=portfolio.today(),
    )
