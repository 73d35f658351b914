"""`fleetcare triage ...` and `fleetcare vex ...`: decisions, overdue findings, VEX in and out.

fleetcare triage decide 42 --status not_affected --justification component_not_present
fleetcare triage decide 43 --status fixed --fixed-release 24.10.2-gx5 --reason "curl 8.4"
fleetcare triage show 42 [--json]
fleetcare triage overdue [--product gateway-gx-500] [--json]
fleetcare vex export gateway-gx-500 --release 23.05.5-gx3 --format csaf > gx3.csaf.json
fleetcare vex import supplier.openvex.json          # statements become proposals
fleetcare vex proposals / accept ID / reject ID
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

triage_app = typer.Typer(help="Triage: a VEX status for each finding.", no_args_is_help=True)
vex_app = typer.Typer(help="VEX documents: export ours, import suppliers'.", no_args_is_help=True)
OVERDUE_STYLE = {"decision": "bold red", "fix": "yellow"}


@triage_app.command("decide")
def decide(
    finding: Annotated[int, typer.Argument(help="Finding id (see 'fleetcare findings list').")],
    status: Annotated[
        str, typer.Option("--status", help="under_investigation, affected, not_affected or fixed.")
    ],
    justification: Annotated[str | None, typer.Option(help="For not_affected.")] = None,
    impact: Annotated[str | None, typer.Option(help="Impact statement (not_affected).")] = None,
    action: Annotated[str | None, typer.Option(help="Action statement (affected).")] = None,
    fixed_release: Annotated[str | None, typer.Option(help="Release that fixes it.")] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")] = "",
) -> None:
    """Record a decision; incomplete ones are refused with what is missing."""
    from fleetcare.triage import service
    from fleetcare.triage.schemas import DecisionIn

    data = parse_model(
        DecisionIn,
        {
            "vex_status": status,
            "justification": justification,
            "impact_statement": impact,
            "action_statement": action,
            "fixed_release": fixed_release,
            "reason": reason,
        },
    )
    with session_scope() as session:
        service.decide(session, finding, data, actor=cli_actor())
    out.print(f"finding {finding}: {status}")


@triage_app.command("bulk")
def bulk(
    vulnerability: Annotated[str, typer.Argument(help="CVE or any alias.")],
    product: Annotated[str, typer.Option(help="Product id, slug or name.")],
    status: Annotated[str, typer.Option("--status")],
    release: Annotated[list[str] | None, typer.Option(help="Only these (repeatable).")] = None,
    justification: Annotated[str | None, typer.Option()] = None,
    impact: Annotated[str | None, typer.Option()] = None,
    action: Annotated[str | None, typer.Option()] = None,
    fixed_release: Annotated[str | None, typer.Option()] = None,
    reason: Annotated[str, typer.Option()] = "",
) -> None:
    """The same decision for one vulnerability in every open finding of a product's releases."""
    from fleetcare.triage import service
    from fleetcare.triage.schemas import BulkDecisionIn

    data = parse_model(
        BulkDecisionIn,
        {
            "vulnerability": vulnerability,
            "product": product,
            "releases": release or [],
            "vex_status": status,
            "justification": justification,
            "impact_statement": impact,
            "action_statement": action,
            "fixed_release": fixed_release,
            "reason": reason,
        },
    )
    with session_scope() as session:
        decided = service.bulk_decide(session, data, actor=cli_actor())
    out.print(f"{len(decided)} findings: {status}")


@triage_app.command("show")
def show(finding: int, as_json: JsonOpt = False) -> None:
    """A finding's decision, SLA dates and history."""
    from fleetcare.triage import service

    with session_scope(write=False) as session:
        decision = service.finding_decision(session, finding, settings().triage_sla_days)
    if as_json:
        print_json(decision)
        return
    out.print(
        f"{decision.vulnerability_id} in {decision.component} {decision.component_version}"
        f" ({decision.product} {decision.release}): [bold]{decision.vex_status}[/bold]"
    )
    table(
        "History",
        ["when", "who", "status", "why"],
        [
            [
                h.at.isoformat(timespec="minutes"),
                h.actor,
                h.vex_status + (" (carried over)" if h.carried_over else ""),
                h.reason,
            ]
            for h in decision.history
        ],
    )


@triage_app.command("overdue")
def overdue(
    product: Annotated[str | None, typer.Option(help="Product id, slug or name.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Findings past their SLA (FLEETCARE_TRIAGE_SLA_DAYS), longest overdue first."""
    from fleetcare.portfolio import service as portfolio
    from fleetcare.triage import service

    with session_scope(write=False) as session:
        product_id = portfolio.get_product(session, product).id if product else None
        late = service.overdue(session, settings().triage_sla_days, product_id=product_id)
    if as_json:
        print_json(late)
        return
    table(
        "Overdue findings",
        ["finding", "vulnerability", "product", "component", "status", "overdue for", "due"],
        [
            [
                o.finding_id,
                o.vulnerability_id,
                f"{o.product} {o.release}",
                f"{o.component} {o.component_version}",
                o.vex_status,
                o.overdue,
                (o.decision_due if o.overdue == "decision" else o.fix_due).date(),
            ]
            for o in late
        ],
        styles={5: lambda v: OVERDUE_STYLE.get(str(v), "")},
    )


@vex_app.command("export")
def export(
    product: str,
    release: Annotated[str | None, typer.Option(help="One release; default every release.")] = None,
    format: Annotated[str, typer.Option("--format", help="openvex, cyclonedx or csaf.")] = (
        "openvex"
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """VEX for a product or release, validated against its schema."""
    from fleetcare.triage import service

    with session_scope(write=False) as session:
        document = service.export_vex(session, product, release, format, settings())
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@vex_app.command("import")
def import_vex(path: Path, as_json: JsonOpt = False) -> None:
    """A supplier's OpenVEX, CycloneDX VEX or CSAF file: statements become proposals."""
    from fleetcare.triage import service

    if not path.is_file():
        raise fail(f"{path} is not a file")
    with session_scope() as session:
        result = service.import_supplier_vex(
            session, path.read_bytes(), actor=cli_actor(), source_name=path.name
        )
    if as_json:
        print_json(result)
        return
    out.print(
        f"{result.format} from {result.author or 'unknown author'}: {result.statements} "
        f"statements, {result.proposals} proposals, {result.unmatched} matched no finding"
    )


@vex_app.command("proposals")
def proposals(as_json: JsonOpt = False) -> None:
    """Open supplier proposals."""
    from fleetcare.triage import service

    with session_scope(write=False) as session:
        items = service.list_proposals(session)
    if as_json:
        print_json(items)
        return
    table(
        "Supplier VEX proposals",
        ["id", "finding", "vulnerability", "where", "says", "source"],
        [
            [
                p.id,
                p.finding_id,
                p.vulnerability_id,
                f"{p.product} {p.release} {p.component}",
                p.vex_status,
                p.source_author,
            ]
            for p in items
        ],
    )


@vex_app.command("accept")
def accept(proposal: int, fixed_release: Annotated[str | None, typer.Option()] = None) -> None:
    from fleetcare.triage import service

    with session_scope() as session:
        decision = service.accept_proposal(
            session, proposal, actor=cli_actor(), fixed_release=fixed_release
        )
    out.print(f"finding {decision.finding_id}: {decision.vex_status}")


@vex_app.command("reject")
def reject(proposal: int) -> None:
    from fleetcare.triage import service

    with session_scope() as session:
        service.reject_proposal(session, proposal, actor=cli_actor())
    out.print(f"proposal {proposal} rejected")
