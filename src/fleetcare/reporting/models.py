"""Tables of Article 14 reporting: cases, the products they concern, their stage report
documents, and the notices sent to users."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Case(Base):
    """An actively exploited vulnerability or a severe incident that must be reported.

    A case proposed by fleetcare (an exploited vulnerability hitting a released product) has no
    `aware_at` until a person confirms it; the clocks run from that confirmed moment.
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "A14-2026-0007": what people and the CSIRT call it.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    #: exploited_vulnerability or severe_incident.
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: proposed, open, closed or dismissed.
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    #: manual, report or proposed: how the case came about.
    origin: Mapped[str] = mapped_column(String(10), default="manual")
    aware_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: What made the manufacturer aware, as recorded when awareness was confirmed.
    awareness_evidence: Mapped[str] = mapped_column(Text, default="")
    confirmed_by: Mapped[str] = mapped_column(String(300), default="")
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When a corrective or mitigating measure became available (starts the 14-day final clock
    #: of an exploited vulnerability).
    measure_available_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    member_states: Mapped[list[str]] = mapped_column(JSON, default=list)
    vulnerability_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    finding_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL"), index=True
    )
    #: The coordinating CSIRT as decided when the case was opened (Art. 14(7)).
    csirt_member_state: Mapped[str] = mapped_column(String(2), default="")
    csirt_basis: Mapped[str] = mapped_column(String(200), default="")
    #: Company size when the case was opened (Art. 64(10)).
    manufacturer_size: Mapped[str] = mapped_column(String(10), default="")
    #: "<vulnerability>:<product id>" for proposed cases, so each is proposed once.
    proposal_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    close_reason: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    products: Mapped[list[CaseProduct]] = relationship(
        back_populates="case", order_by="CaseProduct.id", cascade="all, delete-orphan"
    )
    documents: Mapped[list[CaseDocument]] = relationship(
        back_populates="case",
        order_by="CaseDocument.id",
        cascade="all, delete-orphan",
    )
    notices: Mapped[list[UserNotice]] = relationship(
        back_populates="case", order_by="UserNotice.id", cascade="all, delete-orphan"
    )


class CaseProduct(Base):
    __tablename__ = "case_products"
    __table_args__ = (UniqueConstraint("case_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    versions: Mapped[list[str]] = mapped_column(JSON, default=list)

    case: Mapped[Case] = relationship(back_populates="products")


class CaseDocument(Base):
    """A stage report (early warning, notification, intermediate, final) as prepared for the
    ENISA single reporting platform. Once submitted it is frozen: `snapshot` is the exact
    document exported at submission, and its SHA-256 is in the audit log."""

    __tablename__ = "case_documents"
    __table_args__ = (UniqueConstraint("case_id", "stage", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    #: 1, except for intermediate reports, which are numbered in the order requested.
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: draft or submitted.
    status: Mapped[str] = mapped_column(String(10), default="draft")
    #: For an intermediate report: when the CSIRT wants it.
    requested_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_reference: Mapped[str] = mapped_column(String(200), default="")
    submitted_by: Mapped[str] = mapped_column(String(300), default="")
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    snapshot_sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship(back_populates="documents")

    @property
    def key(self) -> str:
        """How the API and pages name it: "notification", "intermediate-2"."""
        return f"{self.stage}-{self.sequence}" if self.stage == "intermediate" else self.stage


class UserNotice(Base):
    """A notice to impacted users, or all users, about the vulnerability or incident and what
    to do (Art. 14(8)), with the time it was sent."""

    __tablename__ = "case_user_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: impacted or all.
    audience: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    webhook_calls: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by: Mapped[str] = mapped_column(String(300))

    case: Mapped[Case] = relationship(back_populates="notices")
