"""Tables of matching: findings, one per (component, vulnerability) pair that matched."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Finding(Base):
    """A vulnerability that affects a component of a release, and why fleetcare thinks so.

    A finding that a later feed no longer supports (record withdrawn, range changed) is marked
    `withdrawn_at`, never deleted: triage decisions and reports may refer to it.
    """

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("component_id", "vulnerability_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    vulnerability_id: Mapped[str] = mapped_column(
        ForeignKey("vulnerabilities.id", ondelete="CASCADE", onupdate="CASCADE"), index=True
    )
    matched_by: Mapped[str] = mapped_column(String(8))  # "purl" or "cpe"
    match_reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10))  # which source record matched
    fixed_version: Mapped[str | None] = mapped_column(String(200))
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: KEV hit on a released product: a candidate actively exploited vulnerability (Art. 14).
    exploited_candidate: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    cvss_score: Mapped[float | None] = mapped_column(Float)


class ComponentKey(Base):
    """A matching key of a component ('purl:<ecosystem>/<name>', 'cpe:<vendor>:<product>').

    Written when a release's SBOM is matched; a feed update finds the components it may affect
    through these keys without reading any SBOM again.
    """

    __tablename__ = "component_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(600), index=True)
    component_id: Mapped[int] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
