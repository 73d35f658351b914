"""Request and response models of the update API and the device API."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

DeviceUid = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
    ),
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
_HEX_KEY = re.compile(r"^[0-9a-f]{64}$")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceIn(_Input):
    """One entry of a factory list: the device and how it will prove itself at enrolment."""

    uid: DeviceUid
    hardware_revision: str = Field(default="", max_length=100)
    customer: str = Field(default="", max_length=200)
    groups: list[Label] = Field(default_factory=list, max_length=50)
    tags: list[Label] = Field(default_factory=list, max_length=50)
    #: A per-device secret printed or flashed at the factory (at least 16 characters) ...
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    #: ... or the device's Ed25519 public key (64 hex digits) from the factory.
    public_key: str | None = None

    @model_validator(mode="after")
    def _one_credential(self) -> DeviceIn:
        if (self.secret is None) == (self.public_key is None):
            raise ValueError("give exactly one of secret or public_key")
        if self.public_key is not None and not _HEX_KEY.match(self.public_key.lower()):
            raise ValueError("public_key must be an Ed25519 public key as 64 hex digits")
        return self


class FactoryList(_Input):
    product: str = Field(min_length=1, max_length=200)
    devices: list[DeviceIn] = Field(min_length=1, max_length=100_000)


class SecurityUpdates(StrEnum):
    AUTOMATIC = "automatic"
    OPT_OUT = "opt_out"


class UpdateSettingsIn(_Input):
    """Opt out of automatic security updates, or postpone them until a date (bounded)."""

    security_updates: SecurityUpdates = SecurityUpdates.AUTOMATIC
    postponed_until: dt.date | None = None


class DeviceOut(BaseModel):
    uid: str
    product_id: int
    hardware_revision: str
    customer: str
    groups: list[str]
    tags: list[str]
    state: str
    installed_version: str
    installed_counter: int
    security_updates: str
    postponed_until: dt.date | None
    last_checkin_at: dt.datetime | None


class EnrolIn(_Input):
    device: DeviceUid
    secret: str = Field(min_length=16, max_length=200)
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$")


class StatusIn(_Input):
    assignment: int = Field(ge=1)
    status: str = Field(pattern=r"^(downloading|installing|success|failure)$")
    detail: str = Field(default="", max_length=4000)


class WaveIn(_Input):
    percent: int | None = Field(default=None, ge=1, le=100)
    groups: list[Label] = Field(default_factory=list)
    success_threshold: int = Field(default=95, ge=1, le=100)
    failure_threshold: int = Field(default=5, ge=0, le=100)

    @model_validator(mode="after")
    def _percent_or_groups(self) -> WaveIn:
        if (self.percent is None) == (not self.groups):
            raise ValueError("a wave has either a percent or groups")
        return self


class WindowIn(_Input):
    days: list[int] = Field(default_factory=lambda: list(range(7)))
    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class SelectionIn(_Input):
    installed_versions: list[str] = Field(default_factory=list)
    groups: list[Label] = Field(default_factory=list)
    tags: list[Label] = Field(default_factory=list)
    customers: list[str] = Field(default_factory=list)


class RolloutIn(_Input):
    name: str = Field(min_length=1, max_length=200)
    product: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=100)
    selection: SelectionIn = Field(default_factory=SelectionIn)
    waves: list[WaveIn] = Field(
        default_factory=lambda: [WaveIn(percent=100)], min_length=1, max_length=20
    )
    windows: list[WindowIn] = Field(default_factory=list, max_length=20)


class WaveOut(BaseModel):
    position: int
    percent: int | None
    groups: list[str]
    success_threshold: int
    failure_threshold: int
    size: int
    counts: dict[str, int]
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class RolloutOut(BaseModel):
    id: int
    name: str
    product_id: int
    version: str
    mode: str
    status: str
    current_wave: int
    pause_reason: str
    selection: dict[str, Any]
    windows: list[dict[str, Any]]
    waves: list[WaveOut]
