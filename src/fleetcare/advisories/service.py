"""Advisories: author from findings and fixed releases, validate, publish, serve, import.

    advisory = create_advisory(session, AdvisoryIn(...), actor=p, settings=s)   # a draft
    problems = validate_advisory(session, advisory, settings)                    # 6.1.x + schema
    publish(session, advisory, PublishIn(status="final"), actor=p, settings=s)   # signed, served
    files = provider_files(session, settings)                                    # the directory
    imported = import_advisory(session, raw, actor=p)                            # a supplier's

A draft's CSAF document is rebuilt from its choices (`spec`) and the current triage decisions
each time it is shown; publishing freezes the exact bytes, with SHA-256/512 and an OpenPGP
signature. A change after publication becomes the next revision when it is published again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fleetcare.advisories import provider
from fleetcare.advisories.models import (
    Advisory,
    AdvisoryRevision,
    AdvisoryVulnerability,
    ImportedAdvisory,
)
from fleetcare.advisories.schemas import (
    AdvisoryIn,
    AdvisoryOut,
    AdvisoryPatch,
    ImportedOut,
    ProblemOut,
    PublishIn,
    RevisionOut,
)
from fleetcare.advisories.signing import Signer
from fleetcare.core import audit, events
from fleetcare.core.auth import Principal
from fleetcare.core.db import utcnow
from fleetcare.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from fleetcare.core.settings import Settings
from fleetcare.disclosure import service as disclosure
from fleetcare.intel import store
from fleetcare.portfolio import service as portfolio
from fleetcare.triage import csafdoc, vex
from fleetcare.triage import service as triage
from fleetcare.triage.csafdoc import CsafProblem, ReleaseRef
from fleetcare.triage.rules import VexStatus

PUBLIC_TLP = "WHITE"
#: One status per release and vulnerability (6.1.6 forbids contradicting ones): the most
#: urgent of its components' statuses wins.
_PRIORITY = {
    VexStatus.AFFECTED: 0,
    VexStatus.UNDER_INVESTIGATION: 1,
    VexStatus.NOT_AFFECTED: 2,
}
_CSAF_STATUS = {
    VexStatus.AFFECTED: "known_affected",
    VexStatus.UNDER_INVESTIGATION: "under_investigation",
    VexStatus.NOT_AFFECTED: "known_not_affected",
}


def signer(settings: Settings) -> Signer:
    home = settings.csaf_gnupg_home or Path(settings.data_dir) / "openpgp"
    contact = settings.security_email or "psirt@example.invalid"
    return Signer(Path(home), f"{settings.manufacturer_name} CSAF <{contact}>")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def get_advisory(session: Session, tracking_id: str) -> Advisory:
    advisory = session.execute(
        select(Advisory).where(func.lower(Advisory.tracking_id) == tracking_id.lower())
    ).scalar_one_or_none()
    if advisory is None:
        raise NotFound(f"no advisory {tracking_id!r}")
    return advisory


def list_advisories(session: Session, *, published_only: bool = False) -> list[Advisory]:
    query = select(Advisory).order_by(Advisory.id.desc())
    if published_only:
        query = query.where(Advisory.status != "draft")
    return list(session.execute(query).scalars())


def _resolve_vulnerabilities(session: Session, ids: list[str]) -> list[str]:
    resolved: list[str] = []
    for given in ids:
        vuln = store.resolve(session, given.strip())
        if vuln is None:
            raise InvalidInput(
                f"no vulnerability {given!r} in the store",
                [{"field": "vulnerabilities", "problem": f"unknown: {given}"}],
            )
        if vuln.id not in resolved:
            resolved.append(vuln.id)
    return resolved


def _check_reports(session: Session, reports: list[str]) -> list[str]:
    for tracking_id in reports:
        disclosure.get_report(session, tracking_id)  # NotFound names the unknown one
    return list(dict.fromkeys(reports))


def _next_tracking_id(session: Session, settings: Settings, now: dt.datetime) -> str:
    prefix = f"{settings.advisory_id_prefix}-{now.year}-"
    count = session.execute(
        select(func.count(Advisory.id)).where(Advisory.tracking_id.like(f"{prefix}%"))
    ).scalar_one()
    return f"{prefix}{count + 1:04d}"


def _set_vulnerabilities(session: Session, advisory: Advisory, ids: list[str]) -> None:
    existing = {
        v.vulnerability_id: v
        for v in session.execute(
            select(AdvisoryVulnerability).where(AdvisoryVulnerability.advisory_id == advisory.id)
        ).scalars()
    }
    for vuln_id, row in existing.items():
        if vuln_id not in ids:
            session.delete(row)
    for vuln_id in ids:
        if vuln_id not in existing:
            session.add(AdvisoryVulnerability(advisory_id=advisory.id, vulnerability_id=vuln_id))


def advisory_vulnerabilities(session: Session, advisory: Advisory) -> list[str]:
    return list(
        session.execute(
            select(AdvisoryVulnerability.vulnerability_id)
            .where(AdvisoryVulnerability.advisory_id == advisory.id)
            .order_by(AdvisoryVulnerability.id)
        ).scalars()
    )


def create_advisory(
    session: Session, data: AdvisoryIn, *, actor: Principal, settings: Settings
) -> Advisory:
    product = portfolio.get_product(session, data.product)
    vulns = _resolve_vulnerabilities(session, data.vulnerabilities)
    reports = _check_reports(session, data.reports)
    now = utcnow()
    advisory = Advisory(
        tracking_id=_next_tracking_id(session, settings, now),
        title=data.title,
        tlp=data.tlp,
        status="draft",
        version=0,
        spec={"product_id": product.id, "summary": data.summary, "reports": reports},
        disclosure_at=data.disclosure_at,
        created_by=actor.actor[:300],
        created_at=now,
    )
    session.add(advisory)
    session.flush()
    _set_vulnerabilities(session, advisory, vulns)
    audit.record(
        session,
        actor=actor.actor,
        action="advisory.created",
        object_type="advisory",
        object_id=advisory.tracking_id,
        after={"title": data.title, "tlp": data.tlp, "vulnerabilities": vulns},
    )
    session.flush()
    return advisory


def update_advisory(
    session: Session, advisory: Advisory, data: AdvisoryPatch, *, actor: Principal
) -> Advisory:
    """Change the choices; a published advisory shows the change in its next revision."""
    spec = dict(advisory.spec)
    if data.title is not None:
        advisory.title = data.title
    if data.summary is not None:
        spec["summary"] = data.summary
    if data.tlp is not None:
        if advisory.status != "draft" and data.tlp != advisory.tlp:
            raise Conflict("the TLP of a published advisory cannot change; write a new advisory")
        advisory.tlp = data.tlp
    if "disclosure_at" in data.model_fields_set:
        if advisory.status != "draft":
            raise Conflict("a published advisory has no embargo left to change")
        advisory.disclosure_at = data.disclosure_at
    if data.reports is not None:
        spec["reports"] = _check_reports(session, data.reports)
    if data.vulnerabilities is not None:
        _set_vulnerabilities(
            session, advisory, _resolve_vulnerabilities(session, data.vulnerabilities)
        )
    advisory.spec = spec
    audit.record(
        session,
        actor=actor.actor,
        action="advisory.updated",
        object_type="advisory",
        object_id=advisory.tracking_id,
        after=data.model_dump(mode="json", exclude_unset=True),
    )
    session.flush()
    return advisory


def advisory_url(settings: Settings, advisory: Advisory) -> str | None:
    if advisory.status == "draft" or advisory.initial_release_date is None:
        return None
    base = settings.base_url.rstrip("/")
    if advisory.tlp == PUBLIC_TLP:
        path = provider.directory_path(advisory.tracking_id, advisory.initial_release_date)
        return f"{base}{provider.WELL_KNOWN}/white/{path}"
    return f"{base}/api/v1/advisories/{advisory.tracking_id}/csaf"


# --- building the CSAF document -----------------------------------------------------------------


def _acknowledgments(session: Session, reports: list[str]) -> list[dict[str, Any]]:
    out = []
    for tracking_id in reports:
        try:
            report = disclosure.get_report(session, tracking_id)
        except NotFound:
            continue
        names = list(dict.fromkeys(c.name for c in report.credits if c.public))
        if names:
            out.append({"names": names, "summary": "reporting the vulnerability"})
    return out


def _delivery(session: Session, product_id: int, version: str) -> str:
    """How the fixing release reaches devices, from the updates capability's records."""
    from fleetcare.updates import rollouts
    from fleetcare.updates import service as updates

    release = portfolio.get_release(session, product_id, version)
    if updates.signed_release(session, release.id) is None:
        return "Install it from the product's support page."
    running = [
        r
        for r in rollouts.list_rollouts(session)
        if r.release_id == release.id and r.status not in ("draft", "aborted")
    ]
    text = (
        "It is signed for automatic installation as a security update (devices install it "
        "unless their owner turned automatic updates off)"
    )
    if running:
        text += f"; rollout '{running[0].name}' is {running[0].status}"
    return text + "."


