"""The Article 14 rules of the Cyber Resilience Act, as plain functions: no database, no I/O.

Deadlines (CRA Art. 14(2) and 14(4)), counted from `aware_at`, the confirmed moment the
manufacturer became aware of an actively exploited vulnerability or a severe incident:

    early warning    aware_at + 24 hours
    notification     aware_at + 72 hours
    final report     vulnerability: 14 days after a corrective or mitigating measure is available
                     incident: one month after the incident notification was submitted

Hours are elapsed time, so a deadline across a daylight-saving change still lies exactly 24 or
72 hours later (the wall clock shows one hour more or less). Days and months are calendar
periods in the manufacturer's time zone and end at the same local time of day; a month ends on
the same date of the following month, or on its last day when that date does not exist (as
Regulation 1182/71 Art. 3(2)(c) counts months). fleetcare never gives more time than the law:
it does not push a deadline to the end of the hour or day, nor past a weekend, as 1182/71
would allow, and where a local time is ambiguous or skipped by a clock change it takes the
earlier instant. Every time is stored and compared in UTC.

Also here: which CSIRT coordinates (Art. 14(7)), the statutory content of each report stage
with its completeness check, and how urgent a deadline is for the board and the alerts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

EARLY_WARNING_HOURS = 24
NOTIFICATION_HOURS = 72
FINAL_AFTER_MEASURE_DAYS = 14
FINAL_AFTER_NOTIFICATION_MONTHS = 1


class CaseKind(StrEnum):
    EXPLOITED_VULNERABILITY = "exploited_vulnerability"
    SEVERE_INCIDENT = "severe_incident"


class Stage(StrEnum):
    EARLY_WARNING = "early_warning"
    NOTIFICATION = "notification"
    INTERMEDIATE = "intermediate"
    FINAL = "final"


KIND_LABELS = {
    CaseKind.EXPLOITED_VULNERABILITY.value: "actively exploited vulnerability",
    CaseKind.SEVERE_INCIDENT.value: "severe incident",
}

STAGE_LABELS = {
    Stage.EARLY_WARNING.value: "early warning",
    Stage.NOTIFICATION.value: "notification",
    Stage.INTERMEDIATE.value: "intermediate report",
    Stage.FINAL.value: "final report",
}


# --- time arithmetic -------------------------------------------------------------------------


def _aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("deadlines are computed from timezone-aware times only")


def _local_to_utc(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time; the earlier one where a clock change makes
    the local time occur twice or not at all."""
    candidates = [naive.replace(tzinfo=zone, fold=fold).astimezone(dt.UTC) for fold in (0, 1)]
    return min(candidates)


def add_hours(moment: dt.datetime, hours: int) -> dt.datetime:
    _aware(moment)
    # In UTC first: Python adds a timedelta to a zoned time on the wall clock, which would
    # make "24 hours" across a clock change 23 or 25 real hours.
    return moment.astimezone(dt.UTC) + dt.timedelta(hours=hours)


def add_calendar_days(moment: dt.datetime, days: int, zone: ZoneInfo) -> dt.datetime:
    """`days` calendar days later at the same local time of day."""
    _aware(moment)
    local = moment.astimezone(zone).replace(tzinfo=None)
    return _local_to_utc(local + dt.timedelta(days=days), zone)


