"""End-of-life operations: customers and their devices, plans, notices and their deliveries.

    plan = service.save_plan(session, "thermostat-t1", PlanIn(...), actor=who)
    session.commit()
    notice_ids = service.schedule_notices(session, settings)   # the job, every ten minutes
    session.commit()
    service.send_notice(session, notice_id, settings)          # the job, per notice

A milestone of a plan becomes one `Notice` (its key is unique, so it is announced once) and one
`NoticeDelivery` per customer with active devices of the product and per channel the customer
accepts. Sending claims deliveries in batches and records each outcome in its own commit, so a
restart resumes with what was not sent; a delivery claimed by a worker that died is tried again
once it is `STUCK_AFTER` old (the only message that can then reach a customer twice is the one
that was in flight at the crash; each carries its delivery id for receivers to drop it).

Devices: `fleetcare.updates` owns the device registry. Until it reports devices through
`register_device_source`, ownership comes from CSV (`import_devices_csv`); both are merged by
device identifier, the registry winning. The updates package calls `device_notice` at check-in
and `check_rollout_allowed` before starting a rollout.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import logging
import secrets
import smtplib
import ssl
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError
from sqlalchemy import and_, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fleetcare.core import audit, events, notify
from fleetcare.core.auth import Principal, normalise_email, system_principal
from fleetcare.core.db import utcnow
from fleetcare.core.errors import Conflict, InvalidInput, NotFound, RuleViolation
from fleetcare.core.notify_models import Delivery
from fleetcare.core.settings import Settings
from fleetcare.lifecycle import rules, texts
from fleetcare.lifecycle.models import (
    Cessation,
    Customer,
    CustomerDevice,
    EolPlan,
    Notice,
    NoticeDelivery,
    UpstreamCycle,
)
from fleetcare.lifecycle.schemas import (
    CalendarRow,
    CessationIn,
    CessationOut,
    CustomerIn,
    CustomerOut,
    DeliveryOut,
    ImportReport,
    MilestoneOut,
    NoticeOut,
    PlanIn,
    PlanOut,
    UpstreamWarning,
)
from fleetcare.portfolio import rules as portfolio_rules
from fleetcare.portfolio import service as portfolio
from fleetcare.portfolio.schemas import ProductPatch

log = logging.getLogger("fleetcare.lifecycle")

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
#: A delivery claimed this long ago without an outcome belongs to a worker that died.
STUCK_AFTER = dt.timedelta(minutes=10)
CLAIM_BATCH = 200
CSV_MAX_ROWS = 500_000
EVENT = "eol.notice"


def today() -> dt.date:
    return portfolio.today()


# --- devices: the interface the updates package fills ------------------------------------


@dataclass(frozen=True)
class FieldDevice:
    """A device as the lifecycle sees it: which product, owned by which customer (by `ref`)."""

    identifier: str
    product_id: int
    customer_ref: str | None
    active: bool = True


#: Called with a session and product ids; yields the devices of those products it knows.
DeviceSource = Callable[[Session, Collection[int]], Iterable[FieldDevice]]
_device_sources: list[DeviceSource] = []


def register_device_source(source: DeviceSource) -> None:
    """Add a source of devices (the updates package's registry); registering twice is a no-op."""
    if source not in _device_sources:
        _device_sources.append(source)


def unregister_device_source(source: DeviceSource) -> None:
    if source in _device_sources:
        _device_sources.remove(source)


def field_devices(session: Session, product_ids: Collection[int]) -> dict[str, FieldDevice]:
    """Every known device of these products by identifier: imported ownership, overridden by
    what registered sources report."""
    ids = list(product_ids)
    devices: dict[str, FieldDevice] = {}
    if not ids:
        return devices
    rows = session.execute(
        select(
            CustomerDevice.identifier, CustomerDevice.product_id, Customer.ref, CustomerDevice.state
        )
        .join(Customer, Customer.id == CustomerDevice.customer_id)
        .where(CustomerDevice.product_id.in_(ids))
    )
    for identifier, product_id, ref, state in rows:
        devices[identifier] = FieldDevice(identifier, product_id, ref, state == "active")
    for source in _device_sources:
        for device in source(session, ids):
            devices[device.identifier] = device
    return devices


def devices_in_field(session: Session, product_ids: Collection[int]) -> dict[int, int]:
    """Active devices per product (every id given appears, with 0 when none)."""
    counts = dict.fromkeys(product_ids, 0)
    if not _device_sources:
        rows = session.execute(
            select(CustomerDevice.product_id, func.count())
            .where(CustomerDevice.product_id.in_(list(counts)), CustomerDevice.state == "active")
            .group_by(CustomerDevice.product_id)
        )
        counts.update(dict(rows.all()))
        return counts
    for device in field_devices(session, list(counts)).values():
        if device.active:
            counts[device.product_id] += 1
    return counts


# --- customers -----------------------------------------------------------------------------


def _fernet(settings: Settings) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"fleetcare customer webhooks"
    ).derive(settings.resolved_secret_key().encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _check_webhook_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput(f"webhook URL must be an http or https URL, not {url!r}")
    if parts.username or parts.password:
        raise InvalidInput("put no credentials in the webhook URL; calls are signed instead")
    return url


def default_topic(ref: str) -> str:
    return f"fleetcare/customers/{ref}/eol"


def _apply_customer(customer: Customer, data: CustomerIn, settings: Settings) -> str | None:
    """Copy `data` onto `customer`; returns a new webhook secret when one was made."""
    emails = []
    for raw in data.emails:
        address = normalise_email(raw)
        if address not in emails:
            emails.append(address)
    channels = sorted({c.value for c in data.channels})
    if "email" in channels and not emails:
        raise InvalidInput(f"customer {data.ref}: the email channel needs at least one address")
    if "webhook" in channels and not data.webhook_url:
        raise InvalidInput(f"customer {data.ref}: the webhook channel needs a webhook URL")
    customer.ref, customer.name, customer.kind = data.ref, data.name, data.kind.value
    customer.language = data.language
    customer.emails = emails
    customer.mqtt_topic = data.mqtt_topic
    customer.channels = channels
    customer.transition_offers = data.transition_offers
    secret = None
    url = _check_webhook_url(data.webhook_url) if data.webhook_url else ""
    if url and (url != customer.webhook_url or not customer.webhook_secret_encrypted):
        secret = "whsec_" + secrets.token_urlsafe(32)
        customer.webhook_secret_encrypted = _fernet(settings).encrypt(secret.encode()).decode()
    if not url:
        customer.webhook_secret_encrypted = ""
    customer.webhook_url = url
    return secret


def _customer_state(customer: Customer) -> dict[str, Any]:
    return {
        "ref": customer.ref,
        "name": customer.name,
        "kind": customer.kind,
        "language": customer.language,
        "channels": list(customer.channels),
        "emails": list(customer.emails),
        "webhook_url": customer.webhook_url,
        "mqtt_topic": customer.mqtt_topic,
    }


def save_customer(
    session: Session, data: CustomerIn, *, actor: Principal, settings: Settings
) -> tuple[Customer, str | None]:
    """Create the customer `data.ref` or update it; returns it and a new webhook secret (shown
    once) when its webhook URL is new."""
    customer = session.execute(
        select(Customer).where(Customer.ref == data.ref)
    ).scalar_one_or_none()
    created = customer is None
    before = None if customer is None else _customer_state(customer)
    if customer is None:
        customer = Customer(ref=data.ref)
        session.add(customer)
    secret = _apply_customer(customer, data, settings)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="customer.create" if created else "customer.update",
        object_type="customer",
        object_id=customer.id,
        before=before,
        after=_customer_state(customer),
    )
    return customer, secret