def _vulnerability_entry(  # noqa: PLR0912, PLR0915 - one pass per part of the CSAF entry
    session: Session, product_id: int, vuln_id: str, releases: dict[str, ReleaseRef], base: str
) -> dict[str, Any]:
    """The `vulnerabilities[]` entry: status per release, remediations, flags, threats."""
    rows = triage.triage_rows(session, product_id=product_id, vulnerability_id=vuln_id)
    vuln = store.resolve(session, vuln_id)
    per_release: dict[str, VexStatus] = {}
    fixed_in: dict[str, ReleaseRef] = {}
    actions: dict[str, str] = {}
    justifications: dict[str, str] = {}
    impacts: dict[str, str] = {}
    exported = triage.statements(session, rows)
    for st in exported:
        ref = st.component.release
        releases[ref.product_id] = ref
        status_here = VexStatus.AFFECTED if st.status is VexStatus.FIXED else st.status
        current = per_release.get(ref.product_id)
        if current is None or _PRIORITY[status_here] < _PRIORITY[current]:
            per_release[ref.product_id] = status_here
        if st.fixed_in is not None:
            fixed_in[ref.product_id] = st.fixed_in
            releases[st.fixed_in.product_id] = st.fixed_in
        if st.action_statement:
            actions[ref.product_id] = st.action_statement
        if st.justification:
            justifications[ref.product_id] = vex.JUSTIFICATION_MAP[st.justification]["csaf"]
        if st.impact_statement:
            impacts[ref.product_id] = st.impact_statement
    product_status: dict[str, list[str]] = {}
    for pid, st_here in per_release.items():
        product_status.setdefault(_CSAF_STATUS[st_here], []).append(pid)
    fixed_ids = sorted({r.product_id for r in fixed_in.values()} - set(per_release))
    if fixed_ids:
        product_status["fixed"] = fixed_ids
    entry: dict[str, Any] = csafdoc.vulnerability_ids(vuln_id, vuln.aliases if vuln else [])
    if vuln is not None:
        for cwe_id in vuln.cwes or []:
            found = csafdoc.cwe(cwe_id)
            if found:
                entry["cwe"] = found
                break
    entry["notes"] = [
        {
            "category": "description",
            "title": "Vulnerability description",
            "text": (vuln.summary or vuln.details[:2000]) if vuln else vuln_id,
        }
    ]
    entry["product_status"] = {k: sorted(v) for k, v in product_status.items()}
    affected = sorted(product_status.get("known_affected", []))
    remediations = []
    by_fix: dict[str, list[str]] = {}
    for pid in affected:
        if pid in fixed_in:
            by_fix.setdefault(fixed_in[pid].product_id, []).append(pid)
    for fix_pid, pids in by_fix.items():
        fix = releases[fix_pid]
        remediations.append(
            {
                "category": "vendor_fix",
                "details": f"Update to firmware {fix.version} of {fix.product_name}. "
                + _delivery(session, product_id, fix.version),
                "product_ids": sorted(pids),
                "url": f"{base}/support",
            }
        )
    for pid in affected:
        if pid not in fixed_in:
            remediations.append(
                {
                    "category": "mitigation" if actions.get(pid) else "none_available",
                    "details": actions.get(pid)
                    or "No fix is available yet; this advisory will be revised when one is.",
                    "product_ids": [pid],
                }
            )
    if remediations:
        entry["remediations"] = remediations
    not_affected = product_status.get("known_not_affected", [])
    flags: dict[str, list[str]] = {}
    threats = []
    for pid in not_affected:
        if pid in justifications:
            flags.setdefault(justifications[pid], []).append(pid)
        elif pid in impacts:
            threats.append({"category": "impact", "details": impacts[pid], "product_ids": [pid]})
    if vuln is not None and vuln.kev and affected:
        threats.append(
            {
                "category": "exploit_status",
                "details": "Listed in the CISA Known Exploited Vulnerabilities catalogue"
                + (f" since {vuln.kev_added.isoformat()}." if vuln.kev_added else "."),
                "product_ids": affected,
            }
        )
    if flags:
        entry["flags"] = [{"label": k, "product_ids": sorted(v)} for k, v in flags.items()]
    if threats:
        entry["threats"] = threats
    if vuln is not None and affected:
        score = csafdoc.cvss_v3(vuln.cvss_vector, affected)
        if score:
            entry["scores"] = [score]
    return entry


