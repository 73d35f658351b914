"""Disclosure operations: take reports from outsiders, work them with the reporter, publish
security.txt.

    report, token = submit_report(session, data, via="web", settings=settings)
    deliveries = notify_receipt(session, report, token, settings)   # same transaction
    session.commit(); notify.dispatch(deliveries)

    change_status(session, report, StatusChange(status="triaging"), actor=who, settings=s)
    add_message(session, report, "Can you share the firmware build?", internal=False, actor=who)

A reporter has no account: the status link's token (256 random bits, stored as its SHA-256) is
their key, for reading progress and the public part of the thread and for replying. Every change
of state writes an audit event; the caller commits, then dispatches the returned deliveries.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from fleetcare.core import audit, notify
from fleetcare.core.auth import Principal, normalise_email
from fleetcare.core.db import utcnow
from fleetcare.core.errors import Conflict, InvalidInput, NotFound
from fleetcare.core.notify_models import Delivery
from fleetcare.core.settings import Settings
from fleetcare.disclosure import rules
from fleetcare.disclosure.errors import PayloadTooLarge
from fleetcare.disclosure.models import (
    Report,
    ReportAttachment,
    ReportCredit,
    ReportLink,
    ReportMessage,
    SecurityTxtReview,
)
from fleetcare.disclosure.rules import CLOSED, ReportSource, ReportStatus
from fleetcare.disclosure.schemas import (
    AttachmentOut,
    Channel,
    ClocksOut,
    CreditIn,
    CreditKind,
    CreditOut,
    LinkIn,
    LinkKind,
    LinkOut,
    MessageOut,
    PublicMessage,
    ReportDetail,
    ReportIn,
    ReportOut,
    ReportPatch,
    ReportStatusOut,
    StatusChange,
)
from fleetcare.matching import service as matching
from fleetcare.portfolio import service as portfolio

REPORTER = "reporter"
TEAM = "team"
SYSTEM = "system"
VULNERABILITY_ID = re.compile(r"^[A-Z][A-Z0-9]{1,15}-[A-Za-z0-9][A-Za-z0-9._:-]{0,80}$")
ADVISORY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


def zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def policy(settings: Settings) -> rules.CvdPolicy:
    return rules.CvdPolicy(
        ack_working_days=settings.cvd_ack_working_days,
        update_days=settings.cvd_update_days,
        disclosure_days=settings.cvd_disclosure_days,
        holidays=tuple(settings.cvd_holidays),
    )


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def status_url(settings: Settings, token: str) -> str:
    # The token travels in the query string, which the request log leaves out.
    return f"{settings.base_url.rstrip('/')}/security/report/status?token={token}"


def dashboard_url(settings: Settings, report: Report) -> str:
    return f"{settings.base_url.rstrip('/')}/disclosure/{report.tracking_id}"


# --- intake --------------------------------------------------------------------------------


def _resolve_product(session: Session, text: str) -> tuple[int | None, str]:
    """One of our products if the text names one (id, slug or name), else the text as given."""
    if not text:
        return None, ""
    try:
        return portfolio.get_product(session, text).id, ""
    except NotFound:
        return None, text


def _title(data: ReportIn) -> str:
    if data.title:
        return data.title
    first_line = data.description.strip().splitlines()[0].strip()
    return first_line[:117] + "..." if len(first_line) > 120 else first_line


def _clean_filename(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|:*?')
    return name.strip(" .")[:200] or "attachment"


def decode_attachment(content_base64: str, max_bytes: int) -> bytes:
    if len(content_base64) > (max_bytes * 4) // 3 + 8:
        raise PayloadTooLarge(
            f"the attachment is larger than {max_bytes} bytes; link to it instead",
            {"max_bytes": max_bytes},
        )
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("attachment.content_base64 is not valid base64") from None
    if len(content) > max_bytes:
        raise PayloadTooLarge(
            f"the attachment is larger than {max_bytes} bytes; link to it instead",
            {"max_bytes": max_bytes},
        )
    return content


def _attachment(filename: str, media_type: str, content: bytes) -> ReportAttachment:
    media_type = media_type.strip().lower()
    return ReportAttachment(
        filename=_clean_filename(filename),
        # Served back only as a download (see the API), but keep the stored type well-formed.
        media_type=media_type if MEDIA_TYPE.match(media_type) else "application/octet-stream",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )


def _new_tracking_id(session: Session) -> str:
    for _ in range(20):
        candidate = rules.new_tracking_id()
        if not session.execute(select(Report.id).where(Report.tracking_id == candidate)).first():
            return candidate
    raise RuntimeError("could not find a free tracking id")  # 32^8 ids: never in practice


def submit_report(
    session: Session,
    data: ReportIn,
    *,
    via: str,
    settings: Settings,
    actor: Principal | None = None,
    received_at: dt.datetime | None = None,
    attachment: tuple[str, str, bytes] | None = None,
    quarantine_reason: str = "",
    now: dt.datetime | None = None,
) -> tuple[Report, str]:
    """Store a report; returns it and the clear status token, which is never stored.

    `attachment` is (filename, media type, content) from a form upload; the JSON API sends it
    base64-encoded in `data.attachment` instead. A report caught by the abuse controls is kept
    in quarantine: nothing is lost if the controls were wrong.
    """
    now = now or utcnow()
    if received_at is not None:
        if received_at.tzinfo is None:
            raise InvalidInput("received_at needs a time zone, e.g. 2026-03-01T09:30:00+01:00")
        if received_at > now:
            raise InvalidInput("received_at is in the future")
    if data.wants_credit and not (data.credit_as or data.reporter_name):
        raise InvalidInput("wants_credit is set: give reporter_name or credit_as to credit")
    email = normalise_email(data.reporter_email) if data.reporter_email else ""
    if data.website.strip():
        quarantine_reason = quarantine_reason or "the hidden honeypot field was filled in"
    if data.attachment is not None:
        content = decode_attachment(
            data.attachment.content_base64, settings.report_attachment_max_bytes
        )
        attachment = (data.attachment.filename, data.attachment.media_type, content)
    if attachment is not None and len(attachment[2]) > settings.report_attachment_max_bytes:
        raise PayloadTooLarge(
            f"the attachment is larger than {settings.report_attachment_max_bytes} bytes; "
            "link to it instead",
            {"max_bytes": settings.report_attachment_max_bytes},
        )
    token = rules.new_status_token()
    product_id, product_text = _resolve_product(session, data.product)
    report = Report(
        tracking_id=_new_tracking_id(session),
        status_token_hash=_sha256(token),
        source=data.source.value,
        received_via=via,
        status=ReportStatus.RECEIVED.value,
        title=_title(data),
        product_id=product_id,
        product_text=product_text,
        affected_version=data.affected_version,
        description=data.description,
        steps_to_reproduce=data.steps_to_reproduce,
        impact=data.impact,
        reporter_name=data.reporter_name,
        reporter_email=email,
        reporter_contact=data.reporter_contact,
        preferred_channel=data.preferred_channel.value,
        wants_credit=data.wants_credit,
        credit_as=data.credit_as,
        openpgp_key=data.openpgp_key,
        quarantined=bool(quarantine_reason),
        quarantine_reason=quarantine_reason[:200],
        received_at=received_at or now,
    )
    if data.wants_credit:
        report.credits.append(
            ReportCredit(name=data.credit_as or data.reporter_name, kind=CreditKind.FINDER.value)
        )
    if attachment is not None:
        report.attachments.append(_attachment(*attachment))
    clocks = report_clocks(report, settings, now)
    report.messages.append(
        ReportMessage(
            author_kind=SYSTEM,
            body=(
                f"Report {report.tracking_id} received. A person on the security team will "
                f"acknowledge it by {local_time(clocks.acknowledgement_due, settings)}."
            ),
            created_at=now,
        )
    )
    session.add(report)
    session.flush()
    audit.record(
        session,
        actor=actor.actor if actor else f"reporter ({via})",
        action="report.receive",
        object_type="report",
        object_id=report.id,
        after={
            "tracking_id": report.tracking_id,
            "source": report.source,
            "via": via,
            "product_id": report.product_id,
            "quarantined": report.quarantined,
            "quarantine_reason": report.quarantine_reason or None,
            "attachment_sha256": report.attachments[0].sha256 if report.attachments else None,
        },
    )
    return report, token


def notify_receipt(
    session: Session, report: Report, token: str | None, settings: Settings
) -> list[Delivery]:
    """Queue the receipt email to the reporter (with the status link when we still have it)
    and the team's alert; nothing for a quarantined report."""
    if report.quarantined:
        return []
    deliveries: list[Delivery] = []
    clocks = report_clocks(report, settings, utcnow())
    if report.reporter_email and report.preferred_channel == Channel.EMAIL.value:
        if token:
            link = (
                f"Follow it, read our answers and reply here (keep this link private, it is "
                f"the only key to your report):\n\n  {status_url(settings, token)}\n"
            )
        else:
            link = "Use the status link you were shown when you sent it to follow it.\n"
        deliveries += notify.queue_email(
            session,
            to=report.reporter_email,
            subject=f"[{report.tracking_id}] We received your vulnerability report",
            body=(
                f"Thank you for reporting a vulnerability to {settings.manufacturer_name}.\n\n"
                f"Your report has the tracking id {report.tracking_id}. {link}\n"
                f"A person on our security team will acknowledge it by "
                f"{local_time(clocks.acknowledgement_due, settings)}. Our disclosure policy: "
                f"{settings.base_url.rstrip('/')}/security/policy\n"
            ),
            event="report.received",
            object_type="report",
            object_id=report.id,
            sensitive=token is not None,
        )
    summary = {
        "tracking_id": report.tracking_id,
        "source": report.source,
        "product": product_name(session, report),
        "received_at": report.received_at.isoformat(),
        "acknowledgement_due": clocks.acknowledgement_due.isoformat(),
        "url": dashboard_url(settings, report),
    }
    for address in notify.team_addresses(session, settings):
        deliveries += notify.queue_email(
            session,
            to=address,
            subject=f"[{report.tracking_id}] New vulnerability report ({report.source})",
            body=(
                f"A new vulnerability report arrived from a {report.source} "
                f"(product: {summary['product'] or 'not named'}).\n\n"
                f"Acknowledge it by {local_time(clocks.acknowledgement_due, settings)}:\n"
                f"  {summary['url']}\n"
            ),
            event="report.received",
            object_type="report",
            object_id=report.id,
        )
    deliveries += notify.queue_webhooks(
        session, event="report.received", data=summary, object_type="report", object_id=report.id
    )
    return deliveries


