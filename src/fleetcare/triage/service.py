"""Triage operations: decide, bulk-decide, carry over, re-open, SLA, supplier VEX, VEX export.

    decide(session, finding_id, DecisionIn(vex_status="not_affected", justification=...), actor=p)
    bulk_decide(session, BulkDecisionIn(vulnerability="CVE-2023-38545", product="gx-500", ...))
    rows = triage_rows(session, release_ids=[...])        # findings with their decisions
    overdue(session, now, sla_days)                       # past the SLA, oldest first
    import_supplier_vex(session, raw, actor=p)            # statements become proposals
    export_vex(session, product, release, "csaf", settings)

`connect()` (from `fleetcare.wiring`) runs carry-over after each SBOM import and re-opens
decisions after feed changes that bear on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fleetcare.core import audit, events
from fleetcare.core.auth import Principal
from fleetcare.core.db import utcnow
from fleetcare.core.errors import Conflict, InvalidInput, NotFound
from fleetcare.core.events import Event
from fleetcare.core.settings import Settings
from fleetcare.intel import store
from fleetcare.intel.models import Vulnerability
from fleetcare.matching.models import Finding
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.models import Product, Release
from fleetcare.sbom.models import Component
from fleetcare.triage import rules, vex
from fleetcare.triage.csafdoc import ComponentRef, ReleaseRef
from fleetcare.triage.models import Decision, DecisionHistory, VexProposal
from fleetcare.triage.rules import Justification, VexStatus
from fleetcare.triage.schemas import (
    BulkDecisionIn,
    DecisionIn,
    DecisionOut,
    HistoryOut,
    ImportResult,
    ProposalOut,
)

CHUNK = 500


@dataclass
class TriageRow:
    """A finding with everything triage, export and the pages need, and its decision."""

    finding: Finding
    vulnerability: Vulnerability
    component: Component
    release: Release
    product: Product
    decision: Decision | None

    @property
    def status(self) -> VexStatus:
        return (
            VexStatus(self.decision.vex_status) if self.decision else VexStatus.UNDER_INVESTIGATION
        )

    def release_ref(self) -> ReleaseRef:
        return ReleaseRef(
            self.product.slug, self.product.name, self.release.version, self.product.model_id
        )

    def component_ref(self) -> ComponentRef:
        return ComponentRef(
            self.release_ref(),
            self.component.name,
            self.component.version,
            self.component.purl,
            self.component.cpe,
        )


def _query() -> Any:
    return (
        select(Finding, Vulnerability, Component, Release, Product, Decision)
        .join(Vulnerability, Vulnerability.id == Finding.vulnerability_id)
        .join(Component, Component.id == Finding.component_id)
        .join(Release, Release.id == Finding.release_id)
        .join(Product, Product.id == Release.product_id)
        .outerjoin(Decision, Decision.finding_id == Finding.id)
    )


def triage_rows(
    session: Session,
    *,
    release_ids: Iterable[int] | None = None,
    product_id: int | None = None,
    finding_ids: Iterable[int] | None = None,
    vulnerability_id: str | None = None,
    include_withdrawn: bool = False,
    undecided: bool = False,
    limit: int | None = None,
) -> list[TriageRow]:
    query = _query().order_by(
        Release.release_date, Finding.vulnerability_id, Component.name, Finding.id
    )
    if not include_withdrawn:
        query = query.where(Finding.withdrawn_at.is_(None))
    if product_id is not None:
        query = query.where(Release.product_id == product_id)
    if vulnerability_id is not None:
        query = query.where(Finding.vulnerability_id == vulnerability_id)
    if undecided:
        query = query.where(Decision.id.is_(None))
    if limit is not None:
        query = query.limit(limit)
    rows: list[TriageRow] = []
    ids = None if release_ids is None else sorted(set(release_ids))
    fids = None if finding_ids is None else sorted(set(finding_ids))
    if ids is not None:
        for i in range(0, len(ids), CHUNK):
            rows += [
                TriageRow(*r)
                for r in session.execute(query.where(Finding.release_id.in_(ids[i : i + CHUNK])))
            ]
    elif fids is not None:
        for i in range(0, len(fids), CHUNK):
            rows += [
                TriageRow(*r)
                for r in session.execute(query.where(Finding.id.in_(fids[i : i + CHUNK])))
            ]
    else:
        rows = [TriageRow(*r) for r in session.execute(query)]
    return rows


def recent_decisions(session: Session, limit: int = 100) -> list[TriageRow]:
    """Findings with a decision, the latest decided first."""
    query = (
        _query()
        .where(Decision.id.is_not(None), Finding.withdrawn_at.is_(None))
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(limit)
    )
    return [TriageRow(*r) for r in session.execute(query)]


def _row(session: Session, finding_id: int) -> TriageRow:
    rows = triage_rows(session, finding_ids=[finding_id], include_withdrawn=True)
    if not rows:
        raise NotFound(f"no finding {finding_id}")
    return rows[0]


def _fingerprint(row: TriageRow) -> dict[str, Any]:
    return rules.fingerprint(
        kev=row.vulnerability.kev,
        match_reason=row.finding.match_reason,
        fixed_version=row.finding.fixed_version,
    )


def _check(row: TriageRow, data: DecisionIn, session: Session) -> int | None:
    problems = rules.decision_problems(
        data.vex_status,
        justification=data.justification,
        impact_statement=data.impact_statement,
        action_statement=data.action_statement,
        fixed_release=data.fixed_release,
    )
    if problems:
        first = problems[0]
        raise InvalidInput(
            f"incomplete decision: {first.field}: {first.problem}",
            [{"field": p.field, "problem": p.problem} for p in problems],
        )
    if data.fixed_release is None:
        return None
    fixed = portfolio.get_release(session, row.product.id, data.fixed_release)
    if fixed.id == row.release.id:
        raise InvalidInput(
            f"release {fixed.version} is the release of the finding; name the release that "
            "fixes it",
            [{"field": "fixed_release", "problem": "the finding's own release"}],
        )
    return fixed.id


def _apply(
    session: Session,
    row: TriageRow,
    *,
    status: VexStatus,
    justification: Justification | None,
    impact: str,
    action: str,
    fixed_release_id: int | None,
    reason: str,
    actor: str,
    carried_over_from: int | None = None,
    reopened_reason: str = "",
) -> Decision:
    now = utcnow()
    before = None
    decision = row.decision
    if decision is None:
        decision = Decision(finding_id=row.finding.id)
        session.add(decision)
        row.decision = decision
    else:
        before = {"vex_status": decision.vex_status, "justification": decision.justification}
    decision.vex_status = status.value
    decision.justification = justification.value if justification else None
    decision.impact_statement = impact
    decision.action_statement = action
    decision.fixed_release_id = fixed_release_id
    decision.carried_over_from = carried_over_from
    decision.reopened_reason = reopened_reason
    decision.decided_on = _fingerprint(row)
    decision.decided_by = actor[:300]
    decision.decided_at = now
    session.add(
        DecisionHistory(
            finding_id=row.finding.id,
            vex_status=status.value,
            justification=decision.justification,
            impact_statement=impact,
            action_statement=action,
            fixed_release_id=fixed_release_id,
            carried_over=carried_over_from is not None,
            reason=reason,
            actor=actor[:300],
            at=now,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="finding.triaged",
        object_type="finding",
        object_id=row.finding.id,
        before=before,
        after={
            "vex_status": status.value,
            "justification": decision.justification,
            "carried_over_from": carried_over_from,
            "reason": reason[:200],
        },
    )
    events.emit(
        session,
        "finding.triaged",
        subject=f"finding:{row.finding.id}",
        payload={"finding_id": row.finding.id, "vex_status": status.value},
    )
    return decision


def decide(session: Session, finding_id: int, data: DecisionIn, *, actor: Principal) -> Decision:
    """Record a decision; refused (nothing written) when it is incomplete."""
    row = _row(session, finding_id)
    fixed_id = _check(row, data, session)
    decision = _apply(
        session,
        row,
        status=data.vex_status,
        justification=data.justification,
        impact=data.impact_statement,
        action=data.action_statement,
        fixed_release_id=fixed_id,
        reason=data.reason,
        actor=actor.actor,
    )
    session.flush()
    carry_over(session, finding_ids=_later_twins(session, row))
    return decision


def bulk_decide(session: Session, data: BulkDecisionIn, *, actor: Principal) -> list[int]:
    """The same decision for one vulnerability across many releases; all or nothing."""
    vuln = store.resolve(session, data.vulnerability)
    if vuln is None:
        raise NotFound(f"no vulnerability {data.vulnerability!r} in the store")
    product_id = None
    release_ids: list[int] | None = None
    if data.product:
        product = portfolio.get_product(session, data.product)
        product_id = product.id
        if data.releases:
            release_ids = [portfolio.get_release(session, product.id, v).id for v in data.releases]
    elif data.releases:
        raise InvalidInput("releases need a product", [{"field": "product", "problem": "missing"}])
    rows = triage_rows(
        session, release_ids=release_ids, product_id=product_id, vulnerability_id=vuln.id
    )
    if not rows:
        raise NotFound(f"no open findings of {vuln.id} in the releases named")
    decided = []
    for row in rows:
        fixed_id = _check(row, data, session)
        _apply(
            session,
            row,
            status=data.vex_status,
            justification=data.justification,
            impact=data.impact_statement,
            action=data.action_statement,
            fixed_release_id=fixed_id,
            reason=data.reason or "bulk triage",
            actor=actor.actor,
        )
        decided.append(row.finding.id)
    session.flush()
    return decided


# --- carry-over and re-opening ------------------------------------------------------------------


def _later_twins(session: Session, row: TriageRow) -> list[int]:
    """Undecided findings of later releases of the same product with the same component version
    and vulnerability."""
    query = (
        select(Finding.id)
        .join(Component, Component.id == Finding.component_id)
        .join(Release, Release.id == Finding.release_id)
        .outerjoin(Decision, Decision.finding_id == Finding.id)
        .where(
            Release.product_id == row.product.id,
            Release.release_date > row.release.release_date,
            Finding.vulnerability_id == row.finding.vulnerability_id,
            Component.name == row.component.name,
            Component.version == row.component.version,
            Decision.id.is_(None),
        )
    )
    return list(session.execute(query).scalars())


def carry_over(
    session: Session,
    *,
    finding_ids: Iterable[int] | None = None,
    release_ids: Iterable[int] | None = None,
) -> list[int]:
    """Give undecided findings the decision of the latest earlier release of the same product
    with the same component version and vulnerability, marked as carried over."""
    targets = [
        r
        for r in triage_rows(session, finding_ids=finding_ids, release_ids=release_ids)
        if r.decision is None
    ]
    if not targets:
        return []
    vulns = sorted({r.finding.vulnerability_id for r in targets})
    products = {r.product.id for r in targets}
    sources: dict[tuple[int, str, str, str], list[TriageRow]] = {}
    for i in range(0, len(vulns), CHUNK):
        query = _query().where(
            Finding.vulnerability_id.in_(vulns[i : i + CHUNK]),
            Release.product_id.in_(products),
            Decision.id.is_not(None),
            Decision.vex_status != VexStatus.UNDER_INVESTIGATION.value,
        )
        for found in session.execute(query):
            r = TriageRow(*found)
            key = (r.product.id, r.finding.vulnerability_id, r.component.name, r.component.version)
            sources.setdefault(key, []).append(r)
    carried = []
    for row in targets:
        key = (
            row.product.id,
            row.finding.vulnerability_id,
            row.component.name,
            row.component.version,
        )
        earlier = [
            s for s in sources.get(key, []) if s.release.release_date < row.release.release_date
        ]
        if not earlier:
            continue
        source = max(earlier, key=lambda s: (s.release.release_date, s.finding.id))
        d = source.decision
        assert d is not None
        fixed_id = d.fixed_release_id
        if fixed_id is not None and fixed_id == row.release.id:
            continue  # the fix is this very release: the finding needs a fresh look
        _apply(
            session,
            row,
            status=VexStatus(d.vex_status),
            justification=Justification(d.justification) if d.justification else None,
            impact=d.impact_statement,
            action=d.action_statement,
            fixed_release_id=fixed_id,
            reason=f"carried over from {source.release.version} (finding {source.finding.id})",
            actor="system:triage",
            carried_over_from=source.finding.id,
        )
        carried.append(row.finding.id)
    session.flush()
    return carried


def reopen_changed(session: Session, vulnerability_ids: set[str]) -> list[int]:
    """Put decisions back to under_investigation where the record changed materially."""
    reopened = []
    ids = sorted(vulnerability_ids)
    for i in range(0, len(ids), CHUNK):
        query = _query().where(
            Finding.vulnerability_id.in_(ids[i : i + CHUNK]),
            Decision.id.is_not(None),
            Decision.vex_status != VexStatus.UNDER_INVESTIGATION.value,
        )
        for found in list(session.execute(query)):
            row = TriageRow(*found)
            assert row.decision is not None
            reason = rules.material_change(row.decision.decided_on, _fingerprint(row))
            if reason is None:
                continue
            _apply(
                session,
                row,
                status=VexStatus.UNDER_INVESTIGATION,
                justification=None,
                impact="",
                action="",
                fixed_release_id=None,
                reason=f"re-opened: {reason}",
                actor="system:triage",
                reopened_reason=reason,
            )
            reopened.append(row.finding.id)
    session.flush()
    return reopened


def _after_sbom_import(session: Session, release_id: int) -> None:
    carry_over(session, release_ids=[release_id])


def _after_feed_change(session: Session, changed: set[str]) -> None:
    reopen_changed(session, changed)
    ids = sorted(changed)
    for i in range(0, len(ids), CHUNK):
        fids = session.execute(
            select(Finding.id).where(Finding.vulnerability_id.in_(ids[i : i + CHUNK]))
        ).scalars()
        carry_over(session, finding_ids=list(fids))


def connect() -> None:
    """Wire triage in after matching (called from `fleetcare.wiring.connect`)."""
    from fleetcare.intel import service as intel_service
    from fleetcare.sbom import service as sbom_service

    sbom_service.on_imported(_after_sbom_import)
    intel_service.on_changed(_after_feed_change)


# --- reading ------------------------------------------------------------------------------------


def _release_versions(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(Release.id, Release.version).where(Release.id.in_(ids))
    return {int(row[0]): str(row[1]) for row in session.execute(query)}


def decision_out(
    session: Session,
    row: TriageRow,
    sla_days: dict[str, int],
    now: dt.datetime,
    *,
    history: bool = False,
    versions: dict[int, str] | None = None,
) -> DecisionOut:
    d = row.decision
    due = rules.sla_due(row.finding.first_seen, row.vulnerability.severity, sla_days)
    past: list[DecisionHistory] = []
    if history:
        past = list(
            session.execute(
                select(DecisionHistory)
                .where(DecisionHistory.finding_id == row.finding.id)
                .order_by(DecisionHistory.at, DecisionHistory.id)
            ).scalars()
        )
    if versions is None:
        versions = _release_versions(
            session,
            {h.fixed_release_id for h in past if h.fixed_release_id}
            | ({d.fixed_release_id} if d and d.fixed_release_id else set()),
        )
    return DecisionOut(
        finding_id=row.finding.id,
        vulnerability_id=row.vulnerability.id,
        product=row.product.name,
        release=row.release.version,
        component=row.component.name,
        component_version=row.component.version,
        severity=row.vulnerability.severity,
        vex_status=row.status.value,
        justification=d.justification if d else None,
        impact_statement=d.impact_statement if d else "",
        action_statement=d.action_statement if d else "",
        fixed_release=versions.get(d.fixed_release_id) if d and d.fixed_release_id else None,
        carried_over_from=d.carried_over_from if d else None,
        reopened_reason=d.reopened_reason if d else "",
        decided_by=d.decided_by if d else None,
        decided_at=d.decided_at if d else None,
        first_seen=row.finding.first_seen,
        decision_due=due.decision,
        fix_due=due.fix,
        overdue=rules.overdue_kind(row.status, due, now, decided=d is not None),
        history=[
            HistoryOut(
                vex_status=h.vex_status,
                justification=h.justification,
                impact_statement=h.impact_statement,
                action_statement=h.action_statement,
                fixed_release=versions.get(h.fixed_release_id) if h.fixed_release_id else None,
                carried_over=h.carried_over,
                reason=h.reason,
                actor=h.actor,
                at=h.at,
            )
            for h in past
        ],
    )


def finding_decision(
    session: Session, finding_id: int, sla_days: dict[str, int], now: dt.datetime | None = None
) -> DecisionOut:
    return decision_out(session, _row(session, finding_id), sla_days, now or utcnow(), history=True)


def overdue(
    session: Session,
    sla_days: dict[str, int],
    now: dt.datetime | None = None,
    *,
    product_id: int | None = None,
) -> list[DecisionOut]:
    """Open findings past their SLA (decision or fix), those due longest ago first."""
    now = now or utcnow()
    rows = triage_rows(session, product_id=product_id)
    versions = _release_versions(
        session,
        {r.decision.fixed_release_id for r in rows if r.decision and r.decision.fixed_release_id},
    )
    late = []
    for row in rows:
        out = decision_out(session, row, sla_days, now, versions=versions)
        if out.overdue:
            late.append(out)
    late.sort(key=lambda o: o.decision_due)
    return late


def announce_overdue(
    session: Session, sla_days: dict[str, int], now: dt.datetime | None = None
) -> int:
    """Emit a `finding.overdue` event, once per finding and kind (decision, fix), for each open
    finding past its SLA: notifications and dashboards read them from the outbox."""
    announced = {
        (e.subject, str(e.payload.get("overdue")))
        for e in session.execute(select(Event).where(Event.kind == "finding.overdue")).scalars()
    }
    count = 0
    for out in overdue(session, sla_days, now):
        subject = f"finding:{out.finding_id}"
        if (subject, str(out.overdue)) in announced:
            continue
        events.emit(
            session,
            "finding.overdue",
            subject=subject,
            payload={
                "finding_id": out.finding_id,
                "vulnerability_id": out.vulnerability_id,
                "product": out.product,
                "release": out.release,
                "overdue": out.overdue,
                "severity": out.severity,
            },
        )
        count += 1
    session.flush()
    return count


# --- supplier VEX -------------------------------------------------------------------------------


def _normal(identifier: str) -> str:
    """Compare purls without qualifiers and subpath; everything case-insensitively."""
    value = identifier.strip().lower()
    if value.startswith("pkg:"):
        value = value.split("#", 1)[0].split("?", 1)[0]
    return value


def _identifiers(component: Component) -> set[str]:
    found = {_normal(f"{component.name}@{component.version}")}
    if component.purl:
        found.add(_normal(component.purl))
    if component.cpe:
        found.add(_normal(component.cpe))
    return found


def import_supplier_vex(
    session: Session, raw: bytes, *, actor: Principal, source_name: str = ""
) -> ImportResult:
    """Turn a supplier's VEX statements into proposals on the findings they are about."""
    document = vex.read_supplier_vex(raw)
    proposals = unmatched = 0
    for statement in document.statements:
        vuln = None
        for candidate in (statement.vulnerability_id, *statement.aliases):
            vuln = store.resolve(session, candidate)
            if vuln is not None:
                break
        if vuln is None:
            unmatched += 1
            continue
        wanted = {_normal(p) for p in statement.products}
        matched = [
            r
            for r in triage_rows(session, vulnerability_id=vuln.id)
            if _identifiers(r.component) & wanted
        ]
        if not matched:
            unmatched += 1
        for row in matched:
            session.add(
                VexProposal(
                    finding_id=row.finding.id,
                    source_format=document.format,
                    source_author=document.author[:300],
                    source_document=(source_name or document.document_id)[:500],
                    vex_status=statement.status.value,
                    justification=statement.justification.value
                    if statement.justification
                    else None,
                    impact_statement=statement.impact_statement,
                    action_statement=statement.action_statement,
                )
            )
            proposals += 1
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="vex.imported",
        object_type="vex",
        object_id=source_name or document.document_id or document.format,
        after={
            "format": document.format,
            "author": document.author,
            "proposals": proposals,
            "unmatched": unmatched,
        },
    )
    return ImportResult(
        format=document.format,
        author=document.author,
        statements=len(document.statements),
        proposals=proposals,
        unmatched=unmatched,
    )


