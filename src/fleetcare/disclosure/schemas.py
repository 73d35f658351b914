"""Request and response models of disclosure, shared by the API, the pages and the CLI.

Inputs forbid unknown fields and bound every string. What the reporter sees through the status
link (`ReportStatusOut`) is a separate model from what the team sees (`ReportDetail`), so that
an internal note cannot reach the reporter by a field added to the wrong place.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fleetcare.disclosure.rules import ReportSource, ReportStatus

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
MediumText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
MessageText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)
]

MAX_OPENPGP_KEY = 20000
PGP_KEY_HEADER = "-----BEGIN PGP PUBLIC KEY BLOCK-----"


class Channel(StrEnum):
    """How the reporter wants to hear from us (CRA 13(17): their choice, not only a tool)."""

    EMAIL = "email"
    STATUS_PAGE = "status_page"
    OTHER = "other"


class Severity(StrEnum):
    NONE = ""
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CreditKind(StrEnum):
    FINDER = "finder"
    REPORTER = "reporter"
    COORDINATOR = "coordinator"
    ANALYST = "analyst"
    REMEDIATION_DEVELOPER = "remediation_developer"
    OTHER = "other"


class LinkKind(StrEnum):
    VULNERABILITY = "vulnerability"
    FINDING = "finding"
    RELEASE = "release"
    ADVISORY = "advisory"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttachmentIn(_Input):
    filename: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    media_type: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = (
        "application/octet-stream"
    )
    #: The file, base64-encoded; its decoded size is limited by the server's settings.
    content_base64: str = Field(max_length=30 * 1024 * 1024)


class ReportIn(_Input):
    """A vulnerability report, as an outsider sends it (no account needed)."""

    title: ShortText = Field(
        default="", description="one line; taken from the description if empty"
    )
    product: ShortText = Field(default="", description="a product name or slug, or free text")
    affected_version: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)
    ]
    steps_to_reproduce: LongText = ""
    impact: MediumText = ""
    source: ReportSource = ReportSource.RESEARCHER
    reporter_name: ShortText = ""
    reporter_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] = ""
    reporter_contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = (
        Field(default="", description="any other way to reach you: phone, Signal, Matrix, ...")
    )
    preferred_channel: Channel = Channel.STATUS_PAGE
    wants_credit: bool = False
    credit_as: ShortText = Field(default="", description="the name to credit, if not your name")
    openpgp_key: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=MAX_OPENPGP_KEY)
    ] = ""
    attachment: AttachmentIn | None = None
    #: Leave empty. People never see this field; form-filling robots fill it in.
    website: Annotated[str, StringConstraints(max_length=500)] = ""

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.preferred_channel is Channel.EMAIL and not self.reporter_email:
            raise ValueError("preferred_channel is email, so give reporter_email")
        if self.preferred_channel is Channel.OTHER and not self.reporter_contact:
            raise ValueError("preferred_channel is other, so say how in reporter_contact")
        if self.openpgp_key and PGP_KEY_HEADER not in self.openpgp_key:
            raise ValueError(f"openpgp_key must be an ASCII-armoured key ({PGP_KEY_HEADER})")
        return self


class TeamReportIn(ReportIn):
    """A report the team records from another channel (an email, a CSIRT's forward)."""

    #: When it really arrived; the clocks start there.
    received_at: dt.datetime | None = None


class ReportReceipt(BaseModel):
    tracking_id: str
    status: ReportStatus
    received_at: dt.datetime
    acknowledgement_due: dt.datetime
    #: The reporter's private link; shown once, it cannot be recovered later.
    status_url: str
    status_token: str
    message: str


class PublicMessage(BaseModel):
    author: str  # "you", "security team" or "fleetcare"
    body: str
    at: dt.datetime


class ReportStatusOut(BaseModel):
    """What the reporter sees through the status link: no internal notes, no team names."""

    tracking_id: str
    title: str
    status: ReportStatus
    status_label: str
    product: str
    affected_version: str
    received_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledgement_due: dt.datetime
    next_update_due: dt.datetime | None
    disclosure_target: dt.date
    embargo_until: dt.date | None
    credits: list[str]
    messages: list[PublicMessage]


class ReporterReplyIn(_Input):
    """A reporter's answer; the status link's token goes in the body, not the URL."""

    token: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
    body: MessageText


class ClocksOut(BaseModel):
    acknowledgement_due: dt.datetime
    acknowledgement_overdue: bool
    acknowledged_late: bool
    next_update_due: dt.datetime | None
    update_overdue: bool
    disclosure_target: dt.date


class ReportOut(BaseModel):
    tracking_id: str
    title: str
    status: ReportStatus
    source: ReportSource
    received_via: str
    product: str
    product_slug: str | None
    affected_version: str
    severity: str
    quarantined: bool
    quarantine_reason: str
    received_at: dt.datetime
    acknowledged_at: dt.datetime | None
    last_update_at: dt.datetime | None
    closed_at: dt.datetime | None
    disclosed_at: dt.datetime | None
    embargo_until: dt.date | None
    duplicate_of: str | None
    clocks: ClocksOut


class MessageOut(BaseModel):
    id: int
    author_kind: str
    author: str
    internal: bool
    body: str
    created_at: dt.datetime


class CreditOut(BaseModel):
    id: int
    name: str
    kind: CreditKind
    public: bool


class LinkOut(BaseModel):
    id: int
    kind: LinkKind
    ref: str
    label: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str


class ReportDetail(ReportOut):
    description: str
    steps_to_reproduce: str
    impact: str
    reporter_name: str
    reporter_email: str
    reporter_contact: str
    preferred_channel: Channel
    wants_credit: bool
    credit_as: str
    openpgp_key: str
    messages: list[MessageOut]
    credits: list[CreditOut]
    links: list[LinkOut]
    attachments: list[AttachmentOut]


class ReportPage(BaseModel):
    items: list[ReportOut]
    total: int
    limit: int
    offset: int


class StatusChange(_Input):
    status: ReportStatus
    embargo_until: dt.date | None = None
    #: For status duplicate: the tracking id of the original report.
    duplicate_of: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    #: A message to the reporter explaining the change (optional).
    message: LongText = ""


class MessageIn(_Input):
    body: MessageText
    #: An internal note stays with the team; otherwise the reporter sees it.
    internal: bool = False


class CreditIn(_Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: CreditKind = CreditKind.FINDER
    public: bool = True


class LinkIn(_Input):
    kind: LinkKind
    #: A vulnerability id (CVE-2026-1234), a finding id, "product@version", or an advisory id.
    ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ReportPatch(_Input):
    """Fields the team may correct; those left out stay as they are."""

    title: ShortText | None = None
    product: ShortText | None = None
    affected_version: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None
    ) = None
    severity: Severity | None = None
    embargo_until: dt.date | None = None


class StatusLinkOut(BaseModel):
    tracking_id: str
    status_url: str
    status_token: str


class SecurityTxtOut(BaseModel):
    text: str
    reviewed_at: dt.datetime
    expires_at: dt.datetime
    reviewed_by: str
