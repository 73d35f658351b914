"""Tables of the vulnerability store.

One `Vulnerability` per real-world vulnerability, whatever the number of ids it goes by: its
aliases (CVE, GHSA, OSV, EUVD ids) all point to it through `VulnerabilityAlias`. What each source
said is kept apart in `SourceRecord` (the normalised record as JSON, with a content hash so that
re-importing the same data changes nothing). `AffectsKey` indexes records by the matching keys of
`fleetcare.matching` so that candidates for a component are found with one indexed lookup.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Vulnerability(Base):
    __tablename__ = "vulnerabilities"

    #: The canonical id: the CVE id when there is one, else the first id seen.
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    modified: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Set when every source that listed it has withdrawn it.
    withdrawn: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cvss_score: Mapped[float | None] = mapped_column(Float)
    cvss_vector: Mapped[str | None] = mapped_column(String(300))
    cvss_kind: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), default="unknown", index=True)
    cwes: Mapped[list[str]] = mapped_column(JSON, default=list)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    kev: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    kev_added: Mapped[dt.date | None] = mapped_column(Date)
    kev_due: Mapped[dt.date | None] = mapped_column(Date)
    kev_ransomware: Mapped[bool] = mapped_column(Boolean, default=False)
    exploited: Mapped[bool] = mapped_column(Boolean, default=False)
    epss_score: Mapped[float | None] = mapped_column(Float)
    epss_percentile: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VulnerabilityAlias(Base):
    __tablename__ = "vulnerability_aliases"

    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    vulnerability_id: Mapped[str] = mapped_column(
        ForeignKey("vulnerabilities.id", ondelete="CASCADE", onupdate="CASCADE"), index=True
    )


class SourceRecord(Base):
    """What one source (OSV, NVD, CVE, EUVD) says about one vulnerability."""

    __tablename__ = "vulnerability_sources"
    __table_args__ = (UniqueConstraint("source", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[str] = mapped_column(String(100))
    vulnerability_id: Mapped[str] = mapped_column(
        ForeignKey("vulnerabilities.id", ondelete="CASCADE", onupdate="CASCADE"), index=True
    )
    modified: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AffectsKey(Base):
    """(matching key → source record): 'purl:<ecosystem>/<name>' or 'cpe:<vendor>:<product>'."""

    __tablename__ = "vulnerability_affects"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(600), index=True)
    source_record_id: Mapped[int] = mapped_column(
        ForeignKey("vulnerability_sources.id", ondelete="CASCADE"), index=True
    )


class KevEntry(Base):
    __tablename__ = "kev_entries"

    cve_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(200), default="")
    product: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(Text, default="")
    date_added: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    required_action: Mapped[str] = mapped_column(Text, default="")
    known_ransomware: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")


class EpssScore(Base):
    __tablename__ = "epss_scores"

    cve_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    percentile: Mapped[float] = mapped_column(Float)
    scored_on: Mapped[dt.date | None] = mapped_column(Date)


class FeedState(Base):
    """Where each feed's last sync got to (NVD's last-modified cursor, counts, errors)."""

    __tablename__ = "feed_state"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cursor: Mapped[str] = mapped_column(String(100), default="")
    records: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[str] = mapped_column(Text, default="")
