"""Article 14 operations: cases, their deadlines, stage reports, alerts and user notices.

A case starts in one of three ways, and its clocks run from the confirmed `aware_at`:

    case, deliveries = open_case(session, CaseIn(...), actor=who, settings=s)      # by hand
    case, deliveries = open_case(session, CaseIn(..., report="VR-7K3M-Q9TX"), ...)  # from a report
    proposed, deliveries = propose_cases(session, settings=s)  # KEV/EUVD hits on released products
    confirm_case(session, proposed[0], ConfirmIn(aware_at=..., awareness_evidence=...), ...)

Opening (or confirming) a case creates its stage documents, prefilled from what fleetcare knows.
People edit them; `submit_document` checks the statutory content is complete, records when and
under which reference it was filed on the ENISA single reporting platform, and freezes it.
`deadline_alerts` (a job every few minutes) warns at the configured lead times and when a
deadline is missed. Every change writes an audit event on the case; callers commit and then
dispatch the returned deliveries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleetcare.core import audit, notify
from fleetcare.core.auth import Principal, normalise_email, system_principal
from fleetcare.core.db import utcnow
from fleetcare.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from fleetcare.core.notify_models import Delivery
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service as disclosure
from fleetcare.matching import service as matching
from fleetcare.portfolio import service as portfolio
from fleetcare.reporting import rules
from fleetcare.reporting.models import Case, CaseDocument, CaseProduct, UserNotice
from fleetcare.reporting.rules import CaseKind, Stage, Urgency
from fleetcare.reporting.schemas import (
    Audience,
    BoardItemOut,
    CaseDetail,
    CaseIn,
    CaseOut,
    CasePatch,
    CaseProductIn,
    CaseProductOut,
    CaseStatus,
    ConfirmIn,
    DeadlineOut,
    DocumentOut,
    FieldOut,
    IntermediateIn,
    NoticeIn,
    NoticeOut,
    SubmitIn,
)

EXPORT_FORMAT = "fleetcare-cra-article14-report/1"
#: Submissions may be recorded a little ahead of the server clock (another machine's clock).
CLOCK_SKEW = dt.timedelta(minutes=5)
STAGES = (Stage.EARLY_WARNING, Stage.NOTIFICATION, Stage.FINAL)


def zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def parse_zone(name: str | None, settings: Settings) -> ZoneInfo:
    """The zone a person asked to see times in, or the manufacturer's."""
    if not name:
        return zone(settings)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from None


