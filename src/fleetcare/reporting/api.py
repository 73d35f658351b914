"""REST API of Article 14 reporting: cases, stage documents, user notices and the deadline
board. Everyone with an account reads (the compliance officer follows the clocks); the security
team acts. Times come back in UTC, deadlines also in the zone named by `tz`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from fleetcare.core import notify
from fleetcare.core.auth import Principal, Role
from fleetcare.core.db import utcnow
from fleetcare.core.http import API_PREFIX, READERS, DbSession, require
from fleetcare.core.settings import Settings
from fleetcare.reporting import service
from fleetcare.reporting.models import Case
from fleetcare.reporting.schemas import (
    BoardItemOut,
    CaseDetail,
    CaseIn,
    CaseOut,
    CasePatch,
    CaseStatus,
    ConfirmIn,
    DocumentIn,
    DocumentOut,
    IntermediateIn,
    NoticeIn,
    NoticeOut,
    ReasonIn,
    SubmitIn,
)

router = APIRouter(prefix=API_PREFIX, tags=["reporting"])
Reader = Annotated[Principal, Depends(require(*READERS))]
Psirt = Annotated[Principal, Depends(require(Role.SECURITY))]
Zone = Annotated[
    str | None, Query(max_length=64, description="IANA time zone for due_local, e.g. Europe/Paris")
]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _detail(request: Request, session: Session, case: Case, tz: str | None = None) -> CaseDetail:
    settings = _settings(request)
    return service.case_detail(session, case, settings, utcnow(), service.parse_zone(tz, settings))


@router.get("/cases", response_model=list[CaseOut])
def list_cases(
    request: Request,
    session: DbSession,
    who: Reader,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    tz: Zone = None,
) -> list[CaseOut]:
    settings = _settings(request)
    zone, now = service.parse_zone(tz, settings), utcnow()
    return [
        service.case_out(session, c, settings, now, zone)
        for c in service.list_cases(session, status)
    ]


@router.post("/cases", response_model=CaseDetail, status_code=201)
def open_case(data: CaseIn, request: Request, session: DbSession, who: Psirt) -> CaseDetail:
    """Open a case by hand, or from a report (`report`: its tracking id). The clocks start at
    `aware_at`, recorded with `awareness_evidence`."""
    case, deliveries = service.open_case(session, data, actor=who, settings=_settings(request))
    session.commit()
    notify.dispatch(deliveries)
    return _detail(request, session, case)


@router.post("/cases/propose", response_model=list[CaseOut])
def propose_cases(request: Request, session: DbSession, who: Psirt) -> list[CaseOut]:
    """Propose cases for known-exploited vulnerabilities hitting released products now (the
    job does this every hour); returns the new proposals."""
    settings = _settings(request)
    cases, deliveries = service.propose_cases(session, settings=settings)
    session.commit()
    notify.dispatch(deliveries)
    now, zone = utcnow(), service.zone(settings)
    return [service.case_out(session, c, settings, now, zone) for c in cases]


@router.get("/cases/{ref}", response_model=CaseDetail)
def show_case(
    ref: str, request: Request, session: DbSession, who: Reader, tz: Zone = None
) -> CaseDetail:
    return _detail(request, session, service.get_case(session, ref), tz)


@router.patch("/cases/{ref}", response_model=CaseDetail)
def update_case(
    ref: str, patch: CasePatch, request: Request, session: DbSession, who: Psirt
) -> CaseDetail:
    case = service.update_case(session, service.get_case(session, ref), patch, actor=who)
    session.commit()
    return _detail(request, session, case)


@router.post("/cases/{ref}/confirm", response_model=CaseDetail)
def confirm_case(
    ref: str, data: ConfirmIn, request: Request, session: DbSession, who: Psirt
) -> CaseDetail:
    """Confirm a proposed case with the time of awareness and the evidence; clocks start."""
    case = service.get_case(session, ref)
    deliveries = service.confirm_case(session, case, data, actor=who, settings=_settings(request))
    session.commit()
    notify.dispatch(deliveries)
    return _detail(request, session, case)


@router.post("/cases/{ref}/dismiss", response_model=CaseDetail)
def dismiss_case(
    ref: str, data: ReasonIn, request: Request, session: DbSession, who: Psirt
) -> CaseDetail:
    case = service.get_case(session, ref)
    service.dismiss_case(session, case, data.reason, actor=who)
    session.commit()
    return _detail(request, session, case)


@router.post("/cases/{ref}/close", response_model=CaseDetail)
def close_case(
    ref: str, data: ReasonIn, request: Request, session: DbSession, who: Psirt
) -> CaseDetail:
    case = service.get_case(session, ref)
    service.close_case(session, case, data.reason, actor=who)
    session.commit()
    return _detail(request, session, case)


@router.get("/cases/{ref}/documents/{document}", response_model=DocumentOut)
def show_document(ref: str, document: str, session: DbSession, who: Reader) -> DocumentOut:
    """A stage document: early_warning, notification, final or intermediate-N, with what still
    stops it from being submitted."""
    case = service.get_case(session, ref)
    return service.document_out(case, service.get_document(case, document))


@router.patch("/cases/{ref}/documents/{document}", response_model=DocumentOut)
def edit_document(
    ref: str, document: str, data: DocumentIn, session: DbSession, who: Psirt
) -> DocumentOut:
    """Change fields of a draft; refused once it is submitted."""
    case = service.get_case(session, ref)
    saved = service.save_document(session, case, document, dict(data.content), actor=who)
    session.commit()
    return service.document_out(case, saved)


@router.post("/cases/{ref}/documents/{document}/prefill", response_model=DocumentOut)
def prefill_document(ref: str, document: str, session: DbSession, who: Psirt) -> DocumentOut:
    """Fill the draft's empty fields from what fleetcare knows now."""
    case = service.get_case(session, ref)
    saved = service.refill_document(session, case, document, actor=who)
    session.commit()
    return service.document_out(case, saved)


