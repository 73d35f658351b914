"""Tables of advisories: fleetcare's own CSAF advisories with their revisions, and imported ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Advisory(Base):
    """An advisory being written (`status` draft) or published (interim, final).

    `spec` holds what the author chose (product, vulnerabilities, notes, credits); the CSAF
    document is built from it and the current triage decisions. Publishing freezes the exact
    bytes served (`published_json`) with their hashes and OpenPGP signature.
    """

    __tablename__ = "advisories"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    tlp: Mapped[str] = mapped_column(String(8), default="WHITE")
    status: Mapped[str] = mapped_column(String(8), default="draft", index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    disclosure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    initial_release_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    current_release_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_json: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    sha512: Mapped[str] = mapped_column(String(128), default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    revisions: Mapped[list[AdvisoryRevision]] = relationship(
        back_populates="advisory", cascade="all, delete-orphan", order_by="AdvisoryRevision.number"
    )


class AdvisoryRevision(Base):
    """One published revision: its number, date, summary and the document as it was."""

    __tablename__ = "advisory_revisions"
    __table_args__ = (UniqueConstraint("advisory_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(ForeignKey("advisories.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(String(300))
    document: Mapped[str] = mapped_column(Text)

    advisory: Mapped[Advisory] = relationship(back_populates="revisions")


class AdvisoryVulnerability(Base):
    """Which vulnerabilities an advisory covers (moved when the store merges two records)."""

    __tablename__ = "advisory_vulnerabilities"
    __table_args__ = (UniqueConstraint("advisory_id", "vulnerability_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    advisory_id: Mapped[int] = mapped_column(
        ForeignKey("advisories.id", ondelete="CASCADE"), index=True
    )
    vulnerability_id: Mapped[str] = mapped_column(String(100), index=True)


class ImportedAdvisory(Base):
    """Another vendor's CSAF advisory (an upstream supplier), kept as received."""

    __tablename__ = "imported_advisories"
    __table_args__ = (UniqueConstraint("publisher_namespace", "tracking_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publisher: Mapped[str] = mapped_column(String(300))
    publisher_namespace: Mapped[str] = mapped_column(String(500))
    tracking_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(60))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Mandatory tests the document failed (kept: a supplier's defect is not a reason to lose
    #: its statements); [] when valid.
    problems: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    proposals: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
