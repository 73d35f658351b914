"""Pages of Article 14 reporting: the deadline board, the cases, each case with its timeline,
and the stage documents with their printable and JSON forms.

Everyone with an account reads them (the compliance officer follows the clocks); only the
security team changes anything. Times are shown in UTC and in the person's zone: the
manufacturer's by default, or the one chosen on the board (kept in a cookie). Times typed into
forms are read in that same zone, and the form says which.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fleetcare.core import notify
from fleetcare.core.db import utcnow
from fleetcare.core.errors import FleetcareError, InvalidInput
from fleetcare.core.http import DbSession
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service as disclosure
from fleetcare.portfolio import service as portfolio
from fleetcare.reporting import rules, service
from fleetcare.reporting.models import Case
from fleetcare.reporting.schemas import (
    CaseIn,
    CasePatch,
    CaseStatus,
    ConfirmIn,
    IntermediateIn,
    NoticeIn,
    SubmitIn,
)
from fleetcare.web.auth import AnyUser, SecurityAnalyst, check_csrf
from fleetcare.web.rendering import error_status, form_errors, render, run_form

router = APIRouter(include_in_schema=False)
ZONE_COOKIE = "fleetcare_tz"
#: Zones offered on the board; any IANA name also works through ?tz=.
COMMON_ZONES = (
    "UTC",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Warsaw",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Athens",
    "Europe/Bucharest",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Tokyo",
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def reader_zone(request: Request) -> ZoneInfo:
    """The zone this person reads times in: ?tz=, else their cookie, else the manufacturer's."""
    settings = _settings(request)
    asked = request.query_params.get("tz")
    if asked:
        return service.parse_zone(asked[:64], settings)
    try:
        return service.parse_zone(request.cookies.get(ZONE_COOKIE, "")[:64], settings)
    except InvalidInput:
        return service.zone(settings)


def local_input(value: str, tz: ZoneInfo, field: str) -> dt.datetime | None:
    """A datetime-local form value, read in the person's zone; None when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field}: {value!r} is not a date and time such as 2026-03-01T09:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(dt.UTC)


def _times(tz: ZoneInfo) -> dict[str, Any]:
    """Template helpers that show an instant in UTC and in the reader's zone."""
    return {
        "zone": tz.key,
        "zone_info": tz,
        "utc": lambda m: service.utc_text(m) if m else "—",
        "local": lambda m: service.local_text(m, tz) or "—",
        "kind_labels": rules.KIND_LABELS,
        "stage_labels": rules.STAGE_LABELS,
    }


# --- the deadline board --------------------------------------------------------------------


@router.get("/deadlines")
def deadline_board(request: Request, session: DbSession, who: AnyUser) -> Response:
    settings, tz, now = _settings(request), reader_zone(request), utcnow()
    items = service.board(session, settings, now, tz)
    counts = {u.value: sum(1 for i in items if i.urgency is u) for u in rules.Urgency}
    proposed = service.list_cases(session, [CaseStatus.PROPOSED])
    return render(
        request,
        "deadlines.html",
        items=items,
        counts=counts,
        proposed=proposed,
        zones=COMMON_ZONES if tz.key in COMMON_ZONES else (tz.key, *COMMON_ZONES),
        now=now,
        **_times(tz),
    )


@router.post("/deadlines/timezone")
async def choose_zone(request: Request, who: AnyUser) -> Response:
    form = await check_csrf(request)
    name = str(form.get("tz", ""))[:64]
    service.parse_zone(name, _settings(request))  # refuses unknown zones with a message
    back = str(form.get("back", "/deadlines"))
    if back not in ("/deadlines", "/cases") and not back.startswith("/cases/"):
        back = "/deadlines"
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        ZONE_COOKIE,
        name,
        max_age=365 * 86400,
        httponly=True,
        samesite="lax",
        path="/",
        secure=_settings(request).secure_cookies,
    )
    return response


# --- cases ---------------------------------------------------------------------------------


