"""Tables of triage: the current decision per finding, every past decision, supplier proposals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fleetcare.core.db import Base, UTCDateTime, utcnow


class Decision(Base):
    """The current VEX status of a finding. A finding without a row is under_investigation.

    `carried_over_from` names the finding of an earlier release (same product, component name
    and version, vulnerability) whose decision this one copies; `decided_on` is the part of the
    vulnerability record the decision was taken on, compared when the record changes.
    """

    __tablename__ = "triage_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), unique=True
    )
    vex_status: Mapped[str] = mapped_column(String(24), index=True)
    justification: Mapped[str | None] = mapped_column(String(60))
    impact_statement: Mapped[str] = mapped_column(Text, default="")
    action_statement: Mapped[str] = mapped_column(Text, default="")
    fixed_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id", ondelete="SET NULL")
    )
    carried_over_from: Mapped[int | None] = mapped_column(
        ForeignKey("findings.id", ondelete="SET NULL")
    )
    reopened_reason: Mapped[str] = mapped_column(String(200), default="")
    decided_on: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by: Mapped[str] = mapped_column(String(300))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DecisionHistory(Base):
    """Every decision ever taken on a finding, newest last, with who, when and why."""

    __tablename__ = "triage_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    vex_status: Mapped[str] = mapped_column(String(24))
    justification: Mapped[str | None] = mapped_column(String(60))
    impact_statement: Mapped[str] = mapped_column(Text, default="")
    action_statement: Mapped[str] = mapped_column(Text, default="")
    fixed_release_id: Mapped[int | None] = mapped_column(Integer)
    carried_over: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(300))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class VexProposal(Base):
    """A supplier's VEX statement about a finding, waiting for the team to accept or reject."""

    __tablename__ = "triage_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    source_format: Mapped[str] = mapped_column(String(16))
    source_author: Mapped[str] = mapped_column(String(300), default="")
    source_document: Mapped[str] = mapped_column(String(500), default="")
    vex_status: Mapped[str] = mapped_column(String(24))
    justification: Mapped[str | None] = mapped_column(String(60))
    impact_statement: Mapped[str] = mapped_column(Text, default="")
    action_statement: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by: Mapped[str] = mapped_column(String(300), default="")
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
