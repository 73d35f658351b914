"""Request and response models of the advisories API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Tlp = Literal["WHITE", "GREEN", "AMBER", "RED"]


class AdvisoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=500)
    #: Product id, slug or name.
    product: str = Field(max_length=200)
    vulnerabilities: list[str] = Field(min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=20000)
    tlp: Tlp = "WHITE"
    #: Embargo: the advisory cannot be published before this time.
    disclosure_at: AwareDatetime | None = None
    #: Disclosure reports (tracking ids) whose public credits become acknowledgments.
    reports: list[str] = Field(default_factory=list, max_length=50)


class AdvisoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=3, max_length=500)
    summary: str | None = Field(None, min_length=1, max_length=20000)
    tlp: Tlp | None = None
    disclosure_at: AwareDatetime | None = None
    vulnerabilities: list[str] | None = Field(None, min_length=1, max_length=100)
    reports: list[str] | None = Field(None, max_length=50)


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["interim", "final"] = "final"
    #: What changed (the revision history entry); the first publication may leave it empty.
    summary: str = Field("", max_length=2000)


class RevisionOut(BaseModel):
    number: int
    date: dt.datetime
    summary: str
    published_by: str


class AdvisoryOut(BaseModel):
    tracking_id: str
    title: str
    tlp: str
    status: str
    version: int
    product: str
    vulnerabilities: list[str]
    disclosure_at: dt.datetime | None
    initial_release_date: dt.datetime | None
    current_release_date: dt.datetime | None
    url: str | None
    revisions: list[RevisionOut]


class ProblemOut(BaseModel):
    test: str
    title: str
    path: str
    message: str


class ValidationOut(BaseModel):
    valid: bool
    problems: list[ProblemOut]


class ImportedOut(BaseModel):
    id: int
    publisher: str
    tracking_id: str
    version: str
    title: str
    category: str
    problems: list[ProblemOut]
    proposals: int
    imported_at: dt.datetime
