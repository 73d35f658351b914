"""Dashboard pages and public pages, server-rendered with Jinja2.

Pages call the same services as the API; forms post back to the page they came from and show
the same error messages the API gives. Public pages (`/support`) need no login and are
rate-limited like the public API.

This module has the login, the portfolio and product pages and the public support page, and
`install_web` mounts every page router: `release_pages` (releases, SBOM upload, export and
quality), `finding_pages` (findings, vulnerabilities) and `feed_pages` (vulnerability feeds).
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fleetcare.core import auth as core_auth
from fleetcare.core.errors import FleetcareError, InvalidInput
from fleetcare.core.http import DbSession, public
from fleetcare.lifecycle import service as lifecycle
from fleetcare.matching import service as matching
from fleetcare.portfolio import service
from fleetcare.portfolio.rules import JUSTIFICATION_FACTORS
from fleetcare.portfolio.schemas import (
    ProductIn,
    ProductOut,
    ProductPatch,
    ReleaseIn,
    ReleaseStatus,
)
from fleetcare.sbom import service as sbom_service
from fleetcare.web import feed_pages, finding_pages, release_pages
from fleetcare.web.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AnyUser,
    LoginRequired,
    ProductManager,
    ReleaseManager,
    check_csrf,
    check_login_csrf,
    new_login_csrf,
)
from fleetcare.web.rendering import HERE, refused, render
from fleetcare.web.timeline import support_left, support_timeline

router = APIRouter(include_in_schema=False)
HOME = "/portfolio"


def _safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the portfolio.

    An open redirect after login would help phishing. Browsers read a backslash as a slash and
    drop tabs and newlines, so `/\\evil.example` and `/<tab>/evil.example` lead off-site too.
    """
    if (
        not target
        or len(target) > 2000
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target)
    ):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return target


#: Form fields as their labels name them, so that messages speak the language of the form.
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "model_id": "Model / type identifier",
    "description": "Description",
    "intended_purpose": "Intended purpose",
    "cra_category": "CRA category",
    "placed_on_market": "Placed on the market",
    "support_end": "Support end",
    "end_of_sale": "End of sale",
    "successor": "Successor product",
    "expected_use_months": "Expected use time (months)",
    "version": "Version",
    "release_date": "Date",
    "kind": "Kind",
    "notes": "Notes",
    **{key: f"Justification: {label}" for key, label in JUSTIFICATION_FACTORS.items()},
}
_WORDS = {**FIELD_LABELS, **JUSTIFICATION_FACTORS}
_IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


def _in_words(message: str) -> str:
    """`message` with field identifiers (`expected_use_months`) replaced by their labels."""
    return _IDENTIFIER.sub(lambda m: f"“{_WORDS[m[0]]}”" if m[0] in _WORDS else m[0], message)


# --- login ---------------------------------------------------------------------------------


@router.get("/", dependencies=[Depends(public("pages"))])
def home(request: Request) -> Response:
    return RedirectResponse("/portfolio", status_code=303)


@router.get("/login", dependencies=[Depends(public("login"))])
def login_form(request: Request, next: str | None = None) -> Response:
    form_value, cookie_value = new_login_csrf(request)
    response = render(
        request, "login.html", next=_safe_next(next), login_csrf=form_value, error=None
    )
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, cookie_value, 3600)
    return response


@router.post("/login", dependencies=[Depends(public("login", 20))])
async def login(request: Request, session: DbSession) -> Response:
    form = await request.form()
    check_login_csrf(request, str(form.get("login_csrf", "")))
    target = _safe_next(str(form.get("next", "")))
    try:
        user = core_auth.authenticate(
            session, str(form.get("email", ""))[:254], str(form.get("password", ""))[:1024]
        )
    except FleetcareError as exc:
        form_value, cookie_value = new_login_csrf(request)
        response = render(
            request,
            "login.html",
            status_code=401,
            next=target,
            login_csrf=form_value,
            error=exc.message,
            email=form.get("email", ""),
        )
        _set_cookie(request, response, LOGIN_CSRF_COOKIE, cookie_value, 3600)
        return response
    settings = request.app.state.settings
    _web, clear = core_auth.start_web_session(session, user, settings.session_hours)
    session.commit()
    redirect = RedirectResponse(target, status_code=303)
    _set_cookie(request, redirect, SESSION_COOKIE, clear, settings.session_hours * 3600)
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return redirect


@router.post("/logout")
async def logout(request: Request, session: DbSession, who: AnyUser) -> Response:
    await check_csrf(request)
    core_auth.end_web_session(session, request.cookies.get(SESSION_COOKIE, ""))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.app.state.settings.secure_cookies,
    )


