"""The CVD policy's clocks and the report workflow, without a database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fleetcare.disclosure import rules
from fleetcare.disclosure.rules import CvdPolicy, ReportStatus

BERLIN = ZoneInfo("Europe/Berlin")
S = ReportStatus


def berlin(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Monday morning: the day of receipt does not count, Tue..Mon are the five days
        ("2026-11-09T09:00", "2026-11-16T23:59:59"),
        # Friday evening: Mon..Fri of the next week
        ("2026-11-13T22:30", "2026-11-20T23:59:59"),
        # Saturday and Sunday count as nothing
        ("2026-11-14T10:00", "2026-11-20T23:59:59"),
        ("2026-11-15T23:00", "2026-11-20T23:59:59"),
        # across the month end
        ("2026-11-27T12:00", "2026-12-04T23:59:59"),
        # across the spring clock change: the end of the day is 23:59:59 local in CEST
        ("2026-03-25T12:00", "2026-04-01T23:59:59"),
    ],
)
def test_acknowledgement_is_due_at_the_end_of_the_fifth_working_day(received, due):
    result = rules.add_working_days(berlin(received), 5, BERLIN)
    assert result.tzinfo == dt.UTC
    assert result == berlin(due).astimezone(dt.UTC)


def test_holidays_do_not_count():
    christmas = [dt.date(2026, 12, 24), dt.date(2026, 12, 25), dt.date(2026, 12, 31),
                 dt.date(2027, 1, 1)]
    due = rules.add_working_days(berlin("2026-12-23T10:00"), 5, BERLIN, christmas)
    # 28, 29, 30 Dec, then 4 and 5 Jan
    assert due == berlin("2027-01-05T23:59:59").astimezone(dt.UTC)


def test_receipt_in_utc_is_counted_on_the_local_date():
    # 23:30 UTC on Friday is already Saturday in Berlin: the clock starts from Saturday.
    friday_night = dt.datetime(2026, 11, 13, 23, 30, tzinfo=dt.UTC)
    assert rules.add_working_days(friday_night, 1, BERLIN) == berlin(
        "2026-11-16T23:59:59"
    ).astimezone(dt.UTC)


def clocks(**changes):
    values = {
        "received_at": berlin("2026-11-09T09:00"),
        "acknowledged_at": None,
        "last_update_at": None,
        "status": S.RECEIVED,
        "policy": CvdPolicy(),
        "zone": BERLIN,
        "now": berlin("2026-11-10T09:00"),
    }
    values.update(changes)
    return rules.report_clocks(**values)


def test_clocks_of_a_new_report():
    c = clocks()
    assert c.acknowledgement_due == berlin("2026-11-16T23:59:59").astimezone(dt.UTC)
    assert not c.acknowledgement_overdue
    assert c.next_update_due is None  # updates are owed once acknowledged
    assert c.disclosure_target == dt.date(2027, 2, 7)  # 90 days


def test_acknowledgement_overdue_and_late():
    assert clocks(now=berlin("2026-11-17T00:00")).acknowledgement_overdue
    late = clocks(acknowledged_at=berlin("2026-11-18T10:00"), now=berlin("2026-11-18T11:00"))
    assert not late.acknowledgement_overdue
    assert late.acknowledged_late


def test_status_updates_are_owed_every_30_days_until_closed():
    acked = berlin("2026-11-10T10:00")
    c = clocks(acknowledged_at=acked, status=S.TRIAGING, now=berlin("2026-12-11T10:00"))
    assert c.next_update_due == acked + dt.timedelta(days=30)
    assert c.update_overdue
    later = clocks(acknowledged_at=acked, last_update_at=berlin("2026-12-01T10:00"),
                   status=S.TRIAGING, now=berlin("2026-12-11T10:00"))
    assert not later.update_overdue
    closed = clocks(acknowledged_at=acked, status=S.REJECTED, now=berlin("2027-06-01T10:00"))
    assert closed.next_update_due is None
    assert not closed.update_overdue


def test_policy_numbers_come_from_settings():
    c = clocks(policy=CvdPolicy(ack_working_days=2, update_days=7, disclosure_days=45))
    assert c.acknowledgement_due == berlin("2026-11-11T23:59:59").astimezone(dt.UTC)
    assert c.disclosure_target == dt.date(2026, 12, 24)


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (S.RECEIVED, S.ACKNOWLEDGED, True),
        (S.RECEIVED, S.TRIAGING, True),
        (S.RECEIVED, S.FIXED, False),
        (S.ACKNOWLEDGED, S.TRIAGING, True),
        (S.TRIAGING, S.ACCEPTED, True),
        (S.TRIAGING, S.REJECTED, True),
        (S.TRIAGING, S.DUPLICATE, True),
        (S.ACCEPTED, S.FIX_IN_PROGRESS, True),
        (S.FIX_IN_PROGRESS, S.FIXED, True),
        (S.FIX_IN_PROGRESS, S.DISCLOSED, False),
        (S.FIXED, S.DISCLOSED, True),
        (S.REJECTED, S.TRIAGING, True),
        (S.DISCLOSED, S.TRIAGING, False),
    ],
)
def test_workflow(current, new, allowed):
    assert rules.can_move(current, new) is allowed


def test_transition_problems_explain_themselves():
    today = dt.date(2026, 11, 20)
    assert rules.transition_problem(S.FIXED, S.DISCLOSED, today=today, embargo_until=None,
                                    duplicate_of=None) is None
    embargoed = rules.transition_problem(S.FIXED, S.DISCLOSED, today=today,
                                         embargo_until=dt.date(2026, 12, 1), duplicate_of=None)
    assert "under embargo until 2026-12-01" in embargoed
    assert rules.transition_problem(S.FIXED, S.DISCLOSED, today=dt.date(2026, 12, 1),
                                    embargo_until=dt.date(2026, 12, 1), duplicate_of=None) is None
    assert "name the report this one duplicates" in rules.transition_problem(
        S.TRIAGING, S.DUPLICATE, today=today, embargo_until=None, duplicate_of=None)
    wrong = rules.transition_problem(S.RECEIVED, S.FIXED, today=today, embargo_until=None,
                                     duplicate_of=None)
    assert wrong == ("a received report cannot become fixed; it can become: acknowledged, "
                     "duplicate, rejected, triaging")


def test_tracking_ids_and_status_tokens():
    ids = {rules.new_tracking_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(rules.TRACKING_ID.match(i) for i in ids)
    assert not any(c in "".join(ids) for c in "ILOU")
    token = rules.new_status_token()
    assert rules.looks_like_status_token(token)
    assert len(token) == 43  # 256 bits
    assert not rules.looks_like_status_token(token[:-1])
    assert not rules.looks_like_status_token("' OR 1=1 --" + "x" * 32)