def build_document(
    session: Session,
    advisory: Advisory,
    settings: Settings,
    *,
    status: str,
    version: int,
    history: list[tuple[int, dt.datetime, str]],
    now: dt.datetime,
) -> dict[str, Any]:
    """The CSAF 2.0 security advisory for the advisory's choices and today's decisions."""
    product = portfolio.get_product(session, int(advisory.spec["product_id"]))
    vuln_ids = advisory_vulnerabilities(session, advisory)
    releases: dict[str, ReleaseRef] = {}
    base = settings.base_url.rstrip("/")
    vulnerabilities = [
        _vulnerability_entry(session, product.id, vuln_id, releases, base) for vuln_id in vuln_ids
    ]
    if not releases:  # nothing matched: still name the product's latest release
        latest = portfolio.list_releases(session, product.id)
        if latest:
            ref = ReleaseRef(product.slug, product.name, latest[-1].version, product.model_id)
            releases[ref.product_id] = ref
    document: dict[str, Any] = {
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "title": advisory.title,
        "lang": "en",
        "publisher": {
            "category": "vendor",
            "name": settings.manufacturer_name,
            "namespace": base,
        },
        "distribution": {"tlp": {"label": advisory.tlp, "url": "https://www.first.org/tlp/"}},
        "notes": [
            {"category": "summary", "title": "Summary", "text": advisory.spec.get("summary", "")},
            {
                "category": "legal_disclaimer",
                "title": "Terms of use",
                "text": f"This advisory is provided by {settings.manufacturer_name} as is, to "
                "help users protect their devices.",
            },
        ],
        "tracking": {
            "id": advisory.tracking_id,
            "status": status,
            "version": str(version),
            "initial_release_date": _iso(advisory.initial_release_date or now),
            "current_release_date": _iso(now),
            "revision_history": [
                {"number": str(n), "date": _iso(d), "summary": s} for n, d, s in history
            ],
            "generator": {"engine": {"name": "fleetcare"}, "date": _iso(now)},
        },
    }
    acknowledgments = _acknowledgments(session, list(advisory.spec.get("reports", [])))
    if acknowledgments:
        document["acknowledgments"] = acknowledgments
    if advisory.tlp == PUBLIC_TLP and status != "draft":
        initial = advisory.initial_release_date or now
        path = provider.directory_path(advisory.tracking_id, initial)
        document["references"] = [
            {
                "category": "self",
                "summary": "This advisory in CSAF format",
                "url": f"{base}{provider.WELL_KNOWN}/white/{path}",
            }
        ]
    return {
        "document": document,
        "product_tree": csafdoc.product_tree(settings.manufacturer_name, releases.values()),
        "vulnerabilities": vulnerabilities,
    }


