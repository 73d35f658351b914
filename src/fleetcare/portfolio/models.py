"""Tables of the portfolio: products and their releases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: URL-safe name used by public pages and the endoflife.date-shaped API.
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    model_id: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    intended_purpose: Mapped[str] = mapped_column(Text, default="")
    cra_category: Mapped[str] = mapped_column(String(24), default="default")
    placed_on_market: Mapped[dt.date] = mapped_column(Date)
    expected_use_months: Mapped[int | None] = mapped_column(Integer)
    support_end: Mapped[dt.date] = mapped_column(Date)
    end_of_sale: Mapped[dt.date | None] = mapped_column(Date)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    #: Reasons for the support period, one entry per factor of Art. 13(8).
    support_justification: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: The support status last announced (audit event); the daily job records changes.
    support_status_seen: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    releases: Mapped[list[Release]] = relationship(
        back_populates="product", order_by="Release.release_date", cascade="all, delete-orphan"
    )
    successor: Mapped[Product | None] = relationship(remote_side=[id])


class Release(Base):
    """A firmware version of a product."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(100))
    release_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="releases")
