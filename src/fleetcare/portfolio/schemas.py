"""Request and response models of the portfolio, shared by the API, the CLI and the pages.

Inputs forbid unknown fields and bound every string, so a typo in a field name or an oversized
value is refused with the field's name rather than silently ignored or stored.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from fleetcare.portfolio.rules import JUSTIFICATION_FACTORS

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Version = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._+~:-]*$",
    ),
]


class CraCategory(StrEnum):
    """Annex III/IV categories; they decide the conformity assessment route."""

    DEFAULT = "default"
    IMPORTANT_CLASS_I = "important_class_i"
    IMPORTANT_CLASS_II = "important_class_ii"
    CRITICAL = "critical"


class ReleaseKind(StrEnum):
    SECURITY = "security"
    FEATURE = "feature"
    MIXED = "mixed"


class ReleaseStatus(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Justification(_Input):
    """Reasons for the support period against each factor of CRA Art. 13(8)."""

    user_expectations: LongText = ""
    nature_and_purpose: LongText = ""
    union_law_lifetime: LongText = ""
    peer_support_periods: LongText = ""
    operating_environment: LongText = ""
    third_party_components: LongText = ""


assert set(Justification.model_fields) == set(JUSTIFICATION_FACTORS)


class ProductIn(_Input):
    name: Name
    model_id: ShortText = ""
    description: LongText = ""
    intended_purpose: LongText = ""
    cra_category: CraCategory = CraCategory.DEFAULT
    placed_on_market: dt.date
    expected_use_months: int | None = Field(default=None, ge=1, le=1200)
    support_end: dt.date
    end_of_sale: dt.date | None = None
    successor: str | None = Field(default=None, max_length=200, description="name or id")
    support_justification: Justification = Field(default_factory=Justification)


class ProductPatch(_Input):
    """Fields to change; those left out stay as they are."""

    name: Name | None = None
    model_id: ShortText | None = None
    description: LongText | None = None
    intended_purpose: LongText | None = None
    cra_category: CraCategory | None = None
    placed_on_market: dt.date | None = None
    expected_use_months: int | None = Field(default=None, ge=1, le=1200)
    support_end: dt.date | None = None
    end_of_sale: dt.date | None = None
    successor: str | None = Field(default=None, max_length=200)
    support_justification: Justification | None = None


class ReleaseIn(_Input):
    version: Version
    release_date: dt.date
    kind: ReleaseKind
    notes: LongText = ""
    status: ReleaseStatus = ReleaseStatus.DRAFT

    @field_validator("status")
    @classmethod
    def _not_withdrawn(cls, value: ReleaseStatus) -> ReleaseStatus:
        if value is ReleaseStatus.WITHDRAWN:
            raise ValueError("a new release cannot start withdrawn")
        return value


class ReleaseStatusChange(_Input):
    status: ReleaseStatus


class ReleaseOut(BaseModel):
    id: int
    product_id: int
    version: str
    release_date: dt.date
    kind: ReleaseKind
    status: ReleaseStatus
    notes: str
    #: For security and mixed releases once released: Art. 13(9) availability end.
    available_until: dt.date | None


class ProductOut(BaseModel):
    id: int
    name: str
    slug: str
    model_id: str
    description: str
    intended_purpose: str
    cra_category: CraCategory
    placed_on_market: dt.date
    expected_use_months: int | None
    support_end: dt.date
    support_end_month_year: str
    end_of_sale: dt.date | None
    successor: str | None
    support_justification: dict[str, str]
    support_status: str
    documentation_retained_until: dt.date
    latest_release: str | None
    release_count: int


class ProductDetail(ProductOut):
    releases: list[ReleaseOut]


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


class SupportCycle(BaseModel):
    """One product in the shape of an endoflife.date API cycle, so existing tooling reads it."""

    model_config = ConfigDict(populate_by_name=True)

    product: str
    cycle: str
    releaseDate: dt.date  # noqa: N815 - the endoflife.date field names
    support: dt.date
    eol: dt.date
    latest: str | None
    latestReleaseDate: dt.date | None  # noqa: N815
    lts: bool = False
    link: str
