"""`fleetcare reports ...` and `fleetcare security-txt ...`: the disclosure inbox from a shell.

    fleetcare reports list --open               # what the team owes reporters
    fleetcare reports show VR-7K3M-Q9TX         # the report, its clocks and whole thread
    fleetcare reports status VR-7K3M-Q9TX triaging --message "We can reproduce it."
    fleetcare reports message VR-7K3M-Q9TX "Reproduced on 3.0.4" --internal
    fleetcare security-txt show | renew

Text people sent is printed as text: rich markup in a report cannot colour or hide anything.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

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

reports_app = typer.Typer(
    help="Vulnerability reports from outsiders (coordinated disclosure).", no_args_is_help=True
)
security_txt_app = typer.Typer(
    help="/.well-known/security.txt (RFC 9116), generated from the settings.", no_args_is_help=True
)

STATUS_STYLE = {
    "received": "red",
    "acknowledged": "cyan",
    "triaging": "cyan",
    "accepted": "yellow",
    "fix_in_progress": "yellow",
    "fixed": "green",
    "disclosed": "green",
    "rejected": "white",
    "duplicate": "white",
}


def _local(moment: dt.datetime | None) -> str:
    from fleetcare.disclosure import service

    return service.local_time(moment, settings()) if moment else "—"


@reports_app.command("list")
def reports_list(
    status: Annotated[str | None, typer.Option(help="Only reports in this status.")] = None,
    source: Annotated[
        str | None, typer.Option(help="researcher, customer, importer, distributor or csirt.")
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only reports not closed.")] = False,
    quarantine: Annotated[
        bool, typer.Option("--quarantine", help="The reports held back as likely spam.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List reports, newest first, with what is owed to each reporter."""
    from fleetcare.core.db import utcnow
    from fleetcare.disclosure import service
    from fleetcare.disclosure.rules import ReportSource, ReportStatus

    try:
        wanted = ReportStatus(status) if status else None
        origin = ReportSource(source) if source else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    with session_scope(write=False) as session:
        reports, _total = service.list_reports(
            session,
            status=wanted,
            source=origin,
            quarantined=quarantine,
            open_only=open_only,
            limit=10000,
        )
        now = utcnow()
        items = [service.report_out(session, r, settings(), now) for r in reports]
    if as_json:
        print_json(items)
        return
    rows = []
    for r in items:
        if not r.acknowledged_at:
            owed = f"ack by {_local(r.clocks.acknowledgement_due)}"
            owed += " OVERDUE" if r.clocks.acknowledgement_overdue else ""
        elif r.clocks.next_update_due:
            owed = f"update by {_local(r.clocks.next_update_due)}"
            owed += " OVERDUE" if r.clocks.update_overdue else ""
        else:
            owed = ""
        rows.append(
            [
                r.tracking_id,
                r.status.value,
                r.source.value,
                escape(r.product),
                escape(r.title[:60]),
                f"{r.received_at:%Y-%m-%d}",
                owed,
            ]
        )
    table(
        "Vulnerability reports",
        ["report", "status", "from", "product", "summary", "received", "owed to reporter"],
        rows,
        styles={1: lambda s: STATUS_STYLE.get(s, "white")},
    )


@reports_app.command("show")
def reports_show(tracking_id: str, as_json: JsonOpt = False) -> None:
    """Show a report with its clocks and the whole thread (internal notes marked)."""
    from fleetcare.core.db import utcnow
    from fleetcare.disclosure import service

    with session_scope(write=False) as session:
        detail = service.report_detail(
            session, service.get_report(session, tracking_id), settings(), utcnow()
        )
    if as_json:
        print_json(detail)
        return
    out.print(f"[bold]{detail.tracking_id}[/bold]  {escape(detail.title)}")
    out.print(
        f"status [{STATUS_STYLE.get(detail.status.value, 'white')}]{detail.status.value}[/]"
        f"; from a {detail.source.value} via {detail.received_via}; received "
        f"{_local(detail.received_at)}"
    )
    if detail.quarantined:
        out.print(f"[red]quarantined[/red]: {escape(detail.quarantine_reason)}")
    out.print(f"product: {escape(detail.product or '—')} {escape(detail.affected_version)}")
    clocks = detail.clocks
    out.print(
        f"acknowledge by {_local(clocks.acknowledgement_due)}"
        + (f" (done {_local(detail.acknowledged_at)})" if detail.acknowledged_at else "")
        + (f"; next update by {_local(clocks.next_update_due)}" if clocks.next_update_due else "")
        + f"; disclosure {detail.embargo_until or clocks.disclosure_target}"
    )
    out.print("\n[bold]Description[/bold]")
    out.print(escape(detail.description), highlight=False)
    for message in detail.messages:
        who = {"reporter": "reporter", "system": "automatic"}.get(
            message.author_kind, message.author
        )
        mark = "[yellow]INTERNAL[/yellow] " if message.internal else ""
        out.print(f"\n{mark}[dim]{escape(who)} · {_local(message.created_at)}[/dim]")
        out.print(escape(message.body), highlight=False)


