"""REST API for SBOMs: attach to a release, read documents, components and quality, export."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from fleetcare.core.auth import Principal, Role
from fleetcare.core.http import API_PREFIX, READERS, DbSession, read_limited, require
from fleetcare.portfolio import service as portfolio
from fleetcare.sbom import service
from fleetcare.sbom.models import Component, SbomDocument
from fleetcare.sbom.parse import DEFAULT_MAX_BYTES

router = APIRouter(prefix=API_PREFIX, tags=["sbom"])
Reader = Annotated[Principal, Depends(require(*READERS))]
Uploader = Annotated[Principal, Depends(require(Role.RELEASE, Role.PRODUCT, Role.SECURITY))]


class DocumentOut(BaseModel):
    id: int
    release_id: int
    file_name: str
    sha256: str
    format: str
    spec_version: str
    encoding: str
    serial: str
    sbom_created_at: dt.datetime | None
    creators: list[str]
    primary_name: str
    primary_version: str
    component_count: int
    quality_score: int
    quality_passed: bool
    required_missing: int
    imported_at: dt.datetime
    imported_by: str


class DocumentDetail(DocumentOut):
    quality: dict[str, Any]


class ComponentOut(BaseModel):
    id: int
    sbom_id: int
    ref: str
    name: str
    version: str
    group: str
    type: str
    supplier: str
    purl: str
    cpe: str
    hashes: dict[str, str]
    licenses: list[str]
    file_name: str
    dependency_kind: str


def document_out(d: SbomDocument) -> DocumentOut:
    return DocumentOut(
        id=d.id,
        release_id=d.release_id,
        file_name=d.file_name,
        sha256=d.sha256,
        format=d.format,
        spec_version=d.spec_version,
        encoding=d.encoding,
        serial=d.serial,
        sbom_created_at=d.sbom_created_at,
        creators=d.creators,
        primary_name=d.primary_name,
        primary_version=d.primary_version,
        component_count=d.component_count,
        quality_score=int(d.quality.get("score", 0)),
        quality_passed=bool(d.quality.get("passed")),
        required_missing=int(d.quality.get("required_missing", 0)),
        imported_at=d.imported_at,
        imported_by=d.imported_by,
    )


def component_out(c: Component) -> ComponentOut:
    return ComponentOut(
        id=c.id,
        sbom_id=c.sbom_id,
        ref=c.ref,
        name=c.name,
        version=c.version,
        group=c.group,
        type=c.type,
        supplier=c.supplier,
        purl=c.purl,
        cpe=c.cpe,
        hashes=c.hashes,
        licenses=c.licenses,
        file_name=c.file_name,
        dependency_kind=c.dependency_kind,
    )


@router.post(
    "/products/{product_ref}/releases/{version}/sboms",
    response_model=DocumentDetail,
    status_code=201,
)
async def upload_sbom(
    product_ref: str,
    version: str,
    request: Request,
    session: DbSession,
    who: Uploader,
    file_name: Annotated[str, Query(max_length=255)] = "",
) -> DocumentDetail:
    """Attach an SBOM (CycloneDX or SPDX, any encoding, sent as the raw request body).

    The SBOM is matched against the vulnerability store at once; the response carries its
    BSI TR-03183-2 quality report."""
    data = await read_limited(request, DEFAULT_MAX_BYTES)
    document = service.import_sbom(
        session, product_ref, version, data, file_name=file_name, actor=who
    )
    session.commit()
    return DocumentDetail(**document_out(document).model_dump(), quality=document.quality)


@router.get("/products/{product_ref}/releases/{version}/sboms", response_model=list[DocumentOut])
def list_sboms(
    product_ref: str, version: str, session: DbSession, who: Reader
) -> list[DocumentOut]:
    release = portfolio.get_release(session, product_ref, version)
    return [document_out(d) for d in service.release_documents(session, release.id)]


@router.get("/sboms/{document_id}", response_model=DocumentDetail)
def show_sbom(document_id: int, session: DbSession, who: Reader) -> DocumentDetail:
    document = service.get_document(session, document_id)
    return DocumentDetail(**document_out(document).model_dump(), quality=document.quality)


@router.delete("/sboms/{document_id}", status_code=204)
def delete_sbom(document_id: int, session: DbSession, who: Uploader) -> Response:
    service.delete_document(session, service.get_document(session, document_id), actor=who)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/products/{product_ref}/releases/{version}/components", response_model=list[ComponentOut]
)
def list_components(
    product_ref: str,
    version: str,
    session: DbSession,
    who: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ComponentOut]:
    release = portfolio.get_release(session, product_ref, version)
    components = service.release_components(session, release.id)
    if q:
        needle = q.lower()
        components = [c for c in components if needle in c.name.lower() or needle in c.purl.lower()]
    return [component_out(c) for c in components]


@router.get("/products/{product_ref}/releases/{version}/sbom.cdx.json")
def export_sbom(product_ref: str, version: str, session: DbSession, who: Reader) -> Response:
    """The release's components as one CycloneDX 1.6 JSON SBOM."""
    release = portfolio.get_release(session, product_ref, version)
    body = service.export_release(session, release.id)
    name = f"{release.product.slug}-{release.version}.cdx.json"
    return Response(
        body,
        media_type="application/vnd.cyclonedx+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
