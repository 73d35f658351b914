"""End-of-life rules as plain functions over dates: when each notice is due, which one to send
now, whether a milestone went out late, what a device is told at check-in, and which rollouts
stop at support end. Nothing here touches the database.

A milestone is "N months before support end": the calendar day `add_months(support_end, -N)`
(clamped to the month's last day, so 31 August minus 6 months is 28 or 29 February), at
`send_hour` o'clock in the manufacturer's time zone, converted to UTC once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fleetcare.portfolio.rules import SupportStatus, add_months, support_status

DEFAULT_MILESTONES = (24, 12, 6, 3, 1)
MAX_MILESTONE_MONTHS = 120
#: A milestone whose notices start later than this after it was due is marked late.
LATE_AFTER = dt.timedelta(hours=1)
CHANNELS = ("email", "webhook", "mqtt")
DECOMMISSIONING_STEPS = {
    "factory_reset": "Factory reset",
    "data_removal": "Removing personal and configuration data",
    "credential_revocation": "Revoking credentials and certificates",
    "disposal": "Disposal and recycling",
}
ANNEX_II_POINTS = {
    "support_type": "Type of security support during the support period (Annex II point 7)",
    "after_support": "What changes when support ends (Annex II points 7 and 8)",
}


@dataclass(frozen=True)
class Milestone:
    months_before: int
    on: dt.date
    due_at: dt.datetime


def check_milestones(months: list[int]) -> list[int]:
    """The milestones without duplicates, largest first; ValueError with a message if any is
    out of range."""
    for value in months:
        if not 0 <= value <= MAX_MILESTONE_MONTHS:
            raise ValueError(
                f"milestone {value} is out of range: give months before support end "
                f"from 0 to {MAX_MILESTONE_MONTHS}"
            )
    return sorted(set(months), reverse=True)


def due_at(on: dt.date, send_hour: int, timezone: str) -> dt.datetime:
    """`send_hour` o'clock on the local day `on`, in UTC. An hour skipped by a daylight-saving
    change resolves to the hour after it, as zoneinfo does (fold=0)."""
    local = dt.datetime.combine(on, dt.time(send_hour), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


def schedule(
    support_end: dt.date, months: list[int], send_hour: int, timezone: str
) -> list[Milestone]:
    """Every milestone of a plan in the order they fall due."""
    result = []
    for value in check_milestones(months):
        day = add_months(support_end, -value)
        result.append(Milestone(value, day, due_at(day, send_hour, timezone)))
    return result


@dataclass(frozen=True)
class Decision:
    """What the scheduler does now: send one milestone, and mark older unsent ones superseded
    (two notices at once would only confuse; the newest says everything)."""

    send: Milestone | None
    superseded: list[Milestone]
    late: bool


def decide(
    milestones: list[Milestone],
    done: set[int],
    now: dt.datetime,
    support_end: dt.date,
    timezone: str,
) -> Decision:
    """Which milestone to announce at `now`, given the months already announced (`done`).

    Nothing is sent once support has ended in the manufacturer's time zone: by then devices
    are told at check-in and the public pages say it."""
    local_today = now.astimezone(ZoneInfo(timezone)).date()
    due = [m for m in milestones if m.due_at <= now and m.months_before not in done]
    if not due or local_today > support_end:
        return Decision(None, [], False)
    newest = max(due, key=lambda m: m.due_at)
    # A milestone older than one already announced is superseded too, not sent after it.
    announced_after = [m for m in milestones if m.months_before in done]
    if announced_after and min(m.months_before for m in announced_after) < newest.months_before:
        return Decision(None, due, False)
    rest = [m for m in due if m is not newest]
    return Decision(newest, rest, now - newest.due_at > LATE_AFTER)


def rollout_refusal(
    support_end: dt.date, release_kind: str, today: dt.date, product_name: str = "the product"
) -> str | None:
    """Why a rollout of a release of this kind may not start, or None. Once support has ended
    no new features roll out; security releases still may (and stay downloadable)."""
    if today > support_end and release_kind not in ("security", "mixed"):
        return (
            f"support for {product_name} ended on {support_end}: only security releases may "
            "still be rolled out, feature rollouts stop at support end"
        )
    return None


def device_notice_kind(support_end: dt.date, today: dt.date) -> str | None:
    """ "end_of_support" once support has ended, "support_ending" in the last 12 months."""
    status = support_status(support_end, today)
    if status is SupportStatus.ENDED:
        return "end_of_support"
    if status is SupportStatus.ENDING_SOON:
        return "support_ending"
    return None


def cycle_matches(version: str, cycle: str) -> bool:
    """Whether a component version belongs to an upstream release cycle: "3.0.13" and "3.0",
    "1.1.1w" and "1.1.1", but not "3.01" and "3.0"."""
    version, cycle = version.strip().lower().lstrip("v"), cycle.strip().lower().lstrip("v")
    if not version or not cycle or not version.startswith(cycle):
        return False
    rest = version[len(cycle) :]
    return rest == "" or not rest[0].isdigit()


def best_cycle(version: str, cycles: list[str]) -> str | None:
    """The most specific cycle `version` belongs to ("5.15" over "5")."""
    matching = [c for c in cycles if cycle_matches(version, c)]
    return max(matching, key=len) if matching else None