def _history(advisory: Advisory) -> list[tuple[int, dt.datetime, str]]:
    return [(r.number, r.date, r.summary) for r in advisory.revisions]


def current_document(
    session: Session, advisory: Advisory, settings: Settings, now: dt.datetime | None = None
) -> dict[str, Any]:
    """What readers see: the published bytes, or for a draft the document as it stands."""
    if advisory.status != "draft" and advisory.published_json:
        document: dict[str, Any] = json.loads(advisory.published_json)
        return document
    now = now or utcnow()
    return build_document(
        session,
        advisory,
        settings,
        status="draft",
        version=0,
        history=[(0, advisory.created_at, "Draft")],
        now=now,
    )


def _candidate(
    session: Session,
    advisory: Advisory,
    settings: Settings,
    status: str,
    summary: str,
    now: dt.datetime,
) -> tuple[int, dict[str, Any]]:
    version = advisory.version + 1
    history = [*_history(advisory), (version, now, summary or "Initial public release.")]
    return version, build_document(
        session, advisory, settings, status=status, version=version, history=history, now=now
    )


def validate_advisory(
    session: Session, advisory: Advisory, settings: Settings, status: str = "final"
) -> list[CsafProblem]:
    """Problems the advisory would have if it were published now."""
    _version, document = _candidate(session, advisory, settings, status, "check", utcnow())
    return csafdoc.validate(document)