def local_text(moment: dt.datetime | None, tz: ZoneInfo) -> str | None:
    if moment is None:
        return None
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def utc_text(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def csirt(settings: Settings) -> rules.CsirtChoice | None:
    return rules.coordinating_csirt(
        main_establishment=settings.manufacturer_main_establishment,
        authorised_representative=settings.authorised_representative_state,
        importer=settings.importer_state,
        distributor=settings.distributor_state,
        most_users=settings.most_users_state,
    )


def csirt_label(case: Case, settings: Settings) -> str:
    if not case.csirt_member_state:
        return ""
    if settings.coordinating_csirt_name:
        return settings.coordinating_csirt_name
    return rules.CsirtChoice(case.csirt_member_state, case.csirt_basis).label


def default_member_states(settings: Settings) -> list[str]:
    if settings.markets:
        return [m for m in settings.markets if rules.member_state(m)]
    home = rules.member_state(settings.manufacturer_main_establishment)
    return [home] if home else []


def _member_states(codes: Iterable[str]) -> list[str]:
    found = []
    for code in codes:
        state = rules.member_state(code)
        if state is None:
            raise InvalidInput(f"{code!r} is not an EU Member State code such as DE or FR")
        if state not in found:
            found.append(state)
    return sorted(found)


def _vulnerability_ids(ids: Iterable[str]) -> list[str]:
    found = []
    for raw in ids:
        value = raw.strip()
        value = value.upper() if value.upper().startswith(("CVE-", "EUVD-", "GHSA-")) else value
        if not disclosure.VULNERABILITY_ID.match(value):
            raise InvalidInput(f"{raw!r} is not a vulnerability id such as CVE-2026-1234")
        if value not in found:
            found.append(value)
    return found


def _case_products(session: Session, items: Sequence[CaseProductIn]) -> list[CaseProduct]:
    products: dict[int, CaseProduct] = {}
    for item in items:
        product = portfolio.get_product(session, item.product)
        versions = []
        for version in item.versions:
            if version and version not in versions:
                portfolio.get_release(session, product.id, version)  # NotFound names it
                versions.append(version)
        if product.id in products:
            raise InvalidInput(f"product {product.name!r} is listed twice")
        products[product.id] = CaseProduct(product_id=product.id, versions=versions)
    return list(products.values())


def _new_reference(session: Session, now: dt.datetime) -> str:
    prefix = f"A14-{now.year}-"
    count = session.execute(
        select(func.count(Case.id)).where(Case.reference.like(prefix + "%"))
    ).scalar_one()
    number = count + 1
    while session.execute(select(Case.id).where(Case.reference == f"{prefix}{number:04d}")).first():
        number += 1
    return f"{prefix}{number:04d}"


def _record(
    session: Session,
    case: Case,
    actor: str,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="case",
        object_id=case.id,
        before=before,
        after={"reference": case.reference, **(after or {})},
    )


def _check_awareness(aware_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    if aware_at > now + CLOCK_SKEW:
        raise InvalidInput("aware_at is in the future; record when awareness was confirmed")
    return aware_at.astimezone(dt.UTC)


# --- opening cases -------------------------------------------------------------------------


def _start_clocks(
    session: Session,
    case: Case,
    aware_at: dt.datetime,
    evidence: str,
    actor: Principal,
    settings: Settings,
    now: dt.datetime,
) -> None:
    """Awareness is confirmed: record it, fix the coordinating CSIRT, prepare the documents."""
    case.aware_at = aware_at
    case.awareness_evidence = evidence
    case.confirmed_by = actor.actor
    case.confirmed_at = now
    case.status = CaseStatus.OPEN.value
    choice = csirt(settings)
    case.csirt_member_state = choice.member_state if choice else ""
    case.csirt_basis = choice.basis if choice else ""
    case.manufacturer_size = settings.manufacturer_size
    session.flush()
    for stage in STAGES:
        if not any(d.stage == stage.value for d in case.documents):
            case.documents.append(
                CaseDocument(stage=stage.value, sequence=1, content=prefill(session, case, stage))
            )


def open_case(
    session: Session,
    data: CaseIn,
    *,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> tuple[Case, list[Delivery]]:
    now = now or utcnow()
    aware_at = _check_awareness(data.aware_at, now)
    report = disclosure.report_brief(session, data.report) if data.report else None
    items = list(data.products)
    if not items and report is not None and report.product_id is not None:
        versions = [report.affected_version] if report.affected_version else []
        product = portfolio.get_product(session, report.product_id)
        known = {r.version for r in portfolio.list_releases(session, product.id)}
        items = [
            CaseProductIn(product=str(product.id), versions=[v for v in versions if v in known])
        ]
    vulnerabilities = list(data.vulnerability_ids)
    if report is not None:
        vulnerabilities += list(report.vulnerability_ids)
    case = Case(
        reference=_new_reference(session, now),
        kind=data.kind.value,
        title=data.title,
        summary=data.summary or (report.description[:5000] if report else ""),
        origin="report" if report else "manual",
        report_id=report.id if report else None,
        member_states=_member_states(
            data.member_states
            if data.member_states is not None
            else default_member_states(settings)
        ),
        vulnerability_ids=_vulnerability_ids(vulnerabilities),
        created_by=actor.actor,
        created_at=now,
    )
    case.products = _case_products(session, items)
    session.add(case)
    _start_clocks(session, case, aware_at, data.awareness_evidence, actor, settings, now)
    _record(
        session,
        case,
        actor.actor,
        "case.open",
        after={
            "kind": case.kind,
            "aware_at": case.aware_at,
            "origin": case.origin,
            "report": report.tracking_id if report else None,
            "csirt": case.csirt_member_state or None,
        },
    )
    return case, _announce(session, case, settings, "case.opened", "opened", now)


def _announce(
    session: Session, case: Case, settings: Settings, event: str, verb: str, now: dt.datetime
) -> list[Delivery]:
    url = case_url(settings, case)
    lines = [f"{case.reference} ({rules.KIND_LABELS[case.kind]}) was {verb}: {case.title}", ""]
    if case.aware_at is not None:
        tz = zone(settings)
        for deadline in case_deadlines(case, settings, now, tz):
            if deadline.due is not None and deadline.submitted_at is None:
                lines.append(
                    f"  {rules.STAGE_LABELS[deadline.stage.value]} due {utc_text(deadline.due)} "
                    f"({deadline.due_local})"
                )
    else:
        lines.append("Confirm when the manufacturer became aware of it, or dismiss it.")
    lines += ["", url]
    deliveries: list[Delivery] = []
    for address in notify.team_addresses(session, settings):
        deliveries += notify.queue_email(
            session,
            to=address,
            subject=f"[{case.reference}] Article 14 case {verb}: {case.title}",
            body="\n".join(lines) + "\n",
            event=event,
            object_type="case",
            object_id=case.id,
        )
    deliveries += notify.queue_webhooks(
        session,
        event=event,
        data={
            "reference": case.reference,
            "kind": case.kind,
            "title": case.title,
            "url": url,
            "aware_at": case.aware_at.isoformat() if case.aware_at else None,
        },
        object_type="case",
        object_id=case.id,
    )
    return deliveries


def case_url(settings: Settings, case: Case) -> str:
    return f"{settings.base_url.rstrip('/')}/cases/{case.reference}"


def propose_cases(
    session: Session, *, settings: Settings, now: dt.datetime | None = None
) -> tuple[list[Case], list[Delivery]]:
    """Propose a case for each known-exploited vulnerability that hits a released product, once
    per (vulnerability, product). The security team confirms or dismisses each."""
    now = now or utcnow()
    groups: dict[tuple[str, int], list[matching.FindingView]] = {}
    for view in matching.exploited_candidates(session):
        groups.setdefault((view.vulnerability_id, view.product_id), []).append(view)
    proposed: list[Case] = []
    deliveries: list[Delivery] = []
    actor = system_principal("exploited-candidates")
    for (vulnerability, product_id), views in sorted(groups.items()):
        key = f"{vulnerability}:{product_id}"
        if session.execute(select(Case.id).where(Case.proposal_key == key)).first():
            continue
        versions = sorted({v.release_version for v in views})
        components = sorted({f"{v.component_name} {v.component_version}" for v in views})
        source = "CISA KEV" if any(v.kev for v in views) else "EUVD"
        case = Case(
            reference=_new_reference(session, now),
            kind=CaseKind.EXPLOITED_VULNERABILITY.value,
            title=f"{vulnerability} exploited, affects {views[0].product_name}",
            summary=(
                f"{vulnerability} is listed as actively exploited ({source}) and matches "
                f"{', '.join(components)} in released versions {', '.join(versions)} of "
                f"{views[0].product_name}."
            ),
            status=CaseStatus.PROPOSED.value,
            origin="proposed",
            member_states=default_member_states(settings),
            vulnerability_ids=[vulnerability],
            finding_ids=sorted({v.finding_id for v in views}),
            proposal_key=key,
            created_by=actor.actor,
            created_at=now,
        )
        case.products = [CaseProduct(product_id=product_id, versions=versions)]
        session.add(case)
        _record(
            session,
            case,
            actor.actor,
            "case.propose",
            after={
                "vulnerability": vulnerability,
                "product_id": product_id,
                "findings": case.finding_ids,
                "source": source,
            },
        )
        proposed.append(case)
        deliveries += _announce(session, case, settings, "case.proposed", "proposed", now)
    return proposed, deliveries


def confirm_case(
    session: Session,
    case: Case,
    data: ConfirmIn,
    *,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> list[Delivery]:
    now = now or utcnow()
    if case.status != CaseStatus.PROPOSED.value:
        raise Conflict(f"case {case.reference} is {case.status}; only proposed cases are confirmed")
    aware_at = _check_awareness(data.aware_at, now)
    _start_clocks(session, case, aware_at, data.awareness_evidence, actor, settings, now)
    _record(
        session,
        case,
        actor.actor,
        "case.confirm",
        before={"status": CaseStatus.PROPOSED.value},
        after={
            "status": case.status,
            "aware_at": case.aware_at,
            "csirt": case.csirt_member_state or None,
        },
    )
    return _announce(session, case, settings, "case.opened", "confirmed", now)


def dismiss_case(session: Session, case: Case, reason: str, *, actor: Principal) -> None:
    if case.status != CaseStatus.PROPOSED.value:
        raise Conflict(
            f"case {case.reference} is {case.status}; only proposed cases are dismissed "
            "(close an open case instead)"
        )
    case.status = CaseStatus.DISMISSED.value
    case.close_reason = reason
    case.closed_at = utcnow()
    _record(session, case, actor.actor, "case.dismiss", after={"reason": reason})


def close_case(session: Session, case: Case, reason: str, *, actor: Principal) -> None:
    if case.status != CaseStatus.OPEN.value:
        raise Conflict(f"case {case.reference} is {case.status}, not open")
    case.status = CaseStatus.CLOSED.value
    case.close_reason = reason
    case.closed_at = utcnow()
    unsent = [d.key for d in case.documents if d.status != "submitted"]
    _record(
        session, case, actor.actor, "case.close", after={"reason": reason, "unsubmitted": unsent}
    )


def update_case(
    session: Session,
    case: Case,
    patch: CasePatch,
    *,
    actor: Principal,
    now: dt.datetime | None = None,
) -> Case:
    now = now or utcnow()
    if case.status in (CaseStatus.CLOSED.value, CaseStatus.DISMISSED.value):
        raise Conflict(f"case {case.reference} is {case.status}")
    fields = patch.model_fields_set
    before = _facts(case)
    if "title" in fields and patch.title:
        case.title = patch.title
    if "summary" in fields and patch.summary is not None:
        case.summary = patch.summary
    if "aware_at" in fields and patch.aware_at is not None:
        if case.aware_at is None:
            raise Conflict("confirm the case to record awareness")
        if any(d.status == "submitted" for d in case.documents):
            raise Conflict(
                "a stage report was already submitted with this awareness time; it stays"
            )
        case.aware_at = _check_awareness(patch.aware_at, now)
    if "measure_available_at" in fields:
        if patch.measure_available_at is not None:
            _check_awareness(patch.measure_available_at, now)
        case.measure_available_at = patch.measure_available_at
    if "member_states" in fields and patch.member_states is not None:
        case.member_states = _member_states(patch.member_states)
    if "vulnerability_ids" in fields and patch.vulnerability_ids is not None:
        case.vulnerability_ids = _vulnerability_ids(patch.vulnerability_ids)
    if "products" in fields and patch.products is not None:
        case.products = _case_products(session, patch.products)
    session.flush()
    after = _facts(case)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        _record(
            session,
            case,
            actor.actor,
            "case.update",
            before={k: before[k] for k in changed},
            after=changed,
        )
    return case


def _facts(case: Case) -> dict[str, Any]:
    return {
        "title": case.title,
        "summary": case.summary,
        "aware_at": case.aware_at,
        "measure_available_at": case.measure_available_at,
        "member_states": list(case.member_states),
        "vulnerability_ids": list(case.vulnerability_ids),
        "products": [(p.product_id, list(p.versions)) for p in case.products],
    }


def get_case(session: Session, ref: str) -> Case:
    """A case by reference (A14-2026-0001) or id."""
    case = None
    if ref.isdigit():
        case = session.get(Case, int(ref))
    if case is None:
        case = session.execute(select(Case).where(Case.reference == ref.strip().upper())).scalar()
    if case is None:
        raise NotFound(f"no case {ref!r}")
    return case


def list_cases(
    session: Session, statuses: Sequence[CaseStatus] | None = None, limit: int = 500
) -> list[Case]:
    query = select(Case).order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
    if statuses:
        query = query.where(Case.status.in_([s.value for s in statuses]))
    return list(session.execute(query).scalars())


# --- prefilling ----------------------------------------------------------------------------


def _product_lines(session: Session, case: Case) -> list[str]:
    lines = []
    for item in case.products:
        product = portfolio.get_product(session, item.product_id)
        versions = ", ".join(item.versions) if item.versions else "all versions"
        line = f"{product.name}"
        if product.model_id:
            line += f" (model {product.model_id})"
        line += f", versions: {versions}"
        if product.intended_purpose:
            line += f". Intended purpose: {product.intended_purpose}"
        line += f". Security support until {product.support_end}."
        lines.append(line)
    return lines


def _security_releases(session: Session, case: Case) -> list[str]:
    """Security or mixed releases of the case's products issued since awareness."""
    since = case.aware_at.date() if case.aware_at else None
    found = []
    for item in case.products:
        product = portfolio.get_product(session, item.product_id)
        for release in portfolio.list_releases(session, product.id):
            if (
                release.kind in portfolio.SECURITY_KINDS
                and release.status == "released"
                and (since is None or release.release_date >= since)
            ):
                found.append(f"{product.name} {release.version} (released {release.release_date})")
    return found


def _findings(session: Session, case: Case) -> list[matching.FindingView]:
    views = []
    for finding_id in case.finding_ids:
        view = matching.finding_view(session, finding_id)
        if view is not None:
            views.append(view)
    for vulnerability in case.vulnerability_ids:
        product_ids = {p.product_id for p in case.products}
        for view in matching.findings_for_vulnerability(session, vulnerability):
            if view.product_id in product_ids and view not in views:
                views.append(view)
    return views


def prefill(session: Session, case: Case, stage: Stage) -> dict[str, Any]:
    """Suggested content for a stage document from the case, its products, findings, releases
    and the report it came from. People check and complete it before submitting."""
    kind = CaseKind(case.kind)
    products = _product_lines(session, case)
    findings = _findings(session, case)
    releases = _security_releases(session, case)
    scores = [f.cvss_score for f in findings if f.cvss_score is not None]
    report = None
    if case.report_id is not None:
        tracking = disclosure.tracking_id_for(session, case.report_id)
        report = disclosure.report_brief(session, tracking) if tracking else None
    vulnerability_text = "; ".join(
        sorted(
            {
                f"{f.vulnerability_id} in {f.component_name} {f.component_version}"
                + (f" (CVSS {f.cvss_score:g})" if f.cvss_score is not None else "")
                for f in findings
            }
        )
    ) or ", ".join(case.vulnerability_ids)
    fixes = "Security updates: " + "; ".join(releases) + "." if releases else ""
    user_fix = (
        "Install the security update " + "; ".join(releases) + " or later." if releases else ""
    )
    values: dict[str, Any] = {
        "member_states": list(case.member_states),
        "product_information": "\n".join(products),
        "vulnerability_nature": vulnerability_text,
        "exploit_nature": (
            "Listed as actively exploited in the CISA Known Exploited Vulnerabilities catalogue."
            if any(f.kev for f in findings)
            else ""
        ),
        "corrective_measures_taken": fixes,
        "user_measures": user_fix,
        "sensitivity": "TLP:AMBER",
        "vulnerability_description": (report.description if report else case.summary),
        "severity": rules.severity_from_cvss(max(scores) if scores else None),
        "impact": report.impact if report else "",
        "security_update_details": fixes,
        "incident_nature": case.summary,
        "initial_assessment": "",
        "incident_description": case.summary,
        "mitigation_measures": fixes,
    }
    names = [f.name for f in rules.FIELDS[(kind, stage)]]
    return {name: values.get(name, "" if name != "member_states" else []) for name in names}


# --- documents -----------------------------------------------------------------------------


def get_document(case: Case, key: str) -> CaseDocument:
    stage, _, number = key.partition("-")
    for document in case.documents:
        if document.stage == stage and (
            (stage != Stage.INTERMEDIATE.value and not number)
            or (stage == Stage.INTERMEDIATE.value and number == str(document.sequence))
        ):
            return document
    raise NotFound(
        f"case {case.reference} has no document {key!r}; it has: "
        + ", ".join(d.key for d in documents_in_order(case))
    )


def documents_in_order(case: Case) -> list[CaseDocument]:
    order = {
        Stage.EARLY_WARNING.value: 0,
        Stage.NOTIFICATION.value: 1,
        Stage.INTERMEDIATE.value: 2,
        Stage.FINAL.value: 3,
    }
    return sorted(case.documents, key=lambda d: (order[d.stage], d.sequence))


def _writable(case: Case, document: CaseDocument) -> None:
    if document.status == "submitted":
        raise Conflict(
            f"the {document.key} of {case.reference} was submitted on "
            f"{utc_text(document.submitted_at or utcnow())} (reference "
            f"{document.submitted_reference}) and is frozen; file corrections as an "
            "intermediate report"
        )
    if case.status != CaseStatus.OPEN.value:
        raise Conflict(f"case {case.reference} is {case.status}; its documents cannot change")


def save_document(
    session: Session, case: Case, key: str, content: dict[str, Any], *, actor: Principal
) -> CaseDocument:
    """Replace the given fields of a draft; fields left out keep their value."""
    document = get_document(case, key)
    _writable(case, document)
    merged = {**document.content, **content}
    if "member_states" in content and isinstance(content["member_states"], list):
        merged["member_states"] = _member_states(content["member_states"])
    problems = rules.content_problems(
        CaseKind(case.kind), Stage(document.stage), merged, for_submission=False
    )
    if problems:
        raise InvalidInput(
            f"the {document.key} cannot be saved: {problems[0]}", {"problems": problems}
        )
    changed = sorted(k for k in merged if document.content.get(k) != merged[k])
    document.content = merged
    if changed:
        _record(
            session,
            case,
            actor.actor,
            "case.document.edit",
            after={"document": document.key, "fields": changed},
        )
    return document


def refill_document(session: Session, case: Case, key: str, *, actor: Principal) -> CaseDocument:
    """Fill the draft's empty fields from what fleetcare knows now (a fix released since, ...)."""
    document = get_document(case, key)
    _writable(case, document)
    suggested = prefill(session, case, Stage(document.stage))
    filled = {k: v for k, v in suggested.items() if v and not document.content.get(k)}
    if filled:
        document.content = {**document.content, **filled}
        _record(
            session,
            case,
            actor.actor,
            "case.document.prefill",
            after={"document": document.key, "fields": sorted(filled)},
        )
    return document


def submission_problems(case: Case, document: CaseDocument) -> list[str]:
    """Everything that stops this document from being submitted now."""
    problems = rules.content_problems(CaseKind(case.kind), Stage(document.stage), document.content)
    if case.aware_at is None:
        problems.append("the case has no confirmed awareness time")
    if not case.products:
        problems.append("name the product(s) concerned on the case")
    if not case.csirt_member_state:
        problems.append(
            "no coordinating CSIRT: set FLEETCARE_MANUFACTURER_MAIN_ESTABLISHMENT (or the "
            "authorised representative, importer, distributor or most-users Member State)"
        )
    if document.stage == Stage.FINAL.value:
        notification = next(
            (d for d in case.documents if d.stage == Stage.NOTIFICATION.value), None
        )
        if notification is None or notification.status != "submitted":
            problems.append("submit the notification before the final report")
        if (
            case.kind == CaseKind.EXPLOITED_VULNERABILITY.value
            and case.measure_available_at is None
        ):
            problems.append(
                "record when the corrective or mitigating measure became available "
                "(measure_available_at) before the final report"
            )
    return problems


def submit_document(
    session: Session,
    case: Case,
    key: str,
    data: SubmitIn,
    *,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> tuple[CaseDocument, list[Delivery]]:
    """Record the filing on the ENISA platform and freeze the document as filed."""
    now = now or utcnow()
    document = get_document(case, key)
    _writable(case, document)
    problems = submission_problems(case, document)
    if problems:
        raise RuleViolation(
            f"the {document.key} is not complete: {problems[0]}", {"problems": problems}
        )
    submitted_at = (data.submitted_at or now).astimezone(dt.UTC)
    if submitted_at > now + CLOCK_SKEW:
        raise InvalidInput("submitted_at is in the future")
    assert case.aware_at is not None
    if submitted_at < case.aware_at:
        raise InvalidInput("submitted_at is before the manufacturer became aware")
    document.status = "submitted"
    document.submitted_at = submitted_at
    document.submitted_reference = data.reference
    document.submitted_by = actor.actor
    snapshot = export_document(session, case, document, settings)
    document.snapshot = snapshot
    document.snapshot_sha256 = hashlib.sha256(_canonical(snapshot)).hexdigest()
    _record(
        session,
        case,
        actor.actor,
        "case.document.submit",
        after={
            "document": document.key,
            "submitted_at": submitted_at,
            "platform_reference": data.reference,
            "sha256": document.snapshot_sha256,
        },
    )
    deliveries = notify.queue_webhooks(
        session,
        event="case.document_submitted",
        data={
            "reference": case.reference,
            "document": document.key,
            "submitted_at": submitted_at.isoformat(),
            "platform_reference": data.reference,
        },
        object_type="case",
        object_id=case.id,
    )
    return document, deliveries


def add_intermediate(
    session: Session, case: Case, data: IntermediateIn, *, actor: Principal
) -> CaseDocument:
    """The coordinating CSIRT asked for an intermediate report on relevant status updates."""
    if case.status != CaseStatus.OPEN.value:
        raise Conflict(f"case {case.reference} is {case.status}, not open")
    sequence = 1 + max(
        (d.sequence for d in case.documents if d.stage == Stage.INTERMEDIATE.value), default=0
    )
    document = CaseDocument(
        stage=Stage.INTERMEDIATE.value,
        sequence=sequence,
        content={"csirt_request": data.csirt_request, "status_update": ""},
        requested_due=data.due.astimezone(dt.UTC) if data.due else None,
    )
    case.documents.append(document)
    _record(
        session,
        case,
        actor.actor,
        "case.intermediate",
        after={"document": document.key, "requested_due": document.requested_due},
    )
    return document


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def export_document(
    session: Session, case: Case, document: CaseDocument, settings: Settings
) -> dict[str, Any]:
    """The document as filed or to be filed: what the platform asks, plus who and what it is
    about. A submitted document returns exactly what was frozen at submission."""
    if document.snapshot is not None:
        return document.snapshot
    kind, stage = CaseKind(case.kind), Stage(document.stage)
    deadline = next(
        (
            d
            for d in case_deadlines(case, settings, utcnow(), zone(settings))
            if d.document == document.key
        ),
        None,
    )
    products = []
    for item in case.products:
        product = portfolio.get_product(session, item.product_id)
        products.append(
            {
                "name": product.name,
                "model": product.model_id,
                "versions": list(item.versions) or ["all"],
            }
        )
    fields = rules.FIELDS[(kind, stage)]
    return {
        "format": EXPORT_FORMAT,
        "regulation": "Regulation (EU) 2024/2847 (Cyber Resilience Act), Article 14",
        "case": case.reference,
        "title": case.title,
        "kind": kind.value,
        "kind_label": rules.KIND_LABELS[kind.value],
        "document": document.key,
        "stage": stage.value,
        "stage_label": rules.STAGE_LABELS[stage.value],
        "legal_basis": sorted({f.basis for f in fields if f.basis}),
        "manufacturer": {
            "name": settings.manufacturer_name,
            "address": settings.manufacturer_address,
            "security_contact": settings.security_email
            or f"{settings.base_url.rstrip('/')}/security/report",
            "size": case.manufacturer_size or settings.manufacturer_size,
        },
        "coordinating_csirt": {
            "member_state": case.csirt_member_state,
            "name": csirt_label(case, settings),
            "basis": case.csirt_basis,
        },
        "products": products,
        "vulnerabilities": list(case.vulnerability_ids),
        "aware_at": case.aware_at.isoformat() if case.aware_at else None,
        "due": deadline.due.isoformat() if deadline and deadline.due else None,
        "content": {f.name: document.content.get(f.name, "") for f in fields},
        "fields": [
            {"name": f.name, "label": f.label, "basis": f.basis, "required": f.required}
            for f in fields
        ],
        "status": document.status,
        "submitted_at": document.submitted_at.isoformat() if document.submitted_at else None,
        "platform_reference": document.submitted_reference or None,
    }


# --- deadlines, the board and alerts -------------------------------------------------------


def _submitted(case: Case, stage: Stage) -> CaseDocument | None:
    for document in case.documents:
        if document.stage == stage.value and document.status == "submitted":
            return document
    return None


def case_deadlines(
    case: Case, settings: Settings, now: dt.datetime, tz: ZoneInfo
) -> list[DeadlineOut]:
    """Each stage's deadline with its state; empty until awareness is confirmed."""
    if case.aware_at is None:
        return []
    notification = _submitted(case, Stage.NOTIFICATION)
    statutory = rules.deadlines(
        CaseKind(case.kind),
        case.aware_at,
        zone=zone(settings),
        measure_available_at=case.measure_available_at,
        notification_submitted_at=notification.submitted_at if notification else None,
    )
    found = []
    for stage in (Stage.EARLY_WARNING, Stage.NOTIFICATION):
        found.append(_deadline_out(statutory[stage], stage.value, _submitted(case, stage), now, tz))
    for document in documents_in_order(case):
        if document.stage == Stage.INTERMEDIATE.value:
            rule = rules.Deadline(
                Stage.INTERMEDIATE,
                document.requested_due,
                "when the coordinating CSIRT asked for it",
                waiting_for="" if document.requested_due else "no date was given by the CSIRT",
            )
            done = document if document.status == "submitted" else None
            found.append(_deadline_out(rule, document.key, done, now, tz))
    found.append(
        _deadline_out(
            statutory[Stage.FINAL], Stage.FINAL.value, _submitted(case, Stage.FINAL), now, tz
        )
    )
    return found


def _deadline_out(
    deadline: rules.Deadline,
    key: str,
    submitted: CaseDocument | None,
    now: dt.datetime,
    tz: ZoneInfo,
) -> DeadlineOut:
    return DeadlineOut(
        stage=deadline.stage,
        document=key,
        due=deadline.due,
        due_local=local_text(deadline.due, tz),
        rule=deadline.rule,
        provisional=deadline.provisional,
        waiting_for=deadline.waiting_for,
        submitted_at=submitted.submitted_at if submitted else None,
        urgency=rules.urgency(deadline.due, now, done=submitted is not None),
    )


def next_deadline(deadlines: Sequence[DeadlineOut]) -> DeadlineOut | None:
    pending = [d for d in deadlines if d.submitted_at is None and d.due is not None]
    return min(pending, key=lambda d: d.due or utcnow(), default=None)


def board(
    session: Session, settings: Settings, now: dt.datetime, tz: ZoneInfo
) -> list[BoardItemOut]:
    """Everything due: open cases' stage reports and promises to reporters. Overdue first, then
    by due time; deadlines that cannot be known yet come last."""
    items: list[BoardItemOut] = []
    for case in list_cases(session, [CaseStatus.OPEN]):
        for deadline in case_deadlines(case, settings, now, tz):
            if deadline.submitted_at is not None:
                continue
            items.append(
                BoardItemOut(
                    kind="case",
                    reference=case.reference,
                    title=case.title,
                    what=rules.STAGE_LABELS[deadline.stage.value]
                    + (
                        f" {deadline.document.rsplit('-', 1)[-1]}"
                        if deadline.stage is Stage.INTERMEDIATE
                        else ""
                    )
                    + (" (provisional)" if deadline.provisional else ""),
                    due=deadline.due,
                    due_local=deadline.due_local,
                    left=rules.describe_left(deadline.due, now)
                    if deadline.due
                    else f"waiting for {deadline.waiting_for}",
                    urgency=deadline.urgency,
                    url=f"/cases/{case.reference}",
                )
            )
    for owed in disclosure.open_report_deadlines(session, settings, now):
        items.append(
            BoardItemOut(
                kind="report",
                reference=owed.tracking_id,
                title=owed.title,
                what=owed.what,
                due=owed.due,
                due_local=local_text(owed.due, tz),
                left=rules.describe_left(owed.due, now),
                urgency=rules.urgency(owed.due, now),
                url=f"/disclosure/{owed.tracking_id}",
            )
        )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(
        items,
        key=lambda i: (
            rules.URGENCY_ORDER[i.urgency] if i.urgency is Urgency.OVERDUE else 1,
            i.due or far,
            i.reference,
        ),
    )


def deadline_alerts(
    session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[Delivery]:
    """Alerts owed now: at each configured lead time before a deadline and when it is missed
    (then daily). Each goes out once per deadline, step and recipient."""
    now = now or utcnow()
    tz = zone(settings)
    addresses = notify.team_addresses(session, settings)
    deliveries: list[Delivery] = []
    for case in list_cases(session, [CaseStatus.OPEN]):
        for deadline in case_deadlines(case, settings, now, tz):
            if deadline.submitted_at is not None or deadline.due is None:
                continue
            step = rules.alert_step(deadline.due, now, list(settings.reporting_alert_lead_hours))
            if step is None:
                continue
            label = rules.STAGE_LABELS[deadline.stage.value]
            overdue = step.startswith("overdue")
            state = "OVERDUE" if overdue else "due"
            text = [
                f"The {label} of {case.reference} ({rules.KIND_LABELS[case.kind]}) is {state}: "
                f"{rules.describe_left(deadline.due, now)}.",
                "",
                f"  due   {utc_text(deadline.due)} ({deadline.due_local})",
                f"  rule  {deadline.rule} (CRA Art. 14)",
                "",
                f"Case: {case.title}",
                case_url(settings, case),
            ]
            if deadline.stage is Stage.EARLY_WARNING and case.manufacturer_size in (
                "micro",
                "small",
            ):
                text.append(
                    "\nNote: as a micro or small enterprise the manufacturer is not fined for "
                    "missing the 24-hour early warning deadline (Art. 64(10)); file it anyway."
                )
            key = f"case:{case.id}:{deadline.document}:{deadline.due.isoformat()}:{step}"
            subject = f"[{case.reference}] {label} {state} {rules.describe_left(deadline.due, now)}"
            for address in addresses:
                deliveries += notify.queue_email(
                    session,
                    to=address,
                    subject=subject,
                    body="\n".join(text) + "\n",
                    event="case.deadline",
                    object_type="case",
                    object_id=case.id,
                    dedupe_key=f"{key}:{address}",
                )
            deliveries += notify.queue_webhooks(
                session,
                event="case.deadline",
                data={
                    "reference": case.reference,
                    "document": deadline.document,
                    "stage": deadline.stage.value,
                    "due": deadline.due.isoformat(),
                    "step": step,
                    "overdue": overdue,
                    "url": case_url(settings, case),
                },
                object_type="case",
                object_id=case.id,
                dedupe_key=key,
            )
    return deliveries


# --- user notices (Art. 14(8)) -------------------------------------------------------------


def send_user_notice(
    session: Session,
    case: Case,
    data: NoticeIn,
    *,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> tuple[UserNotice, list[Delivery]]:
    """Inform impacted (or all) users of the vulnerability or incident and what to do; the
    notice is recorded with the time it was sent and one delivery per recipient."""
    now = now or utcnow()
    if case.status not in (CaseStatus.OPEN.value, CaseStatus.CLOSED.value):
        raise Conflict(f"case {case.reference} is {case.status}; confirm it first")
    recipients: list[str] = []
    for raw in data.recipients:
        address = normalise_email(raw)
        if address not in recipients:
            recipients.append(address)
    if not recipients and not data.webhooks:
        raise InvalidInput("name at least one recipient, or send through the webhooks")
    notice = UserNotice(
        audience=data.audience.value,
        subject=data.subject,
        body=data.body,
        recipients=recipients,
        sent_at=now,
        sent_by=actor.actor,
    )
    case.notices.append(notice)
    session.flush()
    deliveries: list[Delivery] = []
    for address in recipients:
        deliveries += notify.queue_email(
            session,
            to=address,
            subject=data.subject,
            body=data.body,
            event="case.user_notice",
            object_type="case",
            object_id=case.id,
            dedupe_key=f"notice:{notice.id}:{address}",
        )
    if data.webhooks:
        webhook_calls = notify.queue_webhooks(
            session,
            event="case.user_notice",
            data={
                "case": case.reference,
                "audience": data.audience.value,
                "subject": data.subject,
                "body": data.body,
                "vulnerabilities": list(case.vulnerability_ids),
                "products": [
                    portfolio.get_product(session, p.product_id).name for p in case.products
                ],
            },
            object_type="case",
            object_id=case.id,
            dedupe_key=f"notice:{notice.id}",
        )
        notice.webhook_calls = len(webhook_calls)
        deliveries += webhook_calls
    _record(
        session,
        case,
        actor.actor,
        "case.user_notice",
        after={
            "notice": notice.id,
            "audience": notice.audience,
            "recipients": len(recipients),
            "webhook_calls": notice.webhook_calls,
        },
    )
    return notice, deliveries


# --- views ---------------------------------------------------------------------------------


def case_out(
    session: Session, case: Case, settings: Settings, now: dt.datetime, tz: ZoneInfo
) -> CaseOut:
    products = []
    for item in case.products:
        product = portfolio.get_product(session, item.product_id)
        products.append(
            CaseProductOut(product=product.name, slug=product.slug, versions=list(item.versions))
        )
    return CaseOut(
        reference=case.reference,
        kind=CaseKind(case.kind),
        title=case.title,
        status=CaseStatus(case.status),
        origin=case.origin,
        aware_at=case.aware_at,
        measure_available_at=case.measure_available_at,
        products=products,
        vulnerability_ids=list(case.vulnerability_ids),
        member_states=list(case.member_states),
        report=disclosure.tracking_id_for(session, case.report_id) if case.report_id else None,
        coordinating_csirt=csirt_label(case, settings),
        csirt_member_state=case.csirt_member_state,
        next_deadline=next_deadline(case_deadlines(case, settings, now, tz))
        if case.status == CaseStatus.OPEN.value
        else None,
    )


def document_out(case: Case, document: CaseDocument) -> DocumentOut:
    kind, stage = CaseKind(case.kind), Stage(document.stage)
    return DocumentOut(
        key=document.key,
        stage=stage,
        sequence=document.sequence,
        status=document.status,
        content=dict(document.content),
        fields=[
            FieldOut(
                name=f.name,
                label=f.label,
                basis=f.basis,
                required=f.required,
                kind=f.kind,
                choices=list(f.choices),
            )
            for f in rules.FIELDS[(kind, stage)]
        ],
        problems=[] if document.status == "submitted" else submission_problems(case, document),
        requested_due=document.requested_due,
        submitted_at=document.submitted_at,
        submitted_reference=document.submitted_reference,
        submitted_by=document.submitted_by,
        snapshot_sha256=document.snapshot_sha256,
    )


def notice_out(notice: UserNotice) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        audience=Audience(notice.audience),
        subject=notice.subject,
        body=notice.body,
        recipients=list(notice.recipients),
        webhook_calls=notice.webhook_calls,
        sent_at=notice.sent_at,
        sent_by=notice.sent_by,
    )


def case_detail(
    session: Session, case: Case, settings: Settings, now: dt.datetime, tz: ZoneInfo
) -> CaseDetail:
    return CaseDetail(
        **case_out(session, case, settings, now, tz).model_dump(),
        summary=case.summary,
        awareness_evidence=case.awareness_evidence,
        confirmed_by=case.confirmed_by,
        confirmed_at=case.confirmed_at,
        finding_ids=list(case.finding_ids),
        manufacturer_size=case.manufacturer_size,
        csirt_basis=case.csirt_basis,
        close_reason=case.close_reason,
        closed_at=case.closed_at,
        created_at=case.created_at,
        created_by=case.created_by,
        deadlines=case_deadlines(case, settings, now, tz),
        documents=[document_out(case, d) for d in documents_in_order(case)],
        notices=[notice_out(n) for n in case.notices],
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    what: str
    who: str
    #: past (it happened), due (a deadline ahead) or missed (a deadline passed unmet).
    state: str


_ACTIONS = {
    "case.open": "case opened",
    "case.propose": "case proposed by fleetcare",
    "case.confirm": "awareness confirmed, clocks started",
    "case.dismiss": "proposal dismissed",
    "case.close": "case closed",
    "case.update": "case facts changed",
    "case.document.edit": "document edited",
    "case.document.prefill": "document prefilled",
    "case.document.submit": "document submitted",
    "case.intermediate": "intermediate report requested",
    "case.user_notice": "users notified",
}


def timeline(
    session: Session, case: Case, settings: Settings, now: dt.datetime
) -> list[TimelineEntry]:
    """What happened on the case (from the audit log) and what is due, in time order."""
    entries = []
    for event in audit.list_events(session, object_type="case", object_id=str(case.id), limit=1000):
        after = event.summary.get("after", {})
        what = _ACTIONS.get(event.action, event.action)
        if isinstance(after, dict) and after.get("document"):
            what += f": {after['document']}"
            if after.get("platform_reference"):
                what += f" (reference {after['platform_reference']})"
        entries.append(TimelineEntry(event.at, what, event.actor, "past"))
    if case.aware_at is not None:
        entries.append(TimelineEntry(case.aware_at, "manufacturer became aware", "", "past"))
    if case.status == CaseStatus.OPEN.value:
        for deadline in case_deadlines(case, settings, now, zone(settings)):
            if deadline.due is None or deadline.submitted_at is not None:
                continue
            state = "missed" if deadline.due <= now else "due"
            entries.append(
                TimelineEntry(deadline.due, f"{deadline.document.replace('_', ' ')} due", "", state)
            )
    return sorted(entries, key=lambda e: e.at)