def _render_cases(
    request: Request,
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    settings, tz, now = _settings(request), reader_zone(request), utcnow()
    cases = service.list_cases(session)
    products, _ = portfolio.list_products(session, limit=10000)
    return render(
        request,
        "cases.html",
        status_code=status_code,
        cases=[(c, service.case_out(session, c, settings, now, tz)) for c in cases],
        products=sorted((p.name for p in products), key=str.lower),
        form=form or {"kind": "exploited_vulnerability"},
        errors=errors or [],
        **_times(tz),
    )


@router.get("/cases")
def cases_page(request: Request, session: DbSession, who: AnyUser) -> Response:
    return _render_cases(request, session)


def _case_input(form: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    product = str(form.get("product", "")).strip()
    versions = [v.strip() for v in str(form.get("versions", "")).split(",") if v.strip()]
    states = [s.strip() for s in str(form.get("member_states", "")).split(",") if s.strip()]
    return {
        "kind": form.get("kind", ""),
        "title": form.get("title", ""),
        "summary": form.get("summary", ""),
        "aware_at": local_input(str(form.get("aware_at", "")), tz, "aware at"),
        "awareness_evidence": form.get("awareness_evidence", ""),
        "products": [{"product": product, "versions": versions}] if product else [],
        "vulnerability_ids": [
            v.strip() for v in str(form.get("vulnerability_ids", "")).split(",") if v.strip()
        ],
        "member_states": states or None,
        "report": str(form.get("report", "")).strip(),
    }


@router.post("/cases")
async def open_case(request: Request, session: DbSession, who: SecurityAnalyst) -> Response:
    form = await check_csrf(request)
    settings, tz = _settings(request), reader_zone(request)
    try:
        data = CaseIn.model_validate(_case_input(form, tz))
        case, deliveries = service.open_case(session, data, actor=who, settings=settings)
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        session.rollback()
        status = error_status(exc)
        return _render_cases(
            request, session, form=form, errors=form_errors(exc), status_code=status
        )
    notify.dispatch(deliveries)
    return RedirectResponse(f"/cases/{case.reference}", status_code=303)


@router.post("/cases/propose")
async def propose_cases(request: Request, session: DbSession, who: SecurityAnalyst) -> Response:
    await check_csrf(request)
    _cases, deliveries = service.propose_cases(session, settings=_settings(request))
    session.commit()
    notify.dispatch(deliveries)
    return RedirectResponse("/cases#proposed", status_code=303)


@router.post("/cases/from-report/{tracking_id}")
async def open_case_from_report(
    request: Request, tracking_id: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    form = await check_csrf(request)
    settings, tz = _settings(request), reader_zone(request)
    report = disclosure.get_report(session, tracking_id)
    try:
        values = _case_input(form, tz)
        values["report"] = report.tracking_id
        values["title"] = values["title"] or report.title
        data = CaseIn.model_validate(values)
        case, deliveries = service.open_case(session, data, actor=who, settings=settings)
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        session.rollback()
        raise InvalidInput(
            f"the case was not opened: {form_errors(exc)[0]}. Go back to the report and try again."
        ) from None
    notify.dispatch(deliveries)
    return RedirectResponse(f"/cases/{case.reference}", status_code=303)


def _render_case(
    request: Request,
    session: Session,
    case: Case,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
    notice_form: dict[str, Any] | None = None,
) -> Response:
    settings, tz, now = _settings(request), reader_zone(request), utcnow()
    detail = service.case_detail(session, case, settings, now, tz)
    return render(
        request,
        "case.html",
        status_code=status_code,
        case=detail,
        timeline=service.timeline(session, case, settings, now),
        errors=errors or [],
        notice_form=notice_form or {},
        small_company=case.manufacturer_size in ("micro", "small"),
        now=now,
        **_times(tz),
    )


@router.get("/cases/{ref}")
def case_page(request: Request, ref: str, session: DbSession, who: AnyUser) -> Response:
    return _render_case(request, session, service.get_case(session, ref))


async def _act(request: Request, session: Session, ref: str, action: Any) -> Response:
    form = await check_csrf(request)
    case = service.get_case(session, ref)
    failed = run_form(session, lambda: action(case, form))
    if failed:
        case = service.get_case(session, ref)
        return _render_case(
            request, session, case, errors=failed[0], status_code=failed[1], notice_form=form
        )
    return RedirectResponse(f"/cases/{case.reference}", status_code=303)


@router.post("/cases/{ref}/confirm")
async def confirm_case(
    request: Request, ref: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    settings, tz = _settings(request), reader_zone(request)

    def action(case: Case, form: dict[str, Any]) -> list[Any]:
        data = ConfirmIn.model_validate(
            {
                "aware_at": local_input(str(form.get("aware_at", "")), tz, "aware at"),
                "awareness_evidence": form.get("awareness_evidence", ""),
            }
        )
        return service.confirm_case(session, case, data, actor=who, settings=settings)

    return await _act(request, session, ref, action)


@router.post("/cases/{ref}/dismiss")
async def dismiss_case(
    request: Request, ref: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    def action(case: Case, form: dict[str, Any]) -> None:
        reason = str(form.get("reason", "")).strip()
        if not reason:
            raise InvalidInput("say why the proposal is dismissed")
        service.dismiss_case(session, case, reason[:2000], actor=who)

    return await _act(request, session, ref, action)


@router.post("/cases/{ref}/close")
async def close_case(
    request: Request, ref: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    def action(case: Case, form: dict[str, Any]) -> None:
        reason = str(form.get("reason", "")).strip()
        if not reason:
            raise InvalidInput("say why the case is closed")
        service.close_case(session, case, reason[:2000], actor=who)

    return await _act(request, session, ref, action)


@router.post("/cases/{ref}/edit")
async def edit_case(
    request: Request, ref: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    tz = reader_zone(request)

    def action(case: Case, form: dict[str, Any]) -> None:
        values: dict[str, Any] = {
            "title": form.get("title") or None,
            "summary": form.get("summary", ""),
            "member_states": [
                s.strip() for s in str(form.get("member_states", "")).split(",") if s.strip()
            ],
            "vulnerability_ids": [
                v.strip() for v in str(form.get("vulnerability_ids", "")).split(",") if v.strip()
            ],
            "measure_available_at": local_input(
                str(form.get("measure_available_at", "")), tz, "corrective measure available"
            ),
        }
        service.update_case(session, case, CasePatch.model_validate(values), actor=who)

    return await _act(request, session, ref, action)


@router.post("/cases/{ref}/intermediate")
async def request_intermediate(
    request: Request, ref: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    tz = reader_zone(request)

    def action(case: Case, form: dict[str, Any]) -> None:
        data = IntermediateIn.model_validate(
            {
                "csirt_request": form.get("csirt_request", ""),
                "due": local_input(str(form.get("due", "")), tz, "due"),
            }
        )
        service.add_intermediate(session, case, data, actor=who)

    return await _act(request, session, ref, action)


@router.post("/cases/{ref}/notices")
async def send_notice(
    request: Request, ref: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    settings = _settings(request)

    def action(case: Case, form: dict[str, Any]) -> list[Any]:
        recipients = [
            r.strip()
            for r in str(form.get("recipients", "")).replace(";", "\n").replace(",", "\n").split()
            if r.strip()
        ]
        data = NoticeIn.model_validate(
            {
                "audience": form.get("audience") or "impacted",
                "subject": form.get("subject", ""),
                "body": form.get("body", ""),
                "recipients": recipients,
                "webhooks": bool(form.get("webhooks")),
            }
        )
        _notice, deliveries = service.send_user_notice(
            session, case, data, actor=who, settings=settings
        )
        return deliveries

    return await _act(request, session, ref, action)


# --- stage documents -----------------------------------------------------------------------


def _render_document(
    request: Request,
    session: Session,
    case: Case,
    key: str,
    *,
    form: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    settings, tz, now = _settings(request), reader_zone(request), utcnow()
    document = service.get_document(case, key)
    out = service.document_out(case, document)
    deadline = next(
        (d for d in service.case_deadlines(case, settings, now, tz) if d.document == key), None
    )
    return render(
        request,
        "case_document.html",
        status_code=status_code,
        case=service.case_out(session, case, settings, now, tz),
        document=out,
        content=form if form is not None else out.content,
        deadline=deadline,
        errors=errors or [],
        member_states=rules.MEMBER_STATES,
        **_times(tz),
    )


@router.get("/cases/{ref}/documents/{key}")
def document_page(
    request: Request, ref: str, key: str, session: DbSession, who: AnyUser
) -> Response:
    return _render_document(request, session, service.get_case(session, ref), key)


def _document_content(case: Case, key: str, form: dict[str, Any]) -> dict[str, Any]:
    document = service.get_document(case, key)
    content: dict[str, Any] = {}
    for field in rules.FIELDS[(rules.CaseKind(case.kind), rules.Stage(document.stage))]:
        if field.kind == "member_states":
            content[field.name] = [code for code in rules.MEMBER_STATES if form.get(f"ms_{code}")]
        else:
            content[field.name] = str(form.get(field.name, "")).strip()
    return content


@router.post("/cases/{ref}/documents/{key}")
async def save_document(
    request: Request, ref: str, key: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    form = await check_csrf(request)
    case = service.get_case(session, ref)
    content = _document_content(case, key, form)
    try:
        service.save_document(session, case, key, content, actor=who)
        session.commit()
    except FleetcareError as exc:
        session.rollback()
        case = service.get_case(session, ref)
        return _render_document(
            request,
            session,
            case,
            key,
            form=content,
            errors=form_errors(exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/cases/{case.reference}/documents/{key}", status_code=303)


@router.post("/cases/{ref}/documents/{key}/prefill")
async def prefill_document(
    request: Request, ref: str, key: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    await check_csrf(request)
    case = service.get_case(session, ref)
    try:
        service.refill_document(session, case, key, actor=who)
        session.commit()
    except FleetcareError as exc:
        session.rollback()
        return _render_document(
            request,
            session,
            service.get_case(session, ref),
            key,
            errors=form_errors(exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/cases/{case.reference}/documents/{key}", status_code=303)


@router.post("/cases/{ref}/documents/{key}/submit")
async def submit_document(
    request: Request, ref: str, key: str, session: DbSession, who: SecurityAnalyst
) -> Response:
    form = await check_csrf(request)
    settings, tz = _settings(request), reader_zone(request)
    case = service.get_case(session, ref)
    try:
        data = SubmitIn.model_validate(
            {
                "reference": form.get("reference", ""),
                "submitted_at": local_input(str(form.get("submitted_at", "")), tz, "submitted at"),
            }
        )
        _document, deliveries = service.submit_document(
            session, case, key, data, actor=who, settings=settings
        )
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        session.rollback()
        status = error_status(exc)
        return _render_document(
            request,
            session,
            service.get_case(session, ref),
            key,
            errors=form_errors(exc),
            status_code=status,
        )
    notify.dispatch(deliveries)
    return RedirectResponse(f"/cases/{case.reference}/documents/{key}", status_code=303)


@router.get("/cases/{ref}/documents/{key}/print")
def print_document(
    request: Request, ref: str, key: str, session: DbSession, who: AnyUser
) -> Response:
    """A printable page of the document as filed or to be filed."""
    settings, tz = _settings(request), reader_zone(request)
    case = service.get_case(session, ref)
    document = service.get_document(case, key)
    exported = service.export_document(session, case, document, settings)
    return render(
        request,
        "case_document_print.html",
        doc=exported,
        sha256=document.snapshot_sha256,
        member_states=rules.MEMBER_STATES,
        as_time=lambda text: (
            service.local_text(dt.datetime.fromisoformat(text), tz) if text else "—"
        ),
        as_utc=lambda text: service.utc_text(dt.datetime.fromisoformat(text)) if text else "—",
        **_times(tz),
    )


@router.get("/cases/{ref}/documents/{key}/export.json")
def export_document(
    ref: str, key: str, request: Request, session: DbSession, who: AnyUser
) -> Response:
    case = service.get_case(session, ref)
    document = service.get_document(case, key)
    exported = service.export_document(session, case, document, _settings(request))
    return Response(
        json.dumps(exported, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{case.reference}-{document.key}.json"',
            "Cache-Control": "no-store",
        },
    )
