"""The release page (SBOMs, components, findings), SBOM upload and export, and SBOM quality.

    GET  /portfolio/{slug}/releases/{version}                facts, SBOMs, findings, components
    POST /portfolio/{slug}/releases/{version}/sboms          attach an SBOM (multipart upload)
    GET  /portfolio/{slug}/releases/{version}/sbom.cdx.json  the release as CycloneDX 1.6
    GET  /sboms/{id}                                         the BSI TR-03183-2 quality report
    GET  /sboms/{id}/quality.json                            the same report as JSON
    POST /sboms/{id}/delete                                  remove an SBOM and what came with it

Uploads go through `sbom.service.import_sbom`, like the API: the whole file is parsed and graded
before anything is stored, and a refused file stores nothing. The upload is read with the API's
size limit (`sbom.parse.DEFAULT_MAX_BYTES`), counted while it arrives rather than after.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.types import Message

from fleetcare.core.errors import FleetcareError, NotFound
from fleetcare.core.http import DbSession
from fleetcare.matching import service as matching
from fleetcare.matching.schemas import FindingOut
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.models import Release
from fleetcare.sbom import service as sbom_service
from fleetcare.sbom.errors import SbomError
from fleetcare.sbom.models import SbomDocument
from fleetcare.sbom.parse import DEFAULT_MAX_BYTES
from fleetcare.web.auth import AnyUser, SbomUploader, allowed, check_csrf
from fleetcare.web.finding_filters import PAGE_SIZE, FindingQuery
from fleetcare.web.rendering import PAGE_HEADERS, counted, render

router = APIRouter(include_in_schema=False)

#: Room for the multipart envelope (boundaries, part headers, the CSRF field) around the file.
FORM_OVERHEAD = 64 * 1024
#: Every finding of a release is read once for the page's summary; more than this is unusual.
SUMMARY_LIMIT = 10_000

#: Short column headings for the per-component quality checks (titles are in the report).
CHECK_HEADINGS = {
    "creator": "Creator",
    "name": "Name",
    "version": "Version",
    "filename": "File name",
    "dependencies": "Depen­dencies",
    "dependency_completeness": "Complete­ness",
    "license": "Licence",
    "hash_sha512": "SHA-512",
    "identifier": "purl / CPE",
}


def release_url(release: Release) -> str:
    return f"/portfolio/{release.product.slug}/releases/{quote(release.version, safe='')}"


def _release(session: Session, slug: str, version: str) -> Release:
    product = portfolio.get_product_by_slug(session, slug)
    return portfolio.get_release(session, product.id, version)


def _mib(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB"


@dataclass(frozen=True)
class FindingSummary:
    """Counts for the tiles above a findings table (open findings only)."""

    total: int
    by_severity: Mapping[str, int]
    candidates: int
    kev: int
    fixable: int

    @classmethod
    def of(cls, findings: list[FindingOut]) -> FindingSummary:
        return cls(
            total=len(findings),
            by_severity=Counter(f.severity.value for f in findings),
            candidates=sum(f.exploited_candidate for f in findings),
            kev=sum(f.kev for f in findings),
            fixable=sum(f.fixed_version is not None for f in findings),
        )


def _component_key(name: str, version: str, purl: str) -> tuple[str, str, str]:
    return (name, version, purl)


def _render_release(
    request: Request,
    session: Session,
    release: Release,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
    upload_name: str = "",
) -> Response:
    product = release.product
    query, problems = FindingQuery.from_params(request.query_params)
    documents = sbom_service.release_documents(session, release.id)
    components = sbom_service.release_components(session, release.id)
    everything, _ = matching.list_findings(
        session, matching.FindingFilter(release_id=release.id), limit=SUMMARY_LIMIT
    )
    findings, total = matching.list_findings(
        session, query.criteria(release_id=release.id), limit=PAGE_SIZE, offset=query.offset
    )
    per_component = Counter(
        _component_key(f.component, f.component_version, f.component_purl) for f in everything
    )
    notice = ""
    attached = request.query_params.get("attached", "")
    if attached.isdigit():
        document = next((d for d in documents if d.id == int(attached)), None)
        if document is not None:
            found = sum(1 for f in everything if f.first_seen >= document.imported_at)
            notice = (
                f"{document.file_name or 'The SBOM'} was attached: "
                f"{counted(document.component_count, 'component')}, "
                f"quality score {int(document.quality.get('score', 0))}/100, "
                f"{counted(found, 'new finding')}."
            )
    elif request.query_params.get("removed") == "1":
        notice = "The SBOM was removed, with its components and their findings."
    return render(
        request,
        "release.html",
        status_code=status_code,
        product=product,
        release=portfolio.release_out(release, product),
        release_url=release_url(release),
        documents=documents,
        components=components,
        per_component=per_component,
        component_key=_component_key,
        findings=findings,
        total=total,
        summary=FindingSummary.of(everything),
        query=query,
        problems=problems,
        page_size=PAGE_SIZE,
        errors=errors or [],
        upload_name=upload_name,
        notice=notice,
        max_upload=_mib(DEFAULT_MAX_BYTES),
        may_upload=allowed(request.state.principal, SbomUploader),
    )


@router.get("/portfolio/{slug}/releases/{version}")
def release_page(
    request: Request, slug: str, version: str, session: DbSession, who: AnyUser
) -> Response:
    return _render_release(request, session, _release(session, slug, version))


class _UploadTooLarge(Exception):
    pass


def _limited(request: Request, max_bytes: int) -> Request:
    """The same request, but reading its body fails as soon as it passes `max_bytes`.

    Starlette spools file parts to disk without a limit of its own; counting here stops a huge
    upload early instead of after it has filled the disk.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _UploadTooLarge
    received = 0
    receive = request.receive

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise _UploadTooLarge
        return message

    return Request(request.scope, counted)


