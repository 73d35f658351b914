"""`fleetcare sbom import|export|list`: the commands that need the database.

They are added to the same `sbom` command group as the database-free `sbom check`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetcare.clitools import JsonOpt, fail, out, print_json, session_scope, table
from fleetcare.sbom.cli import sbom_app


@sbom_app.command("import")
def import_sbom(
    product: Annotated[str, typer.Argument(help="Product id, slug or name.")],
    release: Annotated[str, typer.Argument(help="Release version.")],
    file: Annotated[Path, typer.Argument(help="SBOM file: CycloneDX or SPDX, any encoding.")],
    as_json: JsonOpt = False,
) -> None:
    """Attach an SBOM to a release and match it against the vulnerability store at once."""
    from fleetcare.clitools import cli_actor
    from fleetcare.sbom import service
    from fleetcare.sbom.parse import DEFAULT_MAX_BYTES
    from fleetcare.wiring import connect

    connect()
    try:
        if file.stat().st_size > DEFAULT_MAX_BYTES:
            raise fail(f"{file} is larger than the limit of {DEFAULT_MAX_BYTES} bytes")
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
    with session_scope() as session:
        document = service.import_sbom(
            session, product, release, data, file_name=file.name, actor=cli_actor()
        )
        summary = {
            "id": document.id,
            "format": f"{document.format} {document.spec_version}",
            "components": document.component_count,
            "quality_score": document.quality.get("score"),
            "required_missing": document.quality.get("required_missing"),
        }
        from fleetcare.matching import service as matching

        _first, total = matching.list_findings(
            session, matching.FindingFilter(release_id=document.release_id), limit=1
        )
        summary["open_findings"] = total
    if as_json:
        print_json(summary)
        return
    out.print(
        f"SBOM {summary['id']} attached: {summary['format']}, {summary['components']} "
        f"components, quality score {summary['quality_score']} "
        f"({summary['required_missing']} required fields missing); "
        f"{total} open findings for this release"
    )


@sbom_app.command("export")
def export_sbom(
    product: Annotated[str, typer.Argument(help="Product id, slug or name.")],
    release: Annotated[str, typer.Argument(help="Release version.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write.")] = None,
) -> None:
    """Write a release's components as one CycloneDX 1.6 JSON SBOM (stdout by default)."""
    import sys

    from fleetcare.portfolio import service as portfolio
    from fleetcare.sbom import service

    with session_scope(write=False) as session:
        body = service.export_release(session, portfolio.get_release(session, product, release).id)
    if output is None:
        sys.stdout.buffer.write(body)
    else:
        output.write_bytes(body)
        out.print(f"wrote {output}")


@sbom_app.command("list")
def list_sboms(
    product: Annotated[str, typer.Argument(help="Product id, slug or name.")],
    release: Annotated[str, typer.Argument(help="Release version.")],
    as_json: JsonOpt = False,
) -> None:
    """The SBOMs attached to a release, with their quality scores."""
    from fleetcare.portfolio import service as portfolio
    from fleetcare.sbom import service

    with session_scope(write=False) as session:
        docs = [
            {
                "id": d.id,
                "file": d.file_name,
                "format": f"{d.format} {d.spec_version}",
                "components": d.component_count,
                "score": d.quality.get("score"),
                "imported_at": d.imported_at,
            }
            for d in service.release_documents(
                session, portfolio.get_release(session, product, release).id
            )
        ]
    if as_json:
        print_json(docs)
        return
    table(
        "SBOMs",
        ["id", "file", "format", "components", "quality", "imported"],
        [list(d.values()) for d in docs],
    )