def add_calendar_months(moment: dt.datetime, months: int, zone: ZoneInfo) -> dt.datetime:
    """The same local date and time `months` later; the month's last day if the date is missing."""
    _aware(moment)
    local = moment.astimezone(zone).replace(tzinfo=None)
    index = local.year * 12 + (local.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return _local_to_utc(local.replace(year=year, month=month0 + 1, day=min(local.day, last)), zone)


# --- deadlines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    stage: Stage
    #: None while the deadline cannot be known yet (no corrective measure available).
    due: dt.datetime | None
    #: The law's rule: "aware_at + 24 h", "14 days after the corrective measure", ...
    rule: str
    #: A due time that will move (an incident's final report before the notification is in).
    provisional: bool = False
    #: Why `due` is not known yet.
    waiting_for: str = ""


def deadlines(
    kind: CaseKind,
    aware_at: dt.datetime,
    *,
    zone: ZoneInfo,
    measure_available_at: dt.datetime | None = None,
    notification_submitted_at: dt.datetime | None = None,
) -> dict[Stage, Deadline]:
    """The statutory deadlines of a case, in UTC."""
    _aware(aware_at)
    early = Deadline(
        Stage.EARLY_WARNING, add_hours(aware_at, EARLY_WARNING_HOURS), "awareness + 24 hours"
    )
    notification_due = add_hours(aware_at, NOTIFICATION_HOURS)
    notification = Deadline(Stage.NOTIFICATION, notification_due, "awareness + 72 hours")
    if kind is CaseKind.EXPLOITED_VULNERABILITY:
        if measure_available_at is None:
            final = Deadline(
                Stage.FINAL,
                None,
                "14 days after a corrective or mitigating measure is available",
                waiting_for="a corrective or mitigating measure to become available",
            )
        else:
            final = Deadline(
                Stage.FINAL,
                add_calendar_days(measure_available_at, FINAL_AFTER_MEASURE_DAYS, zone),
                "14 days after the corrective or mitigating measure became available",
            )
    elif notification_submitted_at is not None:
        final = Deadline(
            Stage.FINAL,
            add_calendar_months(notification_submitted_at, FINAL_AFTER_NOTIFICATION_MONTHS, zone),
            "one month after the incident notification was submitted",
        )
    else:
        # The latest it can be: a month after the notification's own deadline. It moves
        # earlier as soon as the notification is submitted.
        final = Deadline(
            Stage.FINAL,
            add_calendar_months(notification_due, FINAL_AFTER_NOTIFICATION_MONTHS, zone),
            "one month after the incident notification is submitted",
            provisional=True,
            waiting_for="the incident notification to be submitted",
        )
    return {Stage.EARLY_WARNING: early, Stage.NOTIFICATION: notification, Stage.FINAL: final}


class Urgency(StrEnum):
    OVERDUE = "overdue"
    CRITICAL = "critical"  # due within CRITICAL_HOURS
    SOON = "soon"  # due within SOON_HOURS
    UPCOMING = "upcoming"
    WAITING = "waiting"  # no due time yet
    DONE = "done"


CRITICAL_HOURS = 4
SOON_HOURS = 24
URGENCY_ORDER = {u: i for i, u in enumerate(Urgency)}


def urgency(due: dt.datetime | None, now: dt.datetime, *, done: bool = False) -> Urgency:
    if done:
        return Urgency.DONE
    if due is None:
        return Urgency.WAITING
    left = due - now
    if left <= dt.timedelta(0):
        return Urgency.OVERDUE
    if left <= dt.timedelta(hours=CRITICAL_HOURS):
        return Urgency.CRITICAL
    if left <= dt.timedelta(hours=SOON_HOURS):
        return Urgency.SOON
    return Urgency.UPCOMING


def alert_step(due: dt.datetime, now: dt.datetime, lead_hours: list[float]) -> str | None:
    """Which alert is owed now for a deadline: "lead-4h" once the 4-hour lead time is crossed,
    "overdue-0" at the deadline and "overdue-N" every further day, or None.

    Only the tightest crossed step is named, so a job that was down for a while sends one alert,
    not a burst; each step is sent once (the caller uses it in a dedupe key)."""
    if now >= due:
        return f"overdue-{int((now - due) // dt.timedelta(days=1))}"
    left = due - now
    crossed = [h for h in lead_hours if left <= dt.timedelta(hours=h)]
    if not crossed:
        return None
    tightest = min(crossed)
    return f"lead-{tightest:g}h"


def describe_left(due: dt.datetime, now: dt.datetime) -> str:
    """'in 3 h 20 min', '2 days 4 h ago': what a person wants to read on the board."""
    seconds = int((due - now).total_seconds())
    ago = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days} day{'s' if days != 1 else ''} {hours} h"
    elif hours:
        text = f"{hours} h {minutes} min"
    else:
        text = f"{minutes} min"
    return f"{text} ago" if ago else f"in {text}"


