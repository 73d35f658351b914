"""Tables of the notification plumbing (see `fleetcare.core.notify`): webhook receivers and
one delivery record per message sent, or tried, to one recipient."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fleetcare.core.db import Base, UTCDateTime, utcnow


class WebhookEndpoint(Base):
    """A receiver of signed JSON notifications.

    The signing secret must be usable to sign, so it cannot be stored as a hash: it is stored
    encrypted with a key derived from the server's secret key, and shown in clear once.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    #: Event names this receiver wants ("case.deadline", ...); "*" for all.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(300), default="")


class Delivery(Base):
    """One email or webhook call, with its attempts; the record stays after sending."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # "email" or "webhook"
    #: The email address, or the webhook URL at the time of queueing.
    target: Mapped[str] = mapped_column(String(2000))
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="SET NULL"), index=True
    )
    event: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: Email text, or the webhook's JSON `data` object as text.
    content: Mapped[str] = mapped_column(Text, default="")
    #: The content holds a secret (a status link): it is blanked once the delivery is final.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    #: pending, sending, sent, failed, or skipped (the channel is not configured).
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: Makes queueing idempotent: an alert for the same deadline and lead time is sent once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    object_type: Mapped[str] = mapped_column(String(50), default="")
    object_id: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
