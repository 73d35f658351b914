"""Milestone scheduling and the other end-of-life rules, without a database."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcare.lifecycle import rules
from fleetcare.portfolio.rules import add_months

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("support_end", "months", "expected"),
    [
        # Month ends: the day is clamped to the shorter month.
        (dt.date(2030, 8, 31), 6, dt.date(2030, 2, 28)),
        (dt.date(2030, 5, 31), 1, dt.date(2030, 4, 30)),
        (dt.date(2030, 3, 31), 1, dt.date(2030, 2, 28)),
        (dt.date(2030, 12, 31), 3, dt.date(2030, 9, 30)),
        # Leap years: 29 February exists only in them.
        (dt.date(2032, 8, 31), 6, dt.date(2032, 2, 29)),
        (dt.date(2032, 3, 31), 1, dt.date(2032, 2, 29)),
        (dt.date(2028, 2, 29), 12, dt.date(2027, 2, 28)),
        (dt.date(2028, 2, 29), 24, dt.date(2026, 2, 28)),
        (dt.date(2029, 2, 28), 12, dt.date(2028, 2, 28)),
        # Across the turn of the year.
        (dt.date(2031, 1, 15), 24, dt.date(2029, 1, 15)),
        (dt.date(2031, 1, 15), 3, dt.date(2030, 10, 15)),
        (dt.date(2031, 1, 15), 0, dt.date(2031, 1, 15)),
    ],
)
def test_milestone_days_across_month_ends_and_leap_days(support_end, months, expected):
    [milestone] = rules.schedule(support_end, [months], 9, "UTC")
    assert milestone.on == expected
    assert milestone.due_at == dt.datetime.combine(expected, dt.time(9), tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "hour", "expected_utc"),
    [
        # Berlin: CET (+1) in winter, CEST (+2) in summer.
        ("Europe/Berlin", dt.date(2030, 1, 31), 9, utc(2030, 1, 31, 8)),
        ("Europe/Berlin", dt.date(2030, 7, 31), 9, utc(2030, 7, 31, 7)),
        # The spring-forward day itself (31 March 2030): 09:00 is already summer time.
        ("Europe/Berlin", dt.date(2030, 3, 31), 9, utc(2030, 3, 31, 7)),
        # 02:00 does not exist that day in Berlin; it resolves to the hour after the gap.
        ("Europe/Berlin", dt.date(2030, 3, 31), 2, utc(2030, 3, 31, 1)),
        # Auckland is ahead of UTC: 09:00 local on 1 March is still 28 February in UTC.
        ("Pacific/Auckland", dt.date(2030, 3, 1), 9, utc(2030, 2, 28, 20)),
        # Los Angeles is behind: 23:00 local on 29 February 2032 is 1 March in UTC.
        ("America/Los_Angeles", dt.date(2032, 2, 29), 23, utc(2032, 3, 1, 7)),
        ("UTC", dt.date(2030, 6, 30), 0, utc(2030, 6, 30, 0)),
    ],
)
def test_due_times_in_the_manufacturers_zone(zone, day, hour, expected_utc):
    assert rules.due_at(day, hour, zone) == expected_utc


def test_default_schedule_is_24_12_6_3_1_months_in_order():
    schedule = rules.schedule(dt.date(2031, 3, 31), list(rules.DEFAULT_MILESTONES), 9, "UTC")
    assert [m.months_before for m in schedule] == [24, 12, 6, 3, 1]
    assert [m.on for m in schedule] == [
        dt.date(2029, 3, 31),
        dt.date(2030, 3, 31),
        dt.date(2030, 9, 30),
        dt.date(2030, 12, 31),
        dt.date(2031, 2, 28),
    ]


@given(
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.lists(st.integers(0, rules.MAX_MILESTONE_MONTHS), min_size=1, max_size=8),
    st.integers(0, 23),
    st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"]),
)
def test_schedule_properties(support_end, months, hour, zone):
    schedule = rules.schedule(support_end, months, hour, zone)
    assert [m.months_before for m in schedule] == sorted(set(months), reverse=True)
    days = [m.on for m in schedule]
    assert days == sorted(days)
    assert len(set(days)) == len(days)
    for m in schedule:
        assert m.on <= support_end
        assert add_months(m.on, m.months_before) == support_end or support_end.day > m.on.day
        assert m.due_at.tzinfo is not None
        assert abs(m.due_at - dt.datetime.combine(m.on, dt.time(hour), tzinfo=UTC)) <= dt.timedelta(
            hours=14
        )


@pytest.mark.parametrize("bad", [[-1], [121], [24, 500]])
def test_milestones_out_of_range_are_refused(bad):
    with pytest.raises(ValueError, match="out of range"):
        rules.check_milestones(bad)


SUPPORT_END = dt.date(2031, 3, 31)
SCHEDULE = rules.schedule(SUPPORT_END, [24, 12, 6, 3, 1], 9, "UTC")


def test_nothing_is_due_before_the_first_milestone():
    decision = rules.decide(SCHEDULE, set(), utc(2029, 3, 31, 8, 59), SUPPORT_END, "UTC")
    assert decision.send is None
    assert decision.superseded == []


def test_a_milestone_on_time_is_not_late():
    decision = rules.decide(SCHEDULE, set(), utc(2029, 3, 31, 9, 10), SUPPORT_END, "UTC")
    assert decision.send is not None
    assert decision.send.months_before == 24
    assert decision.late is False


def test_a_missed_milestone_is_sent_late():
    decision = rules.decide(SCHEDULE, {24}, utc(2030, 4, 2, 12), SUPPORT_END, "UTC")
    assert decision.send is not None
    assert decision.send.months_before == 12
    assert decision.late is True


def test_after_long_downtime_only_the_newest_goes_out_and_older_ones_are_superseded():
    decision = rules.decide(SCHEDULE, {24}, utc(2031, 1, 5), SUPPORT_END, "UTC")
    assert decision.send is not None
    assert decision.send.months_before == 3
    assert [m.months_before for m in decision.superseded] == [12, 6]
    assert decision.late


def test_announced_milestones_are_not_due_again():
    decision = rules.decide(SCHEDULE, {24, 12}, utc(2030, 5, 1), SUPPORT_END, "UTC")
    assert decision.send is None
    assert decision.superseded == []


def test_a_milestone_added_after_a_later_one_was_sent_is_superseded_not_sent():
    schedule = rules.schedule(SUPPORT_END, [24, 18, 12], 9, "UTC")
    decision = rules.decide(schedule, {24, 12}, utc(2030, 5, 1), SUPPORT_END, "UTC")
    assert decision.send is None
    assert [m.months_before for m in decision.superseded] == [18]


def test_nothing_is_sent_once_support_has_ended():
    decision = rules.decide(SCHEDULE, set(), utc(2031, 4, 1, 12), SUPPORT_END, "UTC")
    assert decision.send is None


def test_support_end_is_judged_in_the_manufacturers_zone():
    # 23:30 UTC on 31 March is already 1 April in Berlin: support has ended there.
    late_evening = utc(2031, 3, 31, 23, 30)
    assert rules.decide(SCHEDULE, set(), late_evening, SUPPORT_END, "UTC").send is not None
    assert rules.decide(SCHEDULE, set(), late_evening, SUPPORT_END, "Europe/Berlin").send is None


def test_feature_rollouts_stop_at_support_end_security_ones_do_not():
    end = dt.date(2030, 6, 30)
    assert rules.rollout_refusal(end, "feature", dt.date(2030, 6, 30)) is None
    assert "feature rollouts stop" in (
        rules.rollout_refusal(end, "feature", dt.date(2030, 7, 1)) or ""
    )
    assert rules.rollout_refusal(end, "security", dt.date(2035, 1, 1)) is None
    assert rules.rollout_refusal(end, "mixed", dt.date(2035, 1, 1)) is None


def test_device_notice_kinds():
    end = dt.date(2030, 6, 30)
    assert rules.device_notice_kind(end, dt.date(2029, 6, 1)) is None
    assert rules.device_notice_kind(end, dt.date(2029, 7, 1)) == "support_ending"
    assert rules.device_notice_kind(end, dt.date(2030, 7, 1)) == "end_of_support"


@pytest.mark.parametrize(
    ("version", "cycle", "matches"),
    [
        ("3.0.13", "3.0", True),
        ("1.1.1w", "1.1.1", True),
        ("3.01", "3.0", False),
        ("5.15.0-91", "5.15", True),
        ("v2.4", "2.4", True),
        ("2.40", "2.4", False),
        ("", "1", False),
    ],
)
def test_component_versions_belong_to_cycles(version, cycle, matches):
    assert rules.cycle_matches(version, cycle) is matches


def test_the_most_specific_cycle_wins():
    assert rules.best_cycle("5.15.3", ["5", "5.15", "6.1"]) == "5.15"
    assert rules.best_cycle("7.0", ["5", "6"]) is None
