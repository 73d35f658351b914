"""How every dashboard and public page is rendered: one Jinja2 environment, one set of headers.

    return render(request, "release.html", release=release, findings=findings)

`render` adds the logged-in user and the session's CSRF token to the template context and sends
the strict Content-Security-Policy below with every page. The words pages use for statuses,
categories and severities are template globals here, so that each idea reads the same on every
page; small formatting filters (`percent`, `when`, `ago`) keep numbers and times consistent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fleetcare.core import notify
from fleetcare.core.errors import FleetcareError
from fleetcare.portfolio import rules, service
from fleetcare.portfolio.rules import JUSTIFICATION_FACTORS
from fleetcare.portfolio.schemas import CraCategory, ReleaseKind
from fleetcare.web.finding_filters import EPSS_CHOICES, SEVERITY_CHOICES

HERE = Path(__file__).parent

#: Pages load nothing from elsewhere and run no script; the timeline is SVG with attributes,
#: so even inline styles can be refused. Framing is refused against clickjacking.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: Severities from the most to the least serious, as the findings tables and filters name them.
SEVERITY_LABELS = {
    "critical": "Critical",
    "high": "High",
    "medium": "Medium",
    "low": "Low",
    "none": "None",
    "unknown": "Unknown",
}

#: The vulnerability feeds as people know them.
SOURCE_LABELS = {
    "osv": "OSV",
    "nvd": "NVD",
    "cve": "CVE Program",
    "euvd": "ENISA EUVD",
    "kev": "CISA KEV",
    "epss": "FIRST EPSS",
}


def party(label: str) -> tuple[str, str]:
    """An SBOM party label split into name and contact: `Acme (https://acme.example)`."""
    name, sep, contact = label.rpartition(" (")
    if sep and name and contact.endswith(")"):
        return name, contact[:-1]
    return label, ""


def counted(count: int, noun: str) -> str:
    """`1 component`, `3 components`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def percent(value: float | None) -> str:
    """An EPSS probability (0-1) as a percentage with the precision that matters at its size."""
    if value is None:
        return "—"
    share = value * 100
    if share >= 10:
        return f"{share:.0f} %"
    if share >= 1:
        return f"{share:.1f} %"
    return f"{share:.2f} %"


def when(value: dt.datetime | dt.date | None) -> str:
    """A timestamp in UTC to the minute (dates as they are), or a dash."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def timestamp(text: str) -> str:
    """An ISO 8601 timestamp as `when` shows it, or the text unchanged if it is not one."""
    try:
        return when(dt.datetime.fromisoformat(text))
    except ValueError:
        return text


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago `value` was, in the largest unit that fits ("3 hours ago")."""
    if value is None:
        return "never"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    seconds = int(((now or dt.datetime.now(dt.UTC)) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"  # pragma: no cover - the loop always returns


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["month_year"] = rules.month_year
templates.env.globals["slugify"] = service.slugify
templates.env.globals["factors"] = JUSTIFICATION_FACTORS
templates.env.globals["categories"] = [c.value for c in CraCategory]
templates.env.globals["kinds"] = [k.value for k in ReleaseKind]
#: How pages name the CRA categories (Annex III lists "important" products in two classes).
templates.env.globals["category_labels"] = {
    CraCategory.DEFAULT.value: "Default",
    CraCategory.IMPORTANT_CLASS_I.value: "Important, class I",
    CraCategory.IMPORTANT_CLASS_II.value: "Important, class II",
    CraCategory.CRITICAL.value: "Critical",
}
#: The same words for a support status on every page, public or not.
templates.env.globals["status_labels"] = {
    "supported": "supported",
    "ending_soon": "ends within 12 months",
    "ended": "support ended",
}
templates.env.globals["severity_labels"] = SEVERITY_LABELS
templates.env.globals["source_labels"] = SOURCE_LABELS
templates.env.globals["match_labels"] = {"cpe": "CPE", "purl": "purl"}
templates.env.globals["severity_choices"] = SEVERITY_CHOICES
templates.env.globals["epss_choices"] = EPSS_CHOICES
templates.env.filters["percent"] = percent
templates.env.filters["counted"] = counted
templates.env.filters["party"] = party
templates.env.filters["when"] = when
templates.env.filters["ago"] = ago
templates.env.filters["timestamp"] = timestamp


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", getattr(request.state, "principal", None))
    context.setdefault("csrf_token", getattr(request.state, "csrf_token", ""))
    context.setdefault("status_code", status_code)
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    if context["user"] is not None or name == "login.html":
        # Pages with a user's data or a form token must not stay in shared or back-button caches.
        response.headers["Cache-Control"] = "no-store"
    return response


def form_errors(
    exc: ValidationError | FleetcareError, labels: Mapping[str, str] | None = None
) -> list[str]:
    """What a page shows when a form could not be saved. Invalid input: one line per field,
    named by its label in `labels` or else by its path. A refusal: the service's message and
    the further problems it lists, at most 20."""
    if isinstance(exc, FleetcareError):
        detail = exc.detail
        if isinstance(detail, dict) and isinstance(detail.get("problems"), list):
            # The message already says the first problem.
            return [exc.message, *(str(p) for p in detail["problems"][1:20])]
        if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
            return [" ".join(str(v) for v in item.values() if v) for item in detail[:20]]
        return [exc.message]
    lines = []
    for error in exc.errors():
        path = [str(part) for part in error["loc"]]
        name = (labels or {}).get(path[-1] if path else "") or (
            ".".join(path).replace("_", " ") or "Form"
        )
        lines.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return lines


def error_status(exc: ValidationError | FleetcareError) -> int:
    return exc.status_code if isinstance(exc, FleetcareError) else 422


def run_form(
    session: Session,
    action: Callable[[], Iterable[Any] | None],
    labels: Mapping[str, str] | None = None,
) -> tuple[list[str], int] | None:
    """Run a form's action and commit, then send the notifications it returns. On invalid
    input or a refusal, undo everything and return the messages and status to show."""
    try:
        deliveries = list(action() or [])
        session.commit()
    except (ValidationError, FleetcareError) as exc:
        return refused(session, exc, labels)
    notify.dispatch(deliveries)
    return None


def refused(
    session: Session, exc: ValidationError | FleetcareError, labels: Mapping[str, str] | None = None
) -> tuple[list[str], int]:
    """Undo what a form changed before `exc`; the messages and status to show."""
    session.rollback()
    return form_errors(exc, labels), error_status(exc)
