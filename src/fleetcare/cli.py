"""The `fleetcare` command for operators: set up, serve, manage users and tokens, and the portfolio.

Commands talk to the database named by the settings directly (they are run on the server), act
as `cli:<login>` in the audit log, print tables for people and `--json` for machines, and exit
with code 2 and a one-line message when the input is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from fleetcare.advisories.cli import advisories_app
from fleetcare.clitools import (
    JsonOpt,
    cli_actor,
    database,
    err,
    fail,
    out,
    parse_model,
    print_json,
    session_scope,
    settings,
    table,
)
from fleetcare.core.auth import Role
from fleetcare.core.errors import FleetcareError
from fleetcare.core.notify_cli import deliveries, webhooks_app
from fleetcare.core.settings import SettingsError
from fleetcare.disclosure.cli import reports_app, security_txt_app
from fleetcare.intel.cli import feeds_app
from fleetcare.lifecycle.cli import eol_app
from fleetcare.matching import cli as matching_cli
from fleetcare.matching.cli import findings_app, vulns_app
from fleetcare.reporting.cli import cases_app
from fleetcare.sbom import commands as _sbom_commands  # noqa: F401 - adds import/export/list
from fleetcare.sbom.cli import sbom_app
from fleetcare.triage.cli import triage_app, vex_app
from fleetcare.updates import cli as updates_cli

app = typer.Typer(
    help="fleetcare: keep every product secure for its whole CRA support period.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
users_app = typer.Typer(help="Dashboard and API users.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
products_app = typer.Typer(help="Products and their CRA support periods.", no_args_is_help=True)
releases_app = typer.Typer(help="Firmware releases of a product.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(products_app, name="products")
app.add_typer(releases_app, name="releases")
app.add_typer(sbom_app, name="sbom")
app.add_typer(feeds_app, name="feeds")
app.add_typer(findings_app, name="findings")
app.add_typer(vulns_app, name="vulns")
app.add_typer(reports_app, name="reports")
app.add_typer(security_txt_app, name="security-txt")
app.add_typer(cases_app, name="cases")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(triage_app, name="triage")
app.add_typer(vex_app, name="vex")
app.add_typer(advisories_app, name="advisories")
app.add_typer(eol_app, name="eol")
app.command("deliveries")(deliveries)
app.command("scan")(matching_cli.scan)
app.command("match")(matching_cli.match)
app.add_typer(updates_cli.keys_app, name="keys")
app.add_typer(updates_cli.devices_app, name="devices")
app.add_typer(updates_cli.rollouts_app, name="rollouts")
releases_app.command("upload")(updates_cli.release_upload)
releases_app.command("sign")(updates_cli.release_sign)
app.command("device-agent")(updates_cli.device_agent)
app.command("simulate")(updates_cli.simulate)

# --- set-up and running --------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from fleetcare.core import migrations

    s = settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    s.resolved_secret_key()
    with database() as db:
        before, head = migrations.current_and_head(db.engine)
        migrations.upgrade(db.engine)
    where = db.url if not s.is_postgres else db.engine.url.render_as_string(hide_password=True)
    if before == head:
        out.print(f"database {where} is up to date (revision {head})")
    else:
        out.print(f"database {where} migrated from {before or 'empty'} to {head}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="API worker processes (jobs then need 'fleetcare worker').")
    ] = 1,
    jobs: Annotated[bool, typer.Option(help="Consume background jobs in this process.")] = True,
) -> None:
    """Serve the dashboard and the API (migrates the database first)."""
    import uvicorn

    from fleetcare import serving
    from fleetcare.core import migrations
    from fleetcare.core.observability import configure_logging

    s = settings()
    configure_logging(s.log_level, s.log_json)
    with database() as db:
        migrations.upgrade(db.engine)
    run_jobs = jobs and s.jobs_in_process and workers == 1
    os.environ["FLEETCARE_RUN_JOBS"] = "1" if run_jobs else "0"
    out.print(f"fleetcare serving on http://{host}:{port}  (dashboard /, API /api/v1/docs)")
    if not run_jobs:
        out.print("background jobs are not consumed here: run 'fleetcare worker' beside it")
    uvicorn.run(
        "fleetcare.app:create_app_from_env",
        factory=True,
        http=serving.PROTOCOL,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 2,
) -> None:
    """Consume background jobs (feed syncs, re-signing, notices) without serving HTTP."""
    import fleetcare.tasks  # noqa: F401 - registers every task
    from fleetcare.core.jobs import huey
    from fleetcare.core.observability import configure_logging

    s = settings()
    configure_logging(s.log_level, s.log_json)
    consumer = huey.instance.create_consumer(workers=threads, worker_type="thread", periodic=True)
    out.print(f"fleetcare worker consuming jobs ({s.resolved_jobs_backend} queue)")
    consumer.run()


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if products exist.")
    ] = False,
) -> None:
    """Load a realistic demo portfolio and an admin login (prints the password)."""
    from fleetcare.demo import load_demo

    with session_scope() as session:
        report = load_demo(session, actor=cli_actor(), if_empty=if_empty)
    for line in report:
        out.print(line)


# --- users ---------------------------------------------------------------------------------


def _read_password(generate: bool) -> tuple[str, bool]:
    if generate:
        return secrets.token_urlsafe(18), True
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise fail("no password on standard input (or pass --generate)")
        return password, False
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password, False


@users_app.command("add")
def users_add(
    email: str,
    role: Annotated[
        str, typer.Option(help="admin, security, release, product or viewer.")
    ] = "viewer",
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a password and print it.")
    ] = False,
) -> None:
    """Add a user. The password is read from standard input when it is not a terminal,
    prompted for otherwise, or generated with --generate."""
    from fleetcare.core import auth

    parsed = _parse_role(role)
    password, generated = _read_password(generate)
    with session_scope() as session:
        user = auth.create_user(
            session, email=email, role=parsed, password=password, actor=cli_actor()
        )
    out.print(f"user {user.email} added with role {user.role}")
    if generated:
        out.print(f"password: {password}", highlight=False)


def _parse_role(role: str) -> Role:
    from fleetcare.core import auth

    try:
        return auth.parse_role(role)
    except FleetcareError as exc:
        raise fail(exc.message) from None


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """List users."""
    from fleetcare.core import auth

    with session_scope(write=False) as session:
        users = auth.list_users(session)
        rows = [
            {
                "id": u.id,
                "email": u.email,
                "role": u.role,
                "active": u.active,
                "last_login_at": u.last_login_at,
            }
            for u in users
        ]
    if as_json:
        print_json(rows)
        return
    table(
        "Users",
        ["id", "email", "role", "active", "last login"],
        [[r["id"], r["email"], r["role"], r["active"], r["last_login_at"]] for r in rows],
    )


# --- tokens --------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="Email of the token's owner.")],
    role: Annotated[
        str | None, typer.Option(help="Role of the token (default: the user's).")
    ] = None,
    expires: Annotated[
        int, typer.Option("--expires", help="Days until it expires (0: never).")
    ] = 90,
    name: Annotated[str, typer.Option(help="A label to recognise it by.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create an API token and print it once."""
    from fleetcare.core import auth

    parsed = _parse_role(role) if role else None
    with session_scope() as session:
        owner = auth.get_user_by_email(session, user)
        token, clear = auth.create_token(
            session,
            user=owner,
            role=parsed,
            expires_days=expires or None,
            name=name,
            actor=cli_actor(),
        )
        info = {
            "id": token.id,
            "user": owner.email,
            "role": token.role,
            "expires_at": token.expires_at,
            "token": clear,
        }
    if as_json:
        print_json(info)
        return
    out.print(
        f"token {info['id']} for {info['user']} (role {info['role']}, "
        f"expires {info['expires_at'] or 'never'}):"
    )
    sys.stdout.write(clear + "\n")
    err.print("store it now: it is not shown again")


