"""Tables of updates: artifacts, signed releases, TUF metadata, devices, rollouts, assignments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Artifact(Base):
    """A firmware file of a release; the bytes live in artifact storage under their SHA-256."""

    __tablename__ = "update_artifacts"
    __table_args__ = (UniqueConstraint("release_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="RESTRICT"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignedRelease(Base):
    """A release published as TUF targets, with its monotonic counter within the product."""

    __tablename__ = "update_signed_releases"
    __table_args__ = (UniqueConstraint("product_id", "counter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="RESTRICT"), unique=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    counter: Mapped[int] = mapped_column(Integer)
    signed_by: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TufMetadata(Base):
    """Every version of every TUF role's metadata, kept so that consistent snapshots can be
    served (a client may ask for `3.snapshot.json` while version 4 is being written)."""

    __tablename__ = "update_tuf_metadata"
    __table_args__ = (UniqueConstraint("role", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Device(Base):
    """A device in the field, pre-authorised from a factory list and enrolled by itself."""

    __tablename__ = "update_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(128), unique=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    hardware_revision: Mapped[str] = mapped_column(String(100), default="")
    customer: Mapped[str] = mapped_column(String(200), default="", index=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: "preauthorised" (on the factory list), "active" (enrolled), "decommissioned".
    state: Mapped[str] = mapped_column(String(16), default="preauthorised", index=True)
    #: SHA-256 of the factory secret; cleared once it has been used to enrol.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    #: The Ed25519 key (hex of the 32 raw bytes) that signs the device's requests.
    public_key: Mapped[str | None] = mapped_column(String(64))
    #: The highest request sequence number seen; a request must carry a higher one.
    request_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    installed_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id", ondelete="SET NULL"), index=True
    )
    installed_version: Mapped[str] = mapped_column(String(100), default="", index=True)
    installed_counter: Mapped[int] = mapped_column(Integer, default=0)
    device_state: Mapped[str] = mapped_column(String(100), default="")
    #: "automatic" (default, CRA Annex I Part I (2)(c)) or "opt_out".
    security_updates: Mapped[str] = mapped_column(String(16), default="automatic")
    postponed_until: Mapped[dt.date | None] = mapped_column(Date)
    last_checkin_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerUpdatePolicy(Base):
    """A customer's choice for all its devices: opt out of automatic security updates, or
    postpone them until a date (bounded by the maximum postponement)."""

    __tablename__ = "update_customer_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str] = mapped_column(String(200), unique=True)
    security_updates: Mapped[str] = mapped_column(String(16), default="automatic")
    postponed_until: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Rollout(Base):
    """A release offered to a set of devices, wave after wave."""

    __tablename__ = "update_rollouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="RESTRICT"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    #: Target selection: {"installed_versions": [...], "groups": [...], "tags": [...],
    #: "customers": [...]}; empty lists select every device of the product.
    selection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: "draft", "running", "paused", "finished", "aborted".
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    #: "automatic" (security) or "offered" (feature: the device's user decides).
    mode: Mapped[str] = mapped_column(String(16))
    current_wave: Mapped[int] = mapped_column(Integer, default=0)
    #: Maintenance windows: [{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}] in UTC; empty:
    #: any time.
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RolloutWave(Base):
    """One stage of a rollout: a share of the target set or named groups, with thresholds."""

    __tablename__ = "update_rollout_waves"
    __table_args__ = (UniqueConstraint("rollout_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("update_rollouts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    #: Cumulative share of the target set (1..100) reached by the end of this wave, or null
    #: when the wave is defined by groups.
    percent: Mapped[int | None] = mapped_column(Integer)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    success_threshold: Mapped[int] = mapped_column(Integer, default=95)
    failure_threshold: Mapped[int] = mapped_column(Integer, default=5)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Assignment(Base):
    """A device's part in a rollout: which wave it is in and how far it got."""

    __tablename__ = "update_assignments"
    __table_args__ = (
        UniqueConstraint("rollout_id", "device_id"),
        # A wave's progress, counted at every device's final report, from the index alone.
        Index("ix_update_assignments_progress", "rollout_id", "wave", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("update_rollouts.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(
        ForeignKey("update_devices.id", ondelete="CASCADE"), index=True
    )
    wave: Mapped[int] = mapped_column(Integer)
    #: "pending", "downloading", "installing", "success", "failure", "cancelled".
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
