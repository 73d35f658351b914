"""Devices: the registry, enrolment, request authentication, check-in and status feedback.

A device is pre-authorised from a factory list with either a per-device secret (stored as its
SHA-256) or its Ed25519 public key. A device with a secret enrols once: it sends the secret with
a public key it generated, the secret is then forgotten. From then on every request is signed:

    message = "fleetcare-device-v1\\n<METHOD>\\n<path?query>\\n<seq>\\n<sha256 hex of body>"
    headers  X-Fleetcare-Device: <uid>, X-Fleetcare-Seq: <seq>, X-Fleetcare-Signature: <hex>

`seq` must be higher than any the server has accepted from that device (the reference agent
uses microseconds since the epoch), so a captured request cannot be replayed; the check and the
update are one conditional UPDATE, so it holds across API workers.

Check-in sessions. Checking an Ed25519 signature costs the server about as much as the rest of
a check-in, and signing costs a small device milliseconds, every poll. So a device may open a
session (`POST /device/v1/session`, itself signed with its key) and sign its check-ins, and
only those, with HMAC-SHA256 under the session key instead:

    headers  X-Fleetcare-Device: <uid>, X-Fleetcare-Seq: <seq>,
             X-Fleetcare-Session: <session id>, X-Fleetcare-Signature: <hex HMAC of message>

The session key is derived, not stored: HMAC(server secret, uid, device public key, session
id), the id carrying its expiry (`FLEETCARE_DEVICE_SESSION_HOURS`, 24 by default). Changing
the device's key, decommissioning it or changing the server's secret key ends its sessions.
The sequence number still guards against replays. What it gives up against signing every
request: whoever reads the session key from the answer that opened it (inside TLS) can sign
check-ins as the device until the session expires, though nothing else: status reports,
downloads and enrolment still need the device's own signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from fleetcare.core import audit
from fleetcare.core.auth import Principal
from fleetcare.core.db import utcnow
from fleetcare.core.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RuleViolation,
)
from fleetcare.core.settings import Settings
from fleetcare.portfolio import rules as portfolio_rules
from fleetcare.portfolio import service as portfolio
from fleetcare.updates import rollouts, rules
from fleetcare.updates.models import Assignment, CustomerUpdatePolicy, Device, SignedRelease
from fleetcare.updates.schemas import DeviceIn, DeviceOut, StatusIn, UpdateSettingsIn

SIGNING_CONTEXT = "fleetcare-device-v1"
MAX_SEQ = 2**62
SESSION_REFUSED = (
    "device session expired or not valid for this device; open a new one with "
    "POST /device/v1/session"
)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


_EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()


def request_message(method: str, target: str, seq: int, body: bytes) -> bytes:
    """The bytes a device signs for one request (`target` is the path with its query)."""
    digest = _EMPTY_DIGEST if not body else hashlib.sha256(body).hexdigest()
    return "\n".join([SIGNING_CONTEXT, method.upper(), target, str(seq), digest]).encode("utf-8")



# --- registry ------------------------------------------------------------------------------


def import_factory_list(
    session: Session, product_ref: int | str, entries: list[DeviceIn], *, actor: Principal
) -> int:
    """Pre-authorise devices of a product; refuses the whole list if any device exists."""
    product = portfolio.get_product(session, product_ref)
    uids = [e.uid for e in entries]
    if len(set(uids)) != len(uids):
        raise InvalidInput("the factory list names a device twice")
    existing: list[str] = []
    for start in range(0, len(uids), 500):
        existing += (
            session.execute(select(Device.uid).where(Device.uid.in_(uids[start : start + 500])))
            .scalars()
            .all()
        )
    if existing:
        raise Conflict(
            f"{len(existing)} devices are already registered, for example {sorted(existing)[0]!r}"
        )
    rows = [
        {
            "uid": e.uid,
            "product_id": product.id,
            "hardware_revision": e.hardware_revision,
            "customer": e.customer,
            "groups": e.groups,
            "tags": e.tags,
            "state": "preauthorised",
            "secret_hash": _sha256(e.secret) if e.secret else None,
            "public_key": e.public_key.lower() if e.public_key else None,
            "request_seq": 0,
            "installed_version": "",
            "installed_counter": 0,
            "device_state": "",
            "security_updates": "automatic",
            "created_at": utcnow(),
        }
        for e in entries
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(Device), rows[start : start + 1000])
    audit.record(
        session,
        actor=actor.actor,
        action="device.import",
        object_type="product",
        object_id=product.id,
        after={"devices": len(rows), "first": uids[0], "last": uids[-1]},
    )
    return len(rows)


def get_device(session: Session, uid: str) -> Device:
    device = session.execute(select(Device).where(Device.uid == uid)).scalar()
    if device is None:
        raise NotFound(f"no device {uid!r}")
    return device


def device_out(device: Device) -> DeviceOut:
    return DeviceOut(
        uid=device.uid,
        product_id=device.product_id,
        hardware_revision=device.hardware_revision,
        customer=device.customer,
        groups=list(device.groups or []),
        tags=list(device.tags or []),
        state=device.state,
        installed_version=device.installed_version,
        installed_counter=device.installed_counter,
        security_updates=device.security_updates,
        postponed_until=device.postponed_until,
        last_checkin_at=device.last_checkin_at,
    )


def list_devices(
    session: Session, *, product_id: int | None = None, limit: int = 100, offset: int = 0
) -> list[Device]:
    query = select(Device).order_by(Device.uid).limit(limit).offset(offset)
    if product_id is not None:
        query = query.where(Device.product_id == product_id)
    return list(session.execute(query).scalars())


def decommission(session: Session, uid: str, *, actor: Principal) -> Device:
    device = get_device(session, uid)
    if device.state == "decommissioned":
        return device
    before = device.state
    device.state = "decommissioned"
    device.public_key = None
    device.secret_hash = None
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="device.decommission",
        object_type="device",
        object_id=device.uid,
        before={"state": before},
        after={"state": device.state},
    )
    return device


def _check_settings(data: UpdateSettingsIn, settings: Settings, today: dt.date) -> None:
    if data.postponed_until is not None:
        problem = rules.check_postponement(
            data.postponed_until, today, settings.security_postpone_max_days
        )
        if problem:
            raise RuleViolation(problem)


def set_device_update_settings(
    session: Session,
    settings: Settings,
    uid: str,
    data: UpdateSettingsIn,
    *,
    actor: Principal,
    today: dt.date | None = None,
) -> Device:
    """A device's own choice about automatic security updates (Annex I Part I (2)(c))."""
    device = get_device(session, uid)
    _check_settings(data, settings, today or utcnow().date())
    before = {
        "security_updates": device.security_updates,
        "postponed_until": device.postponed_until,
    }
    device.security_updates = data.security_updates.value
    device.postponed_until = data.postponed_until
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="device.update_settings",
        object_type="device",
        object_id=device.uid,
        before=before,
        after={
            "security_updates": device.security_updates,
            "postponed_until": device.postponed_until,
        },
    )
    return device


