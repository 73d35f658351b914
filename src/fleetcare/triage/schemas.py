"""Request and response models of the triage API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetcare.triage.rules import Justification, VexStatus

VexFormat = Literal["openvex", "cyclonedx", "csaf"]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vex_status: VexStatus
    justification: Justification | None = None
    impact_statement: str = Field("", max_length=4000)
    action_statement: str = Field("", max_length=4000)
    #: Version of the release (of the same product) that fixes the finding; for fixed only.
    fixed_release: str | None = Field(None, max_length=100)
    #: Why: kept in the history.
    reason: str = Field("", max_length=4000)


class BulkDecisionIn(DecisionIn):
    vulnerability: str = Field(max_length=100)
    #: Product (id, slug or name); all its releases unless `releases` names some.
    product: str | None = Field(None, max_length=200)
    releases: list[str] = Field(default_factory=list, max_length=500)


class HistoryOut(BaseModel):
    vex_status: str
    justification: str | None
    impact_statement: str
    action_statement: str
    fixed_release: str | None
    carried_over: bool
    reason: str
    actor: str
    at: dt.datetime


class DecisionOut(BaseModel):
    finding_id: int
    vulnerability_id: str
    product: str
    release: str
    component: str
    component_version: str
    severity: str
    vex_status: str
    justification: str | None = None
    impact_statement: str = ""
    action_statement: str = ""
    fixed_release: str | None = None
    carried_over_from: int | None = None
    reopened_reason: str = ""
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    first_seen: dt.datetime
    decision_due: dt.datetime
    fix_due: dt.datetime
    overdue: str | None = None
    history: list[HistoryOut] = Field(default_factory=list)


class BulkResult(BaseModel):
    decided: list[int]


class ProposalOut(BaseModel):
    id: int
    finding_id: int
    vulnerability_id: str
    product: str
    release: str
    component: str
    component_version: str
    source_format: str
    source_author: str
    source_document: str
    vex_status: str
    justification: str | None
    impact_statement: str
    action_statement: str
    state: str
    created_at: dt.datetime


class ImportResult(BaseModel):
    format: str
    author: str
    statements: int
    proposals: int
    unmatched: int


class SlaOut(BaseModel):
    days: dict[str, int]