def _base_name(file_name: str) -> str:
    """The file's own name: some browsers send a whole path (C:\\Users\\...\\sbom.json)."""
    return file_name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]


def _problems(exc: FleetcareError) -> list[str]:
    """Every problem the parser listed (path: message), or the error's message."""
    if isinstance(exc, SbomError):
        listed = [str(p) for p in exc.problems]
        if exc.total > len(listed):
            listed.append(f"… and {exc.total - len(listed)} more problems")
        return listed
    return [exc.message]


@router.post("/portfolio/{slug}/releases/{version}/sboms")
async def upload_sbom(
    request: Request, slug: str, version: str, session: DbSession, who: SbomUploader
) -> Response:
    release = _release(session, slug, version)
    try:
        form = await check_csrf(_limited(request, DEFAULT_MAX_BYTES + FORM_OVERHEAD))
    except _UploadTooLarge:
        message = f"the file is larger than the limit of {_mib(DEFAULT_MAX_BYTES)} for an SBOM"
        return _render_release(request, session, release, errors=[message], status_code=413)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _render_release(
            request,
            session,
            release,
            errors=["choose an SBOM file (CycloneDX or SPDX) to upload"],
            status_code=422,
        )
    file_name = _base_name(upload.filename)
    try:
        data = await upload.read()
    finally:
        await upload.close()
    try:
        document = sbom_service.import_sbom(
            session, release.product_id, release.version, data, file_name=file_name, actor=who
        )
        session.commit()
    except FleetcareError as exc:
        session.rollback()
        return _render_release(
            request,
            session,
            _release(session, slug, version),
            errors=_problems(exc),
            status_code=exc.status_code,
            upload_name=file_name,
        )
    return RedirectResponse(f"{release_url(release)}?attached={document.id}#sboms", status_code=303)