@tokens_app.command("list")
def tokens_list(as_json: JsonOpt = False) -> None:
    """List API tokens (never their values)."""
    from fleetcare.core import auth

    with session_scope(write=False) as session:
        rows = [
            {
                "id": t.id,
                "user": t.user.email,
                "name": t.name,
                "prefix": t.prefix,
                "role": t.role,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
            }
            for t in auth.list_tokens(session)
        ]
    if as_json:
        print_json(rows)
        return
    table(
        "API tokens",
        ["id", "user", "name", "prefix", "role", "expires", "revoked"],
        [list(r.values()) for r in rows],
    )


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke an API token at once."""
    from fleetcare.core import auth

    with session_scope() as session:
        auth.revoke_token(session, token_id, actor=cli_actor())
    out.print(f"token {token_id} revoked")


# --- audit ---------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Recompute the hash chain; exit 1 and name the first bad event if it was tampered with."""
    from fleetcare.core import audit

    with session_scope(write=False) as session:
        result = audit.verify(session)
    if as_json:
        print_json(result.__dict__)
    elif result.ok:
        out.print(
            f"[green]audit log intact[/green]: {result.events} events, head {result.head_hash}"
        )
    else:
        err.print(f"[red]audit log broken at event {result.first_bad_seq}[/red]: {result.problem}")
    if not result.ok:
        raise typer.Exit(code=1)


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    object_type: Annotated[str | None, typer.Option("--type")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the newest audit events."""
    from fleetcare.core import audit

    with session_scope(write=False) as session:
        events = [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "object": f"{e.object_type}:{e.object_id}",
                "summary": e.summary,
            }
            for e in audit.list_events(session, object_type=object_type, limit=limit)
        ]
    if as_json:
        print_json(events)
        return
    table(
        "Audit log (newest first)",
        ["seq", "at", "actor", "action", "object"],
        [
            [e["seq"], f"{e['at']:%Y-%m-%d %H:%M:%S}", e["actor"], e["action"], e["object"]]
            for e in events
        ],
    )


# --- portfolio -----------------------------------------------------------------------------

STATUS_STYLE = {"supported": "green", "ending_soon": "yellow", "ended": "red"}


@products_app.command("list")
def products_list(
    search: Annotated[str | None, typer.Option("--search", "-q")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List products with their support status."""
    from fleetcare.portfolio import service

    with session_scope(write=False) as session:
        items, _total = service.list_product_views(session, limit=10000, search=search)
    if as_json:
        print_json(items)
        return
    table(
        "Products",
        ["name", "model", "category", "on market", "support end", "status", "latest"],
        [
            [
                p.name,
                p.model_id,
                p.cra_category.value,
                p.placed_on_market,
                p.support_end_month_year,
                p.support_status,
                p.latest_release,
            ]
            for p in items
        ],
        styles={5: lambda status: STATUS_STYLE.get(status, "white")},
    )


@products_app.command("add")
def products_add(
    name: str,
    placed_on_market: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")],
    support_end: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")],
    model_id: Annotated[str, typer.Option(help="Model or type identifier.")] = "",
    category: Annotated[
        str, typer.Option(help="default, important_class_i, important_class_ii, critical")
    ] = "default",
    description: str = "",
    intended_purpose: str = "",
    expected_use_months: Annotated[
        int | None, typer.Option(help="Expected use time, if under 5 years.")
    ] = None,
    end_of_sale: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    successor: Annotated[str | None, typer.Option(help="Name of the successor product.")] = None,
    justification: Annotated[
        Path | None, typer.Option(help="JSON file with the Art. 13(8) factors.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a product with its support period (refused if it breaks CRA Art. 13(8))."""
    from fleetcare.portfolio import service
    from fleetcare.portfolio.schemas import ProductIn

    reasons: Any = None
    if justification is not None:
        try:
            reasons = json.loads(justification.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise fail(f"cannot read justification file {justification}: {exc}") from None
    data = parse_model(
        ProductIn,
        {
            "name": name,
            "model_id": model_id,
            "cra_category": category,
            "description": description,
            "intended_purpose": intended_purpose,
            "placed_on_market": placed_on_market.date(),
            "support_end": support_end.date(),
            "expected_use_months": expected_use_months,
            "end_of_sale": end_of_sale.date() if end_of_sale else None,
            "successor": successor,
            "support_justification": reasons,
        },
    )
    with session_scope() as session:
        product = service.create_product(session, data, actor=cli_actor())
        shown = service.product_out(product)
    if as_json:
        print_json(shown)
    else:
        out.print(
            f"product {shown.name} added (id {shown.id}); "
            f"support until {shown.support_end_month_year}"
        )


@products_app.command("show")
def products_show(product: str, as_json: JsonOpt = False) -> None:
    """Show a product (by id, slug or name) with its releases and derived dates."""
    from fleetcare.portfolio import service

    with session_scope(write=False) as session:
        detail = service.product_detail(service.get_product(session, product))
    if as_json:
        print_json(detail)
        return
    out.print(f"[bold]{detail.name}[/bold]  {detail.model_id}  ({detail.cra_category.value})")
    status = detail.support_status
    out.print(
        f"placed on market {detail.placed_on_market}; support until {detail.support_end} "
        f"([{STATUS_STYLE[status]}]{status}[/]); documentation kept until "
        f"{detail.documentation_retained_until}"
    )
    if detail.successor:
        out.print(f"successor: {detail.successor}")
    _release_table(detail.releases)


def _release_table(releases: list[Any]) -> None:
    table(
        "Releases",
        ["version", "date", "kind", "status", "available until"],
        [
            [r.version, r.release_date, r.kind.value, r.status.value, r.available_until]
            for r in releases
        ],
    )


@releases_app.command("add")
def releases_add(
    product: str,
    version: str,
    kind: Annotated[str, typer.Option(help="security, feature or mixed")],
    date: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Release date (default today).")
    ] = None,
    notes: str = "",
    released: Annotated[bool, typer.Option("--released", help="Mark it released at once.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a firmware release to a product."""
    from fleetcare.portfolio import service
    from fleetcare.portfolio.schemas import ReleaseIn

    data = parse_model(
        ReleaseIn,
        {
            "version": version,
            "kind": kind,
            "notes": notes,
            "release_date": (date.date() if date else dt.datetime.now(dt.UTC).date()),
            "status": "released" if released else "draft",
        },
    )
    with session_scope() as session:
        release = service.create_release(session, product, data, actor=cli_actor())
        shown = service.release_out(release, release.product)
    if as_json:
        print_json(shown)
    else:
        out.print(f"release {shown.version} added ({shown.kind.value}, {shown.status.value})")


@releases_app.command("list")
def releases_list(product: str, as_json: JsonOpt = False) -> None:
    """List the releases of a product, newest first."""
    from fleetcare.portfolio import service

    with session_scope(write=False) as session:
        prod = service.get_product(session, product)
        items = [service.release_out(r, prod) for r in service.list_releases(session, prod.id)]
    if as_json:
        print_json(items)
        return
    _release_table(items)


def main() -> None:
    try:
        app()
    except SettingsError as exc:
        err.print(f"error: {exc}")
        sys.exit(2)
