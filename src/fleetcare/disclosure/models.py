"""Tables of coordinated vulnerability disclosure: reports from outsiders, their message
threads, attachments, credits and links, and the review history of security.txt."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Report(Base):
    """A vulnerability report. The reporter follows it through a status link whose token is
    stored only as its SHA-256; the tracking id is a reference, not a secret."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_id: Mapped[str] = mapped_column(String(20), unique=True)
    status_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: researcher, customer, importer, distributor or csirt.
    source: Mapped[str] = mapped_column(String(16))
    #: "web" (the public page), "api" (the public API) or "team" (recorded by the team).
    received_via: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    title: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    #: The product as the reporter named it, when it is not (yet) one of ours.
    product_text: Mapped[str] = mapped_column(String(200), default="")
    affected_version: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text)
    steps_to_reproduce: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    reporter_name: Mapped[str] = mapped_column(String(200), default="")
    reporter_email: Mapped[str] = mapped_column(String(254), default="")
    #: Any other means of contact the reporter chose (CRA 13(17)).
    reporter_contact: Mapped[str] = mapped_column(String(300), default="")
    #: email, status_page or other.
    preferred_channel: Mapped[str] = mapped_column(String(12), default="status_page")
    wants_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_as: Mapped[str] = mapped_column(String(200), default="")
    openpgp_key: Mapped[str] = mapped_column(Text, default="")
    #: Held back by the abuse controls (honeypot, a form sent too fast): no mail, no alerts,
    #: until someone on the team releases it.
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    quarantine_reason: Mapped[str] = mapped_column(String(200), default="")
    #: The team's assessment: low, medium, high, critical, or empty.
    severity: Mapped[str] = mapped_column(String(10), default="")
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the reporter was last told something (status change or a message to them).
    last_update_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disclosed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Public disclosure is agreed for this day, not before.
    embargo_until: Mapped[dt.date | None] = mapped_column(Date)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL")
    )
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    messages: Mapped[list[ReportMessage]] = relationship(
        back_populates="report", order_by="ReportMessage.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[ReportAttachment]] = relationship(
        back_populates="report", order_by="ReportAttachment.id", cascade="all, delete-orphan"
    )
    credits: Mapped[list[ReportCredit]] = relationship(
        back_populates="report", order_by="ReportCredit.id", cascade="all, delete-orphan"
    )
    links: Mapped[list[ReportLink]] = relationship(
        back_populates="report", order_by="ReportLink.id", cascade="all, delete-orphan"
    )
    duplicate_of: Mapped[Report | None] = relationship(remote_side=[id])


class ReportMessage(Base):
    """One message in a report's thread. Internal notes never leave the team."""

    __tablename__ = "report_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    #: reporter, team or system.
    author_kind: Mapped[str] = mapped_column(String(10))
    #: The team member's login; empty for the reporter and the system.
    author: Mapped[str] = mapped_column(String(300), default="")
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="messages")


class ReportAttachment(Base):
    """A file sent with a report, kept in the database so every API worker can serve it."""

    __tablename__ = "report_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="attachments")


class ReportCredit(Base):
    """Who is thanked for a report, and whether publicly (acknowledgments page, advisories)."""

    __tablename__ = "report_credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: finder, reporter, coordinator, analyst, remediation_developer or other.
    kind: Mapped[str] = mapped_column(String(30), default="finder")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="credits")


class ReportLink(Base):
    """A report's link to a vulnerability id, a finding, a release or an advisory.

    Links are references by value (an id, "product@version"), checked when they are made, so
    that either side can be deleted or land later without breaking the report.
    """

    __tablename__ = "report_links"
    __table_args__ = (UniqueConstraint("report_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    #: vulnerability, finding, release or advisory.
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="links")


class SecurityTxtReview(Base):
    """One confirmation that security.txt says the right things; its Expires follows from it.

    A new review is written when the content generated from the settings changes, or when
    someone renews it; the daily job warns before the newest one lapses.
    """

    __tablename__ = "security_txt_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str] = mapped_column(String(300))
    #: SHA-256 of every field but Expires, to notice settings that changed.
    content_hash: Mapped[str] = mapped_column(String(64))
    warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lapsed_notice_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