def list_proposals(session: Session, state: str = "open") -> list[ProposalOut]:
    proposals = list(
        session.execute(
            select(VexProposal).where(VexProposal.state == state).order_by(VexProposal.id)
        ).scalars()
    )
    rows = {
        r.finding.id: r
        for r in triage_rows(
            session, finding_ids=[p.finding_id for p in proposals], include_withdrawn=True
        )
    }
    return [
        ProposalOut(
            id=p.id,
            finding_id=p.finding_id,
            vulnerability_id=rows[p.finding_id].vulnerability.id,
            product=rows[p.finding_id].product.name,
            release=rows[p.finding_id].release.version,
            component=rows[p.finding_id].component.name,
            component_version=rows[p.finding_id].component.version,
            source_format=p.source_format,
            source_author=p.source_author,
            source_document=p.source_document,
            vex_status=p.vex_status,
            justification=p.justification,
            impact_statement=p.impact_statement,
            action_statement=p.action_statement,
            state=p.state,
            created_at=p.created_at,
        )
        for p in proposals
        if p.finding_id in rows
    ]


def _proposal(session: Session, proposal_id: int) -> VexProposal:
    proposal = session.get(VexProposal, proposal_id)
    if proposal is None:
        raise NotFound(f"no VEX proposal {proposal_id}")
    if proposal.state != "open":
        raise Conflict(f"proposal {proposal_id} is already {proposal.state}")
    return proposal