# --- the coordinating CSIRT (Art. 14(7)) -----------------------------------------------------

MEMBER_STATES: dict[str, str] = {
    "AT": "Austria",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "HR": "Croatia",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DK": "Denmark",
    "EE": "Estonia",
    "FI": "Finland",
    "FR": "France",
    "DE": "Germany",
    "GR": "Greece",
    "HU": "Hungary",
    "IE": "Ireland",
    "IT": "Italy",
    "LV": "Latvia",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "MT": "Malta",
    "NL": "Netherlands",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SK": "Slovakia",
    "SI": "Slovenia",
    "ES": "Spain",
    "SE": "Sweden",
}


def member_state(code: str) -> str | None:
    """The ISO code of an EU Member State, or None; the EU's own 'EL' for Greece is accepted."""
    code = code.strip().upper()
    code = "GR" if code == "EL" else code
    return code if code in MEMBER_STATES else None


@dataclass(frozen=True)
class CsirtChoice:
    member_state: str
    basis: str

    @property
    def label(self) -> str:
        return f"CSIRT designated as coordinator of {MEMBER_STATES[self.member_state]}"


def coordinating_csirt(
    *,
    main_establishment: str = "",
    authorised_representative: str = "",
    importer: str = "",
    distributor: str = "",
    most_users: str = "",
) -> CsirtChoice | None:
    """Art. 14(7): the first of these that lies in the Union decides; None if none does."""
    for code, basis in (
        (main_establishment, "main establishment of the manufacturer in the Union"),
        (authorised_representative, "establishment of the authorised representative"),
        (importer, "establishment of the importer with the most users"),
        (distributor, "establishment of the distributor with the most users"),
        (most_users, "Member State with the highest number of users"),
    ):
        state = member_state(code) if code else None
        if state:
            return CsirtChoice(state, basis)
    return None


# --- statutory content of each stage ---------------------------------------------------------

SENSITIVITY = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
SEVERITY = ("low", "medium", "high", "critical")
YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    #: Where the law asks for it.
    basis: str
    #: Required for submission; the law says "where available" for the others.
    required: bool = True
    #: text, member_states or choice.
    kind: str = "text"
    choices: tuple[str, ...] = ()


_SENSITIVITY = Field(
    "sensitivity",
    "How sensitive the manufacturer considers the notified information",
    "",
    kind="choice",
    choices=SENSITIVITY,
)
_MEMBER_STATES = Field(
    "member_states",
    "Member States where the manufacturer is aware the product has been made available",
    "",
    kind="member_states",
)
_INTERMEDIATE = (
    Field("csirt_request", "The coordinating CSIRT's request (date and reference)", "Art. 14(6)"),
    Field("status_update", "Relevant status updates", "Art. 14(6)"),
)


def _cite(field: Field, basis: str) -> Field:
    return Field(field.name, field.label, basis, field.required, field.kind, field.choices)


