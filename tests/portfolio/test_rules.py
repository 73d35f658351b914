"""The CRA date rules, table-driven, with hypothesis for the arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetcare.portfolio import rules
from fleetcare.portfolio.rules import SupportStatus

D = dt.date
FULL = dict.fromkeys(rules.JUSTIFICATION_FACTORS, "reason")


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap February clamps
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),  # leap day in a common year
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2024, 12, 15), 1, D(2025, 1, 15)),  # year boundary
        (D(2025, 1, 15), -1, D(2024, 12, 15)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 5, 10), 0, D(2025, 5, 10)),
    ],
)
def test_add_months(day, months, expected):
    assert rules.add_months(day, months) == expected


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2200, 1, 1)), st.integers(-600, 600))
def test_add_months_properties(day, months):
    moved = rules.add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
    if moved.day < day.day:  # clamped only at a month's end
        assert (moved + dt.timedelta(days=1)).day == 1


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2150, 1, 1)))
def test_five_years_is_always_enough(placed):
    end = rules.add_years(placed, 5)
    assert rules.support_period_problems(
        placed_on_market=placed, support_end=end, end_of_sale=None, expected_use_months=None,
        justification={},
    ) == []
    short = end - dt.timedelta(days=1)
    assert rules.support_period_problems(
        placed_on_market=placed, support_end=short, end_of_sale=None, expected_use_months=None,
        justification=FULL,
    )


@pytest.mark.parametrize(
    ("placed", "end", "sale", "use", "justification", "fragment"),
    [
        (D(2026, 1, 1), D(2031, 1, 1), None, None, {}, None),
        (D(2026, 1, 1), D(2030, 12, 31), None, None, FULL, "less than 5 years"),
        (D(2026, 1, 1), D(2029, 1, 1), None, 36, FULL, None),
        (D(2026, 1, 1), D(2029, 1, 1), None, 36, {}, "missing: user_expectations"),
        (D(2026, 1, 1), D(2028, 12, 31), None, 36, FULL, "before the end of the expected use"),
        (D(2026, 1, 1), D(2029, 1, 1), None, 72, FULL, "less than 5 years"),
        (D(2026, 1, 1), D(2025, 1, 1), None, None, {}, "not after placing"),
        (D(2026, 1, 1), D(2031, 1, 1), D(2025, 6, 1), None, {}, "before placing on the market"),
        (D(2026, 1, 1), D(2031, 1, 1), D(2032, 1, 1), None, {}, "after support end"),
        (D(2024, 2, 29), D(2029, 2, 28), None, None, {}, None),
    ],
)
def test_support_period_rule(placed, end, sale, use, justification, fragment):
    problems = rules.support_period_problems(
        placed_on_market=placed, support_end=end, end_of_sale=sale, expected_use_months=use,
        justification=justification,
    )
    if fragment is None:
        assert problems == []
    else:
        assert any(fragment in p for p in problems), problems


def test_short_period_message_cites_the_article():
    [message] = rules.support_period_problems(
        placed_on_market=D(2026, 1, 1), support_end=D(2028, 1, 1), end_of_sale=None,
        expected_use_months=None, justification={},
    )
    assert "Art. 13(8)" in message
    assert "2031-01-01" in message


@pytest.mark.parametrize(
    ("end", "today", "status"),
    [
        (D(2030, 6, 30), D(2026, 11, 29), SupportStatus.SUPPORTED),
        (D(2027, 11, 29), D(2026, 11, 28), SupportStatus.SUPPORTED),
        (D(2027, 11, 29), D(2026, 11, 29), SupportStatus.ENDING_SOON),  # exactly 12 months
        (D(2027, 6, 30), D(2026, 11, 29), SupportStatus.ENDING_SOON),
        (D(2026, 11, 29), D(2026, 11, 29), SupportStatus.ENDING_SOON),  # last day still supported
        (D(2026, 11, 28), D(2026, 11, 29), SupportStatus.ENDED),
    ],
)
def test_support_status(end, today, status):
    assert rules.support_status(end, today) is status


@pytest.mark.parametrize(
    ("placed", "end", "expected"),
    [
        (D(2026, 1, 1), D(2031, 1, 1), D(2036, 1, 1)),  # ten years wins
        (D(2026, 1, 1), D(2040, 6, 30), D(2040, 6, 30)),  # support period wins
        (D(2024, 2, 29), D(2029, 3, 1), D(2034, 2, 28)),
    ],
)
def test_documentation_retention(placed, end, expected):
    assert rules.documentation_retained_until(placed, end) == expected


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)),
       st.dates(min_value=D(2000, 1, 1), max_value=D(2120, 1, 1)))
def test_security_update_availability_is_the_longer_of_both(issued, support_end):
    until = rules.security_update_available_until(issued, support_end)
    assert until >= support_end
    assert until >= rules.add_years(issued, 10)
    assert until in (support_end, rules.add_years(issued, 10))


def test_month_year():
    assert rules.month_year(D(2031, 3, 31)) == "March 2031"
