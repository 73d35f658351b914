"""REST API of disclosure: the public intake and status link, the security team's inbox,
and /.well-known/security.txt."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse

from fleetcare.core import notify
from fleetcare.core.auth import Principal, Role
from fleetcare.core.db import utcnow
from fleetcare.core.http import API_PREFIX, DbSession, public, require
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service
from fleetcare.disclosure.intake import LimitedBodyRoute, check_intake_rate
from fleetcare.disclosure.models import Report
from fleetcare.disclosure.rules import ReportSource, ReportStatus
from fleetcare.disclosure.schemas import (
    CreditIn,
    CreditKind,
    CreditOut,
    LinkIn,
    LinkKind,
    LinkOut,
    MessageIn,
    MessageOut,
    ReportDetail,
    ReporterReplyIn,
    ReportIn,
    ReportPage,
    ReportPatch,
    ReportReceipt,
    ReportStatusOut,
    SecurityTxtOut,
    StatusChange,
    StatusLinkOut,
    TeamReportIn,
)

#: Reports hold unpublished vulnerability details: only the security team reads them.
Psirt = Annotated[Principal, Depends(require(Role.SECURITY))]

router = APIRouter(prefix=API_PREFIX, tags=["disclosure"], route_class=LimitedBodyRoute)
public_router = APIRouter(prefix=API_PREFIX, tags=["public"], route_class=LimitedBodyRoute)
well_known_router = APIRouter(tags=["public"])


def content_disposition(filename: str) -> str:
    """An attachment header that survives any file name: ASCII fallback plus RFC 8187 UTF-8."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _receipt(request: Request, report_id: int, session: DbSession, token: str) -> ReportReceipt:
    settings = _settings(request)
    report = session.get(Report, report_id)
    assert report is not None
    clocks = service.report_clocks(report, settings, utcnow())
    return ReportReceipt(
        tracking_id=report.tracking_id,
        status=ReportStatus(report.status),
        received_at=report.received_at,
        acknowledgement_due=clocks.acknowledgement_due,
        status_url=service.status_url(settings, token),
        status_token=token,
        message=(
            "Thank you. Keep the status link private: it is the only way to follow the report "
            "and to answer us, and it cannot be shown again."
        ),
    )


# --- public --------------------------------------------------------------------------------


@public_router.post(
    "/public/reports",
    response_model=ReportReceipt,
    status_code=201,
    dependencies=[Depends(public("reports"))],
)
def submit_report(data: ReportIn, request: Request, session: DbSession) -> ReportReceipt:
    """Report a vulnerability; no account needed. Keep the returned status link: it shows
    progress and our messages, and takes your replies. Leave `website` empty."""
    settings = _settings(request)
    check_intake_rate(request)
    report, token = service.submit_report(session, data, via="api", settings=settings)
    deliveries = service.notify_receipt(session, report, token, settings)
    session.commit()
    notify.dispatch(deliveries)
    return _receipt(request, report.id, session, token)


@public_router.get(
    "/public/reports/status",
    response_model=ReportStatusOut,
    dependencies=[Depends(public("report-status"))],
)
def report_status(
    request: Request,
    session: DbSession,
    token: Annotated[str, Query(max_length=100, description="the token of your status link")],
) -> ReportStatusOut:
    """Your report's status and the messages between you and the security team."""
    report = service.report_for_token(session, token)
    return service.public_view(session, report, _settings(request), utcnow())


@public_router.post(
    "/public/reports/status/messages",
    response_model=ReportStatusOut,
    status_code=201,
    dependencies=[Depends(public("report-status"))],
)
def reply_to_team(data: ReporterReplyIn, request: Request, session: DbSession) -> ReportStatusOut:
    """Answer the security team through your status link (the token goes in the body)."""
    report = service.report_for_token(session, data.token)
    _message, deliveries = service.add_reporter_message(session, report, data.body)
    session.commit()
    notify.dispatch(deliveries)
    return service.public_view(session, report, _settings(request), utcnow())


@well_known_router.get(
    "/.well-known/security.txt",
    response_class=PlainTextResponse,
    dependencies=[Depends(public("security-txt"))],
)
def security_txt(request: Request, session: DbSession) -> PlainTextResponse:
    """RFC 9116 security.txt, generated from the settings."""
    text, _review = service.security_txt(session, _settings(request))
    session.commit()
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