@router.get("/portfolio/{slug}/releases/{version}/sbom.cdx.json")
def export_sbom(
    request: Request, slug: str, version: str, session: DbSession, who: AnyUser
) -> Response:
    """The release's components as one CycloneDX 1.6 SBOM, as the API exports it."""
    release = _release(session, slug, version)
    body = sbom_service.export_release(session, release.id)
    # Versions may hold "+", "~" and ":", which some systems refuse in file names.
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{release.product.slug}-{release.version}.cdx.json")
    return Response(
        body,
        media_type="application/vnd.cyclonedx+json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


# --- SBOM quality --------------------------------------------------------------------------


def _document(session: Session, document_id: str) -> SbomDocument:
    if not document_id.isdigit() or len(document_id) > 18:
        raise NotFound(f"no SBOM document with id {document_id!r}")
    return sbom_service.get_document(session, int(document_id))


def _columns(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The per-component checks as table columns: required ones first, in the report's order."""
    coverage: Mapping[str, Mapping[str, Any]] = report.get("coverage", {})
    columns = [
        {
            "field": field,
            "heading": CHECK_HEADINGS.get(field, entry.get("title", field)),
            "title": entry.get("title", field),
            "level": entry.get("level", "required"),
            "passed": int(entry.get("passed", 0)),
            "total": int(entry.get("total", 0)),
        }
        for field, entry in coverage.items()
    ]
    return sorted(columns, key=lambda c: c["level"] != "required")


def _component_row(component: Mapping[str, Any], columns: list[dict[str, Any]]) -> dict[str, Any]:
    """A component of the report with its checks in column order (None where not checked)."""
    checks = {c.get("field"): c for c in component.get("checks", [])}
    return {
        "name": component.get("name") or "",
        "version": component.get("version") or "",
        "primary": bool(component.get("primary")),
        "score": int(component.get("score", 0)),
        "missing_required": list(component.get("missing_required", [])),
        "cells": [checks.get(column["field"]) for column in columns],
    }


@router.get("/sboms/{document_id}")
def sbom_quality_page(
    request: Request, document_id: str, session: DbSession, who: AnyUser
) -> Response:
    document = _document(session, document_id)
    release = portfolio.get_release_by_id(session, document.release_id)
    report = document.quality or {}
    columns = _columns(report)
    components = [_component_row(c, columns) for c in report.get("components", [])]
    only_missing = request.query_params.get("missing") == "1"
    shown = [c for c in components if c["missing_required"]] if only_missing else components
    return render(
        request,
        "sbom_quality.html",
        document=document,
        report=report,
        product=release.product,
        release=release,
        release_url=release_url(release),
        columns=columns,
        components=shown,
        component_total=len(components),
        incomplete=sum(1 for c in components if c.get("missing_required")),
        only_missing=only_missing,
        may_remove=allowed(request.state.principal, SbomUploader),
    )


@router.get("/sboms/{document_id}/quality.json")
def sbom_quality_json(document_id: str, session: DbSession, who: AnyUser) -> Response:
    """The quality report as the API gives it, for a logged-in user (the API needs a token)."""
    document = _document(session, document_id)
    return JSONResponse(
        document.quality,
        headers={
            "Content-Disposition": f'inline; filename="sbom-{document.id}-quality.json"',
            "X-Content-Type-Options": PAGE_HEADERS["X-Content-Type-Options"],
            "Cache-Control": "no-store",
        },
    )


@router.post("/sboms/{document_id}/delete")
async def delete_sbom(
    request: Request, document_id: str, session: DbSession, who: SbomUploader
) -> Response:
    form = await check_csrf(request)
    document = _document(session, document_id)
    release = portfolio.get_release_by_id(session, document.release_id)
    if not form.get("confirm"):
        return RedirectResponse(f"/sboms/{document.id}?confirm=1#remove", status_code=303)
    target = release_url(release)
    sbom_service.delete_document(session, document, actor=who)
    session.commit()
    return RedirectResponse(f"{target}?removed=1#sboms", status_code=303)
