"""Notifications: email over SMTP and signed webhooks, recorded and retried by background jobs.

A capability queues messages inside its own transaction and hands them to the job queue once
that transaction is committed, so that a message never announces a change that was rolled back:

    deliveries = notify.queue_email(session, to="psirt@example.com", subject=..., body=...,
                                    event="case.deadline", object_type="case", object_id=7)
    deliveries += notify.queue_webhooks(session, event="case.deadline", data={...}, ...)
    session.commit()
    notify.dispatch(deliveries)

Each message to each recipient is one `Delivery` row. The `deliver_notification` job claims
it, sends it, and records the outcome; a failure is retried with doubling delays up to
`notify_max_attempts`, then marked failed. `retry_notifications` runs every minute and re-queues
deliveries whose job was lost (a crash between commit and enqueue, a dead worker). A
`dedupe_key` makes queueing idempotent, which is how a deadline alert goes out once per lead
time however often the alert job runs.

Webhook calls are JSON POSTs signed with HMAC-SHA256 over `"<timestamp>.<body>"`:

    X-Fleetcare-Event: case.deadline
    X-Fleetcare-Delivery: 42
    X-Fleetcare-Timestamp: 1767225600
    X-Fleetcare-Signature: sha256=<hex>

Receivers check the signature with `verify_signature()` (or its few lines in any language) and
refuse old timestamps, so that a captured call cannot be replayed later.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from huey.exceptions import RetryTask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fleetcare.core import audit
from fleetcare.core.auth import Principal, Role, normalise_email
from fleetcare.core.db import utcnow
from fleetcare.core.errors import InvalidInput, NotFound
from fleetcare.core.jobs import crontab, huey, task_db
from fleetcare.core.models import User
from fleetcare.core.notify_models import Delivery, WebhookEndpoint
from fleetcare.core.settings import Settings, get_settings

log = logging.getLogger("fleetcare.notify")

EMAIL = "email"
WEBHOOK = "webhook"
PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
#: A delivery claimed this long ago without an outcome belongs to a worker that died.
STUCK_AFTER_SECONDS = 600
#: Freshly queued deliveries are left to their own job this long before the sweep steps in.
SWEEP_GRACE_SECONDS = 120
#: Receivers should refuse signatures older than this (see `verify_signature`).
SIGNATURE_TOLERANCE_SECONDS = 300
REMOVED = "[removed after delivery: the message contained a secret link]"

_settings_override: Settings | None = None


def configure(settings: Settings | None) -> None:
    """Use these settings for sending instead of the environment's (tests, embedded servers)."""
    global _settings_override  # noqa: PLW0603 - one configuration per process
    _settings_override = settings


def current_settings() -> Settings:
    return _settings_override or get_settings()


class DeliveryFailed(Exception):
    """One attempt failed; the message says why in words an operator can act on."""


# --- webhook secrets -------------------------------------------------------------------------


