"""Request and response models of Article 14 reporting, shared by the API, pages and CLI.

Times go in with a time zone and come out in UTC; deadlines also carry `due_local`, the same
instant in the zone the caller asked for (the manufacturer's by default).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from fleetcare.reporting.rules import CaseKind, Stage, Urgency

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
Evidence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2)]
VulnerabilityId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=100)
]


class CaseStatus(StrEnum):
    PROPOSED = "proposed"
    OPEN = "open"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class Audience(StrEnum):
    IMPACTED = "impacted"
    ALL = "all"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseProductIn(_Input):
    product: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    versions: list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]] = (
        Field(default_factory=list, max_length=200)
    )


class CaseIn(_Input):
    """Open a case by hand (or from a report, with `report`)."""

    kind: CaseKind
    title: Title
    summary: LongText = ""
    aware_at: AwareDatetime
    awareness_evidence: Evidence
    products: list[CaseProductIn] = Field(default_factory=list, max_length=100)
    vulnerability_ids: list[VulnerabilityId] = Field(default_factory=list, max_length=100)
    #: Where the product is made available; default: the `markets` setting.
    member_states: list[Code] | None = Field(default=None, max_length=30)
    #: Tracking id of the vulnerability report this case comes from.
    report: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""


class ConfirmIn(_Input):
    """Confirm a proposed case: when the manufacturer became aware, and on what evidence."""

    aware_at: AwareDatetime
    awareness_evidence: Evidence


class ReasonIn(_Input):
    reason: Reason


class CasePatch(_Input):
    """Fields to change; those left out stay as they are."""

    title: Title | None = None
    summary: LongText | None = None
    #: Correcting awareness moves every deadline; refused once a stage was submitted.
    aware_at: AwareDatetime | None = None
    measure_available_at: AwareDatetime | None = None
    member_states: list[Code] | None = Field(default=None, max_length=30)
    vulnerability_ids: list[VulnerabilityId] | None = Field(default=None, max_length=100)
    products: list[CaseProductIn] | None = Field(default=None, max_length=100)


class DocumentIn(_Input):
    """The stage report's fields; strings, and a list of country codes for member_states."""

    content: dict[
        Annotated[str, StringConstraints(max_length=50)],
        Annotated[str, StringConstraints(max_length=20000)] | list[Code],
    ] = Field(max_length=30)


class SubmitIn(_Input):
    """Record that the document was filed on the ENISA single reporting platform."""

    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    #: When it was filed; default now.
    submitted_at: AwareDatetime | None = None


class IntermediateIn(_Input):
    csirt_request: Reason
    due: AwareDatetime | None = None


class NoticeIn(_Input):
    audience: Audience = Audience.IMPACTED
    subject: Title
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
    recipients: list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]] = (
        Field(default_factory=list, max_length=5000)
    )
    #: Also call the webhooks subscribed to case.user_notice.
    webhooks: bool = True


class DeadlineOut(BaseModel):
    stage: Stage
    document: str
    due: dt.datetime | None
    due_local: str | None
    rule: str
    provisional: bool
    waiting_for: str
    submitted_at: dt.datetime | None
    urgency: Urgency


class CaseProductOut(BaseModel):
    product: str
    slug: str
    versions: list[str]


class CaseOut(BaseModel):
    reference: str
    kind: CaseKind
    title: str
    status: CaseStatus
    origin: str
    aware_at: dt.datetime | None
    measure_available_at: dt.datetime | None
    products: list[CaseProductOut]
    vulnerability_ids: list[str]
    member_states: list[str]
    report: str | None
    coordinating_csirt: str
    csirt_member_state: str
    next_deadline: DeadlineOut | None


class FieldOut(BaseModel):
    name: str
    label: str
    basis: str
    required: bool
    kind: str
    choices: list[str]


class DocumentOut(BaseModel):
    key: str
    stage: Stage
    sequence: int
    status: str
    content: dict[str, Any]
    fields: list[FieldOut]
    problems: list[str]
    requested_due: dt.datetime | None
    submitted_at: dt.datetime | None
    submitted_reference: str
    submitted_by: str
    snapshot_sha256: str


class NoticeOut(BaseModel):
    id: int
    audience: Audience
    subject: str
    body: str
    recipients: list[str]
    webhook_calls: int
    sent_at: dt.datetime
    sent_by: str


class CaseDetail(CaseOut):
    summary: str
    awareness_evidence: str
    confirmed_by: str
    confirmed_at: dt.datetime | None
    finding_ids: list[int]
    manufacturer_size: str
    csirt_basis: str
    close_reason: str
    closed_at: dt.datetime | None
    created_at: dt.datetime
    created_by: str
    deadlines: list[DeadlineOut]
    documents: list[DocumentOut]
    notices: list[NoticeOut]


class BoardItemOut(BaseModel):
    """One line of the deadline board: an Art. 14 stage or a promise to a reporter."""

    kind: str  # "case" or "report"
    reference: str
    title: str
    what: str
    due: dt.datetime | None
    due_local: str | None
    left: str
    urgency: Urgency
    url: str
