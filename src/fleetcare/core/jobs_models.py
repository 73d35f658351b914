"""Tables of the PostgreSQL job queue (see `PostgresStorage` in jobs.py); unused on SQLite."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fleetcare.core.db import Base


class HueyTask(Base):
    __tablename__ = "huey_task"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    queue: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    priority: Mapped[int] = mapped_column(Integer, default=0)


class HueySchedule(Base):
    __tablename__ = "huey_schedule"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    queue: Mapped[str] = mapped_column(String(100), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    ts: Mapped[float] = mapped_column(Float, index=True)


class HueyKV(Base):
    __tablename__ = "huey_kv"
    __table_args__ = (UniqueConstraint("queue", "key"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    queue: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[bytes] = mapped_column(LargeBinary)


class HueyCounter(Base):
    __tablename__ = "huey_counter"
    __table_args__ = (UniqueConstraint("queue", "key"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    queue: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[int] = mapped_column(BigInteger, default=0)
