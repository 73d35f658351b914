"""The rules of coordinated vulnerability disclosure, as plain functions: no database, no I/O.

- The workflow a report follows (ISO/IEC 30111: receipt, verification, remediation, release):
  received → acknowledged → triaging → accepted / rejected / duplicate → fix in progress →
  fixed → disclosed. Rejected and duplicate reports can be reopened into triage.
- The clocks the CVD policy promises (ETSI EN 303 645 5.2-1): acknowledge within N working
  days, a status update at least every N days until the report is closed, and a disclosure
  target N days after receipt.

Working days are counted in the manufacturer's time zone: the day of receipt does not count,
Saturdays, Sundays and the configured holidays do not count, and the period ends at the end of
the last working day (as EU law counts periods of days, Regulation 1182/71 Art. 3).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo


class ReportStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGING = "triaging"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    FIX_IN_PROGRESS = "fix_in_progress"
    FIXED = "fixed"
    DISCLOSED = "disclosed"


class ReportSource(StrEnum):
    """Who sent the report: CRA 19(5), 20(4) and 15(4) make importers, distributors and CSIRTs
    intake channels besides researchers and customers."""

    RESEARCHER = "researcher"
    CUSTOMER = "customer"
    IMPORTER = "importer"
    DISTRIBUTOR = "distributor"
    CSIRT = "csirt"


STATUS_LABELS: dict[str, str] = {
    "received": "received",
    "acknowledged": "acknowledged",
    "triaging": "being triaged",
    "accepted": "accepted as a vulnerability",
    "rejected": "not a vulnerability",
    "duplicate": "duplicate of another report",
    "fix_in_progress": "fix in progress",
    "fixed": "fixed",
    "disclosed": "disclosed",
}

SOURCE_LABELS: dict[str, str] = {
    "researcher": "security researcher",
    "customer": "customer or user",
    "importer": "importer",
    "distributor": "distributor",
    "csirt": "CSIRT",
}

S = ReportStatus
TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    S.RECEIVED: frozenset({S.ACKNOWLEDGED, S.TRIAGING, S.REJECTED, S.DUPLICATE}),
    S.ACKNOWLEDGED: frozenset({S.TRIAGING, S.REJECTED, S.DUPLICATE}),
    S.TRIAGING: frozenset({S.ACCEPTED, S.REJECTED, S.DUPLICATE}),
    S.ACCEPTED: frozenset({S.FIX_IN_PROGRESS, S.FIXED, S.REJECTED}),
    S.FIX_IN_PROGRESS: frozenset({S.FIXED}),
    S.FIXED: frozenset({S.DISCLOSED}),
    S.REJECTED: frozenset({S.TRIAGING}),
    S.DUPLICATE: frozenset({S.TRIAGING}),
    S.DISCLOSED: frozenset(),
}

#: No more status updates are owed for these.
CLOSED = frozenset({S.REJECTED, S.DUPLICATE, S.DISCLOSED})


def can_move(current: ReportStatus, new: ReportStatus) -> bool:
    return new in TRANSITIONS[current]


def transition_problem(
    current: ReportStatus,
    new: ReportStatus,
    *,
    today: dt.date,
    embargo_until: dt.date | None,
    duplicate_of: str | None,
) -> str | None:
    """Why this status change is not allowed, or None if it is."""
    if new == current:
        return f"the report is already {current.value}"
    if not can_move(current, new):
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "nothing"
        return f"a {current.value} report cannot become {new.value}; it can become: {allowed}"
    if new is S.DUPLICATE and not duplicate_of:
        return "name the report this one duplicates (duplicate_of)"
    if new is S.DISCLOSED and embargo_until is not None and today < embargo_until:
        return (
            f"the report is under embargo until {embargo_until}; change the embargo date "
            "first if the reporter agreed to an earlier disclosure"
        )
    return None


# --- clocks --------------------------------------------------------------------------------


def is_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def add_working_days(
    start: dt.datetime, days: int, zone: ZoneInfo, holidays: Iterable[dt.date] = ()
) -> dt.datetime:
    """The end of the `days`-th working day after the local day of `start`, in UTC."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    holiday_set = set(holidays)
    day = start.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, holiday_set):
            counted += 1
    return end_of_day(day, zone)


def end_of_day(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The last instant of a local day, in UTC (23:59:59, whatever the offset that night)."""
    local = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)
    return local.astimezone(dt.UTC)


@dataclass(frozen=True)
class CvdPolicy:
    ack_working_days: int = 5
    update_days: int = 30
    disclosure_days: int = 90
    holidays: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class ReportClocks:
    acknowledgement_due: dt.datetime
    #: None once the report is closed: no further updates are owed.
    next_update_due: dt.datetime | None
    disclosure_target: dt.date
    acknowledgement_overdue: bool
    update_overdue: bool
    #: Acknowledged, but after the promised time: kept visible for the policy's record.
    acknowledged_late: bool


def report_clocks(
    *,
    received_at: dt.datetime,
    acknowledged_at: dt.datetime | None,
    last_update_at: dt.datetime | None,
    status: ReportStatus,
    policy: CvdPolicy,
    zone: ZoneInfo,
    now: dt.datetime,
) -> ReportClocks:
    """Where a report stands against the policy's promises at `now`."""
    ack_due = add_working_days(received_at, policy.ack_working_days, zone, policy.holidays)
    ack_overdue = acknowledged_at is None and now > ack_due
    update_due = None
    if status not in CLOSED and acknowledged_at is not None:
        update_due = (last_update_at or acknowledged_at) + dt.timedelta(days=policy.update_days)
    target = (received_at.astimezone(zone) + dt.timedelta(days=policy.disclosure_days)).date()
    return ReportClocks(
        acknowledgement_due=ack_due,
        next_update_due=update_due,
        disclosure_target=target,
        acknowledgement_overdue=ack_overdue,
        update_overdue=update_due is not None and now > update_due,
        acknowledged_late=acknowledged_at is not None and acknowledged_at > ack_due,
    )


# --- identifiers and secrets -----------------------------------------------------------------

#: Crockford's base32 without I, L, O, U: readable over the phone, no look-alikes.
_TRACKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_ID = re.compile(r"^VR-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
#: secrets.token_urlsafe(32): 43 characters of base64url.
STATUS_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_tracking_id() -> str:
    """A reference the reporter can quote, e.g. VR-7K3M-Q9TX (not a secret, not sequential)."""
    chars = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(8))
    return f"VR-{chars[:4]}-{chars[4:]}"


def normalise_tracking_id(value: str) -> str:
    return value.strip().upper()


def new_status_token() -> str:
    """256 random bits: the whole secret of the reporter's status link."""
    return secrets.token_urlsafe(32)


def looks_like_status_token(value: str) -> bool:
    return bool(STATUS_TOKEN.match(value))