def get_customer(session: Session, ref: str) -> Customer:
    customer = session.execute(select(Customer).where(Customer.ref == ref)).scalar_one_or_none()
    if customer is None:
        raise NotFound(f"no customer with reference {ref!r}")
    return customer


def customer_out(customer: Customer, devices: int = 0, secret: str | None = None) -> CustomerOut:
    return CustomerOut(
        ref=customer.ref,
        name=customer.name,
        kind=customer.kind,
        language=customer.language,
        emails=list(customer.emails),
        webhook_url=customer.webhook_url,
        mqtt_topic=customer.mqtt_topic or default_topic(customer.ref),
        channels=list(customer.channels),
        transition_offers=customer.transition_offers,
        devices=devices,
        webhook_secret=secret,
    )


def list_customers(
    session: Session, *, search: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[CustomerOut], int]:
    query = select(Customer)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(func.lower(Customer.name).like(pattern), func.lower(Customer.ref).like(pattern))
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    customers = list(
        session.execute(query.order_by(Customer.name, Customer.id).limit(limit).offset(offset))
        .scalars()
        .all()
    )
    counts = dict(
        session.execute(
            select(CustomerDevice.customer_id, func.count())
            .where(
                CustomerDevice.customer_id.in_([c.id for c in customers]),
                CustomerDevice.state == "active",
            )
            .group_by(CustomerDevice.customer_id)
        ).all()
    )
    return [customer_out(c, counts.get(c.id, 0)) for c in customers], total


# --- CSV imports -------------------------------------------------------------------------


