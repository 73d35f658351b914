"""Pages of coordinated vulnerability disclosure.

Public, no account, rate-limited: the report form (`/security/report`), the reporter's status
page behind their private link, the CVD policy and the acknowledgments. Dashboard, security
team only: the inbox (`/disclosure`) and one page per report with its thread, status, credits
and links.

The public form works without JavaScript (the pages' Content Security Policy forbids it). Its
abuse controls are a honeypot field hidden from people and a signed time stamp: a form sent by
a robot lands in quarantine for a person to look at, and a reporter who hits the hourly limit
gets the form back with everything they wrote.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from fleetcare.core import notify
from fleetcare.core.db import utcnow
from fleetcare.core.errors import FleetcareError, InvalidInput
from fleetcare.core.http import DbSession, public
from fleetcare.core.settings import Settings
from fleetcare.disclosure import rules, service
from fleetcare.disclosure.errors import PayloadTooLarge
from fleetcare.disclosure.intake import LimitedBodyRoute, intake_retry_after
from fleetcare.disclosure.models import Report
from fleetcare.disclosure.rules import ReportStatus
from fleetcare.disclosure.schemas import (
    CreditIn,
    CreditKind,
    LinkIn,
    LinkKind,
    ReportIn,
    ReportPatch,
    Severity,
    StatusChange,
    TeamReportIn,
)
from fleetcare.portfolio import service as portfolio
from fleetcare.web.auth import SecurityAnalyst, check_csrf
from fleetcare.web.rendering import error_status, form_errors, render, run_form
from fleetcare.web.reporting import local_input, reader_zone

router = APIRouter(include_in_schema=False, route_class=LimitedBodyRoute)

#: A person takes longer than this to fill in a report; a robot does not.
MIN_FILL_SECONDS = 3
FORM_MAX_AGE = 7 * 24 * 3600
OTHER_PRODUCT = "__other__"
TEXT_FIELDS = (
    "title",
    "affected_version",
    "description",
    "steps_to_reproduce",
    "impact",
    "reporter_name",
    "reporter_email",
    "reporter_contact",
    "credit_as",
    "openpgp_key",
    "website",
)
LABELS = {
    "title": "Summary",
    "product": "Product",
    "affected_version": "Affected version",
    "description": "Description",
    "steps_to_reproduce": "Steps to reproduce",
    "impact": "Impact",
    "source": "You are",
    "reporter_name": "Your name",
    "reporter_email": "Email",
    "reporter_contact": "Other contact",
    "preferred_channel": "How we reach you",
    "credit_as": "Credit as",
    "openpgp_key": "OpenPGP public key",
    "received_at": "Received at",
}
Pages = Depends(public("security-pages"))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _no_store(response: Response, *, referrer: bool = True) -> Response:
    """Pages that show a status link: never cached, and (status page) never leak it onward."""
    response.headers["Cache-Control"] = "no-store"
    if not referrer:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _common(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    return {
        "manufacturer": settings.manufacturer_name,
        "settings": settings,
        "status_labels_cvd": rules.STATUS_LABELS,
        "source_labels_cvd": rules.SOURCE_LABELS,
        "user": None,
    }


# --- the public report form ------------------------------------------------------------------


def _form_stamp(request: Request) -> str:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="report-form").dumps(
        int(utcnow().timestamp())
    )


def _robot_reason(request: Request, stamp: str, honeypot: str) -> str:
    """Why this submission looks automated, or "" for a person."""
    if honeypot.strip():
        return "the hidden honeypot field was filled in"
    serializer = URLSafeTimedSerializer(request.app.state.secret_key, salt="report-form")
    try:
        issued = serializer.loads(stamp, max_age=FORM_MAX_AGE)
    except BadSignature:
        return "the form's time stamp was missing, forged or older than a week"
    if not isinstance(issued, int):
        return "the form's time stamp was malformed"
    elapsed = utcnow().timestamp() - issued
    if elapsed < MIN_FILL_SECONDS:
        return f"the form was sent {elapsed:.1f} seconds after it was opened"
    return ""


def _products(session: Session) -> list[tuple[str, str]]:
    items, _total = portfolio.list_products(session, limit=10000)
    return sorted(((p.slug, p.name) for p in items), key=lambda p: p[1].lower())


def _render_form(
    request: Request,
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
    retry_after: int | None = None,
) -> Response:
    settings = _settings(request)
    response = render(
        request,
        "security_report.html",
        status_code=status_code,
        form=form or {"preferred_channel": "email", "source": "researcher"},
        errors=errors or [],
        products=_products(session),
        sources=rules.SOURCE_LABELS,
        stamp=_form_stamp(request),
        max_attachment_kib=settings.report_attachment_max_bytes // 1024,
        **_common(request),
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return _no_store(response)


@router.get("/security/report", dependencies=[Pages])
def report_form(request: Request, session: DbSession) -> Response:
    return _render_form(request, session)


def _report_input(fields: dict[str, str]) -> dict[str, Any]:
    product = fields.get("product", "")
    if product == OTHER_PRODUCT or not product:
        product = fields.get("product_text", "")
    data: dict[str, Any] = {k: fields.get(k, "") for k in TEXT_FIELDS}
    data.update(
        product=product,
        source=fields.get("source") or "researcher",
        preferred_channel=fields.get("preferred_channel") or "status_page",
        wants_credit=bool(fields.get("wants_credit")),
    )
    return data


async def _read_form(request: Request) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
    form = await request.form(max_files=1, max_fields=40)
    fields: dict[str, str] = {}
    upload = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if value.filename:
                content = await value.read()
                if content:
                    upload = (value.filename, value.content_type or "", content)
        else:
            fields[key] = value
    return fields, upload


@router.post("/security/report", dependencies=[Depends(public("reports"))])
async def submit_report_form(request: Request, session: DbSession) -> Response:
    settings = _settings(request)
    fields, upload = await _read_form(request)
    try:
        data = ReportIn.model_validate(_report_input(fields))
    except ValidationError as exc:
        return _render_form(
            request, session, form=fields, errors=form_errors(exc, LABELS), status_code=422
        )
    retry_after = intake_retry_after(request)
    if retry_after is not None:
        minutes = max(1, round(retry_after / 60))
        return _render_form(
            request,
            session,
            form=fields,
            errors=[
                f"Too many reports from your address in the last hour. Your text is kept below: "
                f"send it again in about {minutes} minutes, or write to us directly"
                + (f" at {settings.security_email}" if settings.security_email else "")
                + ". Choose the attachment again, browsers do not keep it."
            ],
            status_code=429,
            retry_after=retry_after,
        )
    reason = _robot_reason(request, fields.get("form_stamp", ""), fields.get("website", ""))
    try:
        report, token = service.submit_report(
            session,
            data,
            via="web",
            settings=settings,
            attachment=upload,
            quarantine_reason=reason,
        )
        deliveries = service.notify_receipt(session, report, token, settings)
        session.commit()
    except (PayloadTooLarge, InvalidInput) as exc:
        session.rollback()
        return _render_form(
            request, session, form=fields, errors=[exc.message], status_code=exc.status_code
        )
    notify.dispatch(deliveries)
    clocks = service.report_clocks(report, settings, utcnow())
    return _no_store(
        render(
            request,
            "security_report_sent.html",
            status_code=201,
            report=report,
            status_url=service.status_url(settings, token),
            acknowledgement_due=service.local_time(clocks.acknowledgement_due, settings),
            emailed=bool(report.reporter_email) and report.preferred_channel == "email",
            **_common(request),
        )
    )


# --- the reporter's status page ----------------------------------------------------------


def _render_status(
    request: Request,
    session: Session,
    report: Report,
    token: str,
    *,
    errors: list[str] | None = None,
    reply: str = "",
    status_code: int = 200,
) -> Response:
    settings = _settings(request)
    view = service.public_view(session, report, settings, utcnow())
    return _no_store(
        render(
            request,
            "security_report_status.html",
            status_code=status_code,
            view=view,
            token=token,
            errors=errors or [],
            reply=reply,
            steps=_progress(view.status),
            local=lambda moment: service.local_time(moment, settings),
            **_common(request),
        ),
        referrer=False,
    )


def _progress(status: ReportStatus) -> list[tuple[str, str]]:
    """The workflow as steps for the reporter: (label, done | current | todo | skipped)."""
    path = [
        ReportStatus.RECEIVED,
        ReportStatus.ACKNOWLEDGED,
        ReportStatus.TRIAGING,
        ReportStatus.ACCEPTED,
        ReportStatus.FIX_IN_PROGRESS,
        ReportStatus.FIXED,
        ReportStatus.DISCLOSED,
    ]
    if status in (ReportStatus.REJECTED, ReportStatus.DUPLICATE):
        ended = [*path[:3], status]
        return [(rules.STATUS_LABELS[s.value], "current" if s is status else "done") for s in ended]
    index = path.index(status)
    return [
        (
            rules.STATUS_LABELS[s.value],
            "done" if i < index else "current" if i == index else "todo",
        )
        for i, s in enumerate(path)
    ]


@router.get("/security/report/status", dependencies=[Depends(public("report-status"))])
def status_page(request: Request, session: DbSession, token: str = "") -> Response:
    report = service.report_for_token(session, token[:100])
    return _render_status(request, session, report, token)


@router.post("/security/report/status", dependencies=[Depends(public("report-status"))])
async def reply_from_status_page(request: Request, session: DbSession) -> Response:
    # No CSRF token here: the status token in the form is itself the secret, and another site
    # cannot know it.
    form = await request.form(max_files=0, max_fields=5)
    token = str(form.get("token", ""))[:100]
    body = str(form.get("body", "")).strip()
    report = service.report_for_token(session, token)
    if not body or len(body) > 20000:
        return _render_status(
            request,
            session,
            report,
            token,
            errors=["Write a message of 1 to 20,000 characters."],
            reply=body[:20000],
            status_code=422,
        )
    _message, deliveries = service.add_reporter_message(session, report, body)
    session.commit()
    notify.dispatch(deliveries)
    return _no_store(
        RedirectResponse(f"/security/report/status?token={token}#messages", status_code=303),
        referrer=False,
    )


# --- policy and acknowledgments --------------------------------------------------------------


@router.get("/security/policy", dependencies=[Pages])
def policy_page(request: Request, session: DbSession) -> Response:
    from fleetcare.reporting import service as reporting

    settings = _settings(request)
    choice = reporting.csirt(settings)
    return render(
        request,
        "security_policy.html",
        products=_products(session),
        csirt=settings.coordinating_csirt_name or (choice.label if choice else ""),
        **_common(request),
    )


@router.get("/security/acknowledgments", dependencies=[Pages])
def acknowledgments_page(request: Request, session: DbSession) -> Response:
    return render(
        request,
        "security_acknowledgments.html",
        credits=service.public_credits(session, _settings(request)),
        **_common(request),
    )


# --- the security team's inbox -------------------------------------------------------------

INBOX_VIEWS = ("open", "all", "quarantine", *[s.value for s in ReportStatus])


@router.get("/disclosure")
def inbox(
    request: Request, session: DbSession, who: SecurityAnalyst, view: str = "open", q: str = ""
) -> Response:
    if view not in INBOX_VIEWS:
        raise InvalidInput(f"unknown view {view!r}; choose one of: {', '.join(INBOX_VIEWS)}")
    settings = _settings(request)
    status = ReportStatus(view) if view in {s.value for s in ReportStatus} else None
    reports, total = service.list_reports(
        session,
        status=status,
        quarantined=view == "quarantine",
        open_only=view == "open",
        search=q[:200] or None,
        limit=500,
    )
    now = utcnow()
    return render(
        request,
        "disclosure_inbox.html",
        reports=[service.report_out(session, r, settings, now) for r in reports],
        total=total,
        view=view,
        q=q[:200],
        counts=service.inbox_counts(session),
        labels=rules.STATUS_LABELS,
        sources=rules.SOURCE_LABELS,
        local=lambda moment: service.local_time(moment, settings),
    )


def _render_new(
    request: Request,
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "disclosure_new.html",
        status_code=status_code,
        form=form or {"source": "csirt", "preferred_channel": "email"},
        errors=errors or [],
        products=_products(session),
        sources=rules.SOURCE_LABELS,
        zone=reader_zone(request).key,
    )


@router.get("/disclosure/new")
def new_report_form(request: Request, session: DbSession, who: SecurityAnalyst) -> Response:
    return _render_new(request, session)


@router.post("/disclosure/new")
async def record_report(request: Request, session: DbSession, who: SecurityAnalyst) -> Response:
    form = await check_csrf(request)
    fields = {k: str(v) for k, v in form.items() if not isinstance(v, UploadFile)}
    settings = _settings(request)
    try:
        values = _report_input(fields)
        values["website"] = ""
        values["received_at"] = local_input(
            fields.get("received_at", ""), reader_zone(request), "received at"
        )
        data = TeamReportIn.model_validate(values)
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
    except (ValidationError, FleetcareError) as exc:
        session.rollback()
        return _render_new(
            request,
            session,
            form=fields,
            errors=form_errors(exc, LABELS),
            status_code=error_status(exc),
        )
    notify.dispatch(deliveries)
    return _render_report(
        request,
        session,
        report,
        notice="Report recorded.",
        status_link=service.status_url(settings, token),
    )


def _render_report(
    request: Request,
    session: Session,
    report: Report,
    *,
    errors: list[str] | None = None,
    notice: str = "",
    status_link: str = "",
    status_code: int = 200,
) -> Response:
    settings = _settings(request)
    detail = service.report_detail(session, report, settings, utcnow())
    current = ReportStatus(report.status)
    response = render(
        request,
        "disclosure_report.html",
        status_code=status_code,
        report=detail,
        errors=errors or [],
        notice=notice,
        status_link=status_link,
        next_statuses=sorted(rules.TRANSITIONS[current], key=list(ReportStatus).index),
        labels=rules.STATUS_LABELS,
        sources=rules.SOURCE_LABELS,
        credit_kinds=[k.value for k in CreditKind],
        link_kinds=[k.value for k in LinkKind],
        severities=[s.value for s in Severity if s.value],
        products=_products(session),
        local=lambda moment: service.local_time(moment, settings),
        zone=reader_zone(request).key,
    )
    if status_link:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/disclosure/{tracking_id}")
def report_page(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    return _render_report(request, session, service.get_report(session, tracking_id))


async def _act(
    request: Request,
    session: Session,
    tracking_id: str,
    action: Any,
    *,
    anchor: str = "",
) -> Response:
    """Run one form's action on a report; on a user error show the page with the message."""
    form = await check_csrf(request)
    report = service.get_report(session, tracking_id)
    failed = run_form(session, lambda: action(report, form), LABELS)
    if failed:
        report = service.get_report(session, tracking_id)
        return _render_report(request, session, report, errors=failed[0], status_code=failed[1])
    return RedirectResponse(f"/disclosure/{report.tracking_id}{anchor}", status_code=303)