def _notify_reporter_of_update(
    session: Session, report: Report, settings: Settings, what: str
) -> list[Delivery]:
    """Tell an email-preferring reporter that there is news; the news itself stays behind the
    status link, so nothing under embargo travels in plain email."""
    if report.quarantined or not (
        report.reporter_email and report.preferred_channel == Channel.EMAIL.value
    ):
        return []
    return notify.queue_email(
        session,
        to=report.reporter_email,
        subject=f"[{report.tracking_id}] Update on your vulnerability report",
        body=(
            f"There is an update on your report {report.tracking_id}: {what}.\n\n"
            "Read it, and reply, through the status link you received with your report.\n"
        ),
        event="report.update",
        object_type="report",
        object_id=report.id,
    )


# --- finding reports -----------------------------------------------------------------------


def get_report(session: Session, tracking_id: str) -> Report:
    report = session.execute(
        select(Report).where(Report.tracking_id == rules.normalise_tracking_id(tracking_id))
    ).scalar()
    if report is None:
        raise NotFound(f"no report {tracking_id!r}")
    return report


def report_for_token(session: Session, token: str) -> Report:
    """The report a status link opens. A wrong, guessed or malformed token all get the same
    answer, so the endpoint tells an attacker nothing."""
    report = None
    if rules.looks_like_status_token(token):
        report = session.execute(
            select(Report).where(Report.status_token_hash == _sha256(token))
        ).scalar()
    if report is None:
        raise NotFound("no report for this status link; check that you copied the whole link")
    return report


