"""`fleetcare webhooks ...` and `fleetcare deliveries`: where notifications go, and what became
of them.

    fleetcare webhooks add chatops https://hooks.example.com/fleetcare --event "case.*"
    fleetcare webhooks list
    fleetcare webhooks remove 3
    fleetcare deliveries --status failed
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from fleetcare.clitools import JsonOpt, cli_actor, out, print_json, session_scope, settings, table

webhooks_app = typer.Typer(
    help="Webhook receivers of signed notifications (deadline alerts, reports, notices).",
    no_args_is_help=True,
)


@webhooks_app.command("add")
def webhooks_add(
    name: str,
    url: str,
    event: Annotated[
        list[str] | None,
        typer.Option(help='Event to send (repeatable): "case.deadline", "case.*", "*" (default).'),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a receiver and print its signing secret once."""
    from fleetcare.core import notify

    with session_scope() as session:
        endpoint, secret = notify.create_webhook(
            session,
            name=name,
            url=url,
            events=event or ["*"],
            actor=cli_actor(),
            settings=settings(),
        )
        info: dict[str, Any] = {
            "id": endpoint.id,
            "name": endpoint.name,
            "url": endpoint.url,
            "events": endpoint.events,
            "secret": secret,
        }
    if as_json:
        print_json(info)
        return
    out.print(f"webhook {info['id']} added for {escape(url)}; events: {', '.join(info['events'])}")
    out.print(f"signing secret (shown once): {secret}", highlight=False)


@webhooks_app.command("list")
def webhooks_list(as_json: JsonOpt = False) -> None:
    """List receivers (never their secrets)."""
    from fleetcare.core import notify

    with session_scope(write=False) as session:
        rows: list[dict[str, Any]] = [
            {"id": w.id, "name": w.name, "url": w.url, "events": w.events, "active": w.active}
            for w in notify.list_webhooks(session)
        ]
    if as_json:
        print_json(rows)
        return
    table(
        "Webhooks",
        ["id", "name", "url", "events", "active"],
        [
            [r["id"], escape(r["name"]), escape(r["url"]), ", ".join(r["events"]), r["active"]]
            for r in rows
        ],
    )


@webhooks_app.command("remove")
def webhooks_remove(webhook_id: int) -> None:
    """Remove a receiver; calls not yet made to it are skipped."""
    from fleetcare.core import notify

    with session_scope() as session:
        notify.remove_webhook(session, webhook_id, actor=cli_actor())
    out.print(f"webhook {webhook_id} removed")


def deliveries(
    status: Annotated[
        str | None, typer.Option(help="pending, sending, sent, failed or skipped.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Emails and webhook calls, newest first, with attempts and the last error."""
    from fleetcare.core import notify

    with session_scope(write=False) as session:
        rows: list[dict[str, Any]] = [
            {
                "id": d.id,
                "channel": d.channel,
                "target": d.target,
                "event": d.event,
                "status": d.status,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "created_at": d.created_at,
                "sent_at": d.sent_at,
            }
            for d in notify.list_deliveries(session, status=status, limit=limit)
        ]
    if as_json:
        print_json(rows)
        return
    table(
        "Deliveries",
        ["id", "channel", "to", "event", "status", "attempts", "last error"],
        [
            [
                r["id"],
                r["channel"],
                escape(r["target"]),
                r["event"],
                r["status"],
                r["attempts"],
                escape(r["last_error"][:60]),
            ]
            for r in rows
        ],
        styles={
            4: lambda s: {"sent": "green", "failed": "red", "pending": "yellow"}.get(s, "white")
        },
    )