FIELDS: dict[tuple[CaseKind, Stage], tuple[Field, ...]] = {
    (CaseKind.EXPLOITED_VULNERABILITY, Stage.EARLY_WARNING): (
        _cite(_MEMBER_STATES, "Art. 14(2)(a)"),
    ),
    (CaseKind.EXPLOITED_VULNERABILITY, Stage.NOTIFICATION): (
        Field(
            "product_information",
            "General information about the product concerned",
            "Art. 14(2)(b)",
        ),
        Field("exploit_nature", "General nature of the exploit", "Art. 14(2)(b)"),
        Field("vulnerability_nature", "General nature of the vulnerability", "Art. 14(2)(b)"),
        Field(
            "corrective_measures_taken", "Corrective or mitigating measures taken", "Art. 14(2)(b)"
        ),
        Field(
            "user_measures",
            "Corrective or mitigating measures that users can take",
            "Art. 14(2)(b)",
        ),
        _cite(_SENSITIVITY, "Art. 14(2)(b)"),
    ),
    (CaseKind.EXPLOITED_VULNERABILITY, Stage.FINAL): (
        Field("vulnerability_description", "Description of the vulnerability", "Art. 14(2)(c)(i)"),
        Field("severity", "Severity", "Art. 14(2)(c)(i)", kind="choice", choices=SEVERITY),
        Field("impact", "Impact", "Art. 14(2)(c)(i)"),
        Field(
            "malicious_actor",
            "Information on the malicious actor that exploited or is exploiting the vulnerability",
            "Art. 14(2)(c)(ii)",
            required=False,
        ),
        Field(
            "security_update_details",
            "Details of the security update or other corrective "
            "measures made available to remedy the vulnerability",
            "Art. 14(2)(c)(iii)",
        ),
    ),
    (CaseKind.EXPLOITED_VULNERABILITY, Stage.INTERMEDIATE): _INTERMEDIATE,
    (CaseKind.SEVERE_INCIDENT, Stage.EARLY_WARNING): (
        Field(
            "suspected_malicious",
            "Is the incident suspected of being caused by unlawful or malicious acts?",
            "Art. 14(4)(a)",
            kind="choice",
            choices=YES_NO,
        ),
        _cite(_MEMBER_STATES, "Art. 14(4)(a)"),
    ),
    (CaseKind.SEVERE_INCIDENT, Stage.NOTIFICATION): (
        Field(
            "incident_nature",
            "General information about the nature of the incident",
            "Art. 14(4)(b)",
        ),
        Field("initial_assessment", "Initial assessment of the incident", "Art. 14(4)(b)"),
        Field(
            "corrective_measures_taken", "Corrective or mitigating measures taken", "Art. 14(4)(b)"
        ),
        Field(
            "user_measures",
            "Corrective or mitigating measures that users can take",
            "Art. 14(4)(b)",
        ),
        _cite(_SENSITIVITY, "Art. 14(4)(b)"),
    ),
    (CaseKind.SEVERE_INCIDENT, Stage.FINAL): (
        Field("incident_description", "Detailed description of the incident", "Art. 14(4)(c)(i)"),
        Field("severity", "Severity", "Art. 14(4)(c)(i)", kind="choice", choices=SEVERITY),
        Field("impact", "Impact", "Art. 14(4)(c)(i)"),
        Field(
            "threat_or_root_cause",
            "Type of threat or root cause that is likely to have triggered the incident",
            "Art. 14(4)(c)(ii)",
        ),
        Field(
            "mitigation_measures", "Applied and ongoing mitigation measures", "Art. 14(4)(c)(iii)"
        ),
    ),
    (CaseKind.SEVERE_INCIDENT, Stage.INTERMEDIATE): _INTERMEDIATE,
}

MAX_TEXT = 20000


def content_problems(
    kind: CaseKind, stage: Stage, content: dict[str, object], *, for_submission: bool = True
) -> list[str]:
    """Why this content cannot be submitted yet: unknown fields, wrong values, and (for
    submission) missing required ones. Empty when it is complete; a draft may have gaps."""
    fields = {f.name: f for f in FIELDS[(kind, stage)]}
    problems = [f"{name}: not part of this report" for name in content if name not in fields]
    for field in fields.values():
        value = content.get(field.name)
        if field.kind == "member_states":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                value = []
            unknown = [v for v in value if member_state(v) is None]
            if unknown:
                problems.append(f"{field.name}: not EU Member States: {', '.join(unknown)}")
            elif for_submission and field.required and not value:
                problems.append(f"{field.name}: name at least one Member State ({field.basis})")
            continue
        text = value.strip() if isinstance(value, str) else ""
        if value is not None and not isinstance(value, str):
            problems.append(f"{field.name}: must be text")
        elif len(text) > MAX_TEXT:
            problems.append(f"{field.name}: longer than {MAX_TEXT} characters")
        elif field.kind == "choice" and text and text not in field.choices:
            problems.append(f"{field.name}: choose one of {', '.join(field.choices)}")
        elif for_submission and field.required and not text:
            problems.append(f"{field.name}: required ({field.basis}): {field.label}")
    return problems


def severity_from_cvss(score: float | None) -> str:
    """The CVSS v3/v4 qualitative rating, to prefill a severity field."""
    if score is None:
        return ""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else ""
