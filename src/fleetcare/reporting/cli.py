"""`fleetcare cases ...`: Article 14 cases and their deadlines from a shell.

    fleetcare cases deadlines                     # everything due, overdue first
    fleetcare cases propose                       # KEV/EUVD hits on released products, now
    fleetcare cases open --kind severe_incident --title "..." --aware-at 2026-11-28T09:40+01:00 \\
        --evidence "SOC ticket 4711" --product "Gateway GX-500" --versions 23.05.5-gx3
    fleetcare cases confirm A14-2026-0002 --aware-at ... --evidence "exploit seen in honeypot"
    fleetcare cases show A14-2026-0001 --tz Europe/Paris
    fleetcare cases submit A14-2026-0001 early_warning --reference ENISA-SRP-123
    fleetcare cases export A14-2026-0001 notification > notification.json

Times given without a zone are read in the manufacturer's zone (FLEETCARE_TIMEZONE); times are
printed in UTC and in the zone asked for with --tz (default: the manufacturer's).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from fleetcare.clitools import (
    JsonOpt,
    cli_actor,
    fail,
    out,
    parse_model,
    print_json,
    session_scope,
    settings,
    table,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from fleetcare.reporting.models import Case

cases_app = typer.Typer(
    help="Article 14 cases: actively exploited vulnerabilities and severe incidents.",
    no_args_is_help=True,
)
TzOpt = Annotated[
    str | None, typer.Option("--tz", help="Show times in this zone, e.g. Europe/Paris.")
]
URGENCY_STYLE = {
    "overdue": "bold white on red",
    "critical": "bold red",
    "soon": "yellow",
    "upcoming": "cyan",
    "waiting": "dim",
    "done": "green",
}


def _moment(value: str, what: str) -> dt.datetime:
    """An ISO 8601 time; without an offset it is read in the manufacturer's zone."""
    from zoneinfo import ZoneInfo

    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise fail(f"{what}: {value!r} is not a time such as 2026-11-28T09:40+01:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings().timezone))
    return moment


def _zone(name: str | None) -> ZoneInfo:
    from fleetcare.core.errors import FleetcareError
    from fleetcare.reporting import service

    try:
        return service.parse_zone(name, settings())
    except FleetcareError as exc:
        raise fail(exc.message) from None


@cases_app.command("list")
def cases_list(
    status: Annotated[
        list[str] | None, typer.Option(help="proposed, open, closed or dismissed (repeatable).")
    ] = None,
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List cases with their next deadline."""
    from fleetcare.core.db import utcnow
    from fleetcare.reporting import service
    from fleetcare.reporting.schemas import CaseStatus

    try:
        wanted = [CaseStatus(s) for s in status or []]
    except ValueError as exc:
        raise fail(str(exc)) from None
    zone = _zone(tz)
    with session_scope(write=False) as session:
        now = utcnow()
        items = [
            service.case_out(session, c, settings(), now, zone)
            for c in service.list_cases(session, wanted or None)
        ]
    if as_json:
        print_json(items)
        return
    rows = []
    for c in items:
        nxt = c.next_deadline
        rows.append(
            [
                c.reference,
                c.status.value,
                c.kind.value.replace("_", " "),
                escape(c.title[:50]),
                f"{nxt.document} {nxt.due_local}" if nxt else "",
                nxt.urgency.value if nxt else "",
            ]
        )
    table(
        "Article 14 cases",
        ["case", "status", "kind", "title", "next deadline", "urgency"],
        rows,
        styles={5: lambda u: URGENCY_STYLE.get(u, "white")},
    )


@cases_app.command("deadlines")
def cases_deadlines(tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Everything due (Art. 14 reports and promises to reporters), overdue first."""
    from fleetcare.core.db import utcnow
    from fleetcare.reporting import service

    zone = _zone(tz)
    with session_scope(write=False) as session:
        items = service.board(session, settings(), utcnow(), zone)
    if as_json:
        print_json(items)
        return
    table(
        f"Deadlines (times in {zone.key} and UTC)",
        ["urgency", "left", "what", "for", f"due ({zone.key})", "due (UTC)"],
        [
            [
                i.urgency.value,
                i.left,
                i.what,
                f"{i.reference} {escape(i.title[:40])}",
                i.due_local or "",
                f"{i.due:%Y-%m-%d %H:%M}" if i.due else "",
            ]
            for i in items
        ],
        styles={0: lambda u: URGENCY_STYLE.get(u, "white")},
    )


@cases_app.command("open")
def cases_open(
    kind: Annotated[str, typer.Option(help="exploited_vulnerability or severe_incident")],
    title: Annotated[str, typer.Option(help="What it is, in one line.")],
    aware_at: Annotated[
        str, typer.Option("--aware-at", help="When the manufacturer became aware.")
    ],
    evidence: Annotated[str, typer.Option(help="What made the manufacturer aware.")],
    product: Annotated[str | None, typer.Option(help="Product concerned (name or slug).")] = None,
    versions: Annotated[str, typer.Option(help="Affected versions, comma-separated.")] = "",
    cve: Annotated[list[str] | None, typer.Option(help="Vulnerability id (repeatable).")] = None,
    report: Annotated[str, typer.Option(help="Tracking id of the report it comes from.")] = "",
    summary: str = "",
    as_json: JsonOpt = False,
) -> None:
    """Open a case by hand; its clocks start at --aware-at."""
    from fleetcare.core import notify
    from fleetcare.reporting import service
    from fleetcare.reporting.schemas import CaseIn

    data = parse_model(
        CaseIn,
        {
            "kind": kind,
            "title": title,
            "summary": summary,
            "aware_at": _moment(aware_at, "--aware-at"),
            "awareness_evidence": evidence,
            "products": [
                {"product": product, "versions": [v.strip() for v in versions.split(",") if v]}
            ]
            if product
            else [],
            "vulnerability_ids": cve or [],
            "report": report,
        },
    )
    with session_scope() as session:
        case, deliveries = service.open_case(session, data, actor=cli_actor(), settings=settings())
        session.commit()
        ids = [d.id for d in deliveries]
        _print_case(session, case, None, as_json)
    notify.dispatch(ids)


def _print_case(session: Session, case: Case, tz: str | None, as_json: bool) -> None:
    from fleetcare.core.db import utcnow
    from fleetcare.reporting import service

    zone = _zone(tz)
    detail = service.case_detail(session, case, settings(), utcnow(), zone)
    if as_json:
        print_json(detail)
        return
    out.print(f"[bold]{detail.reference}[/bold]  {escape(detail.title)}  ({detail.status.value})")
    out.print(
        f"{detail.kind.value.replace('_', ' ')}; coordinating CSIRT: "
        f"{escape(detail.coordinating_csirt or 'not determined')}"
    )
    if detail.aware_at:
        out.print(
            f"aware at {service.utc_text(detail.aware_at)} "
            f"({service.local_text(detail.aware_at, zone)}): {escape(detail.awareness_evidence)}"
        )
    rows = []
    for d in detail.deadlines:
        rows.append(
            [
                d.document,
                f"{d.due:%Y-%m-%d %H:%M} UTC" if d.due else d.waiting_for,
                d.due_local or "",
                f"submitted {d.submitted_at:%Y-%m-%d %H:%M} UTC"
                if d.submitted_at
                else d.urgency.value + (" (provisional)" if d.provisional else ""),
            ]
        )
    if rows:
        table(
            "Deadlines",
            ["report", "due (UTC)", f"due ({zone.key})", "state"],
            rows,
            styles={3: lambda s: URGENCY_STYLE.get(str(s).split()[0], "white")},
        )
    for document in detail.documents:
        state = (
            f"submitted, reference {escape(document.submitted_reference)}"
            if document.status == "submitted"
            else f"draft, {len(document.problems)} problem(s)"
        )
        out.print(f"  {document.key}: {state}")


@cases_app.command("show")
def cases_show(ref: str, tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Show a case: facts, deadlines in UTC and your zone, documents."""
    from fleetcare.reporting import service

    with session_scope(write=False) as session:
        _print_case(session, service.get_case(session, ref), tz, as_json)


@cases_app.command("propose")
def cases_propose(as_json: JsonOpt = False) -> None:
    """Propose cases for known-exploited vulnerabilities hitting released products now."""
    from fleetcare.core import notify
    from fleetcare.reporting import service

    with session_scope() as session:
        cases, deliveries = service.propose_cases(session, settings=settings())
        session.commit()
        found = [{"reference": c.reference, "title": c.title} for c in cases]
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    if as_json:
        print_json(found)
    elif not found:
        out.print("no new proposals")
    else:
        for item in found:
            out.print(f"proposed {item['reference']}: {escape(item['title'])}")


@cases_app.command("confirm")
def cases_confirm(
    ref: str,
    aware_at: Annotated[
        str, typer.Option("--aware-at", help="When the manufacturer became aware.")
    ],
    evidence: Annotated[str, typer.Option(help="The evidence of exploitation.")],
) -> None:
    """Confirm a proposed case: record awareness and start its clocks."""
    from fleetcare.core import notify
    from fleetcare.reporting import service
    from fleetcare.reporting.schemas import ConfirmIn

    data = parse_model(
        ConfirmIn,
        {"aware_at": _moment(aware_at, "--aware-at"), "awareness_evidence": evidence},
    )
    with session_scope() as session:
        case = service.get_case(session, ref)
        deliveries = service.confirm_case(
            session, case, data, actor=cli_actor(), settings=settings()
        )
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    out.print(f"case {ref.upper()} confirmed; its clocks run from {data.aware_at.isoformat()}")


@cases_app.command("submit")
def cases_submit(
    ref: str,
    document: Annotated[
        str, typer.Argument(help="early_warning, notification, final or intermediate-N")
    ],
    reference: Annotated[str, typer.Option(help="The reference the ENISA platform gave.")],
    at: Annotated[str | None, typer.Option(help="When it was filed (default now).")] = None,
) -> None:
    """Record that a document was filed; refused while it is incomplete; then it is frozen."""
    from fleetcare.core import notify
    from fleetcare.reporting import service
    from fleetcare.reporting.schemas import SubmitIn

    data = parse_model(
        SubmitIn, {"reference": reference, "submitted_at": _moment(at, "--at") if at else None}
    )
    with session_scope() as session:
        case = service.get_case(session, ref)
        found = service.get_document(case, document)
        problems = service.submission_problems(case, found)
        if problems and found.status != "submitted":
            raise fail(f"the {found.key} is not complete: " + "; ".join(problems))
        saved, deliveries = service.submit_document(
            session, case, document, data, actor=cli_actor(), settings=settings()
        )
        session.commit()
        ids = [d.id for d in deliveries]
        sha = saved.snapshot_sha256
    notify.dispatch(ids)
    out.print(
        f"{document} of {ref.upper()} recorded as submitted (reference {escape(reference)}); "
        f"frozen, SHA-256 {sha}"
    )


@cases_app.command("export")
def cases_export(
    ref: str,
    document: Annotated[
        str, typer.Argument(help="early_warning, notification, final or intermediate-N")
    ],
) -> None:
    """Print the document as JSON for filing (as filed, once submitted)."""
    from fleetcare.reporting import service

    with session_scope(write=False) as session:
        case = service.get_case(session, ref)
        exported = service.export_document(
            session, case, service.get_document(case, document), settings()
        )
    sys.stdout.write(json.dumps(exported, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
