"""`fleetcare eol ...`: end-of-life plans, notices and the calendar from a shell.

    fleetcare eol status                                # products by support end, devices left
    fleetcare eol plan thermostat-t1                    # show the plan and its schedule
    fleetcare eol plan thermostat-t1 --milestones 24,12,6,3,1 --upgrade-path "..." \\
        --factory-reset "Hold the button for 10 s" --successor "Thermostat T2"
    fleetcare eol notices --product thermostat-t1       # notices with delivery counts
    fleetcare eol notices --send                        # announce due milestones and send now
    fleetcare eol deliveries --status failed
    fleetcare eol import-customers customers.csv
    fleetcare eol import-devices devices.csv
    fleetcare eol upstream openssl.json --name openssl  # endoflife.date-shaped cycles
    fleetcare eol warnings                              # components ending before the product
"""

from __future__ import annotations

from pathlib import Path
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

eol_app = typer.Typer(
    help="End of life: plans, customer notices, devices still in the field.",
    no_args_is_help=True,
)
STATUS_STYLE = {"supported": "green", "ending_soon": "yellow", "ended": "bold red"}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None


@eol_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """The end-of-life calendar: products by support end, next notice, devices in the field."""
    from fleetcare.lifecycle import service

    with session_scope(write=False) as session:
        rows = service.calendar(session, settings())
    if as_json:
        print_json(rows)
        return
    table(
        "End of life",
        ["support ends", "product", "status", "next notice", "sent", "devices", "out of support"],
        [
            [
                f"{r.support_end_month_year} ({r.support_end})",
                escape(r.product) + ("" if r.has_plan else " [dim](no plan)[/dim]"),
                r.support_status,
                f"{r.next_milestone.months_before} mo · {r.next_milestone.on}"
                if r.next_milestone
                else "—",
                r.notices_sent,
                r.devices_in_field,
                r.out_of_support_devices,
            ]
            for r in rows
        ],
        styles={2: lambda s: STATUS_STYLE.get(s, "")},
    )