def accept_proposal(
    session: Session,
    proposal_id: int,
    *,
    actor: Principal,
    fixed_release: str | None = None,
) -> Decision:
    """Make the supplier's statement the finding's decision (it must be complete)."""
    proposal = _proposal(session, proposal_id)
    data = DecisionIn(
        vex_status=VexStatus(proposal.vex_status),
        justification=Justification(proposal.justification) if proposal.justification else None,
        impact_statement=proposal.impact_statement,
        action_statement=proposal.action_statement,
        fixed_release=fixed_release,
        reason=f"accepted supplier VEX from {proposal.source_author or proposal.source_format} "
        f"({proposal.source_document})",
    )
    decision = decide(session, proposal.finding_id, data, actor=actor)
    proposal.state = "accepted"
    proposal.resolved_by = actor.actor[:300]
    proposal.resolved_at = utcnow()
    session.flush()
    return decision


def reject_proposal(session: Session, proposal_id: int, *, actor: Principal) -> None:
    proposal = _proposal(session, proposal_id)
    proposal.state = "rejected"
    proposal.resolved_by = actor.actor[:300]
    proposal.resolved_at = utcnow()
    audit.record(
        session,
        actor=actor.actor,
        action="vex.proposal_rejected",
        object_type="finding",
        object_id=proposal.finding_id,
        after={"proposal": proposal.id},
    )
    session.flush()


