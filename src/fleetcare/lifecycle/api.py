"""REST API of the end-of-life capability under /api/v1, and the public end-of-life data.

Customer records hold personal data (consumers' addresses), so only product managers (and
admins) read them; plans, notices and the calendar are open to every role. Ceasing operations
is for admins alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from fleetcare.core import notify
from fleetcare.core.auth import Principal, Role
from fleetcare.core.errors import InvalidInput
from fleetcare.core.http import API_PREFIX, READERS, DbSession, public, read_limited, require
from fleetcare.lifecycle import service
from fleetcare.lifecycle.schemas import (
    CalendarRow,
    CessationIn,
    CessationOut,
    CustomerIn,
    CustomerOut,
    DeliveryOut,
    ImportReport,
    NoticeOut,
    PlanIn,
    PlanOut,
    UpstreamWarning,
)
from fleetcare.lifecycle.tasks import dispatch_notices

router = APIRouter(prefix=API_PREFIX, tags=["lifecycle"])

Reader = Annotated[Principal, Depends(require(*READERS))]
ProductManager = Annotated[Principal, Depends(require(Role.PRODUCT))]
Admin = Annotated[Principal, Depends(require())]

CSV_MAX_BYTES = 50 * 1024 * 1024
JSON_MAX_BYTES = 10 * 1024 * 1024


async def _text(request: Request, limit: int) -> str:
    body = await read_limited(request, limit)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the file must be UTF-8 text") from None


@router.get("/eol/calendar", response_model=list[CalendarRow])
def eol_calendar(request: Request, session: DbSession, who: Reader) -> list[CalendarRow]:
    return service.calendar(session, request.app.state.settings)


@router.get("/eol/plans/{product_ref}", response_model=PlanOut)
def show_plan(product_ref: str, request: Request, session: DbSession, who: Reader) -> PlanOut:
    return service.plan_out(session, product_ref, request.app.state.settings)


@router.put("/eol/plans/{product_ref}", response_model=PlanOut)
def save_plan(
    product_ref: str, data: PlanIn, request: Request, session: DbSession, who: ProductManager
) -> PlanOut:
    plan = service.save_plan(session, product_ref, data, actor=who)
    session.commit()
    return service.plan_out(session, plan.product_id, request.app.state.settings)


@router.get("/eol/notices", response_model=list[NoticeOut])
def list_notices(
    session: DbSession,
    who: Reader,
    product: Annotated[str | None, Query(max_length=200)] = None,
) -> list[NoticeOut]:
    return service.list_notices(session, product_ref=product)


@router.post("/eol/notices/run", response_model=list[NoticeOut])
def run_notices(request: Request, session: DbSession, who: ProductManager) -> list[NoticeOut]:
    """Announce every milestone due now (the background job does this every ten minutes)."""
    ids = service.schedule_notices(session, request.app.state.settings)
    session.commit()
    dispatch_notices(ids)
    return [n for n in service.list_notices(session) if n.id in ids]


@router.get("/eol/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    session: DbSession,
    who: Reader,
    notice: int | None = None,
    product: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(pattern="^(pending|sending|sent|failed|skipped)$")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[DeliveryOut]:
    return service.list_deliveries(
        session, notice_id=notice, product_ref=product, status=status, limit=limit
    )


@router.get("/customers", response_model=list[CustomerOut])
def list_customers(
    session: DbSession,
    who: ProductManager,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CustomerOut]:
    return service.list_customers(session, search=q, limit=limit, offset=offset)[0]


@router.put("/customers/{ref}", response_model=CustomerOut)
def save_customer(
    ref: str, data: CustomerIn, request: Request, session: DbSession, who: ProductManager
) -> CustomerOut:
    if data.ref != ref:
        raise InvalidInput(f"the reference in the body ({data.ref}) differs from the URL ({ref})")
    customer, secret = service.save_customer(
        session, data, actor=who, settings=request.app.state.settings
    )
    session.commit()
    return service.customer_out(customer, secret=secret)


@router.post("/customers/import", response_model=ImportReport)
async def import_customers(request: Request, session: DbSession, who: ProductManager) -> Any:
    """CSV: `ref,name[,kind,language,emails,webhook_url,mqtt_topic,channels,transition_offers]`."""
    text = await _text(request, CSV_MAX_BYTES)
    report = service.import_customers_csv(
        session, text, actor=who, settings=request.app.state.settings
    )
    session.commit()
    return report


@router.post("/customers/devices/import", response_model=ImportReport)
async def import_devices(request: Request, session: DbSession, who: ProductManager) -> Any:
    """CSV: `device,customer,product[,state]` — who owns which device."""
    text = await _text(request, CSV_MAX_BYTES)
    report = service.import_devices_csv(session, text, actor=who)
    session.commit()
    return report


@router.post("/eol/upstream/import")
async def import_upstream(
    request: Request,
    session: DbSession,
    who: ProductManager,
    upstream: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, int]:
    """Release cycles in the shape of the endoflife.date API (one product's list, or an object
    of product name to list)."""
    text = await _text(request, JSON_MAX_BYTES)
    count = service.import_upstream(session, text, actor=who, upstream=upstream)
    session.commit()
    return {"cycles": count}


@router.get("/eol/upstream/warnings", response_model=list[UpstreamWarning])
def upstream_warnings(session: DbSession, who: Reader) -> list[UpstreamWarning]:
    return service.upstream_warnings(session)


@router.get("/eol/cessations", response_model=list[CessationOut])
def list_cessations(session: DbSession, who: Admin) -> list[CessationOut]:
    return service.list_cessations(session)


@router.post("/eol/cessations", response_model=CessationOut, status_code=201)
def prepare_cessation(
    data: CessationIn, request: Request, session: DbSession, who: Admin
) -> CessationOut:
    out = service.prepare_cessation(session, data, actor=who, settings=request.app.state.settings)
    session.commit()
    return out


@router.post("/eol/cessations/{cessation_id}/checklist/{index}", response_model=CessationOut)
def tick_checklist(
    cessation_id: int, index: int, session: DbSession, who: Admin, done: bool = True
) -> CessationOut:
    out = service.tick_checklist(session, cessation_id, index, done, actor=who)
    session.commit()
    return out


@router.post("/eol/cessations/{cessation_id}/send", response_model=CessationOut)
def send_cessation(
    cessation_id: int, request: Request, session: DbSession, who: Admin
) -> CessationOut:
    notice_id, emails = service.send_cessation(
        session, cessation_id, actor=who, settings=request.app.state.settings
    )
    session.commit()
    notify.dispatch(emails)
    dispatch_notices([notice_id])
    return service.cessation_out(session, cessation_id)


public_router = APIRouter(prefix=API_PREFIX, tags=["public"])


@public_router.get("/public/eol/{slug}", dependencies=[Depends(public("support"))])
def public_eol(slug: str, session: DbSession) -> dict[str, Any]:
    """A product's published end-of-life notice: dates, successor, decommissioning guidance."""
    product, plan = service.published_plan(session, slug)
    return service.public_notice(product, plan)
