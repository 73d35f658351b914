"""`fleetcare feeds ...`: keep the vulnerability store current."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from fleetcare.clitools import (
    JsonOpt,
    cli_actor,
    err,
    fail,
    out,
    print_json,
    session_scope,
    settings,
    table,
)
from fleetcare.core.errors import FleetcareError

feeds_app = typer.Typer(
    help="Vulnerability feeds: OSV, NVD, CVE, EUVD, CISA KEV, EPSS.", no_args_is_help=True
)


@feeds_app.command("sync")
def sync(
    source: Annotated[
        str | None,
        typer.Option(
            help="osv, nvd, cve, euvd, kev or epss; without it, every source found under --from."
        ),
    ] = None,
    from_path: Annotated[
        Path | None,
        typer.Option("--from", help="File or directory to import instead of downloading."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import feeds from files (offline) or their official URLs, then re-match what changed."""
    from fleetcare.intel import service
    from fleetcare.wiring import connect

    connect()
    if source is None and from_path is None:
        raise fail("name a --source to download, or --from a directory of feed files")
    config = settings()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} records"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task(f"importing {source or from_path}", total=None)

        def advance(n: int) -> None:
            progress.advance(task, n)

        with session_scope() as session:
            try:
                if source is None and from_path is not None:
                    results = service.sync_directory(
                        session, from_path, progress=advance, actor=cli_actor().actor
                    )
                else:
                    results = [
                        service.sync(
                            session,
                            str(source),
                            from_path,
                            progress=advance,
                            osv_ecosystems=config.osv_ecosystems,
                            nvd_api_key=config.nvd_api_key or None,
                            actor=cli_actor().actor,
                        )
                    ]
            except FleetcareError as exc:
                session.rollback()  # nothing of a broken feed is kept
                failed = exc.message
            else:
                failed = ""
        if failed:
            if source is not None:
                from fleetcare.intel import store

                with session_scope() as session:
                    store.record_feed_failure(session, source, failed)
            raise fail(failed)
    if as_json:
        print_json(
            [
                {
                    "source": r.source,
                    "records": r.records,
                    "added": r.added,
                    "updated": r.updated,
                    "unchanged": r.unchanged,
                    "changed": sorted(r.changed),
                    "warnings": r.warnings,
                }
                for r in results
            ]
        )
        return
    for result in results:
        out.print(result.line())
        for warning in result.warnings[:10]:
            err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


@feeds_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """When each feed was last synced, and how big the store is."""
    from fleetcare.intel import store

    with session_scope(write=False) as session:
        states = [
            {
                "source": s.source,
                "last_sync_at": s.last_sync_at,
                "records": s.records,
                "cursor": s.cursor,
                "status": s.last_status,
            }
            for s in store.feed_states(session)
        ]
        counts = store.counts(session)
    if as_json:
        print_json({"feeds": states, "counts": counts})
        return
    table(
        "Feeds",
        ["source", "last sync", "records", "cursor", "status"],
        [[s["source"], s["last_sync_at"], s["records"], s["cursor"], s["status"]] for s in states],
    )
    out.print(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
