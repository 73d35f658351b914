"""Article 14 deadline arithmetic, table-tested around day, month, year and DST boundaries.

Everything is stored and compared in UTC. Hours are elapsed time; days and months are calendar
periods in the manufacturer's zone (Europe/Berlin here), ending at the same local time of day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fleetcare.reporting import rules
from fleetcare.reporting.rules import CaseKind, Stage, Urgency

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("aware_at", "early_warning", "notification"),
    [
        # an ordinary day
        ("2026-11-10T09:15:00", "2026-11-11T09:15:00", "2026-11-13T09:15:00"),
        # across midnight UTC
        ("2026-11-10T23:59:59", "2026-11-11T23:59:59", "2026-11-13T23:59:59"),
        # across a month end, and February of a leap year
        ("2026-01-31T12:00:00", "2026-02-01T12:00:00", "2026-02-03T12:00:00"),
        ("2028-02-28T20:00:00", "2028-02-29T20:00:00", "2028-03-02T20:00:00"),
        ("2027-02-28T20:00:00", "2027-03-01T20:00:00", "2027-03-03T20:00:00"),
        # across the year end
        ("2026-12-31T23:30:00", "2027-01-01T23:30:00", "2027-01-03T23:30:00"),
        # across the spring DST change in the EU (2026-03-29 01:00 UTC): still 24 and 72 real hours
        ("2026-03-28T10:00:00", "2026-03-29T10:00:00", "2026-03-31T10:00:00"),
        ("2026-03-29T00:30:00", "2026-03-30T00:30:00", "2026-04-01T00:30:00"),
        # across the autumn change (2026-10-25 01:00 UTC)
        ("2026-10-24T22:00:00", "2026-10-25T22:00:00", "2026-10-27T22:00:00"),
    ],
)
def test_early_warning_and_notification_are_24_and_72_elapsed_hours(
    aware_at, early_warning, notification
):
    due = rules.deadlines(CaseKind.EXPLOITED_VULNERABILITY, utc(aware_at), zone=BERLIN)
    assert due[Stage.EARLY_WARNING].due == utc(early_warning)
    assert due[Stage.NOTIFICATION].due == utc(notification)
    assert due[Stage.NOTIFICATION].due - utc(aware_at) == dt.timedelta(hours=72)


def test_across_spring_dst_the_wall_clock_moves_one_hour_but_24_hours_pass():
    aware = dt.datetime(2026, 3, 28, 11, 0, tzinfo=BERLIN)  # CET, UTC+1
    due = rules.deadlines(CaseKind.SEVERE_INCIDENT, aware, zone=BERLIN)[Stage.EARLY_WARNING].due
    assert due is not None
    assert due.tzinfo == UTC
    assert due.astimezone(BERLIN).hour == 12  # CEST, UTC+2: the clock shows one hour more
    assert due - aware == dt.timedelta(hours=24)


def test_aware_at_in_another_zone_gives_the_same_instant():
    in_tokyo = dt.datetime(2026, 5, 5, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    in_utc = in_tokyo.astimezone(UTC)
    a = rules.deadlines(CaseKind.SEVERE_INCIDENT, in_tokyo, zone=BERLIN)
    b = rules.deadlines(CaseKind.SEVERE_INCIDENT, in_utc, zone=BERLIN)
    assert a == b


@pytest.mark.parametrize(
    ("measure_available", "final_due"),
    [
        ("2026-06-01T08:00:00", "2026-06-15T08:00:00"),  # summer, no clock change
        ("2026-12-25T09:00:00", "2027-01-08T09:00:00"),  # across the year end
        ("2028-02-20T10:00:00", "2028-03-05T10:00:00"),  # leap February
        # 14 calendar days across the spring change: same Berlin time (10:00 CET, then
        # 10:00 CEST), so 13 days 23 hours of elapsed time, one hour earlier in UTC
        ("2026-03-20T09:00:00", "2026-04-03T08:00:00"),
        # across the autumn change: 14 days and one hour of elapsed time
        ("2026-10-20T08:00:00", "2026-11-03T09:00:00"),
    ],
)
def test_vulnerability_final_report_is_14_calendar_days_after_the_measure(
    measure_available, final_due
):
    due = rules.deadlines(
        CaseKind.EXPLOITED_VULNERABILITY,
        utc("2026-01-01T00:00:00"),
        zone=BERLIN,
        measure_available_at=utc(measure_available),
    )[Stage.FINAL]
    assert due.due == utc(final_due)
    assert not due.provisional


def test_vulnerability_final_report_waits_for_a_measure():
    due = rules.deadlines(CaseKind.EXPLOITED_VULNERABILITY, utc("2026-05-01T10:00:00"), zone=BERLIN)
    assert due[Stage.FINAL].due is None
    assert "corrective or mitigating measure" in due[Stage.FINAL].waiting_for


@pytest.mark.parametrize(
    ("submitted", "final_due"),
    [
        ("2026-05-12T10:00:00", "2026-06-12T10:00:00"),
        # 31 January: February has no 31st, so the last day of February (Reg. 1182/71)
        ("2026-01-31T10:00:00", "2026-02-28T10:00:00"),
        ("2028-01-31T10:00:00", "2028-02-29T10:00:00"),  # leap year
        ("2026-03-31T07:00:00", "2026-04-30T07:00:00"),
        # submitted 23:30 UTC on 28 February is 1 March 00:30 in Berlin: a month later is
        # 1 April 00:30 Berlin (CEST) = 31 March 22:30 UTC, not 28 March
        ("2026-02-28T23:30:00", "2026-03-31T22:30:00"),
        # across the autumn change: same Berlin time, one hour later in UTC
        ("2026-10-10T10:00:00", "2026-11-10T11:00:00"),
        ("2026-12-15T16:00:00", "2027-01-15T16:00:00"),  # across the year end
    ],
)
def test_incident_final_report_is_one_month_after_the_notification(submitted, final_due):
    due = rules.deadlines(
        CaseKind.SEVERE_INCIDENT,
        utc("2026-01-01T00:00:00"),
        zone=BERLIN,
        notification_submitted_at=utc(submitted),
    )[Stage.FINAL]
    assert due.due == utc(final_due)
    assert not due.provisional


def test_incident_final_deadline_moves_when_the_notification_is_submitted():
    aware = utc("2026-09-01T08:00:00")
    before = rules.deadlines(CaseKind.SEVERE_INCIDENT, aware, zone=BERLIN)[Stage.FINAL]
    # Not yet submitted: the latest it can be, a month after the notification's deadline.
    assert before.provisional
    assert before.due == utc("2026-10-04T08:00:00")
    submitted = aware + dt.timedelta(hours=30)
    after = rules.deadlines(
        CaseKind.SEVERE_INCIDENT, aware, zone=BERLIN, notification_submitted_at=submitted
    )[Stage.FINAL]
    assert not after.provisional
    assert after.due == utc("2026-10-02T14:00:00")
    assert after.due < before.due


def test_a_skipped_local_time_is_never_later_than_the_law_allows():
    # 2026-03-29 02:30 does not exist in Berlin. A month before it, 2026-02-28... use days:
    # 14 days after 2026-03-15 02:30 CET lands on the skipped 02:30; the earlier instant wins.
    start = dt.datetime(2026, 3, 15, 2, 30, tzinfo=BERLIN)
    due = rules.add_calendar_days(start, 14, BERLIN)
    assert due == utc("2026-03-29T00:30:00")  # 01:30 CET, before the gap
    assert due.astimezone(BERLIN).date() == dt.date(2026, 3, 29)


def test_an_ambiguous_local_time_takes_its_first_occurrence():
    # 2026-10-25 02:30 happens twice in Berlin (CEST, then CET); the earlier one counts.
    start = dt.datetime(2026, 10, 11, 2, 30, tzinfo=BERLIN)
    due = rules.add_calendar_days(start, 14, BERLIN)
    assert due == utc("2026-10-25T00:30:00")


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        rules.deadlines(CaseKind.SEVERE_INCIDENT, dt.datetime(2026, 1, 1, 12), zone=BERLIN)


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (dt.timedelta(hours=-30), Urgency.OVERDUE),
        (dt.timedelta(seconds=0), Urgency.OVERDUE),
        (dt.timedelta(hours=3, minutes=59), Urgency.CRITICAL),
        (dt.timedelta(hours=4), Urgency.CRITICAL),
        (dt.timedelta(hours=4, seconds=1), Urgency.SOON),
        (dt.timedelta(hours=24), Urgency.SOON),
        (dt.timedelta(hours=25), Urgency.UPCOMING),
    ],
)
def test_urgency(left, expected):
    now = utc("2026-06-01T12:00:00")
    assert rules.urgency(now + left, now) is expected


def test_urgency_of_done_and_unknown_deadlines():
    now = utc("2026-06-01T12:00:00")
    assert rules.urgency(now - dt.timedelta(days=3), now, done=True) is Urgency.DONE
    assert rules.urgency(None, now) is Urgency.WAITING


@pytest.mark.parametrize(
    ("left", "step"),
    [
        (dt.timedelta(hours=13), None),
        (dt.timedelta(hours=12), "lead-12h"),
        (dt.timedelta(hours=5), "lead-12h"),
        (dt.timedelta(hours=3), "lead-4h"),  # a job that was down sends the tightest only
        (dt.timedelta(minutes=30), "lead-1h"),
        (dt.timedelta(0), "overdue-0"),
        (dt.timedelta(hours=-23), "overdue-0"),
        (dt.timedelta(hours=-24), "overdue-1"),
        (dt.timedelta(hours=-50), "overdue-2"),
    ],
)
def test_alert_steps(left, step):
    now = utc("2026-06-01T12:00:00")
    assert rules.alert_step(now + left, now, [12, 4, 1]) == step


@pytest.mark.parametrize(
    ("settings", "state", "basis"),
    [
        ({"main_establishment": "FR"}, "FR", "main establishment"),
        ({"main_establishment": "US", "authorised_representative": "IE"}, "IE", "authorised"),
        ({"main_establishment": "CN", "importer": "NL", "distributor": "DE"}, "NL", "importer"),
        ({"main_establishment": "TW", "distributor": "PL"}, "PL", "distributor"),
        ({"most_users": "IT"}, "IT", "highest number of users"),
        ({"main_establishment": "EL"}, "GR", "main establishment"),  # the EU's code for Greece
        ({"main_establishment": "CH", "importer": "NO"}, None, None),  # neither is in the EU
    ],
)
def test_coordinating_csirt_follows_article_14_7(settings, state, basis):
    choice = rules.coordinating_csirt(**settings)
    if state is None:
        assert choice is None
    else:
        assert choice is not None
        assert choice.member_state == state
        assert basis in choice.basis


def test_member_state_names_are_the_27():
    assert len(rules.MEMBER_STATES) == 27
    assert rules.coordinating_csirt(main_establishment="de").label == (
        "CSIRT designated as coordinator of Germany"
    )


def test_statutory_content_of_each_stage():
    names = {
        (kind, stage): [f.name for f in fields] for (kind, stage), fields in rules.FIELDS.items()
    }
    vuln, incident = CaseKind.EXPLOITED_VULNERABILITY, CaseKind.SEVERE_INCIDENT
    assert names[(vuln, Stage.EARLY_WARNING)] == ["member_states"]
    assert names[(incident, Stage.EARLY_WARNING)] == ["suspected_malicious", "member_states"]
    assert names[(vuln, Stage.NOTIFICATION)] == [
        "product_information", "exploit_nature", "vulnerability_nature",
        "corrective_measures_taken", "user_measures", "sensitivity",
    ]
    assert names[(incident, Stage.NOTIFICATION)] == [
        "incident_nature", "initial_assessment", "corrective_measures_taken", "user_measures",
        "sensitivity",
    ]
    assert names[(vuln, Stage.FINAL)] == [
        "vulnerability_description", "severity", "impact", "malicious_actor",
        "security_update_details",
    ]
    assert names[(incident, Stage.FINAL)] == [
        "incident_description", "severity", "impact", "threat_or_root_cause",
        "mitigation_measures",
    ]
    optional = [f.name for f in rules.FIELDS[(vuln, Stage.FINAL)] if not f.required]
    assert optional == ["malicious_actor"]  # "where available"


def test_completeness_check():
    kind, stage = CaseKind.SEVERE_INCIDENT, Stage.EARLY_WARNING
    assert rules.content_problems(kind, stage, {}) == [
        "suspected_malicious: required (Art. 14(4)(a)): Is the incident suspected of being "
        "caused by unlawful or malicious acts?",
        "member_states: name at least one Member State (Art. 14(4)(a))",
    ]
    assert rules.content_problems(kind, stage, {}, for_submission=False) == []
    assert rules.content_problems(
        kind, stage, {"suspected_malicious": "maybe", "member_states": ["DE", "XX"]}
    ) == ["suspected_malicious: choose one of yes, no",
          "member_states: not EU Member States: XX"]
    assert rules.content_problems(kind, stage, {"suspected_malicious": "no",
                                                "member_states": ["DE"], "extra": "x"}) == [
        "extra: not part of this report"
    ]
    assert rules.content_problems(kind, stage, {"suspected_malicious": "yes",
                                                "member_states": ["AT", "el"]}) == []


@pytest.mark.parametrize(("score", "rating"), [(None, ""), (0.0, ""), (3.9, "low"),
                                               (4.0, "medium"), (7.0, "high"), (9.0, "critical")])
def test_severity_from_cvss(score, rating):
    assert rules.severity_from_cvss(score) == rating


def test_describe_left():
    now = utc("2026-06-01T12:00:00")
    assert rules.describe_left(now + dt.timedelta(hours=3, minutes=20), now) == "in 3 h 20 min"
    assert rules.describe_left(now - dt.timedelta(days=2, hours=4), now) == "2 days 4 h ago"
    assert rules.describe_left(now + dt.timedelta(minutes=5), now) == "in 5 min"


# --- properties over any moment of any year ----------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2040, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from([BERLIN, ZoneInfo("Europe/Lisbon"), ZoneInfo("Europe/Helsinki"),
                         ZoneInfo("America/New_York"), ZoneInfo("UTC")])


@given(moments, zones)
def test_hour_deadlines_are_exact_elapsed_hours(aware, zone):
    due = rules.deadlines(CaseKind.SEVERE_INCIDENT, aware, zone=zone)
    assert due[Stage.EARLY_WARNING].due - aware == dt.timedelta(hours=24)
    assert due[Stage.NOTIFICATION].due - aware == dt.timedelta(hours=72)


def _same_time_or_an_hour_earlier(start: dt.datetime, end: dt.datetime) -> bool:
    """The local time of day is kept, except where a clock change skips or repeats it: then
    the earlier instant is taken, which reads one hour earlier on the wall clock."""
    day = dt.date(2000, 1, 1)
    gap = dt.datetime.combine(day, start.time()) - dt.datetime.combine(day, end.time())
    return gap in (dt.timedelta(0), dt.timedelta(hours=1))


@given(moments, zones)
def test_fourteen_days_is_fourteen_local_dates_on(available, zone):
    due = rules.add_calendar_days(available, 14, zone)
    start, end = available.astimezone(zone), due.astimezone(zone)
    assert (end.date() - start.date()).days == 14
    assert _same_time_or_an_hour_earlier(start, end)
    assert abs((due - available) - dt.timedelta(days=14)) <= dt.timedelta(hours=1)


@given(moments, zones)
def test_one_month_lands_on_the_same_or_the_last_day_of_the_next_month(submitted, zone):
    import calendar

    due = rules.add_calendar_months(submitted, 1, zone)
    start, end = submitted.astimezone(zone), due.astimezone(zone)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1
    assert end.day == min(start.day, calendar.monthrange(end.year, end.month)[1])
    assert _same_time_or_an_hour_earlier(start, end)
