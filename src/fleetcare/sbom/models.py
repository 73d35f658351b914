"""Tables of the SBOM capability: imported SBOM documents and the components of each release."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleetcare.core.db import Base, UTCDateTime, utcnow


class SbomDocument(Base):
    """One SBOM file attached to a release, as it was imported."""

    __tablename__ = "sbom_documents"
    __table_args__ = (UniqueConstraint("release_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    spec_version: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str] = mapped_column(String(16))
    serial: Mapped[str] = mapped_column(String(500), default="")
    sbom_created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    creators: Mapped[list[str]] = mapped_column(JSON, default=list)
    primary_name: Mapped[str] = mapped_column(String(500), default="")
    primary_version: Mapped[str] = mapped_column(String(200), default="")
    component_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The BSI TR-03183-2 quality report computed at import.
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(300), default="")

    components: Mapped[list[Component]] = relationship(
        back_populates="sbom", cascade="all, delete-orphan", passive_deletes=True
    )


class Component(Base):
    """A component of a release, from one of its SBOMs."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(primary_key=True)
    sbom_id: Mapped[int] = mapped_column(
        ForeignKey("sbom_documents.id", ondelete="CASCADE"), index=True
    )
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    ref: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(500))
    version: Mapped[str] = mapped_column(String(200), default="")
    group: Mapped[str] = mapped_column(String(500), default="")
    type: Mapped[str] = mapped_column(String(50), default="")
    supplier: Mapped[str] = mapped_column(String(500), default="")
    purl: Mapped[str] = mapped_column(Text, default="")
    cpe: Mapped[str] = mapped_column(Text, default="")
    hashes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    licenses: Mapped[list[str]] = mapped_column(JSON, default=list)
    file_name: Mapped[str] = mapped_column(String(500), default="")
    scope: Mapped[str] = mapped_column(String(20), default="")
    dependency_kind: Mapped[str] = mapped_column(String(12), default="unknown")
    depends_on: Mapped[list[str]] = mapped_column(JSON, default=list)

    sbom: Mapped[SbomDocument] = relationship(back_populates="components")