def _csv_rows(
    text: str, required: set[str], optional: set[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; InvalidInput naming the problem otherwise."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
    headers = {h.strip().lower() for h in (reader.fieldnames or []) if h}
    if not headers:
        raise InvalidInput("the CSV file is empty: the first line must name the columns")
    missing = required - headers
    unknown = headers - required - optional
    if missing:
        raise InvalidInput(
            "the CSV file lacks the column(s) "
            + ", ".join(sorted(missing))
            + f"; expected {', '.join(sorted(required))} and optionally "
            + ", ".join(sorted(optional))
        )
    if unknown:
        raise InvalidInput(
            "unknown CSV column(s) "
            + ", ".join(sorted(unknown))
            + "; allowed: "
            + ", ".join(sorted(required | optional))
        )
    count = 0
    try:
        for row in reader:
            count += 1
            if count > CSV_MAX_ROWS:
                raise InvalidInput(f"the CSV file has more than {CSV_MAX_ROWS} rows; split it")
            if None in row:
                raise InvalidInput(f"line {reader.line_num}: more values than columns")
            values = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            if not any(values.values()):
                continue
            yield reader.line_num, values
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: not valid CSV: {exc}") from None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


def _yes(value: str, line: int) -> bool:
    lowered = value.lower()
    if lowered in ("", "yes", "true", "1", "y"):
        return True
    if lowered in ("no", "false", "0", "n"):
        return False
    raise InvalidInput(f"line {line}: transition_offers must be yes or no, not {value!r}")


CUSTOMER_COLUMNS = {
    "kind",
    "language",
    "emails",
    "webhook_url",
    "mqtt_topic",
    "channels",
    "transition_offers",
}


def import_customers_csv(
    session: Session, text: str, *, actor: Principal, settings: Settings
) -> ImportReport:
    """Create or update customers from CSV (`ref,name[,kind,language,emails,webhook_url,
    mqtt_topic,channels,transition_offers]`; lists separated by `;`). All or nothing: the
    first bad line raises and nothing is written (the caller rolls back)."""
    report = ImportReport(created=0, updated=0)
    seen: set[str] = set()
    for line, row in _csv_rows(text, {"ref", "name"}, CUSTOMER_COLUMNS):
        fields: dict[str, Any] = {"ref": row["ref"], "name": row["name"]}
        for key in ("kind", "language", "webhook_url", "mqtt_topic"):
            if row.get(key):
                fields[key] = row[key]
        if row.get("emails"):
            fields["emails"] = _split(row["emails"])
        if row.get("channels"):
            fields["channels"] = [c.lower() for c in _split(row["channels"])]
        fields["transition_offers"] = _yes(row.get("transition_offers", ""), line)
        try:
            data = CustomerIn.model_validate(fields)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            raise InvalidInput(f"line {line}: {field}: {error['msg']}") from None
        if data.ref in seen:
            raise InvalidInput(f"line {line}: customer {data.ref} appears twice in the file")
        seen.add(data.ref)
        exists = session.execute(select(Customer.id).where(Customer.ref == data.ref)).first()
        try:
            _customer, secret = save_customer(session, data, actor=actor, settings=settings)
        except InvalidInput as exc:
            raise InvalidInput(f"line {line}: {exc.message}") from None
        if exists:
            report.updated += 1
        else:
            report.created += 1
        if secret:
            report.webhook_secrets[data.ref] = secret
    if not seen:
        raise InvalidInput("the CSV file has no customers below its header line")
    return report


DEVICE_STATES = ("active", "decommissioned")


def import_devices_csv(session: Session, text: str, *, actor: Principal) -> ImportReport:
    """Record which customer owns which device (`device,customer,product[,state]`): the
    customer by reference, the product by slug, name or id. Rows for a known device identifier
    replace its owner, product and state. All or nothing, like the customer import."""
    customers = dict(session.execute(select(Customer.ref, Customer.id)).all())
    products: dict[str, int] = {}
    rows: dict[str, dict[str, Any]] = {}
    for line, row in _csv_rows(text, {"device", "customer", "product"}, {"state"}):
        identifier = row["device"]
        if not identifier or len(identifier) > 200:
            raise InvalidInput(f"line {line}: device identifier must have 1 to 200 characters")
        if identifier in rows:
            raise InvalidInput(f"line {line}: device {identifier} appears twice in the file")
        customer_id = customers.get(row["customer"])
        if customer_id is None:
            raise InvalidInput(
                f"line {line}: no customer with reference {row['customer']!r}; import customers "
                "first"
            )
        product_ref = row["product"]
        if product_ref not in products:
            try:
                products[product_ref] = portfolio.get_product(session, product_ref).id
            except NotFound:
                raise InvalidInput(f"line {line}: no product {product_ref!r}") from None
        state = (row.get("state") or "active").lower()
        if state not in DEVICE_STATES:
            raise InvalidInput(
                f"line {line}: state must be active or decommissioned, not {state!r}"
            )
        rows[identifier] = {
            "identifier": identifier,
            "customer_id": customer_id,
            "product_id": products[product_ref],
            "state": state,
        }
    if not rows:
        raise InvalidInput("the CSV file has no devices below its header line")
    existing: dict[str, int] = {}
    identifiers = list(rows)
    for start in range(0, len(identifiers), 900):
        chunk = identifiers[start : start + 900]
        existing.update(
            session.execute(
                select(CustomerDevice.identifier, CustomerDevice.id).where(
                    CustomerDevice.identifier.in_(chunk)
                )
            ).all()
        )
    now = utcnow()
    new = [{**r, "imported_at": now} for i, r in rows.items() if i not in existing]
    changed = [
        {**r, "id": existing[i], "imported_at": now} for i, r in rows.items() if i in existing
    ]
    for start in range(0, len(new), 5000):
        session.execute(insert(CustomerDevice), new[start : start + 5000])
    if changed:
        session.execute(update(CustomerDevice), changed)
    audit.record(
        session,
        actor=actor.actor,
        action="customer_devices.import",
        object_type="customer_devices",
        object_id="",
        after={"created": len(new), "updated": len(changed), "products": sorted(products)},
    )
    return ImportReport(created=len(new), updated=len(changed))


# --- plans --------------------------------------------------------------------------------


def get_plan(session: Session, product_id: int) -> EolPlan | None:
    return session.execute(
        select(EolPlan).where(EolPlan.product_id == product_id)
    ).scalar_one_or_none()


def _plan_state(plan: EolPlan) -> dict[str, Any]:
    return {
        "milestones": list(plan.milestones),
        "send_hour": plan.send_hour,
        "upgrade_path": plan.upgrade_path,
        "transition_offer": plan.transition_offer,
        "decommissioning": dict(plan.decommissioning),
        "annex_ii": dict(plan.annex_ii),
        "published": plan.published,
    }


def save_plan(
    session: Session, product_ref: int | str, data: PlanIn, *, actor: Principal
) -> EolPlan:
    """Create or replace the plan of a product. Dates and successor given in `data` are set on
    the product itself, where the portfolio checks them against the CRA rules."""
    product = portfolio.get_product(session, product_ref)
    product_fields = {"support_end", "end_of_sale", "successor"} & data.model_fields_set
    if product_fields:
        values = {f: getattr(data, f) for f in product_fields}
        if values.get("support_end") is None:
            values.pop("support_end", None)
        portfolio.update_product(
            session, product.id, ProductPatch.model_validate(values), actor=actor
        )
    plan = get_plan(session, product.id)
    before = None if plan is None else _plan_state(plan)
    if plan is None:
        plan = EolPlan(product_id=product.id)
        session.add(plan)
    plan.milestones = list(data.milestones)
    plan.send_hour = data.send_hour
    plan.upgrade_path = data.upgrade_path
    plan.transition_offer = data.transition_offer
    plan.decommissioning = data.decommissioning.model_dump()
    plan.annex_ii = data.annex_ii.model_dump()
    plan.published = data.published
    plan.updated_by = actor.actor
    session.flush()
    after = _plan_state(plan)
    if before != after:
        audit.record(
            session,
            actor=actor.actor,
            action="eol_plan.create" if before is None else "eol_plan.update",
            object_type="product",
            object_id=product.id,
            before=before,
            after=after,
        )
    return plan


def _milestone_key(product_id: int, support_end: dt.date, months: int) -> str:
    return f"milestone:{product_id}:{support_end.isoformat()}:{months}"


def _milestone_notices(
    session: Session, product_id: int, support_end: dt.date
) -> dict[int, Notice]:
    notices = session.execute(
        select(Notice).where(
            Notice.product_id == product_id,
            Notice.kind == "milestone",
            Notice.support_end == support_end,
        )
    ).scalars()
    return {n.months_before: n for n in notices if n.months_before is not None}


def plan_schedule(
    session: Session, product: Any, plan: EolPlan, settings: Settings
) -> list[MilestoneOut]:
    notices = _milestone_notices(session, product.id, product.support_end)
    result = []
    for m in rules.schedule(
        product.support_end, plan.milestones, plan.send_hour, settings.timezone
    ):
        notice = notices.get(m.months_before)
        if notice is not None:
            status, late, notice_id = notice.status, notice.late, notice.id
        else:
            ended = today() > product.support_end
            status, late, notice_id = ("not sent" if ended else "scheduled"), False, None
        result.append(
            MilestoneOut(
                months_before=m.months_before,
                on=m.on,
                due_at=m.due_at,
                status=status,
                late=late,
                notice_id=notice_id,
            )
        )
    return result


def plan_out(session: Session, product_ref: int | str, settings: Settings) -> PlanOut:
    product = portfolio.get_product(session, product_ref)
    plan = get_plan(session, product.id)
    if plan is None:
        raise NotFound(f"{product.name} has no end-of-life plan yet")
    devices = field_devices(session, [product.id])
    active = [d for d in devices.values() if d.active]
    owners = {d.customer_ref for d in active if d.customer_ref}
    known = (
        set(session.execute(select(Customer.ref).where(Customer.ref.in_(owners))).scalars())
        if owners
        else set()
    )
    return PlanOut(
        product=product.name,
        slug=product.slug,
        support_end=product.support_end,
        support_end_month_year=portfolio_rules.month_year(product.support_end),
        end_of_sale=product.end_of_sale,
        support_status=portfolio_rules.support_status(product.support_end, today()).value,
        successor=product.successor.name if product.successor else None,
        milestones=list(plan.milestones),
        send_hour=plan.send_hour,
        schedule=plan_schedule(session, product, plan, settings),
        upgrade_path=plan.upgrade_path,
        transition_offer=plan.transition_offer,
        decommissioning=dict(plan.decommissioning),
        annex_ii=dict(plan.annex_ii),
        published=plan.published,
        devices_in_field=len(active),
        customers=len(known),
        devices_without_customer=sum(1 for d in active if d.customer_ref not in known),
        support_ended_at=plan.support_ended_at,
        devices_at_support_end=plan.devices_at_support_end,
    )


def published_plan(session: Session, slug: str) -> tuple[Any, EolPlan]:
    """The product and its plan for the public end-of-life page; NotFound unless published."""
    product = portfolio.get_product_by_slug(session, slug)
    plan = get_plan(session, product.id)
    if plan is None or not plan.published:
        raise NotFound(f"no end-of-life notice is published for {product.name}")
    return product, plan


def public_notice(product: Any, plan: EolPlan, on: dt.date | None = None) -> dict[str, Any]:
    """What the public end-of-life page and its JSON say about a product."""
    on = on or today()
    return {
        "product": product.name,
        "model": product.model_id,
        "status": portfolio_rules.support_status(product.support_end, on).value,
        "support_end": product.support_end.isoformat(),
        "support_end_month_year": portfolio_rules.month_year(product.support_end),
        "end_of_sale": product.end_of_sale.isoformat() if product.end_of_sale else None,
        "successor": product.successor.name if product.successor else None,
        "successor_slug": product.successor.slug if product.successor else None,
        "upgrade_path": plan.upgrade_path,
        "transition_offer": plan.transition_offer,
        "decommissioning": {
            key: plan.decommissioning.get(key, "")
            for key in rules.DECOMMISSIONING_STEPS
            if plan.decommissioning.get(key)
        },
        "support_type": plan.annex_ii.get("support_type", ""),
        "after_support": plan.annex_ii.get("after_support", ""),
        "security_updates_stay_available": True,
    }


def published_slugs(session: Session) -> set[str]:
    """Slugs of the products whose end-of-life notice is public (for the support page)."""
    plans = session.execute(select(EolPlan.product_id).where(EolPlan.published.is_(True)))
    return {portfolio.get_product(session, row[0]).slug for row in plans}


def plans_by_product(session: Session) -> dict[int, EolPlan]:
    return {p.product_id: p for p in session.execute(select(EolPlan)).scalars()}


# --- notices --------------------------------------------------------------------------------


def _notice_content(product: Any, plan: EolPlan, months: int, settings: Settings) -> dict[str, Any]:
    base = settings.base_url.rstrip("/")
    return {
        "kind": "milestone",
        "manufacturer": settings.manufacturer_name,
        "product": product.name,
        "slug": product.slug,
        "model": product.model_id,
        "support_end": product.support_end.isoformat(),
        "support_end_month_year": portfolio_rules.month_year(product.support_end),
        "months_before": months,
        "end_of_sale": product.end_of_sale.isoformat() if product.end_of_sale else None,
        "successor": product.successor.name if product.successor else None,
        "upgrade_path": plan.upgrade_path,
        "transition_offer": plan.transition_offer,
        "decommissioning": dict(plan.decommissioning),
        "after_support": plan.annex_ii.get("after_support", ""),
        "url": f"{base}/end-of-life/{product.slug}",
    }


def _insert_notice(session: Session, notice: Notice) -> Notice | None:
    """Insert unless a notice with the same key exists (another scheduler got there first)."""
    if session.execute(select(Notice.id).where(Notice.key == notice.key)).first():
        return None
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None
    return notice


def _queue_deliveries(
    session: Session, notice: Notice, owners: dict[str, int] | None, now: dt.datetime
) -> None:
    """One delivery per customer and accepted channel. `owners` maps customer refs to their
    device counts; None means every customer (ceasing operations)."""
    query = select(Customer)
    customers = list(session.execute(query.order_by(Customer.id)).scalars())
    rows = []
    devices = 0
    reached = 0
    for customer in customers:
        if owners is not None and customer.ref not in owners:
            continue
        count = owners.get(customer.ref, 0) if owners is not None else 0
        devices += count
        reached += 1
        for channel in customer.channels:
            target = {
                "email": ", ".join(customer.emails),
                "webhook": customer.webhook_url,
                "mqtt": customer.mqtt_topic or default_topic(customer.ref),
            }.get(channel, "")
            if not target:
                continue
            rows.append(
                {
                    "notice_id": notice.id,
                    "customer_id": customer.id,
                    "channel": channel,
                    "target": target,
                    "devices": count,
                    "status": PENDING,
                    "attempts": 0,
                    "last_error": "",
                    "read_token": secrets.token_urlsafe(16),
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
    for start in range(0, len(rows), 5000):
        session.execute(insert(NoticeDelivery), rows[start : start + 5000])
    notice.customers = reached
    notice.devices = devices


def schedule_notices(
    session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[int]:
    """Announce every milestone that is due and not yet announced: one notice each, with its
    deliveries queued. Returns the ids of the notices created; the caller commits, then sends."""
    now = now or utcnow()
    created: list[int] = []
    for plan in session.execute(select(EolPlan).order_by(EolPlan.product_id)).scalars():
        product = portfolio.get_product(session, plan.product_id)
        milestones = rules.schedule(
            product.support_end, plan.milestones, plan.send_hour, settings.timezone
        )
        done = set(_milestone_notices(session, product.id, product.support_end))
        decision = rules.decide(milestones, done, now, product.support_end, settings.timezone)
        for old in decision.superseded:
            _insert_notice(
                session,
                Notice(
                    key=_milestone_key(product.id, product.support_end, old.months_before),
                    kind="milestone",
                    product_id=product.id,
                    months_before=old.months_before,
                    support_end=product.support_end,
                    due_at=old.due_at,
                    status="superseded",
                    started_at=now,
                    finished_at=now,
                ),
            )
        if decision.send is None:
            continue
        m = decision.send
        content = _notice_content(product, plan, m.months_before, settings)
        subject, body = texts.notice_text(content, "en", devices=None, link=content["url"])
        notice = _insert_notice(
            session,
            Notice(
                key=_milestone_key(product.id, product.support_end, m.months_before),
                kind="milestone",
                product_id=product.id,
                months_before=m.months_before,
                support_end=product.support_end,
                due_at=m.due_at,
                status=SENDING,
                late=decision.late,
                subject=subject,
                body=body,
                content=content,
                started_at=now,
            ),
        )
        if notice is None:
            continue
        owners = Counter(
            d.customer_ref
            for d in field_devices(session, [product.id]).values()
            if d.active and d.customer_ref
        )
        _queue_deliveries(session, notice, dict(owners), now)
        audit.record(
            session,
            actor=system_principal("eol-notices").actor,
            action="eol_notice.start",
            object_type="product",
            object_id=product.id,
            after={
                "notice": notice.id,
                "months_before": m.months_before,
                "due_at": m.due_at,
                "late": notice.late,
                "customers": notice.customers,
                "devices": notice.devices,
            },
        )
        created.append(notice.id)
    return created


class ChannelOff(notify.DeliveryFailed):
    """The channel is not configured on this server; retrying would not help."""


class _SmtpSession:
    """One SMTP connection for all the emails of a sending run.

    `notify.send_email` opens a connection (and a TLS context) per message, which is right for
    the odd alert but costs tens of milliseconds per message; a milestone sends thousands. The
    settings, headers and error wording are the same as there.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: smtplib.SMTP | None = None
        self.context: ssl.SSLContext | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.smtp_security != "none" and self.context is None:
            self.context = ssl.create_default_context()
        client: smtplib.SMTP
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=settings.smtp_timeout_seconds,
                context=self.context,
            )
        else:
            client = smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
            )
        if settings.smtp_security == "starttls":
            client.starttls(context=self.context)
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password)
        return client

    def send(self, *, to: str, subject: str, body: str, message_id: str) -> None:
        settings = self.settings
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = to
        message["Subject"] = " ".join(subject.split())[:300]
        message["Date"] = formatdate(localtime=False)
        # The same id for the same delivery: a receiver can drop a copy sent again after a crash.
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"
        message["X-Fleetcare-Event"] = EVENT
        message.set_content(body)
        for attempt in (1, 2):
            try:
                if self.client is None:
                    self.client = self._connect()
                self.client.send_message(message)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self.client = None  # the server dropped an idle connection: open a new one
                if attempt == 2:
                    raise self._failed(exc) from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise self._failed(exc) from None

    def _failed(self, exc: Exception) -> notify.DeliveryFailed:
        host = f"{self.settings.smtp_host}:{self.settings.smtp_port}"
        return notify.DeliveryFailed(f"SMTP {host}: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self.client is not None:
            with suppress(OSError, smtplib.SMTPException):
                self.client.quit()
            self.client = None


@dataclass
class _Channels:
    """Connections reused while one notice is sent: SMTP, an HTTP client and an MQTT session."""

    settings: Settings
    smtp: _SmtpSession | None = None
    http: httpx.Client | None = None
    mqtt: Any = None

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
        if self.http is not None:
            self.http.close()
        if self.mqtt is not None:
            # Disconnecting first wakes the network loop, so that stopping it does not wait.
            self.mqtt.disconnect()
            self.mqtt.loop_stop()


def parse_mqtt_url(url: str) -> tuple[str, int, bool, str, str]:
    """(host, port, tls, username, password) of `mqtt://user:pass@host:1883` or `mqtts://`."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(
            f"the MQTT URL must look like mqtt://host:1883 or mqtts://host, not {url!r}"
        )
    tls = parts.scheme == "mqtts"
    return (
        parts.hostname,
        parts.port or (8883 if tls else 1883),
        tls,
        parts.username or "",
        parts.password or "",
    )


def mqtt_url(settings: Settings) -> str:
    """The broker URL (`FLEETCARE_MQTT_URL`), shared with the updates capability's device
    notifications; read leniently so that either capability can land first."""
    return str(getattr(settings, "mqtt_url", "") or "")


def _mqtt_client(settings: Settings) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    url = mqtt_url(settings)
    if not url:
        raise ChannelOff("MQTT is not configured: set FLEETCARE_MQTT_URL")
    try:
        host, port, tls, username, password = parse_mqtt_url(url)
    except ValueError as exc:
        raise ChannelOff(str(exc)) from None
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"fleetcare-eol-{secrets.token_hex(4)}"
    )
    if username:
        client.username_pw_set(username, password)
    if tls:
        client.tls_set()
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise notify.DeliveryFailed(f"MQTT broker {host}:{port}: {exc}") from None
    client.loop_start()
    return client


def _payload(
    delivery: NoticeDelivery, notice: Notice, customer: Customer | None, link: str
) -> dict[str, Any]:
    return {
        "event": EVENT,
        "delivery": f"eol-{delivery.id}",
        "notice": notice.id,
        "late": notice.late,
        "occurred_at": notice.started_at.isoformat(),
        "customer": customer.ref if customer else None,
        "devices": delivery.devices,
        "link": link,
        **{k: v for k, v in notice.content.items() if k != "transition_offer"},
        "transition_offer": (
            notice.content.get("transition_offer", "")
            if customer is None or customer.transition_offers
            else ""
        ),
    }


def _send(
    channels: _Channels, delivery: NoticeDelivery, notice: Notice, customer: Customer | None
) -> None:
    """Make one delivery on its channel; DeliveryFailed (retry) or ChannelOff (skip) if not."""
    link = f"{channels.settings.base_url.rstrip('/')}/end-of-life/read/{delivery.read_token}"
    if delivery.channel == "email":
        _send_email(channels, delivery, notice, customer, link)
        return
    payload = json.dumps(
        _payload(delivery, notice, customer, link), sort_keys=True, separators=(",", ":")
    ).encode()
    if delivery.channel == "webhook":
        _call_webhook(channels, delivery, customer, payload)
    elif delivery.channel == "mqtt":
        _publish_mqtt(channels, delivery, payload)
    else:
        raise ChannelOff(f"unknown channel {delivery.channel}")


def _send_email(
    channels: _Channels,
    delivery: NoticeDelivery,
    notice: Notice,
    customer: Customer | None,
    link: str,
) -> None:
    settings = channels.settings
    if not settings.smtp_host:
        raise ChannelOff("email is not configured: set FLEETCARE_SMTP_HOST")
    subject, body = texts.notice_text(
        notice.content,
        customer.language if customer else "en",
        devices=delivery.devices,
        link=link,
        offer=customer is None or customer.transition_offers,
        late=notice.late,
        due=notice.due_at.date().isoformat(),
    )
    if channels.smtp is None:
        channels.smtp = _SmtpSession(settings)
    domain = settings.smtp_from.rpartition("@")[2] or "fleetcare.invalid"
    for index, address in enumerate(delivery.target.split(", ")):
        channels.smtp.send(
            to=address,
            subject=subject,
            body=body,
            message_id=f"<eol-{delivery.id}.{index}@{domain}>",
        )


def _call_webhook(
    channels: _Channels, delivery: NoticeDelivery, customer: Customer | None, payload: bytes
) -> None:
    """A signed POST, the same scheme as the operator's webhooks (`notify.verify_signature`)."""
    settings = channels.settings
    if customer is None or not customer.webhook_secret_encrypted:
        raise ChannelOff("the customer's webhook was removed")
    try:
        secret = _fernet(settings).decrypt(customer.webhook_secret_encrypted.encode()).decode()
    except InvalidToken:
        raise ChannelOff(
            "cannot decrypt the customer's webhook secret: the server's secret key changed; "
            "save the customer's webhook again and hand over the new secret"
        ) from None
    timestamp = int(time.time())
    if channels.http is None:
        channels.http = httpx.Client(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        )
    try:
        response = channels.http.post(
            delivery.target,
            content=payload,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "fleetcare-webhooks",
                "X-Fleetcare-Event": EVENT,
                "X-Fleetcare-Delivery": f"eol-{delivery.id}",
                "X-Fleetcare-Timestamp": str(timestamp),
                "X-Fleetcare-Signature": notify.sign(secret, timestamp, payload),
            },
        )
    except httpx.HTTPError as exc:
        raise notify.DeliveryFailed(f"{delivery.target}: {type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise notify.DeliveryFailed(f"{delivery.target} answered HTTP {response.status_code}")


def _publish_mqtt(channels: _Channels, delivery: NoticeDelivery, payload: bytes) -> None:
    """QoS 1 and retained, so that a customer's gateway connecting later still reads it."""
    if channels.mqtt is None:
        channels.mqtt = _mqtt_client(channels.settings)
    info = channels.mqtt.publish(delivery.target, payload, qos=1, retain=True)
    try:
        info.wait_for_publish(timeout=channels.settings.webhook_timeout_seconds)
    except (RuntimeError, ValueError) as exc:
        raise notify.DeliveryFailed(f"MQTT publish to {delivery.target}: {exc}") from None
    if not info.is_published():
        raise notify.DeliveryFailed(f"MQTT publish to {delivery.target} was not acknowledged")


def _claimable(now: dt.datetime) -> Any:
    return or_(
        and_(NoticeDelivery.status == PENDING, NoticeDelivery.next_attempt_at <= now),
        and_(NoticeDelivery.status == SENDING, NoticeDelivery.claimed_at < now - STUCK_AFTER),
    )


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
    #: Seconds until the next retry is due, when some are waiting.
    retry_in: float | None = None


def send_notice(
    session: Session,
    notice_id: int,
    settings: Settings,
    *,
    now: Callable[[], dt.datetime] = utcnow,
    batch: int | None = None,
    channel: str | None = None,
) -> SendReport:
    """Send what is due of a notice's deliveries and record each outcome as it happens.

    Safe to run in several workers at once and to run again after a crash: deliveries are
    claimed with a conditional update, and each outcome is committed before the next message.
    With `channel`, only that channel's deliveries: the channels' I/O then runs side by side
    in separate workers.
    """
    report = SendReport()
    batch = batch or CLAIM_BATCH
    notice = session.get(Notice, notice_id)
    if notice is None:
        return report
    channels = _Channels(settings)
    try:
        while True:
            moment = now()
            candidates = [
                row[0]
                for row in session.execute(
                    select(NoticeDelivery.id)
                    .where(
                        NoticeDelivery.notice_id == notice_id,
                        _claimable(moment),
                        NoticeDelivery.channel == channel if channel else true(),
                    )
                    .order_by(NoticeDelivery.id)
                    .limit(batch)
                )
            ]
            if not candidates:
                break
            claimed = [
                row[0]
                for row in session.execute(
                    update(NoticeDelivery)
                    .where(NoticeDelivery.id.in_(candidates), _claimable(moment))
                    .values(status=SENDING, claimed_at=moment, attempts=NoticeDelivery.attempts + 1)
                    .returning(NoticeDelivery.id)
                    .execution_options(synchronize_session=False)
                )
            ]
            session.commit()
            deliveries = session.execute(
                select(NoticeDelivery, Customer)
                .outerjoin(Customer, Customer.id == NoticeDelivery.customer_id)
                .where(NoticeDelivery.id.in_(claimed))
                .order_by(NoticeDelivery.id)
                .execution_options(populate_existing=True)
            ).all()
            for delivery, customer in deliveries:
                _attempt(session, channels, delivery, notice, customer, settings, now(), report)
        _finish(session, notice, now())
        session.commit()
    finally:
        channels.close()
    return report


def _attempt(
    session: Session,
    channels: _Channels,
    delivery: NoticeDelivery,
    notice: Notice,
    customer: Customer | None,
    settings: Settings,
    moment: dt.datetime,
    report: SendReport,
) -> None:
    status, error = SENT, ""
    try:
        _send(channels, delivery, notice, customer)
    except ChannelOff as exc:
        status, error = SKIPPED, str(exc)
    except notify.DeliveryFailed as exc:
        error = str(exc)
        status = FAILED if delivery.attempts >= settings.notify_max_attempts else PENDING
    values: dict[str, Any] = {"status": status, "last_error": error[:2000]}
    if status == SENT:
        values["sent_at"] = moment
        report.sent += 1
    elif status == PENDING:
        retry_in = settings.notify_retry_seconds * 2 ** (delivery.attempts - 1)
        values["next_attempt_at"] = moment + dt.timedelta(seconds=retry_in)
        report.retrying += 1
        report.retry_in = min(report.retry_in or retry_in, retry_in)
        log.warning("eol delivery %s will be retried: %s", delivery.id, error)
    elif status == FAILED:
        report.failed += 1
        log.error("eol delivery %s (%s) failed for good: %s", delivery.id, delivery.channel, error)
    else:
        report.skipped += 1
    session.execute(
        update(NoticeDelivery)
        .where(NoticeDelivery.id == delivery.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def finish_notice(session: Session, notice_id: int, moment: dt.datetime) -> None:
    """Mark a notice sent once none of its deliveries is pending or being sent."""
    notice = session.get(Notice, notice_id)
    if notice is not None:
        _finish(session, notice, moment)


def _finish(session: Session, notice: Notice, moment: dt.datetime) -> None:
    open_rows = session.execute(
        select(func.count()).where(
            NoticeDelivery.notice_id == notice.id, NoticeDelivery.status.in_((PENDING, SENDING))
        )
    ).scalar_one()
    if open_rows == 0 and notice.status == SENDING:
        notice.status = SENT
        notice.finished_at = moment
        session.flush()


def notices_to_resume(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Notices with deliveries due (a retry, or the rest after a restart)."""
    now = now or utcnow()
    rows = session.execute(
        select(NoticeDelivery.notice_id).where(_claimable(now)).distinct().limit(100)
    )
    return [r[0] for r in rows]


def mark_opened(session: Session, token: str) -> NoticeDelivery | None:
    """Record that the link of a delivery was followed (the first time only)."""
    if not token or len(token) > 32:
        return None
    delivery = session.execute(
        select(NoticeDelivery).where(NoticeDelivery.read_token == token)
    ).scalar_one_or_none()
    if delivery is not None and delivery.opened_at is None:
        delivery.opened_at = utcnow()
        session.flush()
    return delivery


def notice_product_slug(session: Session, notice_id: int) -> str | None:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.product_id is None:
        return None
    return str(portfolio.get_product(session, notice.product_id).slug)


def list_notices(
    session: Session, *, product_ref: int | str | None = None, limit: int = 200
) -> list[NoticeOut]:
    query = select(Notice).order_by(Notice.started_at.desc(), Notice.id.desc()).limit(limit)
    if product_ref is not None:
        query = query.where(Notice.product_id == portfolio.get_product(session, product_ref).id)
    notices = list(session.execute(query).scalars())
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if notices:
        for notice_id, status, count in session.execute(
            select(NoticeDelivery.notice_id, NoticeDelivery.status, func.count())
            .where(NoticeDelivery.notice_id.in_([n.id for n in notices]))
            .group_by(NoticeDelivery.notice_id, NoticeDelivery.status)
        ):
            counts[notice_id][status] = count
    names = {
        n.product_id: portfolio.get_product(session, n.product_id).name
        for n in notices
        if n.product_id is not None
    }
    return [
        NoticeOut(
            id=n.id,
            kind=n.kind,
            product=names.get(n.product_id) if n.product_id else None,
            months_before=n.months_before,
            due_at=n.due_at,
            status=n.status,
            late=n.late,
            subject=n.subject,
            customers=n.customers,
            devices=n.devices,
            started_at=n.started_at,
            finished_at=n.finished_at,
            deliveries=counts.get(n.id, {}),
        )
        for n in notices
    ]


def list_deliveries(
    session: Session,
    *,
    notice_id: int | None = None,
    product_ref: int | str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[DeliveryOut]:
    query = (
        select(NoticeDelivery, Customer.ref)
        .outerjoin(Customer, Customer.id == NoticeDelivery.customer_id)
        .order_by(NoticeDelivery.id.desc())
        .limit(limit)
    )
    if notice_id is not None:
        query = query.where(NoticeDelivery.notice_id == notice_id)
    if product_ref is not None:
        product_id = portfolio.get_product(session, product_ref).id
        query = query.join(Notice, Notice.id == NoticeDelivery.notice_id).where(
            Notice.product_id == product_id
        )
    if status:
        query = query.where(NoticeDelivery.status == status)
    return [
        DeliveryOut(
            id=d.id,
            notice_id=d.notice_id,
            customer=ref,
            channel=d.channel,
            target=d.target,
            devices=d.devices,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=d.created_at,
            sent_at=d.sent_at,
            opened_at=d.opened_at,
        )
        for d, ref in session.execute(query)
    ]


# --- support end: what the updates package asks ------------------------------------------


@dataclass(frozen=True)
class DeviceNotice:
    """What a device is told at check-in about its product's support (CRA Art. 13(19))."""

    kind: str  # end_of_support or support_ending
    support_end: dt.date
    support_end_month_year: str
    message: str
    successor: str | None
    url: str

    def to_dict(self) -> dict[str, Any]:
        """The notice as a check-in answer carries it (`type` as the updates package names it)."""
        data = asdict(self)
        data = {"type": data.pop("kind"), **data}
        data["support_end"] = self.support_end.isoformat()
        return data


def device_notice(
    session: Session,
    product_id: int,
    *,
    on: dt.date | None = None,
    settings: Settings | None = None,
) -> DeviceNotice | None:
    """The notice for a device of this product checking in on `on`, or None while support is
    not ending within 12 months. Called by the updates package's check-in."""
    settings = settings or notify.current_settings()
    product = portfolio.get_product(session, product_id)
    on = on or today()
    kind = rules.device_notice_kind(product.support_end, on)
    if kind is None:
        return None
    month_year = portfolio_rules.month_year(product.support_end)
    successor = product.successor.name if product.successor else None
    if kind == "end_of_support":
        message = (
            f"Security support for {product.name} ended in {month_year}. This device receives "
            "no more security updates."
        )
    else:
        message = f"Security support for {product.name} ends in {month_year}."
    if successor:
        message += f" Its successor is {successor}."
    return DeviceNotice(
        kind=kind,
        support_end=product.support_end,
        support_end_month_year=month_year,
        message=message,
        successor=successor,
        url=f"{settings.base_url.rstrip('/')}/end-of-life/{product.slug}",
    )


def check_in_notices(session: Session, device: Any, today: dt.date) -> list[dict[str, Any]]:
    """`device_notice` in the shape of the updates package's check-in notice providers
    (`fleetcare.updates.devices.notice_providers`): any object with a `product_id`."""
    notice = device_notice(session, int(device.product_id), on=today)
    return [notice.to_dict()] if notice is not None else []


def is_out_of_support(session: Session, product_id: int, *, on: dt.date | None = None) -> bool:
    return (on or today()) > portfolio.get_product(session, product_id).support_end


def check_rollout_allowed(
    session: Session, product_id: int, release_kind: str, *, on: dt.date | None = None
) -> None:
    """RuleViolation when a rollout of a release of `release_kind` (security, feature, mixed)
    may not start for this product: after support end, feature rollouts stop."""
    product = portfolio.get_product(session, product_id)
    reason = rules.rollout_refusal(product.support_end, release_kind, on or today(), product.name)
    if reason:
        raise RuleViolation(reason, {"support_end": product.support_end.isoformat()})


def record_support_ends(session: Session, now: dt.datetime | None = None) -> int:
    """Once a planned product's support has ended: mark it with the devices still in the field,
    audit it, and emit `lifecycle.support_ended` for other capabilities."""
    now = now or utcnow()
    day = now.date()
    plans = list(
        session.execute(select(EolPlan).where(EolPlan.support_ended_at.is_(None))).scalars()
    )
    marked = 0
    for plan in plans:
        product = portfolio.get_product(session, plan.product_id)
        if day <= product.support_end:
            continue
        count = devices_in_field(session, [product.id])[product.id]
        plan.support_ended_at = now
        plan.devices_at_support_end = count
        audit.record(
            session,
            actor=system_principal("eol-support-end").actor,
            action="product.support_ended",
            object_type="product",
            object_id=product.id,
            after={"support_end": product.support_end, "devices_in_field": count},
        )
        events.emit(
            session,
            "lifecycle.support_ended",
            subject=f"product:{product.id}",
            payload={
                "product": product.slug,
                "support_end": product.support_end.isoformat(),
                "devices_in_field": count,
            },
        )
        marked += 1
    return marked


# --- calendar -------------------------------------------------------------------------------


def calendar(
    session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[CalendarRow]:
    """Every product by support end, with its next milestone and devices still in the field."""
    now = now or utcnow()
    day = now.date()
    products, _ = portfolio.list_products(session, limit=100_000)
    plans = plans_by_product(session)
    counts = devices_in_field(session, [p.id for p in products])
    sent = Counter(
        row[0]
        for row in session.execute(
            select(Notice.product_id).where(Notice.kind == "milestone", Notice.status == SENT)
        )
    )
    rows = []
    for product in sorted(products, key=lambda p: (p.support_end, p.name.lower())):
        plan = plans.get(product.id)
        upcoming = None
        if plan is not None:
            upcoming = next(
                (
                    m
                    for m in plan_schedule(session, product, plan, settings)
                    if m.status == "scheduled"
                ),
                None,
            )
        ended = day > product.support_end
        rows.append(
            CalendarRow(
                product=product.name,
                slug=product.slug,
                support_end=product.support_end,
                support_end_month_year=portfolio_rules.month_year(product.support_end),
                support_status=portfolio_rules.support_status(product.support_end, day).value,
                has_plan=plan is not None,
                next_milestone=upcoming,
                notices_sent=sent.get(product.id, 0),
                devices_in_field=counts[product.id],
                out_of_support_devices=counts[product.id] if ended else 0,
            )
        )
    return rows


# --- ceasing operations (CRA Art. 13(23)) ---------------------------------------------------


def _cessation_out(c: Cessation) -> CessationOut:
    return CessationOut(
        id=c.id,
        effective_on=c.effective_on,
        reason=c.reason,
        authority_name=c.authority_name,
        authority_email=c.authority_email,
        status=c.status,
        authority_notice=c.authority_notice,
        customer_notice=c.customer_notice,
        checklist=list(c.checklist),
        created_at=c.created_at,
        sent_at=c.sent_at,
    )


def prepare_cessation(
    session: Session, data: CessationIn, *, actor: Principal, settings: Settings
) -> CessationOut:
    """Prepare the notices to the authority and to every customer, and the handover checklist.
    Nothing is sent until `send_cessation`."""
    if data.effective_on <= today():
        raise InvalidInput(
            "the date operations cease must be in the future: CRA Art. 13(23) asks for the "
            "notices before it takes effect"
        )
    authority_email = normalise_email(data.authority_email)
    products, _ = portfolio.list_products(session, limit=100_000)
    counts = devices_in_field(session, [p.id for p in products])
    customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    authority, customer_text = texts.cessation_texts(
        manufacturer=settings.manufacturer_name,
        address=settings.manufacturer_address,
        effective_on=data.effective_on,
        reason=data.reason,
        products=[(p.name, p.model_id, p.support_end, counts[p.id]) for p in products],
        customers=customers,
        support_url=f"{settings.base_url.rstrip('/')}/support",
    )
    checklist = [
        {"item": item, "done": False}
        for item in texts.handover_checklist(
            [(p.name, p.releases[-1].version if p.releases else None) for p in products]
        )
    ]
    cessation = Cessation(
        effective_on=data.effective_on,
        reason=data.reason,
        authority_name=data.authority_name,
        authority_email=authority_email,
        authority_notice=authority,
        customer_notice=customer_text,
        checklist=checklist,
        created_by=actor.actor,
    )
    session.add(cessation)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="cessation.prepare",
        object_type="cessation",
        object_id=cessation.id,
        after={"effective_on": data.effective_on, "authority": authority_email},
    )
    return _cessation_out(cessation)


def get_cessation(session: Session, cessation_id: int) -> Cessation:
    cessation = session.get(Cessation, cessation_id)
    if cessation is None:
        raise NotFound(f"no ceasing-operations record with id {cessation_id}")
    return cessation


def cessation_out(session: Session, cessation_id: int) -> CessationOut:
    return _cessation_out(get_cessation(session, cessation_id))


def list_cessations(session: Session) -> list[CessationOut]:
    return [
        _cessation_out(c)
        for c in session.execute(select(Cessation).order_by(Cessation.id.desc())).scalars()
    ]


def tick_checklist(
    session: Session, cessation_id: int, index: int, done: bool, *, actor: Principal
) -> CessationOut:
    cessation = get_cessation(session, cessation_id)
    items = [dict(i) for i in cessation.checklist]
    if not 0 <= index < len(items):
        raise InvalidInput(f"the checklist has items 0 to {len(items) - 1}, not {index}")
    items[index]["done"] = done
    cessation.checklist = items
    audit.record(
        session,
        actor=actor.actor,
        action="cessation.checklist",
        object_type="cessation",
        object_id=cessation.id,
        after={"item": items[index]["item"], "done": done},
    )
    session.flush()
    return _cessation_out(cessation)


def send_cessation(
    session: Session,
    cessation_id: int,
    *,
    actor: Principal,
    settings: Settings,
    now: dt.datetime | None = None,
) -> tuple[int, list[Delivery]]:
    """Queue the authority's notice (by email) and a notice to every customer; returns the
    customer notice's id and the authority email's delivery, for sending after commit."""
    now = now or utcnow()
    cessation = get_cessation(session, cessation_id)
    if cessation.status == "sent":
        raise Conflict(f"the notices of ceasing operations {cessation.id} were sent already")
    emails = notify.queue_email(
        session,
        to=cessation.authority_email,
        subject=f"{settings.manufacturer_name}: notice of ceasing operations "
        f"on {cessation.effective_on} (CRA Art. 13(23))",
        body=cessation.authority_notice,
        event="cessation.authority",
        object_type="cessation",
        object_id=cessation.id,
        dedupe_key=f"cessation:{cessation.id}:authority",
    )
    content = {
        "kind": "cessation",
        "manufacturer": settings.manufacturer_name,
        "effective_on": cessation.effective_on.isoformat(),
        "text": cessation.customer_notice,
        "url": f"{settings.base_url.rstrip('/')}/support",
    }
    notice = _insert_notice(
        session,
        Notice(
            key=f"cessation:{cessation.id}",
            kind="cessation",
            cessation_id=cessation.id,
            due_at=now,
            status=SENDING,
            subject=f"{settings.manufacturer_name} ceases operations on {cessation.effective_on}",
            body=cessation.customer_notice,
            content=content,
            started_at=now,
        ),
    )
    if notice is None:
        raise Conflict(f"the notices of ceasing operations {cessation.id} were sent already")
    _queue_deliveries(session, notice, None, now)
    cessation.status = "sent"
    cessation.sent_at = now
    audit.record(
        session,
        actor=actor.actor,
        action="cessation.send",
        object_type="cessation",
        object_id=cessation.id,
        after={"notice": notice.id, "customers": notice.customers},
    )
    return notice.id, emails


# --- upstream end of life of components ------------------------------------------------------


def _eol_value(value: Any, where: str) -> tuple[dt.date | None, bool]:
    if value is True:
        return None, True
    if value is False or value is None:
        return None, False
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value), False
        except ValueError:
            pass
    raise InvalidInput(f"{where}: eol must be a date (YYYY-MM-DD), true or false, not {value!r}")


def import_upstream(
    session: Session, text: str, *, actor: Principal, upstream: str | None = None
) -> int:
    """Import release cycles in the shape of the endoflife.date API: either one product's list
    of cycles (name it with `upstream`) or an object mapping product names to such lists.
    Cycles already known are replaced. All or nothing."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(document, list):
        if not upstream:
            raise InvalidInput(
                "this file is one product's list of cycles: name the upstream product "
                "(for example openssl)"
            )
        document = {upstream: document}
    if not isinstance(document, dict) or not document:
        raise InvalidInput(
            "expected a list of cycles, or an object mapping product names to lists of cycles"
        )
    imported = 0
    now = utcnow()
    for key, cycles in document.items():
        name = str(key).strip().lower()
        if not name or len(name) > 200 or not isinstance(cycles, list):
            raise InvalidInput(f"{name or 'a product'}: expected a list of cycles")
        for index, cycle in enumerate(cycles):
            where = f"{name}[{index}]"
            if not isinstance(cycle, dict) or not str(cycle.get("cycle", "")).strip():
                raise InvalidInput(f"{where}: each cycle needs a 'cycle' field")
            label = str(cycle["cycle"]).strip()[:100]
            eol, ended = _eol_value(cycle.get("eol"), where)
            row = session.execute(
                select(UpstreamCycle).where(
                    UpstreamCycle.upstream == name, UpstreamCycle.cycle == label
                )
            ).scalar_one_or_none()
            if row is None:
                row = UpstreamCycle(upstream=name, cycle=label)
                session.add(row)
            row.eol, row.ended = eol, ended
            row.latest = str(cycle.get("latest") or "")[:100]
            row.imported_at = now
            imported += 1
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="upstream_eol.import",
        object_type="upstream_eol",
        object_id="",
        after={"products": sorted(document), "cycles": imported},
    )
    return imported


def upstream_warnings(
    session: Session, product_ref: int | str | None = None
) -> list[UpstreamWarning]:
    """Components of each product's latest release with components whose upstream cycle ends
    before the product's support end (CRA Art. 13(5) and 13(8))."""
    from fleetcare.sbom import service as sbom

    cycles: dict[str, list[UpstreamCycle]] = defaultdict(list)
    for row in session.execute(select(UpstreamCycle)).scalars():
        cycles[row.upstream].append(row)
    if not cycles:
        return []
    if product_ref is not None:
        products = [portfolio.get_product(session, product_ref)]
    else:
        products, _ = portfolio.list_products(session, limit=100_000)
    warnings = []
    for product in products:
        for release in reversed(product.releases):
            components = sbom.release_components(session, release.id)
            if components:
                break
        else:
            continue
        for component in components:
            known = cycles.get(component.name.strip().lower())
            if not known:
                continue
            label = rules.best_cycle(component.version, [c.cycle for c in known])
            if label is None:
                continue
            cycle = next(c for c in known if c.cycle == label)
            if cycle.ended or (cycle.eol is not None and cycle.eol < product.support_end):
                when = f"on {cycle.eol}" if cycle.eol else "already"
                warnings.append(
                    UpstreamWarning(
                        product=product.name,
                        release=release.version,
                        component=component.name,
                        version=component.version,
                        upstream=cycle.upstream,
                        cycle=cycle.cycle,
                        upstream_eol=cycle.eol,
                        support_end=product.support_end,
                        message=(
                            f"{component.name} {cycle.cycle} reaches its upstream end of life "
                            f"{when}, before {product.name}'s support ends on "
                            f"{product.support_end}: plan an upgrade or take over its "
                            "maintenance"
                        ),
                    )
                )
    return warnings