def list_reports(
    session: Session,
    *,
    status: ReportStatus | None = None,
    source: ReportSource | None = None,
    quarantined: bool = False,
    open_only: bool = False,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Report], int]:
    conditions: list[ColumnElement[bool]] = [Report.quarantined.is_(quarantined)]
    if status is not None:
        conditions.append(Report.status == status.value)
    if source is not None:
        conditions.append(Report.source == source.value)
    if open_only:
        conditions.append(Report.status.not_in([s.value for s in CLOSED]))
    if search:
        pattern = f"%{search.lower()}%"
        conditions.append(
            func.lower(Report.title).like(pattern) | func.lower(Report.tracking_id).like(pattern)
        )
    total = session.execute(select(func.count(Report.id)).where(*conditions)).scalar_one()
    reports = session.execute(
        select(Report)
        .where(*conditions)
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(reports), total


def inbox_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Report.status, func.count(Report.id))
        .where(Report.quarantined.is_(False))
        .group_by(Report.status)
    )
    counts = {s.value: 0 for s in ReportStatus}
    counts.update({str(status): int(count) for status, count in rows})
    counts["quarantine"] = session.execute(
        select(func.count(Report.id)).where(Report.quarantined.is_(True))
    ).scalar_one()
    return counts


# --- the team's workflow -------------------------------------------------------------------


def _record(
    session: Session,
    report: Report,
    actor: Principal,
    action: str,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> None:
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action=action,
        object_type="report",
        object_id=report.id,
        before=dict(before) if before is not None else None,
        after={"tracking_id": report.tracking_id, **(after or {})},
    )


def _acknowledge(report: Report, now: dt.datetime) -> None:
    if report.acknowledged_at is None:
        report.acknowledged_at = now


