"""Response models for findings, vulnerabilities and feeds."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"
    UNKNOWN = "unknown"


SEVERITY_ORDER = {"critical": 5, "high": 4, "medium": 3, "low": 2, "none": 1, "unknown": 0}


class FindingOut(BaseModel):
    id: int
    component_id: int
    product: str
    product_slug: str
    release: str
    release_id: int
    component: str
    component_version: str
    component_purl: str
    component_cpe: str
    vulnerability_id: str
    aliases: list[str]
    summary: str
    severity: Severity
    cvss_score: float | None
    cvss_vector: str | None
    epss_score: float | None
    epss_percentile: float | None
    kev: bool
    exploited_candidate: bool
    matched_by: str
    match_reason: str
    source: str
    fixed_version: str | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    withdrawn_at: dt.datetime | None


class FindingPage(BaseModel):
    items: list[FindingOut]
    total: int
    limit: int
    offset: int


class AffectedRelease(BaseModel):
    product: str
    product_slug: str
    release: str
    release_status: str
    component: str
    component_version: str
    finding_id: int
    fixed_version: str | None
    withdrawn: bool


class SourceOut(BaseModel):
    source: str
    record_id: str
    modified: dt.datetime | None
    withdrawn: dt.datetime | None
    summary: str


class VulnerabilityOut(BaseModel):
    id: str
    aliases: list[str]
    summary: str
    details: str
    published: dt.datetime | None
    modified: dt.datetime | None
    withdrawn: dt.datetime | None
    severity: Severity
    cvss_score: float | None
    cvss_vector: str | None
    cvss_kind: str | None
    cwes: list[str]
    references: list[str]
    kev: bool
    kev_added: dt.date | None
    kev_due: dt.date | None
    kev_ransomware: bool
    exploited: bool
    epss_score: float | None
    epss_percentile: float | None
    sources: list[SourceOut]
    affected: list[AffectedRelease]


class FeedStateOut(BaseModel):
    source: str
    last_sync_at: dt.datetime | None
    cursor: str
    records: int
    last_status: str


class MatchRunOut(BaseModel):
    components: int
    candidates: int
    matched: int
    new: int
    withdrawn: int
    exploited_candidates: int
