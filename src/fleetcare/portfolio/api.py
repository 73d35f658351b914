"""REST API of the portfolio under /api/v1, and the public support data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from fleetcare.core.auth import Principal, Role
from fleetcare.core.http import API_PREFIX, READERS, DbSession, public, require
from fleetcare.portfolio import service
from fleetcare.portfolio.schemas import (
    ProductDetail,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    ReleaseIn,
    ReleaseOut,
    ReleaseStatusChange,
    SupportCycle,
)

router = APIRouter(prefix=API_PREFIX, tags=["portfolio"])

Reader = Annotated[Principal, Depends(require(*READERS))]
ProductManager = Annotated[Principal, Depends(require(Role.PRODUCT))]
ReleaseManager = Annotated[Principal, Depends(require(Role.RELEASE, Role.PRODUCT))]


@router.get("/products", response_model=ProductPage)
def list_products(
    session: DbSession,
    who: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    items, total = service.list_product_views(session, limit=limit, offset=offset, search=q)
    page = ProductPage(items=items, total=total, limit=limit, offset=offset)
    # Serialised here once: letting FastAPI validate the page again against the response
    # model would double the cost of the busiest read endpoint.
    return Response(page.model_dump_json(), media_type="application/json")


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(data: ProductIn, session: DbSession, who: ProductManager) -> ProductOut:
    product = service.create_product(session, data, actor=who)
    session.commit()
    return service.product_out(product)


@router.get("/products/{product_ref}", response_model=ProductDetail)
def show_product(product_ref: str, session: DbSession, who: Reader) -> ProductDetail:
    return service.product_detail(service.get_product(session, product_ref))


@router.patch("/products/{product_ref}", response_model=ProductOut)
def update_product(
    product_ref: str, patch: ProductPatch, session: DbSession, who: ProductManager
) -> ProductOut:
    product = service.update_product(session, product_ref, patch, actor=who)
    session.commit()
    return service.product_out(product)


@router.get("/products/{product_ref}/releases", response_model=list[ReleaseOut])
def list_releases(product_ref: str, session: DbSession, who: Reader) -> list[ReleaseOut]:
    product = service.get_product(session, product_ref)
    return [service.release_out(r, product) for r in service.list_releases(session, product.id)]


@router.post("/products/{product_ref}/releases", response_model=ReleaseOut, status_code=201)
def create_release(
    product_ref: str, data: ReleaseIn, session: DbSession, who: ReleaseManager
) -> ReleaseOut:
    release = service.create_release(session, product_ref, data, actor=who)
    session.commit()
    return service.release_out(release, release.product)


@router.get("/products/{product_ref}/releases/{version}", response_model=ReleaseOut)
def show_release(product_ref: str, version: str, session: DbSession, who: Reader) -> ReleaseOut:
    release = service.get_release(session, product_ref, version)
    return service.release_out(release, release.product)


@router.post("/products/{product_ref}/releases/{version}/status", response_model=ReleaseOut)
def change_release_status(
    product_ref: str,
    version: str,
    change: ReleaseStatusChange,
    session: DbSession,
    who: ReleaseManager,
) -> ReleaseOut:
    release = service.get_release(session, product_ref, version)
    service.set_release_status(session, release, change.status, actor=who)
    session.commit()
    return service.release_out(release, release.product)


@router.delete("/products/{product_ref}/releases/{version}", status_code=204)
def delete_release(
    product_ref: str, version: str, session: DbSession, who: ReleaseManager
) -> Response:
    release = service.get_release(session, product_ref, version)
    service.delete_release(session, release, actor=who)
    session.commit()
    return Response(status_code=204)


public_router = APIRouter(prefix=API_PREFIX, tags=["public"])


@public_router.get(
    "/public/support", response_model=list[SupportCycle], dependencies=[Depends(public("support"))]
)
def public_support(request: Request, session: DbSession) -> list[SupportCycle]:
    """Support periods of every product, in the shape of the endoflife.date API."""
    return service.support_cycles(session, request.app.state.settings.base_url)
