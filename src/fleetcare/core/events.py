"""Domain events in an outbox table: written in the same transaction as the change they announce.

    events.emit(session, "finding.new", subject="finding:42", payload={...})
    for event in events.since(session, cursor, kinds={"finding.new"}): ...

Consumers (notifications, Article 14 case proposals) read forward from a cursor they keep, so an
event is never lost if a consumer is down, and a consumer that restarts resumes where it was.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


def emit(session: Session, kind: str, *, subject: str, payload: dict[str, Any]) -> None:
    session.add(Event(kind=kind, subject=subject, payload=payload))


def since(
    session: Session, cursor: int, *, kinds: set[str] | None = None, limit: int = 1000
) -> list[Event]:
    query = select(Event).where(Event.id > cursor).order_by(Event.id).limit(limit)
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    return list(session.execute(query).scalars())
