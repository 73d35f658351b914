"""`fleetcare advisories ...`: write, check, publish and import CSAF advisories.

    fleetcare advisories create --product gateway-gx-500 --vulnerability CVE-2023-38545 \\
        --title "curl SOCKS5 heap overflow" --summary "Update to 24.10.2-gx5."
    fleetcare advisories validate FCSA-2026-0001      # schema + mandatory tests, with paths
    fleetcare advisories publish FCSA-2026-0001 [--status interim] [--summary "what changed"]
    fleetcare advisories list [--json]
    fleetcare advisories show FCSA-2026-0001          # the CSAF JSON
    fleetcare advisories import vendor-advisory.json  # another vendor's CSAF
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

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

advisories_app = typer.Typer(help="CSAF 2.0 advisories.", no_args_is_help=True)


@advisories_app.command("create")
def create(
    product: Annotated[str, typer.Option(help="Product id, slug or name.")],
    vulnerability: Annotated[list[str], typer.Option(help="CVE or other id (repeatable).")],
    title: Annotated[str, typer.Option()],
    summary: Annotated[str, typer.Option(help="What users need to know and do.")],
    tlp: Annotated[str, typer.Option(help="WHITE, GREEN, AMBER or RED.")] = "WHITE",
    disclosure_at: Annotated[str | None, typer.Option(help="Embargo until (ISO 8601).")] = None,
    report: Annotated[list[str] | None, typer.Option(help="Report to credit (repeatable).")] = None,
) -> None:
    """A draft advisory."""
    from fleetcare.advisories import service
    from fleetcare.advisories.schemas import AdvisoryIn

    data = parse_model(
        AdvisoryIn,
        {
            "product": product,
            "vulnerabilities": vulnerability,
            "title": title,
            "summary": summary,
            "tlp": tlp,
            "disclosure_at": disclosure_at,
            "reports": report or [],
        },
    )
    with session_scope() as session:
        advisory = service.create_advisory(session, data, actor=cli_actor(), settings=settings())
        tracking_id = advisory.tracking_id
    out.print(f"draft {tracking_id} created")


@advisories_app.command("validate")
def validate(tracking_id: str, as_json: JsonOpt = False) -> None:
    """What publishing now would find; exit code 1 when there are problems."""
    from fleetcare.advisories import service

    with session_scope(write=False) as session:
        problems = service.validate_advisory(
            session, service.get_advisory(session, tracking_id), settings()
        )
    if as_json:
        print_json([p.as_dict() for p in problems])
    elif problems:
        table(
            f"{tracking_id}: problems",
            ["test", "path", "problem"],
            [[f"{p.test} {p.title}", p.path, p.message] for p in problems],
        )
    else:
        out.print(f"{tracking_id}: valid (CSAF 2.0 schema and mandatory tests)")
    if problems:
        raise typer.Exit(code=1)


@advisories_app.command("publish")
def publish(
    tracking_id: str,
    status: Annotated[str, typer.Option(help="final or interim.")] = "final",
    summary: Annotated[str, typer.Option(help="What changed (needed for revisions).")] = "",
) -> None:
    """Publish the next revision, signed; refused under embargo or when invalid."""
    from fleetcare.advisories import service
    from fleetcare.advisories.schemas import PublishIn

    data = parse_model(PublishIn, {"status": status, "summary": summary})
    with session_scope() as session:
        advisory = service.get_advisory(session, tracking_id)
        service.publish(session, advisory, data, actor=cli_actor(), settings=settings())
        version = advisory.version
    out.print(f"{tracking_id} version {version} published ({status})")


@advisories_app.command("list")
def list_advisories(as_json: JsonOpt = False) -> None:
    from fleetcare.advisories import service

    with session_scope(write=False) as session:
        items = [
            service.advisory_out(session, a, settings()) for a in service.list_advisories(session)
        ]
    if as_json:
        print_json(items)
        return
    table(
        "Advisories",
        ["id", "title", "product", "TLP", "status", "version"],
        [[a.tracking_id, a.title, a.product, a.tlp, a.status, a.version] for a in items],
    )


@advisories_app.command("show")
def show(tracking_id: str) -> None:
    """The CSAF document (as published, or a draft as it stands)."""
    from fleetcare.advisories import service

    with session_scope(write=False) as session:
        document = service.current_document(
            session, service.get_advisory(session, tracking_id), settings()
        )
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@advisories_app.command("import")
def import_advisory(path: Path) -> None:
    """Another vendor's CSAF advisory: validated, kept, statuses proposed for components."""
    from fleetcare.advisories import service

    if not path.is_file():
        raise fail(f"{path} is not a file")
    with session_scope() as session:
        imported = service.import_advisory(session, path.read_bytes(), actor=cli_actor())
        line = (
            f"{imported.tracking_id} from {imported.publisher}: {imported.proposals} "
            f"proposals, {len(imported.problems)} validation problems"
        )
    out.print(line)