# --- portfolio -----------------------------------------------------------------------------


@router.get("/portfolio")
def portfolio(request: Request, session: DbSession, who: AnyUser, q: str | None = None) -> Response:
    products, total = service.list_products(session, limit=1000, search=(q or "")[:200] or None)
    today = service.today()
    items = [service.product_out(p, today) for p in products]
    counts = {
        s: sum(1 for p in items if p.support_status == s)
        for s in ("supported", "ending_soon", "ended")
    }
    candidates = matching.exploited_candidates(session)
    security = {
        "open": matching.list_findings(session, matching.FindingFilter(), limit=1)[1],
        "critical": matching.list_findings(
            session, matching.FindingFilter(severity="critical"), limit=1
        )[1],
        "candidates": len(candidates),
    }
    return render(
        request,
        "portfolio.html",
        products=items,
        total=total,
        q=q or "",
        counts=counts,
        security=security,
        candidate_products={c.product_id for c in candidates},
    )


_PRODUCT_FIELDS = (
    "name",
    "model_id",
    "description",
    "intended_purpose",
    "cra_category",
    "placed_on_market",
    "support_end",
    "end_of_sale",
    "successor",
    "expected_use_months",
)


def _product_form_data(form: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {k: (str(form.get(k, "")).strip() or None) for k in _PRODUCT_FIELDS}
    data["support_justification"] = {
        k: str(form.get(f"justification_{k}", "")).strip() for k in JUSTIFICATION_FACTORS
    }
    return {k: v for k, v in data.items() if v is not None}


def _form_from_product(product: ProductOut) -> dict[str, str]:
    """The edit form's fields, filled in from the stored product."""
    form = {
        "name": product.name,
        "model_id": product.model_id,
        "description": product.description,
        "intended_purpose": product.intended_purpose,
        "cra_category": product.cra_category.value,
        "placed_on_market": product.placed_on_market.isoformat(),
        "support_end": product.support_end.isoformat(),
        "end_of_sale": product.end_of_sale.isoformat() if product.end_of_sale else "",
        "successor": product.successor or "",
        "expected_use_months": str(product.expected_use_months or ""),
    }
    for key in JUSTIFICATION_FACTORS:
        form[f"justification_{key}"] = product.support_justification.get(key, "")
    return form


def _render_product_form(
    request: Request,
    session: Session,
    *,
    form: dict[str, Any],
    editing: ProductOut | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    products, _ = service.list_products(session, limit=1000)
    successors = [p.name for p in products if editing is None or p.id != editing.id]
    # The six justification boxes stay folded away unless they matter for this product.
    justification_open = bool(
        errors
        or form.get("expected_use_months")
        or any(form.get(f"justification_{k}") for k in JUSTIFICATION_FACTORS)
    )
    return render(
        request,
        "product_form.html",
        status_code=status_code,
        form=form,
        errors=errors or [],
        successors=successors,
        editing=editing,
        justification_open=justification_open,
    )


def _save_errors(session: Session, exc: ValidationError | FleetcareError) -> tuple[list[str], int]:
    """Messages and status for a form that could not be saved; undoes any change."""
    messages, status = refused(session, exc, FIELD_LABELS)
    return [_in_words(message) for message in messages], status


@router.get("/portfolio/new")
def new_product_form(request: Request, session: DbSession, who: ProductManager) -> Response:
    return _render_product_form(request, session, form={"cra_category": "default"})


@router.post("/portfolio/new")
async def create_product(request: Request, session: DbSession, who: ProductManager) -> Response:
    form = await check_csrf(request)
    try:
        data = ProductIn.model_validate(_product_form_data(form))
        product = service.create_product(session, data, actor=who)
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        errors, status = _save_errors(session, exc)
        return _render_product_form(request, session, form=form, errors=errors, status_code=status)
    return RedirectResponse(f"/portfolio/{product.slug}", status_code=303)


@router.get("/portfolio/{slug}/edit")
def edit_product_form(
    request: Request, slug: str, session: DbSession, who: ProductManager
) -> Response:
    product = service.product_out(service.get_product(session, slug))
    return _render_product_form(request, session, form=_form_from_product(product), editing=product)


@router.post("/portfolio/{slug}/edit")
async def update_product(
    request: Request, slug: str, session: DbSession, who: ProductManager
) -> Response:
    form = await check_csrf(request)
    product = service.get_product(session, slug)
    try:
        # The edit form is the whole product, so it is checked like a new one; every field is
        # then sent, which clears the optional ones left empty (end of sale, successor, ...).
        data = ProductIn.model_validate(_product_form_data(form))
        patch = ProductPatch.model_validate(data.model_dump())
        product = service.update_product(session, product.id, patch, actor=who)
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        errors, status = _save_errors(session, exc)
        editing = service.product_out(service.get_product(session, slug))
        return _render_product_form(
            request, session, form=form, editing=editing, errors=errors, status_code=status
        )
    return RedirectResponse(f"/portfolio/{product.slug}", status_code=303)


def _render_product(
    request: Request,
    session: Session,
    slug: str,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
    release_form: dict[str, Any] | None = None,
) -> Response:
    product = service.get_product(session, slug)
    detail = service.product_detail(product)
    today = service.today()
    findings, _ = matching.list_findings(
        session, matching.FindingFilter(product_id=product.id), limit=10_000
    )
    sbom_components = {
        r.id: sum(d.component_count for d in sbom_service.release_documents(session, r.id))
        for r in product.releases
    }
    return render(
        request,
        "product.html",
        status_code=status_code,
        product=detail,
        open_findings=Counter(f.release_id for f in findings),
        candidate_findings=Counter(f.release_id for f in findings if f.exploited_candidate),
        sbom_components=sbom_components,
        timeline=support_timeline(detail, today),
        support_left=support_left(today, detail.support_end),
        errors=errors or [],
        release_form=release_form or {},
        today=today,
    )


@router.get("/portfolio/{slug}")
def product_page(request: Request, slug: str, session: DbSession, who: AnyUser) -> Response:
    return _render_product(request, session, slug)


@router.post("/portfolio/{slug}/releases")
async def add_release(
    request: Request, slug: str, session: DbSession, who: ReleaseManager
) -> Response:
    form = await check_csrf(request)
    product = service.get_product(session, slug)
    try:
        data = ReleaseIn.model_validate(
            {
                "version": str(form.get("version", "")),
                "release_date": str(form.get("release_date", "")) or service.today(),
                "kind": str(form.get("kind", "")),
                "notes": str(form.get("notes", "")),
                "status": "released" if form.get("released") else "draft",
            }
        )
        service.create_release(session, product.id, data, actor=who)
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        errors, status = _save_errors(session, exc)
        return _render_product(
            request, session, slug, errors=errors, status_code=status, release_form=form
        )
    return RedirectResponse(f"/portfolio/{product.slug}#releases", status_code=303)


@router.post("/portfolio/{slug}/releases/{version}/status")
async def change_release_status(
    request: Request, slug: str, version: str, session: DbSession, who: ReleaseManager
) -> Response:
    form = await check_csrf(request)
    release = service.get_release(session, slug, version)
    try:
        status = ReleaseStatus(str(form.get("status", "")))
    except ValueError:
        raise InvalidInput("status must be draft, released or withdrawn") from None
    try:
        service.set_release_status(session, release, status, actor=who)
        session.commit()
    except FleetcareError as exc:
        errors, code = _save_errors(session, exc)
        return _render_product(request, session, slug, errors=errors, status_code=code)
    return RedirectResponse(f"/portfolio/{slug}#releases", status_code=303)


# --- public --------------------------------------------------------------------------------


@router.get("/support", dependencies=[Depends(public("support"))])
def support_page(request: Request, session: DbSession) -> Response:
    products, _ = service.list_products(session, limit=10000)
    today = service.today()
    items = sorted((service.product_out(p, today) for p in products), key=lambda p: p.name.lower())
    return render(
        request,
        "support.html",
        products=items,
        eol_notices=lifecycle.published_slugs(session),
        user=None,
        today=today,
        manufacturer=request.app.state.settings.manufacturer_name,
    )


#: Every router of dashboard pages; each of their forms is checked for a CSRF token by the tests.
PAGE_ROUTERS = (router, release_pages.router, finding_pages.router, feed_pages.router)


def install_web(app: FastAPI) -> None:
    app.state.secret_key = app.state.settings.resolved_secret_key()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    json_handler = app.exception_handlers[FleetcareError]

    @app.exception_handler(FleetcareError)
    async def _error_page(request: Request, exc: FleetcareError) -> Response:
        path = request.url.path
        if path.startswith(("/api/", "/device/", "/.well-known/")) or path in (
            "/healthz",
            "/readyz",
            "/metrics",
        ):
            result = json_handler(request, exc)
            response: Response = await result if inspect.isawaitable(result) else result
            return response
        response = render(request, "error.html", status_code=exc.status_code, message=exc.message)
        if isinstance(exc.detail, dict) and "retry_after" in exc.detail:
            response.headers["Retry-After"] = str(exc.detail["retry_after"])
        return response