@router.post("/cases/{ref}/documents/{document}/submit", response_model=DocumentOut)
def submit_document(
    ref: str, document: str, data: SubmitIn, request: Request, session: DbSession, who: Psirt
) -> DocumentOut:
    """Record the filing on the ENISA single reporting platform (time and reference); the
    document must be complete and is frozen from then on."""
    case = service.get_case(session, ref)
    saved, deliveries = service.submit_document(
        session, case, document, data, actor=who, settings=_settings(request)
    )
    session.commit()
    notify.dispatch(deliveries)
    return service.document_out(case, saved)


@router.get("/cases/{ref}/documents/{document}/export")
def export_document(
    ref: str, document: str, request: Request, session: DbSession, who: Reader
) -> JSONResponse:
    """The document as JSON, for filing (or as filed, once submitted)."""
    case = service.get_case(session, ref)
    found = service.get_document(case, document)
    body: dict[str, Any] = service.export_document(session, case, found, _settings(request))
    return JSONResponse(
        body,
        headers={
            "Content-Disposition": f'attachment; filename="{case.reference}-{found.key}.json"'
        },
    )


@router.post("/cases/{ref}/intermediate", response_model=DocumentOut, status_code=201)
def request_intermediate(
    ref: str, data: IntermediateIn, session: DbSession, who: Psirt
) -> DocumentOut:
    """The coordinating CSIRT asked for an intermediate report (Art. 14(6))."""
    case = service.get_case(session, ref)
    document = service.add_intermediate(session, case, data, actor=who)
    session.commit()
    return service.document_out(case, document)


@router.get("/cases/{ref}/notices", response_model=list[NoticeOut])
def list_notices(ref: str, session: DbSession, who: Reader) -> list[NoticeOut]:
    return [service.notice_out(n) for n in service.get_case(session, ref).notices]


@router.post("/cases/{ref}/notices", response_model=NoticeOut, status_code=201)
def send_notice(
    ref: str, data: NoticeIn, request: Request, session: DbSession, who: Psirt
) -> NoticeOut:
    """Inform impacted (or all) users and say what they can do (Art. 14(8))."""
    case = service.get_case(session, ref)
    notice, deliveries = service.send_user_notice(
        session, case, data, actor=who, settings=_settings(request)
    )
    session.commit()
    notify.dispatch(deliveries)
    return service.notice_out(notice)


@router.get("/deadlines", response_model=list[BoardItemOut])
def deadline_board(
    request: Request, session: DbSession, who: Reader, tz: Zone = None
) -> list[BoardItemOut]:
    """Everything due: Art. 14 stage reports and promises to reporters, overdue first."""
    settings = _settings(request)
    return service.board(session, settings, utcnow(), service.parse_zone(tz, settings))
