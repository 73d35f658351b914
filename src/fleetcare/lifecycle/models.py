"""Tables of the end-of-life capability (see `fleetcare.lifecycle.service`).

Customers and which devices they own live here, so that notices can go out before the device
registry of `fleetcare.updates` exists; once it does, it reports its devices through
`service.register_device_source` and this table holds only what was imported from CSV.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Customer(Base):
    """A business or consumer who owns devices, with the channels they are told things on."""

    __tablename__ = "lifecycle_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The customer number of the manufacturer's CRM; CSV imports match on it.
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="business")  # business or consumer
    #: BCP 47 primary language ("en", "de"); notices are written in it when a text exists.
    language: Mapped[str] = mapped_column(String(16), default="en")
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    webhook_url: Mapped[str] = mapped_column(String(2000), default="")
    #: Encrypted like the operator's webhook secrets: it must be usable to sign.
    webhook_secret_encrypted: Mapped[str] = mapped_column(Text, default="")
    mqtt_topic: Mapped[str] = mapped_column(String(300), default="")
    #: The channels the customer accepts notices on (a subset of email, webhook, mqtt).
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Whether notices carry the transition offer (a commercial text some customers decline).
    transition_offers: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CustomerDevice(Base):
    """A device in the field and its owner, as imported from CSV (keyed by device identifier)."""

    __tablename__ = "lifecycle_customer_devices"
    __table_args__ = (Index("ix_lifecycle_customer_devices_product_state", "product_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("lifecycle_customers.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    #: active (in the field) or decommissioned.
    state: Mapped[str] = mapped_column(String(16), default="active")
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EolPlan(Base):
    """How a product's end of life is announced and handled. The dates themselves (end of sale,
    support end, successor) stay on the product, where the portfolio rules check them."""

    __tablename__ = "lifecycle_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), unique=True
    )
    #: Months before support end at which customers are told, largest first.
    milestones: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: Hour of the day (in the manufacturer's time zone) at which a milestone's notices go out.
    send_hour: Mapped[int] = mapped_column(Integer, default=9)
    upgrade_path: Mapped[str] = mapped_column(Text, default="")
    transition_offer: Mapped[str] = mapped_column(Text, default="")
    #: Secure decommissioning guidance: factory_reset, data_removal, credential_revocation,
    #: disposal.
    decommissioning: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: Annex II points that concern the end of support: support_type, after_support.
    annex_ii: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Set once when support end is reached, with the devices still in the field then.
    support_ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    devices_at_support_end: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(300), default="")


class Notice(Base):
    """One announcement to customers: a milestone of a plan, or a ceasing of operations.

    `key` is unique, so a milestone (product, support end, months before) is announced at most
    once however often or wherever the scheduling job runs.
    """

    __tablename__ = "lifecycle_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # milestone or cessation
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    cessation_id: Mapped[int | None] = mapped_column(
        ForeignKey("lifecycle_cessations.id", ondelete="CASCADE")
    )
    months_before: Mapped[int | None] = mapped_column(Integer)
    support_end: Mapped[dt.date | None] = mapped_column(Date)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: sending (deliveries being made), sent, or superseded (a later milestone was due too).
    status: Mapped[str] = mapped_column(String(16), default="sending")
    #: Started more than the grace period after it was due (the server was down).
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    #: The JSON sent by webhook and MQTT, without the per-customer part.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    devices: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class NoticeDelivery(Base):
    """A notice to one customer on one channel; unique per (notice, customer, channel), so a
    customer never gets the same notice twice on a channel."""

    __tablename__ = "lifecycle_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "customer_id", "channel"),
        Index("ix_lifecycle_deliveries_notice_status", "notice_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("lifecycle_notices.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("lifecycle_customers.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))  # email, webhook, mqtt
    #: Email addresses (comma-separated), webhook URL or MQTT topic at the time of queueing.
    target: Mapped[str] = mapped_column(String(2000))
    devices: Mapped[int] = mapped_column(Integer, default=0)
    #: pending, sending, sent, failed or skipped (channel not configured on the server).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: Random token in the notice's link; following it records `opened_at`.
    read_token: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Cessation(Base):
    """The manufacturer ceasing operations (CRA Art. 13(23)): notices to the market-surveillance
    authority and to all customers before it takes effect, and a handover checklist."""

    __tablename__ = "lifecycle_cessations"

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    authority_name: Mapped[str] = mapped_column(String(300))
    authority_email: Mapped[str] = mapped_column(String(254))
    #: prepared, or sent once the notices were queued.
    status: Mapped[str] = mapped_column(String(16), default="prepared")
    authority_notice: Mapped[str] = mapped_column(Text, default="")
    customer_notice: Mapped[str] = mapped_column(Text, default="")
    #: [{"item": ..., "done": bool}] — keys, source escrow, last SBOMs, documentation.
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UpstreamCycle(Base):
    """A release cycle of a third-party component with its own end of life, imported from
    data in the shape of the endoflife.date API."""

    __tablename__ = "lifecycle_upstream_cycles"
    __table_args__ = (UniqueConstraint("upstream", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The endoflife.date product name ("openssl", "linux").
    upstream: Mapped[str] = mapped_column(String(200))
    cycle: Mapped[str] = mapped_column(String(100))
    #: None when upstream has announced no date (endoflife.date's `"eol": false`).
    eol: Mapped[dt.date | None] = mapped_column(Date)
    #: Upstream says the cycle has ended but gives no date (endoflife.date's `"eol": true`).
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    latest: Mapped[str] = mapped_column(String(100), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