def _fernet(settings: Settings) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"fleetcare webhook secrets"
    ).derive(settings.resolved_secret_key().encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _decrypt_secret(settings: Settings, endpoint: WebhookEndpoint) -> str:
    try:
        return _fernet(settings).decrypt(endpoint.secret_encrypted.encode("ascii")).decode()
    except InvalidToken:
        raise DeliveryFailed(
            "cannot decrypt the webhook secret: the server's secret key changed since the "
            "webhook was added; remove it and add it again"
        ) from None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


# --- webhook receivers -----------------------------------------------------------------------


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise InvalidInput(f"webhook URL must be an http or https URL, not {url!r}")
    if parts.username or parts.password:
        raise InvalidInput("put no credentials in the webhook URL; requests are signed instead")
    return url


def create_webhook(
    session: Session,
    *,
    name: str,
    url: str,
    events: list[str],
    actor: Principal,
    settings: Settings | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Add a receiver; returns it and its signing secret, which is shown this once."""
    settings = settings or current_settings()
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("give the webhook a name of 1 to 100 characters")
    cleaned = sorted({e.strip() for e in events if e.strip()}) or ["*"]
    if any(len(e) > 100 or any(c.isspace() for c in e) for e in cleaned):
        raise InvalidInput("event names are single words such as case.deadline, or *")
    clear = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        name=name,
        url=_check_url(url),
        events=cleaned,
        secret_encrypted=_fernet(settings).encrypt(clear.encode()).decode("ascii"),
        created_by=actor.actor,
    )
    session.add(endpoint)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="webhook.create",
        object_type="webhook",
        object_id=endpoint.id,
        after={"name": endpoint.name, "url": endpoint.url, "events": endpoint.events},
    )
    return endpoint, clear


def list_webhooks(session: Session) -> list[WebhookEndpoint]:
    return list(session.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).scalars())


def remove_webhook(session: Session, webhook_id: int, *, actor: Principal) -> None:
    endpoint = session.get(WebhookEndpoint, webhook_id)
    if endpoint is None:
        raise NotFound(f"no webhook with id {webhook_id}")
    audit.record(
        session,
        actor=actor.actor,
        action="webhook.remove",
        object_type="webhook",
        object_id=endpoint.id,
        before={"name": endpoint.name, "url": endpoint.url},
    )
    session.delete(endpoint)
    session.flush()


# --- queueing ----------------------------------------------------------------------------


def team_addresses(session: Session, settings: Settings | None = None) -> list[str]:
    """Who hears about security events by email: `reporting_alert_emails`, or else every
    active user with the security role."""
    settings = settings or current_settings()
    if settings.reporting_alert_emails:
        return list(settings.reporting_alert_emails)
    users = session.execute(
        select(User.email)
        .where(User.role == Role.SECURITY.value, User.active.is_(True))
        .order_by(User.email)
    )
    return [row[0] for row in users]


def _add(session: Session, delivery: Delivery) -> Delivery | None:
    """Insert unless a delivery with the same dedupe key exists; None when it does."""
    if delivery.dedupe_key is not None:
        exists = session.execute(
            select(Delivery.id).where(Delivery.dedupe_key == delivery.dedupe_key)
        ).first()
        if exists:
            return None
    try:
        with session.begin_nested():
            session.add(delivery)
            session.flush()
    except IntegrityError:
        # Another job queued the same key between our check and our insert.
        return None
    return delivery


def queue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    event: str,
    object_type: str = "",
    object_id: object = "",
    dedupe_key: str | None = None,
    sensitive: bool = False,
) -> list[Delivery]:
    """Record an email for sending after commit; [] if its dedupe key was used before."""
    address = normalise_email(to)
    subject = " ".join(subject.split())[:300]  # one line: a header cannot be injected
    delivery = _add(
        session,
        Delivery(
            channel=EMAIL,
            target=address,
            event=event,
            subject=subject,
            content=body,
            sensitive=sensitive,
            dedupe_key=dedupe_key,
            object_type=object_type,
            object_id=str(object_id),
            next_attempt_at=utcnow(),
        ),
    )
    return [delivery] if delivery else []


def _subscribed(endpoint: WebhookEndpoint, event: str) -> bool:
    return any(
        e in ("*", event) or (e.endswith(".*") and event.startswith(e[:-1]))
        for e in endpoint.events
    )


def queue_webhooks(
    session: Session,
    *,
    event: str,
    data: dict[str, Any],
    object_type: str = "",
    object_id: object = "",
    dedupe_key: str | None = None,
) -> list[Delivery]:
    """Record one call per active receiver subscribed to `event` ("*", the name, or "case.*")."""
    queued = []
    endpoints = session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)
    ).scalars()
    content = json.dumps(data, default=str, sort_keys=True)
    for endpoint in endpoints:
        if not _subscribed(endpoint, event):
            continue
        delivery = _add(
            session,
            Delivery(
                channel=WEBHOOK,
                target=endpoint.url,
                webhook_id=endpoint.id,
                event=event,
                subject=event,
                content=content,
                dedupe_key=f"{dedupe_key}:webhook:{endpoint.id}" if dedupe_key else None,
                object_type=object_type,
                object_id=str(object_id),
                next_attempt_at=utcnow(),
            ),
        )
        if delivery:
            queued.append(delivery)
    return queued


def dispatch(deliveries: Iterable[Delivery | int]) -> None:
    """Hand committed deliveries to the job queue. A queue that is down loses nothing: the
    minute sweep finds the pending rows and queues them later."""
    for item in deliveries:
        delivery_id = item if isinstance(item, int) else item.id
        try:
            deliver_notification(delivery_id)
        except Exception:
            log.warning(
                "could not queue delivery %s; the sweep will retry", delivery_id, exc_info=True
            )


# --- sending -------------------------------------------------------------------------------


def send_email(settings: Settings, *, to: str, subject: str, body: str, event: str) -> None:
    if not settings.smtp_host:
        raise _NotConfigured("email is not configured: set FLEETCARE_SMTP_HOST")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    domain = settings.smtp_from.rpartition("@")[2] or "fleetcare.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: machine-sent, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Fleetcare-Event"] = event
    message.set_content(body)
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=settings.smtp_timeout_seconds,
                context=context,
            )
        else:
            client = smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
            )
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=context)
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(
            f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}"
        ) from None


class _NotConfigured(DeliveryFailed):
    """The channel is switched off; retrying would not help."""


def webhook_body(delivery: Delivery) -> bytes:
    envelope = {
        "event": delivery.event,
        "delivery": delivery.id,
        "occurred_at": delivery.created_at.isoformat(),
        "data": json.loads(delivery.content or "{}"),
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode("utf-8")


def call_webhook(settings: Settings, endpoint: WebhookEndpoint, delivery: Delivery) -> None:
    body = webhook_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "fleetcare-webhooks",
        "X-Fleetcare-Event": delivery.event,
        "X-Fleetcare-Delivery": str(delivery.id),
        "X-Fleetcare-Timestamp": str(timestamp),
        "X-Fleetcare-Signature": sign(_decrypt_secret(settings, endpoint), timestamp, body),
    }
    try:
        response = httpx.post(
            endpoint.url,
            content=body,
            headers=headers,
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{endpoint.url}: {type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{endpoint.url} answered HTTP {response.status_code}")


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None
    error: str = ""


def _claim(session: Session, delivery_id: int) -> bool:
    now = utcnow()
    stuck = now - dt.timedelta(seconds=STUCK_AFTER_SECONDS)
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            or_(
                and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now),
                and_(
                    Delivery.status == SENDING,
                    Delivery.claimed_at < stuck,
                ),
            ),
        )
        .values(status=SENDING, claimed_at=now, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def attempt(session: Session, delivery_id: int, settings: Settings | None = None) -> Outcome:
    """Try one delivery once and record what happened; safe to call from several workers."""
    settings = settings or current_settings()
    if not _claim(session, delivery_id):
        delivery = session.get(Delivery, delivery_id)
        return Outcome(delivery.status if delivery else "missing")
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    assert delivery is not None
    error = ""
    status = SENT
    try:
        if delivery.channel == EMAIL:
            send_email(
                settings,
                to=delivery.target,
                subject=delivery.subject,
                body=delivery.content,
                event=delivery.event,
            )
        else:
            endpoint = session.get(WebhookEndpoint, delivery.webhook_id or 0)
            if endpoint is None or not endpoint.active:
                raise _NotConfigured("the webhook was removed before the call was made")
            call_webhook(settings, endpoint, delivery)
    except _NotConfigured as exc:
        status, error = SKIPPED, str(exc)
    except DeliveryFailed as exc:
        error = str(exc)
        status = FAILED if delivery.attempts >= settings.notify_max_attempts else PENDING
    now = utcnow()
    delivery.status = status
    delivery.last_error = error[:2000]
    retry_in = None
    if status == SENT:
        delivery.sent_at = now
    elif status == PENDING:
        retry_in = settings.notify_retry_seconds * 2 ** (delivery.attempts - 1)
        delivery.next_attempt_at = now + dt.timedelta(seconds=retry_in)
    if delivery.sensitive and status != PENDING:
        delivery.content = REMOVED
    session.commit()
    if status == FAILED:
        log.error(
            "delivery %s (%s to %s) failed for good: %s",
            delivery.id,
            delivery.channel,
            delivery.target,
            error,
        )
    elif status == SKIPPED:
        log.info("delivery %s skipped: %s", delivery.id, error)
    elif error:
        log.warning("delivery %s will be retried: %s", delivery.id, error)
    return Outcome(status, retry_in, error)


def list_deliveries(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: object | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if object_type:
        query = query.where(Delivery.object_type == object_type)
    if object_id is not None:
        query = query.where(Delivery.object_id == str(object_id))
    if status:
        query = query.where(Delivery.status == status)
    return list(session.execute(query).scalars())


def due_for_sweep(session: Session) -> list[int]:
    """Deliveries whose job seems lost: pending past their time plus grace, or stuck sending."""
    now = utcnow()
    rows = session.execute(
        select(Delivery.id)
        .where(
            or_(
                and_(
                    Delivery.status == PENDING,
                    Delivery.next_attempt_at <= now - dt.timedelta(seconds=SWEEP_GRACE_SECONDS),
                ),
                and_(
                    Delivery.status == SENDING,
                    Delivery.claimed_at <= now - dt.timedelta(seconds=STUCK_AFTER_SECONDS),
                ),
            )
        )
        .limit(500)
    )
    return [r[0] for r in rows]


# --- jobs ----------------------------------------------------------------------------------


@huey.task()
def deliver_notification(delivery_id: int) -> str:
    """Send one delivery; on a failure that may pass, ask huey to run this again later."""
    with task_db() as session:
        outcome = attempt(session, delivery_id)
    if outcome.retry_in is not None:
        raise RetryTask(f"delivery {delivery_id}: {outcome.error}", delay=outcome.retry_in)
    return outcome.status


@huey.periodic_task(crontab(minute="*"))
def retry_notifications() -> int:
    """Every minute: queue deliveries whose job was lost."""
    with task_db() as session:
        ids = due_for_sweep(session)
    dispatch(ids)
    return len(ids)