def publish(
    session: Session,
    advisory: Advisory,
    data: PublishIn,
    *,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> Advisory:
    """Publish the next revision: refused under embargo, with validation problems, or when a
    revision has no summary of what changed."""
    now = now or utcnow()
    if advisory.disclosure_at is not None and now < advisory.disclosure_at:
        raise RuleViolation(
            f"the advisory is under embargo until {_iso(advisory.disclosure_at)}",
            {"disclosure_at": _iso(advisory.disclosure_at)},
        )
    if advisory.version > 0 and not data.summary.strip():
        raise InvalidInput(
            "a new revision needs a summary of what changed",
            [{"field": "summary", "problem": "missing"}],
        )
    if advisory.status == "final" and data.status == "interim":
        raise Conflict("a final advisory cannot go back to interim")
    version, document = _candidate(session, advisory, settings, data.status, data.summary, now)
    problems = csafdoc.validate(document)
    if problems:
        raise RuleViolation(
            f"the advisory fails CSAF validation ({len(problems)} problems; first: "
            f"{problems[0].test} {problems[0].title} at {problems[0].path})",
            [p.as_dict() for p in problems],
        )
    payload = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    advisory.signature = signer(settings).sign(payload)
    advisory.published_json = payload.decode("utf-8")
    advisory.sha256 = hashlib.sha256(payload).hexdigest()
    advisory.sha512 = hashlib.sha512(payload).hexdigest()
    advisory.status = data.status
    advisory.version = version
    if advisory.initial_release_date is None:
        advisory.initial_release_date = now
    advisory.current_release_date = now
    advisory.revisions.append(
        AdvisoryRevision(
            number=version,
            date=now,
            summary=data.summary or "Initial public release.",
            published_by=actor.actor[:300],
            document=advisory.published_json,
        )
    )
    audit.record(
        session,
        actor=actor.actor,
        action="advisory.published",
        object_type="advisory",
        object_id=advisory.tracking_id,
        after={"version": version, "status": data.status, "sha256": advisory.sha256},
    )
    events.emit(
        session,
        "advisory.published",
        subject=f"advisory:{advisory.tracking_id}",
        payload={"tracking_id": advisory.tracking_id, "version": version, "tlp": advisory.tlp},
    )
    session.flush()
    return advisory


def advisory_out(session: Session, advisory: Advisory, settings: Settings) -> AdvisoryOut:
    product = portfolio.get_product(session, int(advisory.spec["product_id"]))
    return AdvisoryOut(
        tracking_id=advisory.tracking_id,
        title=advisory.title,
        tlp=advisory.tlp,
        status=advisory.status,
        version=advisory.version,
        product=product.name,
        vulnerabilities=advisory_vulnerabilities(session, advisory),
        disclosure_at=advisory.disclosure_at,
        initial_release_date=advisory.initial_release_date,
        current_release_date=advisory.current_release_date,
        url=advisory_url(settings, advisory),
        revisions=[
            RevisionOut(
                number=r.number, date=r.date, summary=r.summary, published_by=r.published_by
            )
            for r in advisory.revisions
        ],
    )


# --- the provider directory ---------------------------------------------------------------------


def public_advisories(session: Session) -> list[Advisory]:
    return list(
        session.execute(
            select(Advisory)
            .where(Advisory.status != "draft", Advisory.tlp == PUBLIC_TLP)
            .order_by(Advisory.current_release_date.desc())
        ).scalars()
    )


def provider_files(session: Session, settings: Settings) -> provider.ProviderFiles:
    entries = [
        provider.PublishedEntry(
            a.tracking_id, a.title, a.initial_release_date, a.current_release_date
        )
        for a in public_advisories(session)
        if a.initial_release_date and a.current_release_date
    ]
    fingerprint = signer(settings).fingerprint() if entries else None
    contact = f"mailto:{settings.security_email}" if settings.security_email else ""
    return provider.ProviderFiles(
        settings.base_url,
        provider.Publisher(settings.manufacturer_name, settings.base_url.rstrip("/"), contact),
        fingerprint,
        entries,
    )


def advisory_at_path(session: Session, year: str, name: str) -> Advisory:
    """The public advisory a directory path names (white/<year>/<name>.json)."""
    for advisory in public_advisories(session):
        if advisory.initial_release_date is None:
            continue
        if provider.directory_path(advisory.tracking_id, advisory.initial_release_date) == (
            f"{year}/{name}"
        ):
            return advisory
    raise NotFound(f"no advisory at white/{year}/{name}")


# --- other vendors' advisories ------------------------------------------------------------------


def import_advisory(session: Session, raw: bytes, *, actor: Principal) -> ImportedAdvisory:
    """Validate and keep a supplier's CSAF advisory; its product statuses become triage
    proposals on the components its identification helpers match."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the advisory is not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("document"), dict):
        raise InvalidInput("not a CSAF document: the top level needs a 'document' object")
    problems = csafdoc.validate(document)
    schema_problems = [p for p in problems if p.test == "schema"]
    if schema_problems:
        raise InvalidInput(
            f"the advisory does not follow the CSAF 2.0 schema ({len(schema_problems)} "
            f"problems; first at {schema_problems[0].path}: {schema_problems[0].message})",
            [p.as_dict() for p in schema_problems[:50]],
        )
    meta = document["document"]
    publisher = meta.get("publisher", {})
    tracking = meta.get("tracking", {})
    key = (
        str(publisher.get("namespace", "")),
        str(tracking.get("id", "")),
        str(tracking.get("version", "")),
    )
    duplicate = session.execute(
        select(ImportedAdvisory.id).where(
            ImportedAdvisory.publisher_namespace == key[0],
            ImportedAdvisory.tracking_id == key[1],
            ImportedAdvisory.version == key[2],
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"{key[1]} version {key[2]} from {key[0]} is already imported")
    result = triage.import_supplier_vex(session, raw, actor=actor, source_name=key[1])
    imported = ImportedAdvisory(
        publisher=str(publisher.get("name", ""))[:300],
        publisher_namespace=key[0][:500],
        tracking_id=key[1][:200],
        version=key[2][:50],
        title=str(meta.get("title", ""))[:500],
        category=str(meta.get("category", ""))[:60],
        document=document,
        problems=[p.as_dict() for p in problems],
        proposals=result.proposals,
        imported_by=actor.actor[:300],
    )
    session.add(imported)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="advisory.imported",
        object_type="imported_advisory",
        object_id=imported.id,
        after={
            "publisher": imported.publisher,
            "tracking_id": imported.tracking_id,
            "problems": len(problems),
            "proposals": result.proposals,
        },
    )
    return imported


def list_imported(session: Session) -> list[ImportedAdvisory]:
    return list(
        session.execute(select(ImportedAdvisory).order_by(ImportedAdvisory.id.desc())).scalars()
    )


def get_imported(session: Session, imported_id: int) -> ImportedAdvisory:
    found = session.get(ImportedAdvisory, imported_id)
    if found is None:
        raise NotFound(f"no imported advisory {imported_id}")
    return found


def imported_out(imported: ImportedAdvisory) -> ImportedOut:
    return ImportedOut(
        id=imported.id,
        publisher=imported.publisher,
        tracking_id=imported.tracking_id,
        version=imported.version,
        title=imported.title,
        category=imported.category,
        problems=[ProblemOut(**p) for p in imported.problems],
        proposals=imported.proposals,
        imported_at=imported.imported_at,
    )


def connect() -> None:
    store.register_vulnerability_reference(AdvisoryVulnerability, "vulnerability_id")
