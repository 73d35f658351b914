"""Rollout rules as plain functions: who is in which wave, when a wave advances or pauses,
whether a device may be offered a release, and what a device's update choices mean.

Nothing here touches the database; `service.py` applies these rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

FINAL_STATUSES = frozenset({"success", "failure", "cancelled"})
#: The order an assignment moves in; a report may skip ahead but never go back.
STATUS_ORDER = {"pending": 0, "downloading": 1, "installing": 2, "success": 3, "failure": 3}


class WaveVerdict(StrEnum):
    WAIT = "wait"
    ADVANCE = "advance"
    PAUSE = "pause"


@dataclass(frozen=True)
class WaveCounts:
    size: int
    success: int = 0
    failure: int = 0

    @property
    def done(self) -> int:
        return self.success + self.failure


def wave_verdict(counts: WaveCounts, success_threshold: int, failure_threshold: int) -> WaveVerdict:
    """Pause once failures pass `failure_threshold` percent of the wave; advance once successes
    reach `success_threshold` percent. An empty wave advances at once."""
    if counts.size == 0:
        return WaveVerdict.ADVANCE
    if counts.failure * 100 > failure_threshold * counts.size:
        return WaveVerdict.PAUSE
    if counts.success * 100 >= success_threshold * counts.size:
        return WaveVerdict.ADVANCE
    return WaveVerdict.WAIT


def rollout_position(rollout_id: int, device_uid: str) -> float:
    """A stable place in [0, 1) for the device within this rollout, so that waves by
    percentage pick a spread-out sample and a device keeps its wave when others join."""
    digest = hashlib.sha256(f"{rollout_id}:{device_uid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def wave_for(
    position: float, device_groups: Sequence[str], waves: Sequence[tuple[int | None, Sequence[str]]]
) -> int:
    """The index of the first wave that takes the device: a group wave by membership, a
    percentage wave (cumulative percent) by position. A device no wave names goes to the last."""
    for index, (percent, groups) in enumerate(waves):
        if groups and set(groups) & set(device_groups):
            return index
        if percent is not None and position * 100 < percent:
            return index
    return len(waves) - 1


def may_offer(target_counter: int, installed_counter: int) -> bool:
    """Never a downgrade, never the same release again."""
    return target_counter > installed_counter


class SecurityChoice(StrEnum):
    AUTOMATIC = "automatic"
    OPT_OUT = "opt_out"
    POSTPONED = "postponed"


def security_choice(
    device_setting: str,
    device_postponed: dt.date | None,
    customer_setting: str | None,
    customer_postponed: dt.date | None,
    today: dt.date,
) -> tuple[SecurityChoice, dt.date | None]:
    """What applies to a security update for this device today: an opt-out by the device or
    its customer wins, then the later of their postponements still running."""
    if SecurityChoice.OPT_OUT in (device_setting, customer_setting):
        return SecurityChoice.OPT_OUT, None
    until = max(
        (d for d in (device_postponed, customer_postponed) if d and d > today), default=None
    )
    if until is not None:
        return SecurityChoice.POSTPONED, until
    return SecurityChoice.AUTOMATIC, None


def check_postponement(until: dt.date, today: dt.date, max_days: int) -> str | None:
    """A problem with postponing until `until`, or None."""
    if until <= today:
        return f"postpone until a date after today ({today})"
    if (until - today).days > max_days:
        latest = today + dt.timedelta(days=max_days)
        return f"a security update may be postponed by at most {max_days} days (until {latest})"
    return None


def _minutes(value: str) -> int:
    hours, _, minutes = value.partition(":")
    return int(hours) * 60 + int(minutes)


def check_windows(windows: Sequence[Mapping[str, Any]]) -> str | None:
    """A problem with these maintenance windows, or None."""
    for window in windows:
        days = window.get("days", list(range(7)))
        if not isinstance(days, list) or any(d not in range(7) for d in days):
            return "window days are numbers 0 (Monday) to 6 (Sunday)"
        for key in ("start", "end"):
            value = window.get(key)
            try:
                if not isinstance(value, str) or not 0 <= _minutes(value) < 24 * 60:
                    raise ValueError
            except ValueError:
                return f"window {key} must be a time HH:MM in UTC, not {value!r}"
    return None


def in_window(windows: Sequence[Mapping[str, Any]], now: dt.datetime) -> bool:
    """True if `now` (UTC) is inside one of the windows, or there are none. A window whose end
    is before its start runs over midnight."""
    if not windows:
        return True
    now = now.astimezone(dt.UTC)
    minute = now.hour * 60 + now.minute
    for window in windows:
        days = window.get("days", list(range(7)))
        start, end = _minutes(window["start"]), _minutes(window["end"])
        if start <= end:
            if now.weekday() in days and start <= minute < end:
                return True
        else:
            yesterday = (now.weekday() - 1) % 7
            if (now.weekday() in days and minute >= start) or (yesterday in days and minute < end):
                return True
    return False
