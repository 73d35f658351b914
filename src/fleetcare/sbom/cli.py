"""`fleetcare sbom ...`: SBOM commands that need no database.

    fleetcare sbom check firmware-4.1.cdx.json          # quality report as tables
    fleetcare sbom check firmware-4.1.cdx.json --json   # the same report for machines

`check` exits with 0 when every field BSI TR-03183-2 v2.1 requires is present, 1 when some are
missing, and 2 with a one-line message when the file cannot be read as an SBOM. It is meant for
build pipelines as much as for people: run it on the SBOM your firmware build produces, before
the release is uploaded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from fleetcare.sbom.quality import QualityReport

sbom_app = typer.Typer(
    help="SBOMs: check them against BSI TR-03183-2 (no database needed).", no_args_is_help=True
)

_out = Console()
_err = Console(stderr=True)
_MARK = {True: "[green]✓[/green]", False: "[red]✗[/red]"}
# Short column headers keep the component table readable in an 80-column terminal.
_SHORT = {
    "creator": "crt",
    "name": "name",
    "version": "ver",
    "filename": "file",
    "dependencies": "deps",
    "dependency_completeness": "cmpl",
    "license": "lic",
    "hash_sha512": "512",
    "identifier": "id",
}
_LEGEND = (
    "crt creator or supplier with contact, ver version, file file name, deps dependencies, "
    "cmpl their completeness, lic SPDX licence, 512 SHA-512 hash, id purl or CPE; "
    "✗ required and missing, - recommended and missing"
)


def _mark(passed: bool, required: bool) -> str:
    if passed:
        return _MARK[True]
    return _MARK[False] if required else "[yellow]-[/yellow]"


@sbom_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="SBOM file: CycloneDX or SPDX, any encoding.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    max_mib: Annotated[
        int, typer.Option("--max-mib", min=1, help="Refuse files larger than this (MiB).")
    ] = 50,
) -> None:
    """Report how well an SBOM meets BSI TR-03183-2 v2.1 (exit 1 if required fields are missing)."""
    import orjson

    from fleetcare.sbom.errors import SbomError
    from fleetcare.sbom.parse import parse_sbom_file
    from fleetcare.sbom.quality import assess

    try:
        sbom = parse_sbom_file(file, max_bytes=max_mib * 1024 * 1024)
    except SbomError as exc:
        _err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True, highlight=False)
        raise typer.Exit(code=2) from None
    report = assess(sbom)
    if as_json:
        sys.stdout.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_report(file, report)
    if not report.passed:
        raise typer.Exit(code=1)


def _print_report(file: Path, report: QualityReport) -> None:
    from fleetcare.sbom.quality import GUIDELINE, Level

    sbom = report.sbom
    count = len(sbom.components) + (1 if sbom.primary else 0)
    made = f", made {sbom.timestamp:%Y-%m-%d %H:%M} UTC" if sbom.timestamp else ""
    _out.print(f"[bold]{escape(str(file))}[/bold]: {sbom.label}, {count} components{made}")

    document = Table(title=f"{GUIDELINE}: the SBOM", title_justify="left")
    for column in ("", "field", "level", "detail"):
        document.add_column(column)
    for item in report.document:
        document.add_row(
            _mark(item.passed, item.level is Level.REQUIRED),
            item.title,
            item.level.value,
            escape(item.detail),
        )
    _out.print(document)

    if report.components:
        components = Table(
            title=f"{GUIDELINE}: each component",
            title_justify="left",
            box=None,
            pad_edge=False,
        )
        components.add_column("component", min_width=14, overflow="fold")
        fields = [c.field for c in report.components[0].checks]
        for field in fields:
            components.add_column(_SHORT.get(field, field), justify="center", width=4)
        components.add_column("score", justify="right", no_wrap=True, min_width=5)
        for component in report.components:
            label = escape(component.name or component.ref)
            if component.version:
                label += f" {escape(component.version)}"
            if component.primary:
                label = f"[bold]{label}[/bold] (primary)"
            marks = [_mark(c.passed, c.level is Level.REQUIRED) for c in component.checks]
            components.add_row(label, *marks, str(component.score))
        _out.print(components)
        _out.print(_LEGEND, style="dim", highlight=False)

    missing = report.required_missing
    verdict = (
        "[green]all required fields present[/green]"
        if report.passed
        else f"[red]{missing} required field{'s' if missing != 1 else ''} missing[/red]"
    )
    _out.print(f"score {report.score}/100; {verdict}")