def set_customer_update_settings(
    session: Session,
    settings: Settings,
    customer: str,
    data: UpdateSettingsIn,
    *,
    actor: Principal,
    today: dt.date | None = None,
) -> CustomerUpdatePolicy:
    """The same choice for every device of a customer."""
    if not customer.strip():
        raise InvalidInput("name the customer")
    _check_settings(data, settings, today or utcnow().date())
    policy = session.execute(
        select(CustomerUpdatePolicy).where(CustomerUpdatePolicy.customer == customer)
    ).scalar()
    if policy is None:
        policy = CustomerUpdatePolicy(customer=customer)
        session.add(policy)
    policy.security_updates = data.security_updates.value
    policy.postponed_until = data.postponed_until
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="customer.update_settings",
        object_type="customer",
        object_id=customer,
        after={
            "security_updates": policy.security_updates,
            "postponed_until": policy.postponed_until,
        },
    )
    return policy


# --- enrolment and authentication --------------------------------------------------------


def _public_key(hex_key: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
    except ValueError:
        raise InvalidInput("public_key must be an Ed25519 public key as 64 hex digits") from None


def enrol(session: Session, uid: str, secret: str, public_key: str) -> Device:
    """Exchange the factory secret for the device's own key; the secret works only once."""
    _public_key(public_key)
    device = session.execute(select(Device).where(Device.uid == uid)).scalar()
    stored = device.secret_hash if device is not None else None
    # Compare even for an unknown device so that timing does not tell which devices exist.
    matches = hmac.compare_digest(stored or "0" * 64, _sha256(secret))
    if device is None or stored is None or not matches or device.state != "preauthorised":
        raise NotAuthenticated("enrolment refused: unknown device, wrong or already used secret")
    device.secret_hash = None
    device.public_key = public_key
    device.state = "active"
    device.enrolled_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=f"device:{uid}",
        action="device.enrol",
        object_type="device",
        object_id=uid,
        after={"state": "active", "by": "secret"},
    )
    return device