@well_known_router.get("/security.txt", dependencies=[Depends(public("security-txt"))])
def legacy_security_txt() -> RedirectResponse:
    """RFC 9116 section 3: the top-level location redirects to /.well-known/."""
    return RedirectResponse("/.well-known/security.txt", status_code=301)


# --- the security team ---------------------------------------------------------------------


def _detail(request: Request, session: DbSession, report: Report) -> ReportDetail:
    return service.report_detail(session, report, _settings(request), utcnow())


@router.get("/reports", response_model=ReportPage)
def list_reports(
    request: Request,
    session: DbSession,
    who: Psirt,
    status: ReportStatus | None = None,
    source: ReportSource | None = None,
    quarantined: bool = False,
    open_only: Annotated[bool, Query(alias="open")] = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReportPage:
    reports, total = service.list_reports(
        session,
        status=status,
        source=source,
        quarantined=quarantined,
        open_only=open_only,
        search=q,
        limit=limit,
        offset=offset,
    )
    now, settings = utcnow(), _settings(request)
    return ReportPage(
        items=[service.report_out(session, r, settings, now) for r in reports],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/reports", response_model=ReportReceipt, status_code=201)
def record_report(
    data: TeamReportIn, request: Request, session: DbSession, who: Psirt
) -> ReportReceipt:
    """Record a report that came another way (an email, a CSIRT or importer forwarding one);
    set `source` and, if it arrived earlier, `received_at`."""
    settings = _settings(request)
    report, token = service.submit_report(
        session,
        ReportIn.model_validate(data.model_dump(exclude={"received_at"})),
        via="team",
        settings=settings,
        actor=who,
        received_at=data.received_at,
    )
    deliveries = service.notify_receipt(session, report, token, settings)
    session.commit()
    notify.dispatch(deliveries)
    return _receipt(request, report.id, session, token)


@router.get("/reports/{tracking_id}", response_model=ReportDetail)
def show_report(tracking_id: str, request: Request, session: DbSession, who: Psirt) -> ReportDetail:
    return _detail(request, session, service.get_report(session, tracking_id))


@router.patch("/reports/{tracking_id}", response_model=ReportDetail)
def update_report(
    tracking_id: str, patch: ReportPatch, request: Request, session: DbSession, who: Psirt
) -> ReportDetail:
    report = service.update_report(
        session, service.get_report(session, tracking_id), patch, actor=who
    )
    session.commit()
    return _detail(request, session, report)


@router.post("/reports/{tracking_id}/status", response_model=ReportDetail)
def change_status(
    tracking_id: str, change: StatusChange, request: Request, session: DbSession, who: Psirt
) -> ReportDetail:
    report = service.get_report(session, tracking_id)
    deliveries = service.change_status(
        session, report, change, actor=who, settings=_settings(request)
    )
    session.commit()
    notify.dispatch(deliveries)
    return _detail(request, session, report)


@router.post("/reports/{tracking_id}/messages", response_model=MessageOut, status_code=201)
def add_message(
    tracking_id: str, data: MessageIn, request: Request, session: DbSession, who: Psirt
) -> MessageOut:
    """Write to the reporter, or with `internal: true` leave a note only the team sees."""
    report = service.get_report(session, tracking_id)
    message, deliveries = service.add_message(
        session,
        report,
        data.body,
        internal=data.internal,
        actor=who,
        settings=_settings(request),
    )
    session.commit()
    notify.dispatch(deliveries)
    return MessageOut(
        id=message.id,
        author_kind=message.author_kind,
        author=message.author,
        internal=message.internal,
        body=message.body,
        created_at=message.created_at,
    )


@router.post("/reports/{tracking_id}/credits", response_model=CreditOut, status_code=201)
def add_credit(tracking_id: str, data: CreditIn, session: DbSession, who: Psirt) -> CreditOut:
    credit = service.add_credit(session, service.get_report(session, tracking_id), data, actor=who)
    session.commit()
    return CreditOut(
        id=credit.id, name=credit.name, kind=CreditKind(credit.kind), public=credit.public
    )


@router.delete("/reports/{tracking_id}/credits/{credit_id}", status_code=204)
def remove_credit(tracking_id: str, credit_id: int, session: DbSession, who: Psirt) -> Response:
    service.remove_credit(session, service.get_report(session, tracking_id), credit_id, actor=who)
    session.commit()
    return Response(status_code=204)


@router.post("/reports/{tracking_id}/links", response_model=LinkOut, status_code=201)
def add_link(tracking_id: str, data: LinkIn, session: DbSession, who: Psirt) -> LinkOut:
    """Link a vulnerability id, a finding (its number), a release (product@version) or an
    advisory id."""
    link = service.add_link(session, service.get_report(session, tracking_id), data, actor=who)
    session.commit()
    return LinkOut(id=link.id, kind=LinkKind(link.kind), ref=link.ref, label=link.label)


@router.delete("/reports/{tracking_id}/links/{link_id}", status_code=204)
def remove_link(tracking_id: str, link_id: int, session: DbSession, who: Psirt) -> Response:
    service.remove_link(session, service.get_report(session, tracking_id), link_id, actor=who)
    session.commit()
    return Response(status_code=204)


@router.post("/reports/{tracking_id}/status-link", response_model=StatusLinkOut)
def reissue_status_link(
    tracking_id: str, request: Request, session: DbSession, who: Psirt
) -> StatusLinkOut:
    """A new status link for a reporter who lost theirs; the old one stops working."""
    settings = _settings(request)
    report = service.get_report(session, tracking_id)
    token, deliveries = service.reissue_status_link(session, report, actor=who, settings=settings)
    session.commit()
    notify.dispatch(deliveries)
    return StatusLinkOut(
        tracking_id=report.tracking_id,
        status_url=service.status_url(settings, token),
        status_token=token,
    )


@router.post("/reports/{tracking_id}/release", response_model=ReportDetail)
def release_report(
    tracking_id: str, request: Request, session: DbSession, who: Psirt
) -> ReportDetail:
    """Take a report out of quarantine: the abuse controls were wrong about it."""
    report = service.get_report(session, tracking_id)
    deliveries = service.release_from_quarantine(
        session, report, actor=who, settings=_settings(request)
    )
    session.commit()
    notify.dispatch(deliveries)
    return _detail(request, session, report)


@router.delete("/reports/{tracking_id}", status_code=204)
def discard_report(tracking_id: str, session: DbSession, who: Psirt) -> Response:
    """Delete a quarantined report confirmed as junk (other reports are rejected, not deleted)."""
    service.discard_quarantined(session, service.get_report(session, tracking_id), actor=who)
    session.commit()
    return Response(status_code=204)


@router.get("/reports/{tracking_id}/attachments/{attachment_id}")
def download_attachment(
    tracking_id: str, attachment_id: int, session: DbSession, who: Psirt
) -> Response:
    """The file as sent, always as a download: it came from outside and is never rendered."""
    report = service.get_report(session, tracking_id)
    attachment = service.get_attachment(report, attachment_id)
    return Response(
        attachment.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Fleetcare-Sha256": attachment.sha256,
            "X-Fleetcare-Media-Type": attachment.media_type,
        },
    )


@router.get("/security-txt", response_model=SecurityTxtOut)
def show_security_txt(request: Request, session: DbSession, who: Psirt) -> SecurityTxtOut:
    text, review = service.security_txt(session, _settings(request))
    session.commit()
    return SecurityTxtOut(
        text=text,
        reviewed_at=review.reviewed_at,
        expires_at=review.expires_at,
        reviewed_by=review.reviewed_by,
    )


@router.post("/security-txt/renew", response_model=SecurityTxtOut)
def renew_security_txt(request: Request, session: DbSession, who: Psirt) -> SecurityTxtOut:
    """Confirm security.txt is right; its Expires moves security_txt_valid_days on."""
    settings = _settings(request)
    service.renew_security_txt(session, settings, actor=who)
    text, review = service.security_txt(session, settings)
    session.commit()
    return SecurityTxtOut(
        text=text,
        reviewed_at=review.reviewed_at,
        expires_at=review.expires_at,
        reviewed_by=review.reviewed_by,
    )