@reports_app.command("status")
def reports_status(
    tracking_id: str,
    status: Annotated[str, typer.Argument(help="The new status, e.g. triaging or fixed.")],
    embargo: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Agreed disclosure date.")
    ] = None,
    duplicate_of: Annotated[str, typer.Option(help="For duplicate: the original.")] = "",
    message: Annotated[str, typer.Option(help="A message to the reporter.")] = "",
) -> None:
    """Move a report along the workflow (the reporter sees the change)."""
    from fleetcare.core import notify
    from fleetcare.disclosure import service
    from fleetcare.disclosure.schemas import StatusChange

    change = parse_model(
        StatusChange,
        {
            "status": status,
            "embargo_until": embargo.date() if embargo else None,
            "duplicate_of": duplicate_of,
            "message": message,
        },
    )
    with session_scope() as session:
        report = service.get_report(session, tracking_id)
        deliveries = service.change_status(
            session, report, change, actor=cli_actor(), settings=settings()
        )
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    out.print(f"report {tracking_id.upper()} is now {change.status.value}")


@reports_app.command("message")
def reports_message(
    tracking_id: str,
    text: Annotated[str, typer.Argument(help="The message.")],
    internal: Annotated[
        bool, typer.Option("--internal", help="A note for the team; the reporter never sees it.")
    ] = False,
) -> None:
    """Write to the reporter, or leave an internal note."""
    from fleetcare.core import notify
    from fleetcare.disclosure import service

    body = text.strip()
    if not body or len(body) > 20000:
        raise fail("write a message of 1 to 20,000 characters")
    with session_scope() as session:
        report = service.get_report(session, tracking_id)
        _message, deliveries = service.add_message(
            session, report, body, internal=internal, actor=cli_actor(), settings=settings()
        )
        session.commit()
        ids = [d.id for d in deliveries]
    notify.dispatch(ids)
    out.print("internal note added" if internal else "message sent to the reporter")


def _security_txt(renew: bool) -> dict[str, Any]:
    from fleetcare.disclosure import service

    with session_scope() as session:
        if renew:
            service.renew_security_txt(session, settings(), actor=cli_actor())
        text, review = service.security_txt(session, settings())
        return {
            "text": text,
            "reviewed_at": review.reviewed_at,
            "reviewed_by": review.reviewed_by,
            "expires_at": review.expires_at,
        }


@security_txt_app.command("show")
def security_txt_show(as_json: JsonOpt = False) -> None:
    """Print security.txt as served, and when it expires."""
    shown = _security_txt(renew=False)
    if as_json:
        print_json(shown)
        return
    out.print(escape(shown["text"]), end="", highlight=False)
    out.print(
        f"[dim]reviewed {_local(shown['reviewed_at'])} by {escape(shown['reviewed_by'])}; "
        f"expires {_local(shown['expires_at'])}[/dim]"
    )


@security_txt_app.command("renew")
def security_txt_renew(as_json: JsonOpt = False) -> None:
    """Confirm security.txt is right; its Expires moves forward."""
    shown = _security_txt(renew=True)
    if as_json:
        print_json(shown)
        return
    out.print(f"security.txt renewed; it now expires {_local(shown['expires_at'])}")