def change_status(
    session: Session,
    report: Report,
    change: StatusChange,
    *,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> list[Delivery]:
    """Move a report along the workflow; returns the deliveries to dispatch after commit."""
    now = now or utcnow()
    current, new = ReportStatus(report.status), change.status
    embargo = change.embargo_until if change.embargo_until is not None else report.embargo_until
    problem = rules.transition_problem(
        current,
        new,
        today=now.astimezone(zone(settings)).date(),
        embargo_until=embargo,
        duplicate_of=change.duplicate_of or None,
    )
    if problem:
        raise Conflict(problem)
    if report.quarantined:
        raise Conflict("release the report from quarantine before working on it")
    before = {"status": current.value, "embargo_until": report.embargo_until}
    if new is ReportStatus.DUPLICATE:
        original = get_report(session, change.duplicate_of)
        if original.id == report.id:
            raise InvalidInput("a report cannot duplicate itself")
        report.duplicate_of_id = original.id
    elif current is ReportStatus.DUPLICATE:
        report.duplicate_of_id = None
    report.embargo_until = embargo
    report.status = new.value
    _acknowledge(report, now)
    report.last_update_at = now
    report.closed_at = now if new in CLOSED else None
    if new is ReportStatus.DISCLOSED:
        report.disclosed_at = now
    text = f"Status: {rules.STATUS_LABELS[new.value]}."
    if new is ReportStatus.DUPLICATE and report.duplicate_of is not None:
        text = f"Status: duplicate of an earlier report ({report.duplicate_of.tracking_id})."
    if change.embargo_until is not None:
        text += f" Public disclosure is agreed for {change.embargo_until} at the earliest."
    report.messages.append(ReportMessage(author_kind=SYSTEM, body=text, created_at=now))
    if change.message:
        report.messages.append(
            ReportMessage(author_kind=TEAM, author=actor.actor, body=change.message, created_at=now)
        )
    _record(
        session,
        report,
        actor,
        f"report.{new.value}",
        before=before,
        after={"status": new.value, "embargo_until": report.embargo_until},
    )
    deliveries = _notify_reporter_of_update(
        session, report, settings, f"its status is now '{rules.STATUS_LABELS[new.value]}'"
    )
    deliveries += notify.queue_webhooks(
        session,
        event="report.status",
        data={"tracking_id": report.tracking_id, "status": new.value, "from": current.value},
        object_type="report",
        object_id=report.id,
    )
    return deliveries


def add_message(
    session: Session,
    report: Report,
    body: str,
    *,
    internal: bool,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> tuple[ReportMessage, list[Delivery]]:
    """A team member writes to the reporter, or leaves an internal note for the team.

    The first message to the reporter acknowledges a report that was not yet acknowledged: a
    person has read it and answered.
    """
    now = now or utcnow()
    if report.quarantined and not internal:
        raise Conflict("release the report from quarantine before writing to the reporter")
    message = ReportMessage(
        author_kind=TEAM, author=actor.actor, internal=internal, body=body, created_at=now
    )
    report.messages.append(message)
    deliveries: list[Delivery] = []
    after: dict[str, object] = {"internal": internal, "length": len(body)}
    if not internal:
        report.last_update_at = now
        if report.status == ReportStatus.RECEIVED.value:
            report.status = ReportStatus.ACKNOWLEDGED.value
            after["status"] = report.status
        _acknowledge(report, now)
        deliveries = _notify_reporter_of_update(
            session, report, settings, "the security team wrote to you"
        )
    _record(session, report, actor, "report.note" if internal else "report.message", after=after)
    return message, deliveries


def add_reporter_message(
    session: Session, report: Report, body: str, *, now: dt.datetime | None = None
) -> tuple[ReportMessage, list[Delivery]]:
    now = now or utcnow()
    message = ReportMessage(author_kind=REPORTER, body=body, created_at=now)
    report.messages.append(message)
    session.flush()
    audit.record(
        session,
        actor="reporter (status link)",
        action="report.reporter_message",
        object_type="report",
        object_id=report.id,
        after={"tracking_id": report.tracking_id, "length": len(body)},
    )
    deliveries: list[Delivery] = []
    if not report.quarantined:
        deliveries = notify.queue_webhooks(
            session,
            event="report.message",
            data={"tracking_id": report.tracking_id, "at": now.isoformat()},
            object_type="report",
            object_id=report.id,
        )
    return message, deliveries


def update_report(
    session: Session, report: Report, patch: ReportPatch, *, actor: Principal
) -> Report:
    before = {
        "title": report.title,
        "product_id": report.product_id,
        "product_text": report.product_text,
        "affected_version": report.affected_version,
        "severity": report.severity,
        "embargo_until": report.embargo_until,
    }
    fields = patch.model_fields_set
    if "title" in fields and patch.title:
        report.title = patch.title
    if "product" in fields and patch.product is not None:
        report.product_id, report.product_text = _resolve_product(session, patch.product)
    if "affected_version" in fields and patch.affected_version is not None:
        report.affected_version = patch.affected_version
    if "severity" in fields and patch.severity is not None:
        report.severity = patch.severity.value
    if "embargo_until" in fields:
        report.embargo_until = patch.embargo_until
    after = {
        "title": report.title,
        "product_id": report.product_id,
        "product_text": report.product_text,
        "affected_version": report.affected_version,
        "severity": report.severity,
        "embargo_until": report.embargo_until,
    }
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        _record(
            session,
            report,
            actor,
            "report.update",
            before={k: before[k] for k in changed},
            after=changed,
        )
    return report


def add_credit(
    session: Session, report: Report, data: CreditIn, *, actor: Principal
) -> ReportCredit:
    credit = ReportCredit(name=data.name, kind=data.kind.value, public=data.public)
    report.credits.append(credit)
    _record(
        session,
        report,
        actor,
        "report.credit",
        after={"name": data.name, "kind": data.kind.value, "public": data.public},
    )
    return credit


def remove_credit(session: Session, report: Report, credit_id: int, *, actor: Principal) -> None:
    credit = next((c for c in report.credits if c.id == credit_id), None)
    if credit is None:
        raise NotFound(f"report {report.tracking_id} has no credit {credit_id}")
    report.credits.remove(credit)
    _record(session, report, actor, "report.uncredit", before={"name": credit.name})


def _check_link(session: Session, kind: LinkKind, ref: str) -> tuple[str, str]:
    """The canonical reference and a label, or InvalidInput / NotFound with the reason."""
    if kind is LinkKind.VULNERABILITY:
        ref = ref.upper() if ref.upper().startswith(("CVE-", "EUVD-", "GHSA-")) else ref
        if not VULNERABILITY_ID.match(ref):
            raise InvalidInput(
                f"{ref!r} is not a vulnerability id such as CVE-2026-1234 or GHSA-xxxx-xxxx-xxxx"
            )
        findings = matching.findings_for_vulnerability(session, ref)
        open_findings = [f for f in findings if not f.withdrawn]
        label = f"{len(open_findings)} finding(s) in our releases" if open_findings else ""
        return ref, label
    if kind is LinkKind.FINDING:
        if not ref.isdigit():
            raise InvalidInput(f"a finding is linked by its number, not {ref!r}")
        view = matching.finding_view(session, int(ref))
        if view is None:
            raise NotFound(f"no finding {ref}")
        return ref, (
            f"{view.vulnerability_id} in {view.component_name} {view.component_version} "
            f"({view.product_name} {view.release_version})"
        )
    if kind is LinkKind.RELEASE:
        product_ref, sep, version = ref.rpartition("@")
        if not sep or not product_ref or not version:
            raise InvalidInput(f"a release is linked as product@version, not {ref!r}")
        release = portfolio.get_release(session, product_ref, version)
        product = portfolio.get_product(session, release.product_id)
        return f"{product.slug}@{release.version}", f"{product.name} {release.version}"
    if not ADVISORY_ID.match(ref):
        raise InvalidInput(f"{ref!r} is not an advisory id (letters, digits, '.', '_', ':', '-')")
    return ref, ""


def add_link(session: Session, report: Report, data: LinkIn, *, actor: Principal) -> ReportLink:
    ref, label = _check_link(session, data.kind, data.ref)
    if any(link.kind == data.kind.value and link.ref == ref for link in report.links):
        raise Conflict(f"report {report.tracking_id} is already linked to {data.kind.value} {ref}")
    link = ReportLink(kind=data.kind.value, ref=ref, label=label)
    report.links.append(link)
    _record(session, report, actor, "report.link", after={"kind": data.kind.value, "ref": ref})
    return link


def remove_link(session: Session, report: Report, link_id: int, *, actor: Principal) -> None:
    link = next((x for x in report.links if x.id == link_id), None)
    if link is None:
        raise NotFound(f"report {report.tracking_id} has no link {link_id}")
    report.links.remove(link)
    _record(session, report, actor, "report.unlink", before={"kind": link.kind, "ref": link.ref})


def reissue_status_link(
    session: Session, report: Report, *, actor: Principal, settings: Settings
) -> tuple[str, list[Delivery]]:
    """A new status link for a reporter who lost theirs; the old one stops working at once."""
    token = rules.new_status_token()
    report.status_token_hash = _sha256(token)
    _record(session, report, actor, "report.status_link")
    deliveries: list[Delivery] = []
    if report.reporter_email and report.preferred_channel == Channel.EMAIL.value:
        deliveries = notify.queue_email(
            session,
            to=report.reporter_email,
            subject=f"[{report.tracking_id}] A new status link for your report",
            body=(
                f"Here is a new private link to your report {report.tracking_id}; the old one "
                f"no longer works:\n\n  {status_url(settings, token)}\n"
            ),
            event="report.status_link",
            object_type="report",
            object_id=report.id,
            sensitive=True,
        )
    return token, deliveries


def release_from_quarantine(
    session: Session, report: Report, *, actor: Principal, settings: Settings
) -> list[Delivery]:
    if not report.quarantined:
        raise Conflict(f"report {report.tracking_id} is not in quarantine")
    reason = report.quarantine_reason
    report.quarantined = False
    report.quarantine_reason = ""
    _record(session, report, actor, "report.release", before={"quarantine_reason": reason})
    # The reporter saw their status link when they sent the report; it is not stored.
    return notify_receipt(session, report, None, settings)


def discard_quarantined(session: Session, report: Report, *, actor: Principal) -> None:
    """Delete a report the abuse controls held back and a person confirmed as junk."""
    if not report.quarantined:
        raise Conflict(
            f"report {report.tracking_id} is not in quarantine; only held-back reports can be "
            "discarded, others are closed as rejected"
        )
    audit.record(
        session,
        actor=actor.actor,
        action="report.discard",
        object_type="report",
        object_id=report.id,
        before={"tracking_id": report.tracking_id, "reason": report.quarantine_reason},
    )
    session.delete(report)
    session.flush()


# --- views ---------------------------------------------------------------------------------


def local_time(moment: dt.datetime, settings: Settings) -> str:
    local = moment.astimezone(zone(settings))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def report_clocks(report: Report, settings: Settings, now: dt.datetime) -> rules.ReportClocks:
    return rules.report_clocks(
        received_at=report.received_at,
        acknowledged_at=report.acknowledged_at,
        last_update_at=report.last_update_at,
        status=ReportStatus(report.status),
        policy=policy(settings),
        zone=zone(settings),
        now=now,
    )


def product_name(session: Session, report: Report) -> str:
    """Our product's name, or the product as the reporter named it."""
    if report.product_id is not None:
        return portfolio.get_product(session, report.product_id).name
    return report.product_text


def report_out(session: Session, report: Report, settings: Settings, now: dt.datetime) -> ReportOut:
    clocks = report_clocks(report, settings, now)
    product, slug = report.product_text, None
    if report.product_id is not None:
        found = portfolio.get_product(session, report.product_id)
        product, slug = found.name, found.slug
    return ReportOut(
        tracking_id=report.tracking_id,
        title=report.title,
        status=ReportStatus(report.status),
        source=ReportSource(report.source),
        received_via=report.received_via,
        product=product,
        product_slug=slug,
        affected_version=report.affected_version,
        severity=report.severity,
        quarantined=report.quarantined,
        quarantine_reason=report.quarantine_reason,
        received_at=report.received_at,
        acknowledged_at=report.acknowledged_at,
        last_update_at=report.last_update_at,
        closed_at=report.closed_at,
        disclosed_at=report.disclosed_at,
        embargo_until=report.embargo_until,
        duplicate_of=report.duplicate_of.tracking_id if report.duplicate_of else None,
        clocks=ClocksOut(
            acknowledgement_due=clocks.acknowledgement_due,
            acknowledgement_overdue=clocks.acknowledgement_overdue,
            acknowledged_late=clocks.acknowledged_late,
            next_update_due=clocks.next_update_due,
            update_overdue=clocks.update_overdue,
            disclosure_target=clocks.disclosure_target,
        ),
    )


def report_detail(
    session: Session, report: Report, settings: Settings, now: dt.datetime
) -> ReportDetail:
    return ReportDetail(
        **report_out(session, report, settings, now).model_dump(),
        description=report.description,
        steps_to_reproduce=report.steps_to_reproduce,
        impact=report.impact,
        reporter_name=report.reporter_name,
        reporter_email=report.reporter_email,
        reporter_contact=report.reporter_contact,
        preferred_channel=Channel(report.preferred_channel),
        wants_credit=report.wants_credit,
        credit_as=report.credit_as,
        openpgp_key=report.openpgp_key,
        messages=[
            MessageOut(
                id=m.id,
                author_kind=m.author_kind,
                author=m.author,
                internal=m.internal,
                body=m.body,
                created_at=m.created_at,
            )
            for m in report.messages
        ],
        credits=[
            CreditOut(id=c.id, name=c.name, kind=CreditKind(c.kind), public=c.public)
            for c in report.credits
        ],
        links=[
            LinkOut(id=x.id, kind=LinkKind(x.kind), ref=x.ref, label=x.label) for x in report.links
        ],
        attachments=[
            AttachmentOut(
                id=a.id, filename=a.filename, media_type=a.media_type, size=a.size, sha256=a.sha256
            )
            for a in report.attachments
        ],
    )


_AUTHORS = {REPORTER: "you", TEAM: "security team", SYSTEM: "automatic"}


def public_view(
    session: Session, report: Report, settings: Settings, now: dt.datetime
) -> ReportStatusOut:
    """The reporter's view. Built from an explicit filter on `internal`, never by copying."""
    clocks = report_clocks(report, settings, now)
    product = product_name(session, report)
    return ReportStatusOut(
        tracking_id=report.tracking_id,
        title=report.title,
        status=ReportStatus(report.status),
        status_label=rules.STATUS_LABELS[report.status],
        product=product,
        affected_version=report.affected_version,
        received_at=report.received_at,
        acknowledged_at=report.acknowledged_at,
        acknowledgement_due=clocks.acknowledgement_due,
        next_update_due=clocks.next_update_due,
        disclosure_target=clocks.disclosure_target,
        embargo_until=report.embargo_until,
        credits=[c.name for c in report.credits if c.public],
        messages=[
            PublicMessage(author=_AUTHORS[m.author_kind], body=m.body, at=m.created_at)
            for m in report.messages
            if not m.internal
        ],
    )


def get_attachment(report: Report, attachment_id: int) -> ReportAttachment:
    found = next((a for a in report.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound(f"report {report.tracking_id} has no attachment {attachment_id}")
    return found


@dataclass(frozen=True)
class ReportDeadline:
    """One clock of an open report, for the deadline board."""

    tracking_id: str
    title: str
    what: str  # "acknowledgement", "status update" or "disclosure target"
    due: dt.datetime


def open_report_deadlines(
    session: Session, settings: Settings, now: dt.datetime
) -> list[ReportDeadline]:
    """What is owed to reporters: acknowledgements, status updates, disclosure targets."""
    found: list[ReportDeadline] = []
    reports = session.execute(
        select(Report).where(
            Report.quarantined.is_(False), Report.status.not_in([s.value for s in CLOSED])
        )
    ).scalars()
    local = zone(settings)
    for report in reports:
        clocks = report_clocks(report, settings, now)
        if report.acknowledged_at is None:
            found.append(
                ReportDeadline(
                    report.tracking_id, report.title, "acknowledgement", clocks.acknowledgement_due
                )
            )
        elif clocks.next_update_due is not None:
            found.append(
                ReportDeadline(
                    report.tracking_id, report.title, "status update", clocks.next_update_due
                )
            )
        # An agreed embargo date replaces the policy's default target.
        target = report.embargo_until or clocks.disclosure_target
        found.append(
            ReportDeadline(
                report.tracking_id,
                report.title,
                "disclosure target",
                rules.end_of_day(target, local),
            )
        )
    return found


@dataclass(frozen=True)
class ReportBrief:
    """A report as the reporting capability sees it when a case is opened from it."""

    id: int
    tracking_id: str
    title: str
    product_id: int | None
    affected_version: str
    description: str
    impact: str
    vulnerability_ids: Sequence[str]
    release_refs: Sequence[str]


def report_brief(session: Session, tracking_id: str) -> ReportBrief:
    report = get_report(session, tracking_id)
    return ReportBrief(
        id=report.id,
        tracking_id=report.tracking_id,
        title=report.title,
        product_id=report.product_id,
        affected_version=report.affected_version,
        description=report.description,
        impact=report.impact,
        vulnerability_ids=[x.ref for x in report.links if x.kind == LinkKind.VULNERABILITY.value],
        release_refs=[x.ref for x in report.links if x.kind == LinkKind.RELEASE.value],
    )


def tracking_id_for(session: Session, report_id: int) -> str | None:
    row = session.execute(select(Report.tracking_id).where(Report.id == report_id)).first()
    return row[0] if row else None


@dataclass(frozen=True)
class PublicCredit:
    name: str
    product: str
    disclosed: dt.date


def public_credits(session: Session, settings: Settings) -> list[PublicCredit]:
    """Everyone thanked publicly for a report that has been disclosed, newest first."""
    rows = session.execute(
        select(ReportCredit, Report)
        .join(Report, Report.id == ReportCredit.report_id)
        .where(
            ReportCredit.public.is_(True),
            Report.status == ReportStatus.DISCLOSED.value,
            Report.disclosed_at.is_not(None),
        )
        .order_by(Report.disclosed_at.desc(), ReportCredit.id)
    )
    local = zone(settings)
    credits = []
    for credit, report in rows:
        assert report.disclosed_at is not None
        credits.append(
            PublicCredit(
                credit.name,
                product_name(session, report),
                report.disclosed_at.astimezone(local).date(),
            )
        )
    return credits


# --- security.txt (RFC 9116) ---------------------------------------------------------------


def security_txt_fields(settings: Settings) -> list[tuple[str, str]]:
    """Every field but Expires, in the order they are written, generated from the settings."""
    base = settings.base_url.rstrip("/")
    fields: list[tuple[str, str]] = []
    if settings.security_email:
        fields.append(("Contact", f"mailto:{settings.security_email}"))
    fields.append(("Contact", f"{base}/security/report"))
    fields += [("Contact", c) for c in settings.security_contacts]
    if settings.security_encryption_url:
        fields.append(("Encryption", settings.security_encryption_url))
    fields.append(("Acknowledgments", f"{base}/security/acknowledgments"))
    if settings.security_languages:
        fields.append(("Preferred-Languages", ", ".join(settings.security_languages)))
    fields.append(("Canonical", f"{base}/.well-known/security.txt"))
    fields.append(("Policy", f"{base}/security/policy"))
    if settings.security_hiring_url:
        fields.append(("Hiring", settings.security_hiring_url))
    # fleetcare is itself a CSAF trusted provider; a configured URL (another host) wins.
    csaf_url = settings.security_csaf_url or f"{base}/.well-known/csaf/provider-metadata.json"
    fields.append(("CSAF", csaf_url))
    return fields


def _content_hash(fields: list[tuple[str, str]]) -> str:
    return hashlib.sha256("\n".join(f"{k}: {v}" for k, v in fields).encode("utf-8")).hexdigest()


def latest_review(session: Session) -> SecurityTxtReview | None:
    return session.execute(
        select(SecurityTxtReview).order_by(SecurityTxtReview.id.desc()).limit(1)
    ).scalar()


def _review(
    session: Session, settings: Settings, by: str, fields: list[tuple[str, str]], now: dt.datetime
) -> SecurityTxtReview:
    review = SecurityTxtReview(
        reviewed_at=now,
        expires_at=now + dt.timedelta(days=settings.security_txt_valid_days),
        reviewed_by=by,
        content_hash=_content_hash(fields),
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor=by,
        action="security_txt.review",
        object_type="security_txt",
        object_id=review.id,
        after={"expires_at": review.expires_at, "content_hash": review.content_hash},
    )
    return review


def security_txt(
    session: Session, settings: Settings, now: dt.datetime | None = None
) -> tuple[str, SecurityTxtReview]:
    """The file's text. New or changed settings count as a review and restart Expires; an
    unchanged file keeps its Expires, so that it lapses if nobody looks at it for too long."""
    now = now or utcnow()
    fields = security_txt_fields(settings)
    review = latest_review(session)
    if review is None or review.content_hash != _content_hash(fields):
        review = _review(session, settings, "system (settings changed)", fields, now)
    expires = review.expires_at.astimezone(dt.UTC).replace(microsecond=0)
    lines = [
        f"# Security contact for {settings.manufacturer_name}. Report vulnerabilities through",
        "# any Contact below; our coordinated disclosure policy is at the Policy URL.",
    ]
    lines += [f"{name}: {value}" for name, value in fields]
    lines.append(f"Expires: {expires.isoformat().replace('+00:00', 'Z')}")
    return "\n".join(lines) + "\n", review


def renew_security_txt(
    session: Session, settings: Settings, *, actor: Principal, now: dt.datetime | None = None
) -> SecurityTxtReview:
    """Someone confirmed the content is right: Expires moves to security_txt_valid_days on."""
    return _review(session, settings, actor.actor, security_txt_fields(settings), now or utcnow())


def security_txt_notices(
    session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[Delivery]:
    """Warn the team once before security.txt lapses, and once when it has lapsed."""
    now = now or utcnow()
    review = latest_review(session)
    if review is None:
        return []
    base = settings.base_url.rstrip("/")
    deliveries: list[Delivery] = []
    if now >= review.expires_at and review.lapsed_notice_at is None:
        review.lapsed_notice_at = now
        subject = "security.txt has EXPIRED: renew it"
        text = (
            f"{base}/.well-known/security.txt expired at {local_time(review.expires_at, settings)}."
            " Researchers' tools now treat its contacts as stale. Check its content and renew it "
            "with 'fleetcare security-txt renew' or POST /api/v1/security-txt/renew.\n"
        )
        event = "security_txt.expired"
    elif (
        now >= review.expires_at - dt.timedelta(days=settings.security_txt_warn_days)
        and now < review.expires_at
        and review.warned_at is None
    ):
        review.warned_at = now
        subject = "security.txt expires soon: review and renew it"
        text = (
            f"{base}/.well-known/security.txt expires at "
            f"{local_time(review.expires_at, settings)}. Check that its contacts and policy are "
            "still right and renew it with 'fleetcare security-txt renew' or "
            "POST /api/v1/security-txt/renew.\n"
        )
        event = "security_txt.expiring"
    else:
        return []
    for address in notify.team_addresses(session, settings):
        deliveries += notify.queue_email(
            session,
            to=address,
            subject=subject,
            body=text,
            event=event,
            object_type="security_txt",
            object_id=review.id,
            dedupe_key=f"{event}:{review.id}:{address}",
        )
    deliveries += notify.queue_webhooks(
        session,
        event=event,
        data={
            "expires_at": review.expires_at.isoformat(),
            "url": f"{base}/.well-known/security.txt",
        },
        object_type="security_txt",
        object_id=review.id,
        dedupe_key=f"{event}:{review.id}",
    )
    audit.record(
        session,
        actor="system",
        action=event,
        object_type="security_txt",
        object_id=review.id,
        after={"expires_at": review.expires_at},
    )
    return deliveries


def overdue_reminders(
    session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[Delivery]:
    """Remind the team, once per missed promise, of reports whose acknowledgement or status
    update is overdue: the CVD policy is a promise to reporters and must be kept."""
    now = now or utcnow()
    deliveries: list[Delivery] = []
    addresses = notify.team_addresses(session, settings)
    for deadline in open_report_deadlines(session, settings, now):
        if deadline.what == "disclosure target" or deadline.due > now:
            continue
        key = f"report:{deadline.tracking_id}:{deadline.what}:{deadline.due.isoformat()}"
        url = f"{settings.base_url.rstrip('/')}/disclosure/{deadline.tracking_id}"
        for address in addresses:
            deliveries += notify.queue_email(
                session,
                to=address,
                subject=f"[{deadline.tracking_id}] {deadline.what} overdue",
                body=(
                    f"The {deadline.what} promised to the reporter of {deadline.tracking_id} was "
                    f"due {local_time(deadline.due, settings)}.\n\n  {url}\n"
                ),
                event="report.overdue",
                object_type="report",
                object_id=deadline.tracking_id,
                dedupe_key=f"{key}:{address}",
            )
        deliveries += notify.queue_webhooks(
            session,
            event="report.overdue",
            data={
                "tracking_id": deadline.tracking_id,
                "what": deadline.what,
                "due": deadline.due.isoformat(),
                "url": url,
            },
            object_type="report",
            object_id=deadline.tracking_id,
            dedupe_key=key,
        )
    return deliveries