@router.post("/disclosure/{tracking_id}/status")
async def change_status(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    settings = _settings(request)

    def action(report: Report, form: dict[str, Any]) -> list[Any]:
        change = StatusChange.model_validate(
            {
                "status": form.get("status", ""),
                "embargo_until": form.get("embargo_until") or None,
                "duplicate_of": form.get("duplicate_of", ""),
                "message": form.get("message", ""),
            }
        )
        return service.change_status(session, report, change, actor=who, settings=settings)

    return await _act(request, session, tracking_id, action, anchor="#thread")


@router.post("/disclosure/{tracking_id}/messages")
async def add_message(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    settings = _settings(request)

    def action(report: Report, form: dict[str, Any]) -> list[Any]:
        body = str(form.get("body", "")).strip()
        if not body or len(body) > 20000:
            raise InvalidInput("write a message of 1 to 20,000 characters")
        _message, deliveries = service.add_message(
            session,
            report,
            body,
            internal=bool(form.get("internal")),
            actor=who,
            settings=settings,
        )
        return deliveries

    return await _act(request, session, tracking_id, action, anchor="#thread")


@router.post("/disclosure/{tracking_id}/edit")
async def edit_report(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    def action(report: Report, form: dict[str, Any]) -> None:
        product = str(form.get("product", ""))
        if product == OTHER_PRODUCT:
            product = str(form.get("product_text", ""))
        patch = ReportPatch.model_validate(
            {
                "title": form.get("title") or None,
                "product": product,
                "affected_version": form.get("affected_version", ""),
                "severity": form.get("severity", ""),
                "embargo_until": form.get("embargo_until") or None,
            }
        )
        service.update_report(session, report, patch, actor=who)

    return await _act(request, session, tracking_id, action)


@router.post("/disclosure/{tracking_id}/credits")
async def add_credit(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    def action(report: Report, form: dict[str, Any]) -> None:
        data = CreditIn.model_validate(
            {
                "name": form.get("name", ""),
                "kind": form.get("kind") or "finder",
                "public": bool(form.get("public")),
            }
        )
        service.add_credit(session, report, data, actor=who)

    return await _act(request, session, tracking_id, action, anchor="#credits")


@router.post("/disclosure/{tracking_id}/credits/{credit_id}/remove")
async def remove_credit(
    request: Request, tracking_id: str, credit_id: int, session: DbSession, who: SecurityAnalyst
) -> Response:
    def action(report: Report, form: dict[str, Any]) -> None:
        service.remove_credit(session, report, credit_id, actor=who)

    return await _act(request, session, tracking_id, action, anchor="#credits")


@router.post("/disclosure/{tracking_id}/links")
async def add_link(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    def action(report: Report, form: dict[str, Any]) -> None:
        data = LinkIn.model_validate({"kind": form.get("kind", ""), "ref": form.get("ref", "")})
        service.add_link(session, report, data, actor=who)

    return await _act(request, session, tracking_id, action, anchor="#links")


@router.post("/disclosure/{tracking_id}/links/{link_id}/remove")
async def remove_link(
    request: Request, tracking_id: str, link_id: int, session: DbSession, who: SecurityAnalyst
) -> Response:
    def action(report: Report, form: dict[str, Any]) -> None:
        service.remove_link(session, report, link_id, actor=who)

    return await _act(request, session, tracking_id, action, anchor="#links")


@router.post("/disclosure/{tracking_id}/release")
async def release_report(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    settings = _settings(request)

    def action(report: Report, form: dict[str, Any]) -> list[Any]:
        return service.release_from_quarantine(session, report, actor=who, settings=settings)

    return await _act(request, session, tracking_id, action)


@router.post("/disclosure/{tracking_id}/discard")
async def discard_report(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    await check_csrf(request)
    report = service.get_report(session, tracking_id)
    service.discard_quarantined(session, report, actor=who)
    session.commit()
    return RedirectResponse("/disclosure?view=quarantine", status_code=303)


@router.post("/disclosure/{tracking_id}/status-link")
async def reissue_status_link(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    await check_csrf(request)
    settings = _settings(request)
    report = service.get_report(session, tracking_id)
    token, deliveries = service.reissue_status_link(session, report, actor=who, settings=settings)
    session.commit()
    notify.dispatch(deliveries)
    return _render_report(
        request,
        session,
        report,
        notice="A new status link was made; the old one no longer works.",
        status_link=service.status_url(settings, token),
    )


@router.get("/disclosure/{tracking_id}/attachments/{attachment_id}")
def download_attachment(
    tracking_id: str, attachment_id: int, session: DbSession, who: SecurityAnalyst
) -> Response:
    from fleetcare.disclosure.api import content_disposition

    attachment = service.get_attachment(service.get_report(session, tracking_id), attachment_id)
    return Response(
        attachment.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