@eol_app.command("plan")
def plan(
    product: Annotated[str, typer.Argument(help="Product slug, name or id.")],
    milestones: Annotated[
        str | None, typer.Option(help="Months before support end, e.g. 24,12,6,3,1.")
    ] = None,
    send_hour: Annotated[int | None, typer.Option(help="Hour of sending, local time.")] = None,
    support_end: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (set on the product).")
    ] = None,
    end_of_sale: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (set on the product).")
    ] = None,
    successor: Annotated[str | None, typer.Option(help="Successor product.")] = None,
    upgrade_path: Annotated[str | None, typer.Option()] = None,
    offer: Annotated[str | None, typer.Option(help="Transition offer text.")] = None,
    factory_reset: Annotated[str | None, typer.Option()] = None,
    data_removal: Annotated[str | None, typer.Option()] = None,
    credential_revocation: Annotated[str | None, typer.Option()] = None,
    disposal: Annotated[str | None, typer.Option()] = None,
    support_type: Annotated[str | None, typer.Option(help="Annex II: type of support.")] = None,
    after_support: Annotated[str | None, typer.Option(help="Annex II: after support ends.")] = None,
    publish: Annotated[bool | None, typer.Option("--publish/--unpublish")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a product's end-of-life plan; with options, create or change it (the rest stays)."""
    from fleetcare.lifecycle import service
    from fleetcare.lifecycle.schemas import PlanIn
    from fleetcare.portfolio import service as portfolio

    changes: dict[str, Any] = {
        "send_hour": send_hour,
        "upgrade_path": upgrade_path,
        "transition_offer": offer,
        "published": publish,
        "support_end": support_end,
        "end_of_sale": end_of_sale,
        "successor": successor,
    }
    if milestones is not None:
        try:
            changes["milestones"] = [int(m) for m in milestones.split(",") if m.strip()]
        except ValueError:
            raise fail(
                f"--milestones takes whole months separated by commas, not {milestones!r}"
            ) from None
    steps = {
        "factory_reset": factory_reset,
        "data_removal": data_removal,
        "credential_revocation": credential_revocation,
        "disposal": disposal,
    }
    points = {"support_type": support_type, "after_support": after_support}
    editing = any(v is not None for v in [*changes.values(), *steps.values(), *points.values()])
    with session_scope() as session:
        if editing:
            found = portfolio.get_product(session, product)
            current = service.get_plan(session, found.id)
            base: dict[str, Any] = {}
            if current is not None:
                base = {
                    "milestones": current.milestones,
                    "send_hour": current.send_hour,
                    "upgrade_path": current.upgrade_path,
                    "transition_offer": current.transition_offer,
                    "published": current.published,
                    "decommissioning": dict(current.decommissioning),
                    "annex_ii": dict(current.annex_ii),
                }
            base.update({k: v for k, v in changes.items() if v is not None})
            base["decommissioning"] = {
                **base.get("decommissioning", {}),
                **{k: v for k, v in steps.items() if v is not None},
            }
            base["annex_ii"] = {
                **base.get("annex_ii", {}),
                **{k: v for k, v in points.items() if v is not None},
            }
            data = parse_model(PlanIn, base)
            service.save_plan(session, found.id, data, actor=cli_actor())
            session.flush()
        shown = service.plan_out(session, product, settings())
    if as_json:
        print_json(shown)
        return
    out.print(
        f"[bold]{escape(shown.product)}[/bold]: support ends [bold]{shown.support_end_month_year}"
        f"[/bold] ({shown.support_end}), {shown.support_status}; "
        f"{shown.devices_in_field} devices in the field, {shown.customers} customers"
        + (f"; successor {escape(shown.successor)}" if shown.successor else ""),
        highlight=False,
    )
    table(
        "Notice schedule",
        ["months before", "date", "due (UTC)", "status"],
        [
            [
                m.months_before,
                m.on,
                m.due_at.strftime("%Y-%m-%d %H:%M"),
                m.status + (" (late)" if m.late else ""),
            ]
            for m in shown.schedule
        ],
    )


@eol_app.command("notices")
def notices(
    product: Annotated[str | None, typer.Option(help="Only this product's notices.")] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Announce due milestones now and send in this process.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Notices sent to customers, with their deliveries by status."""
    from fleetcare.lifecycle import service

    if send:
        config = settings()
        with session_scope() as session:
            ids = service.schedule_notices(session, config)
            session.commit()
            for notice_id in dict.fromkeys(ids + service.notices_to_resume(session)):
                report = service.send_notice(session, notice_id, config)
                out.print(
                    f"notice {notice_id}: {report.sent} sent, {report.failed} failed, "
                    f"{report.skipped} skipped, {report.retrying} to retry",
                    highlight=False,
                )
    with session_scope(write=False) as session:
        rows = service.list_notices(session, product_ref=product)
    if as_json:
        print_json(rows)
        return
    table(
        "End-of-life notices",
        ["id", "started", "notice", "status", "customers", "devices", "deliveries"],
        [
            [
                n.id,
                n.started_at.strftime("%Y-%m-%d %H:%M"),
                escape(
                    f"{n.product} · {n.months_before} month{'' if n.months_before == 1 else 's'} "
                    "before"
                    if n.kind == "milestone"
                    else "ceasing operations"
                )
                + (" [yellow](late)[/yellow]" if n.late else ""),
                n.status,
                n.customers,
                n.devices,
                ", ".join(f"{c} {s}" for s, c in sorted(n.deliveries.items())) or "none",
            ]
            for n in rows
        ],
    )


@eol_app.command("deliveries")
def deliveries(
    notice: Annotated[int | None, typer.Option(help="Only this notice's deliveries.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, sent, failed, skipped")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The delivery log: each notice to each customer on each channel."""
    from fleetcare.lifecycle import service

    with session_scope(write=False) as session:
        rows = service.list_deliveries(session, notice_id=notice, status=status, limit=limit)
    if as_json:
        print_json(rows)
        return
    table(
        "Notice deliveries",
        ["id", "notice", "customer", "channel", "to", "status", "attempts", "sent", "opened"],
        [
            [
                d.id,
                d.notice_id,
                escape(d.customer or "—"),
                d.channel,
                escape(d.target),
                d.status + (f" ({escape(d.last_error)})" if d.last_error else ""),
                d.attempts,
                d.sent_at.strftime("%Y-%m-%d %H:%M") if d.sent_at else "—",
                d.opened_at.strftime("%Y-%m-%d %H:%M") if d.opened_at else "—",
            ]
            for d in rows
        ],
    )


@eol_app.command("import-customers")
def import_customers(
    path: Annotated[Path, typer.Argument(help="CSV: ref,name[,kind,language,emails,...]")],
) -> None:
    """Create or update customers from CSV; all or nothing."""
    from fleetcare.lifecycle import service

    text = _read(path)
    with session_scope() as session:
        report = service.import_customers_csv(session, text, actor=cli_actor(), settings=settings())
    out.print(f"{report.created} customers created, {report.updated} updated", highlight=False)
    for ref, secret in report.webhook_secrets.items():
        out.print(f"webhook secret of {escape(ref)} (shown once): {secret}", highlight=False)


@eol_app.command("import-devices")
def import_devices(
    path: Annotated[Path, typer.Argument(help="CSV: device,customer,product[,state]")],
) -> None:
    """Record which customer owns which device; all or nothing."""
    from fleetcare.lifecycle import service

    text = _read(path)
    with session_scope() as session:
        report = service.import_devices_csv(session, text, actor=cli_actor())
    out.print(f"{report.created} devices added, {report.updated} updated", highlight=False)


@eol_app.command("upstream")
def upstream(
    path: Annotated[Path, typer.Argument(help="endoflife.date-shaped JSON.")],
    name: Annotated[
        str | None, typer.Option(help="Upstream product, when the file is one list of cycles.")
    ] = None,
) -> None:
    """Import upstream release cycles with their end-of-life dates."""
    from fleetcare.lifecycle import service

    text = _read(path)
    with session_scope() as session:
        count = service.import_upstream(session, text, actor=cli_actor(), upstream=name)
    out.print(f"{count} cycles imported", highlight=False)


@eol_app.command("warnings")
def warnings(as_json: JsonOpt = False) -> None:
    """Components whose upstream end of life comes before their product's support end."""
    from fleetcare.lifecycle import service

    with session_scope(write=False) as session:
        rows = service.upstream_warnings(session)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print("no component ends upstream before its product's support end")
        return
    table(
        "Upstream end of life before support end",
        ["product", "component", "upstream end of life", "support ends"],
        [
            [
                escape(f"{w.product} {w.release}"),
                escape(f"{w.component} {w.version} (cycle {w.cycle})"),
                w.upstream_eol or "already ended",
                w.support_end,
            ]
            for w in rows
        ],
    )