# --- export -------------------------------------------------------------------------------------


def statements(session: Session, rows: list[TriageRow]) -> list[vex.VexStatement]:
    fixed_ids = {
        r.decision.fixed_release_id for r in rows if r.decision and r.decision.fixed_release_id
    }
    fixed: dict[int, ReleaseRef] = {}
    if fixed_ids:
        for release, product in session.execute(
            select(Release, Product)
            .join(Product, Product.id == Release.product_id)
            .where(Release.id.in_(fixed_ids))
        ):
            fixed[release.id] = ReleaseRef(
                product.slug, product.name, release.version, product.model_id
            )
    out = []
    for r in rows:
        d = r.decision
        out.append(
            vex.VexStatement(
                vulnerability_id=r.vulnerability.id,
                aliases=tuple(r.vulnerability.aliases or ()),
                description=r.vulnerability.summary or r.vulnerability.details[:500],
                component=r.component_ref(),
                status=r.status,
                justification=Justification(d.justification) if d and d.justification else None,
                impact_statement=d.impact_statement if d else "",
                action_statement=d.action_statement if d else "",
                fixed_in=fixed.get(d.fixed_release_id) if d and d.fixed_release_id else None,
                timestamp=d.decided_at if d else None,
            )
        )
    return out


def export_vex(
    session: Session,
    product_ref: str,
    release_version: str | None,
    fmt: str,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The VEX document of a product (every release) or one release, checked against its
    schema (and, for CSAF, the mandatory tests) before it is handed out."""
    if fmt not in vex.WRITERS:
        raise InvalidInput(f"unknown VEX format {fmt!r}; choose one of: {', '.join(vex.FORMATS)}")
    product = portfolio.get_product(session, product_ref)
    if release_version:
        releases = [portfolio.get_release(session, product.id, release_version)]
    else:
        releases = portfolio.list_releases(session, product.id)
    rows = triage_rows(session, release_ids=[r.id for r in releases])
    suffix = release_version or "all"
    header = vex.VexHeader(
        document_id=f"{product.slug}-{suffix}-vex",
        title=f"VEX for {product.name} {release_version or '(all releases)'}",
        author=settings.manufacturer_name,
        namespace=settings.base_url.rstrip("/"),
        timestamp=now or utcnow(),
        releases=tuple(
            ReleaseRef(product.slug, product.name, r.version, product.model_id) for r in releases
        ),
    )
    document = vex.WRITERS[fmt](header, statements(session, rows))
    problems = vex.validate_export(fmt, document)
    if problems:  # a defect of fleetcare, not of the user's data: say so plainly
        raise RuntimeError(f"the {fmt} VEX export failed its own schema: {problems[:3]}")
    return document
