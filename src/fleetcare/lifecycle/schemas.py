"""Request and response models of the end-of-life capability, shared by the API, CLI and pages.

Inputs forbid unknown fields and bound every string, like the portfolio's.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from fleetcare.lifecycle import rules

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Ref = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
    ),
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Language = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"
    ),
]
Topic = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=300, pattern=r"^[^#+\x00]*$")
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerKind(StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    MQTT = "mqtt"


class CustomerIn(_Input):
    ref: Ref
    name: Name
    kind: CustomerKind = CustomerKind.BUSINESS
    language: Language = "en"
    emails: list[Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]] = Field(
        default_factory=list, max_length=20
    )
    webhook_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    mqtt_topic: Topic = ""
    channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL])
    transition_offers: bool = True


class CustomerOut(BaseModel):
    ref: str
    name: str
    kind: str
    language: str
    emails: list[str]
    webhook_url: str
    mqtt_topic: str
    channels: list[str]
    transition_offers: bool
    devices: int = 0
    #: The webhook signing secret, present only in the answer that created it.
    webhook_secret: str | None = None


class Decommissioning(_Input):
    factory_reset: LongText = ""
    data_removal: LongText = ""
    credential_revocation: LongText = ""
    disposal: LongText = ""


class AnnexII(_Input):
    support_type: LongText = ""
    after_support: LongText = ""


assert set(Decommissioning.model_fields) == set(rules.DECOMMISSIONING_STEPS)
assert set(AnnexII.model_fields) == set(rules.ANNEX_II_POINTS)


class PlanIn(_Input):
    """An end-of-life plan. `support_end`, `end_of_sale` and `successor` are the product's own
    fields: given here, they are changed on the product under the portfolio's rules."""

    milestones: list[int] = Field(default_factory=lambda: list(rules.DEFAULT_MILESTONES))
    send_hour: int = Field(default=9, ge=0, le=23)
    upgrade_path: LongText = ""
    transition_offer: LongText = ""
    decommissioning: Decommissioning = Field(default_factory=Decommissioning)
    annex_ii: AnnexII = Field(default_factory=AnnexII)
    published: bool = True
    support_end: dt.date | None = None
    end_of_sale: dt.date | None = None
    successor: str | None = Field(default=None, max_length=200)

    @field_validator("milestones")
    @classmethod
    def _milestones(cls, value: list[int]) -> list[int]:
        if len(value) > 24:
            raise ValueError("give at most 24 milestones")
        return rules.check_milestones(value)


class MilestoneOut(BaseModel):
    months_before: int
    on: dt.date
    due_at: dt.datetime
    #: scheduled, sending, sent, superseded, or skipped (support had ended)
    status: str
    late: bool = False
    notice_id: int | None = None


class PlanOut(BaseModel):
    product: str
    slug: str
    support_end: dt.date
    support_end_month_year: str
    end_of_sale: dt.date | None
    support_status: str
    successor: str | None
    milestones: list[int]
    send_hour: int
    schedule: list[MilestoneOut]
    upgrade_path: str
    transition_offer: str
    decommissioning: dict[str, str]
    annex_ii: dict[str, str]
    published: bool
    devices_in_field: int
    customers: int
    #: Active devices whose owner is not a known customer: no notice reaches their users.
    devices_without_customer: int
    support_ended_at: dt.datetime | None
    devices_at_support_end: int | None


class NoticeOut(BaseModel):
    id: int
    kind: str
    product: str | None
    months_before: int | None
    due_at: dt.datetime
    status: str
    late: bool
    subject: str
    customers: int
    devices: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    deliveries: dict[str, int]


class DeliveryOut(BaseModel):
    id: int
    notice_id: int
    customer: str | None
    channel: str
    target: str
    devices: int
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    opened_at: dt.datetime | None


class ImportReport(BaseModel):
    created: int
    updated: int
    #: Webhook signing secrets of customers created with a webhook, shown this once.
    webhook_secrets: dict[str, str] = Field(default_factory=dict)


class CalendarRow(BaseModel):
    product: str
    slug: str
    support_end: dt.date
    support_end_month_year: str
    support_status: str
    has_plan: bool
    next_milestone: MilestoneOut | None
    notices_sent: int
    devices_in_field: int
    out_of_support_devices: int


class CessationIn(_Input):
    effective_on: dt.date
    reason: LongText = ""
    authority_name: Name
    authority_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]


class CessationOut(BaseModel):
    id: int
    effective_on: dt.date
    reason: str
    authority_name: str
    authority_email: str
    status: str
    authority_notice: str
    customer_notice: str
    checklist: list[dict[str, Any]]
    created_at: dt.datetime
    sent_at: dt.datetime | None


class UpstreamWarning(BaseModel):
    product: str
    release: str
    component: str
    version: str
    upstream: str
    cycle: str
    upstream_eol: dt.date | None
    support_end: dt.date
    message: str