def sessions_master(settings: Settings) -> bytes:
    """The key every session key is derived from (from the server's secret key)."""
    secret = settings.resolved_secret_key().encode()
    return hmac.new(secret, b"fleetcare-device-sessions-v1", hashlib.sha256).digest()


def session_key(master: bytes, uid: str, public_key: str, session_id: str) -> bytes:
    # hmac.digest: OpenSSL's one-shot HMAC, several times cheaper than an hmac.new object.
    return hmac.digest(master, f"{uid}\n{public_key}\n{session_id}".encode(), "sha256")


def session_alive(session_id: str, now: float, max_hours: int) -> bool:
    """Whether a session id (`<expiry as Unix time>.<16 hex digits>`) is well formed and not
    expired. Only the server can make the key of an id, so an id is only checked for time."""
    expires_text, dot, nonce = session_id.partition(".")
    if not dot or not expires_text.isdigit() or len(nonce) != 16:
        return False
    return now < int(expires_text) <= now + max_hours * 3600


def session_signed(
    master: bytes,
    uid: str,
    public_key: str,
    session_id: str,
    message: bytes,
    signature: bytes,
    *,
    max_hours: int,
) -> bool:
    """Whether `signature` is the HMAC of `message` under a live session of this device."""
    if not session_alive(session_id, time.time(), max_hours):
        return False
    key = session_key(master, uid, public_key, session_id)
    return hmac.compare_digest(hmac.digest(key, message, "sha256"), signature)


def open_session(
    settings: Settings, device: Device, now: dt.datetime | None = None
) -> dict[str, Any]:
    """A new check-in session of an authenticated device (its id, key and expiry)."""
    if not device.public_key:
        raise NotAuthenticated("this device has no key to derive a session from")
    now = now or utcnow()
    expires = int(now.timestamp()) + settings.device_session_hours * 3600
    session_id = f"{expires}.{secrets.token_hex(8)}"
    key = session_key(sessions_master(settings), device.uid, device.public_key, session_id)
    return {
        "session": session_id,
        "key": key.hex(),
        "expires": dt.datetime.fromtimestamp(expires, dt.UTC).isoformat(),
    }


def _check_signature(
    device: Device, message: bytes, signature: bytes, session_id: str, settings: Settings | None
) -> None:
    assert device.public_key is not None
    if session_id:
        if settings is None or not session_signed(
            sessions_master(settings),
            device.uid,
            device.public_key,
            session_id,
            message,
            signature,
            max_hours=settings.device_session_hours,
        ):
            raise NotAuthenticated(SESSION_REFUSED)
        return
    try:
        _public_key(device.public_key).verify(signature, message)
    except (InvalidSignature, InvalidInput):
        raise NotAuthenticated(
            "device request not authenticated: unknown device or bad signature"
        ) from None


def authenticate(
    session: Session,
    uid: str,
    seq_text: str,
    signature_hex: str,
    method: str,
    target: str,
    body: bytes,
    *,
    session_id: str = "",
    settings: Settings | None = None,
) -> Device:
    """The device that signed this request, after refusing forgeries and replays. With a
    `session_id` (check-ins only; the caller decides), the signature is the session's HMAC."""
    if not uid or not seq_text or not signature_hex:
        raise NotAuthenticated(
            "device requests must be signed: send X-Fleetcare-Device, X-Fleetcare-Seq and "
            "X-Fleetcare-Signature"
        )
    try:
        seq = int(seq_text)
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise NotAuthenticated("X-Fleetcare-Seq must be a number and the signature hex") from None
    if not 0 < seq < MAX_SEQ:
        raise NotAuthenticated("X-Fleetcare-Seq is out of range")
    device = session.execute(select(Device).where(Device.uid == uid)).scalar()
    if device is None or device.public_key is None:
        raise NotAuthenticated("device request not authenticated: unknown device or bad signature")
    _check_signature(
        device, request_message(method, target, seq, body), signature, session_id, settings
    )
    if device.state == "decommissioned":
        raise PermissionDenied(f"device {uid} is decommissioned")
    now = utcnow()
    values: dict[str, Any] = {"request_seq": seq, "last_checkin_at": now}
    if device.state == "preauthorised":  # a factory key: the first signed request enrols
        values.update(state="active", enrolled_at=now)
    result = session.execute(
        update(Device)
        .where(Device.id == device.id, Device.request_seq < seq)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        session.rollback()
        raise NotAuthenticated("replayed request: its sequence number was already used")
    session.commit()
    for name, value in values.items():  # what the UPDATE wrote, without reading it back
        set_committed_value(device, name, value)
    return device


# --- check-in ------------------------------------------------------------------------------

#: Functions that add notices to a check-in answer (the lifecycle capability can register
#: its end-of-life notices here through `fleetcare.wiring`); each gets (session, device, today)
#: and must depend only on the device's product and the day (see `device_notices`).
NoticeProvider = Callable[[Session, Device, dt.date], list[dict[str, Any]]]
notice_providers: list[NoticeProvider] = []


def _lifecycle() -> Any:
    """The lifecycle capability's service, when it is installed (it owns end-of-life notices
    and the rule that feature rollouts stop at support end); None otherwise."""
    try:
        from fleetcare.lifecycle import service
    except ImportError:
        return None
    return service


def _support_notice(
    session: Session, settings: Settings, device: Device, today: dt.date
) -> list[dict[str, Any]]:
    """CRA Art. 13(19): tell the user, through the product, when security support ends."""
    lifecycle = _lifecycle()
    if lifecycle is not None:
        notice = lifecycle.device_notice(session, device.product_id, on=today, settings=settings)
        return [notice.to_dict()] if notice is not None else []
    # Without the lifecycle capability: the same notice from the support end alone.
    product = portfolio.get_product(session, device.product_id)
    status = portfolio_rules.support_status(product.support_end, today)
    if status is portfolio_rules.SupportStatus.SUPPORTED:
        return []
    ended = status is portfolio_rules.SupportStatus.ENDED
    return [
        {
            "type": "end_of_support",
            "support_end": product.support_end.isoformat(),
            "message": (
                f"Security support for {product.name} "
                + ("ended" if ended else "ends")
                + f" in {portfolio_rules.month_year(product.support_end)}"
                + ("; this device no longer receives security updates." if ended else ".")
            ),
        }
    ]


def _security_choice(
    session: Session, device: Device, today: dt.date
) -> tuple[rules.SecurityChoice, dt.date | None]:
    policy = None
    if device.customer:
        policy = session.execute(
            select(CustomerUpdatePolicy).where(CustomerUpdatePolicy.customer == device.customer)
        ).scalar()
    return rules.security_choice(
        device.security_updates,
        device.postponed_until,
        policy.security_updates if policy else None,
        policy.postponed_until if policy else None,
        today,
    )


def _record_installed(session: Session, device: Device, version: str) -> None:
    if version == device.installed_version:
        return
    try:
        release = portfolio.get_release(session, device.product_id, version)
    except NotFound:
        raise InvalidInput(
            f"this device's product has no release {version!r}; report the version as published"
        ) from None
    counter = session.execute(
        select(SignedRelease.counter).where(SignedRelease.release_id == release.id)
    ).scalar()
    device.installed_release_id = release.id
    device.installed_version = version
    device.installed_counter = counter or 0


def device_notices(
    session: Session, settings: Settings, device: Any, today: dt.date
) -> list[dict[str, Any]]:
    """The notices of a check-in (end of support and what the providers add). They depend on
    the device's product and the day only: the device hot path keeps them per product for a
    minute."""
    notices = _support_notice(session, settings, device, today)
    for provider in notice_providers:
        notices += provider(session, device, today)
    return notices


def checkin_answer(
    settings: Settings,
    *,
    uid: str,
    installed_version: str,
    installed_counter: int,
    choice: rules.SecurityChoice,
    postponed_until: dt.date | None,
    assignment: dict[str, Any] | None,
    notices: list[dict[str, Any]],
) -> dict[str, Any]:
    """The check-in answer, the same from the full route and the hot path."""
    busy = assignment is not None and assignment["status"] != "pending"
    return {
        "device": uid,
        "installed": {"version": installed_version, "release_counter": installed_counter},
        "poll_seconds": settings.device_busy_poll_seconds if busy else settings.device_poll_seconds,
        "security_updates": {
            "choice": choice.value,
            "postponed_until": postponed_until.isoformat() if postponed_until else None,
        },
        "assignment": assignment,
        "notices": notices,
    }


def checkin(
    session: Session,
    settings: Settings,
    device: Device,
    *,
    installed_version: str | None,
    device_state: str | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record what the device runs; answer with its assignment, poll interval and notices."""
    now = now or utcnow()
    today = now.date()
    if installed_version:
        _record_installed(session, device, installed_version)
    if device_state is not None and device_state != device.device_state:
        device.device_state = device_state[:100]
    choice, until = _security_choice(session, device, today)
    assignment = rollouts.offer_for(session, device, choice, now)
    notices = device_notices(session, settings, device, today)
    session.commit()
    return checkin_answer(
        settings,
        uid=device.uid,
        installed_version=device.installed_version,
        installed_counter=device.installed_counter,
        choice=choice,
        postponed_until=until,
        assignment=assignment,
        notices=notices,
    )


def report_status(
    session: Session,
    device: Device,
    data: StatusIn,
    on_wave_opened: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Record progress of an assignment; sending the same report again changes nothing.
    `on_wave_opened(rollout_id)` is called after the commit when the report opened a wave."""
    assignment = session.get(Assignment, data.assignment)
    if assignment is None or assignment.device_id != device.id:
        raise NotFound(f"this device has no assignment {data.assignment}")
    current = assignment.status
    if current == data.status or (
        current not in rules.FINAL_STATUSES
        and rules.STATUS_ORDER[data.status] < rules.STATUS_ORDER[current]
    ):
        return {"assignment": assignment.id, "status": current, "changed": False}
    if current in rules.FINAL_STATUSES:
        raise Conflict(f"assignment {assignment.id} is already {current}")
    assignment.status = data.status
    assignment.detail = data.detail[-4000:]
    if data.status == "success":
        release_id, counter = rollouts.release_of(session, assignment.rollout_id)
        device.installed_release_id = release_id
        device.installed_version = portfolio.get_release_by_id(session, release_id).version
        device.installed_counter = counter
    session.flush()
    opened = False
    if data.status in rules.FINAL_STATUSES:
        wave = rollouts.get(session, assignment.rollout_id).current_wave
        status = rollouts.evaluate(session, assignment.rollout_id)
        opened = (
            status == "running"
            and rollouts.get(session, assignment.rollout_id).current_wave != wave
        )
    session.commit()
    if opened and on_wave_opened is not None:
        on_wave_opened(assignment.rollout_id)
    return {"assignment": assignment.id, "status": data.status, "changed": True}


# --- the lifecycle's view of the fleet ------------------------------------------------------


def field_devices(session: Session, product_ids: Collection[int]) -> Iterator[Any]:
    """The registry's devices of these products as `fleetcare.lifecycle` sees them (its
    `FieldDevice`; the customer name is the customer reference)."""
    from fleetcare.lifecycle.service import FieldDevice

    rows = session.execute(
        select(Device.uid, Device.product_id, Device.customer, Device.state).where(
            Device.product_id.in_(list(product_ids))
        )
    )
    for uid, product_id, customer, state in rows:
        yield FieldDevice(uid, product_id, customer or None, state == "active")


def connect_lifecycle() -> None:
    """Let the lifecycle capability count and notify the devices of this registry; meant to be
    called from `fleetcare.wiring.connect()` (not wired yet)."""
    lifecycle = _lifecycle()
    if lifecycle is not None:
        lifecycle.register_device_source(field_devices)


# --- the registry as the dashboard searches it -----------------------------------------------


def search_devices(
    session: Session,
    *,
    product_id: int | None = None,
    state: str | None = None,
    installed_version: str | None = None,
    customer: str | None = None,
    group: str | None = None,
    tag: str | None = None,
    uid_prefix: str | None = None,
    not_seen_days: int | None = None,
    sort: str = "uid",
    limit: int = 100,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> tuple[list[Device], int]:
    """One page of the devices that pass every given filter, and how many pass in all.

    Filters and count run in SQL (fleets have 100,000+ devices). `uid_prefix` matches the start
    of the uid, ignoring ASCII case; `group` and `tag` match one label exactly; `not_seen_days`
    keeps devices whose last check-in is older than that many days, and devices that never
    checked in and were registered before then. `sort` is `uid`, `-uid`, `last_checkin`
    (longest unseen first, never seen before all) or `-last_checkin` (latest first).
    """
    from sqlalchemy import and_, cast, exists, func, literal, or_
    from sqlalchemy.dialects.postgresql import JSONB

    orders = {
        "uid": (Device.uid.asc(),),
        "-uid": (Device.uid.desc(),),
        "last_checkin": (Device.last_checkin_at.asc().nulls_first(), Device.uid.asc()),
        "-last_checkin": (Device.last_checkin_at.desc().nulls_last(), Device.uid.asc()),
    }
    if sort not in orders:
        raise InvalidInput(f"sort by one of {', '.join(orders)}, not {sort!r}")
    if state is not None and state not in ("preauthorised", "active", "decommissioned"):
        raise InvalidInput("state must be preauthorised, active or decommissioned")
    if not_seen_days is not None and not_seen_days < 0:
        raise InvalidInput("the days without a check-in cannot be negative")
    postgres = session.get_bind().dialect.name == "postgresql"

    def has_label(column: Any, label: str) -> Any:
        if postgres:
            return cast(column, JSONB).contains([label])
        labels = func.json_each(column).table_valued("value")
        return exists(select(literal(1)).select_from(labels).where(labels.c.value == label))

    conditions: list[Any] = []
    if product_id is not None:
        conditions.append(Device.product_id == product_id)
    if state:
        conditions.append(Device.state == state)
    if installed_version is not None:
        conditions.append(Device.installed_version == installed_version)
    if customer is not None:
        conditions.append(Device.customer == customer)
    if group:
        conditions.append(has_label(Device.groups, group))
    if tag:
        conditions.append(has_label(Device.tags, tag))
    if uid_prefix:
        conditions.append(func.lower(Device.uid).startswith(uid_prefix.lower(), autoescape=True))
    if not_seen_days is not None:
        cutoff = (now or utcnow()) - dt.timedelta(days=not_seen_days)
        conditions.append(
            or_(
                Device.last_checkin_at < cutoff,
                and_(Device.last_checkin_at.is_(None), Device.created_at < cutoff),
            )
        )
    total = session.execute(
        select(func.count()).select_from(Device).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(Device).where(*conditions).order_by(*orders[sort]).limit(limit).offset(offset)
    ).scalars()
    return list(rows), total
