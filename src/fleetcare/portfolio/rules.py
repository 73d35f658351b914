"""The CRA's date rules for products and releases, as plain functions over dates.

- Art. 13(8): the support period is at least five years from placing on the market, unless the
  product's expected use time is shorter; then it equals (at least) that time, and the reasons
  are recorded against each factor the article lists.
- Art. 13(13) and 13(18): technical documentation is kept for ten years after placing on the
  market or for the support period, whichever is longer.
- Art. 13(9): each security update stays available for ten years after it was issued or for the
  rest of the support period, whichever is longer.

Nothing here touches the database; `service.py` applies these rules and raises on a violation.
"""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum

MIN_SUPPORT_YEARS = 5
RETENTION_YEARS = 10
ENDING_SOON_MONTHS = 12

#: The factors of Art. 13(8) against which a support period is justified.
JUSTIFICATION_FACTORS: dict[str, str] = {
    "user_expectations": "reasonable user expectations",
    "nature_and_purpose": "the nature of the product and its intended purpose",
    "union_law_lifetime": "Union law determining the lifetime of such products",
    "peer_support_periods": "support periods of comparable products",
    "operating_environment": "availability of the operating environment",
    "third_party_components": "support periods of integrated third-party core components",
}


class SupportStatus(StrEnum):
    SUPPORTED = "supported"
    ENDING_SOON = "ending_soon"
    ENDED = "ended"


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months, clamped to the last day of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole years; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)


def minimum_support_end(placed_on_market: dt.date, expected_use_months: int | None) -> dt.date:
    """The earliest lawful support end for these facts."""
    five_years = add_years(placed_on_market, MIN_SUPPORT_YEARS)
    if expected_use_months is not None and expected_use_months < MIN_SUPPORT_YEARS * 12:
        return add_months(placed_on_market, expected_use_months)
    return five_years


def support_period_problems(
    *,
    placed_on_market: dt.date | None,
    support_end: dt.date | None,
    end_of_sale: dt.date | None,
    expected_use_months: int | None,
    justification: dict[str, str],
) -> list[str]:
    """Every rule these dates break, as messages a product manager can act on; empty if none."""
    problems: list[str] = []
    if end_of_sale and placed_on_market and end_of_sale < placed_on_market:
        problems.append(
            f"end of sale {end_of_sale} is before placing on the market {placed_on_market}"
        )
    if end_of_sale and support_end and end_of_sale > support_end:
        problems.append(
            f"end of sale {end_of_sale} is after support end {support_end}: "
            "a product may not be sold once its support period has ended"
        )
    if placed_on_market is None or support_end is None:
        return problems
    if support_end <= placed_on_market:
        problems.append(
            f"support end {support_end} is not after placing on the market {placed_on_market}"
        )
        return problems
    five_years = add_years(placed_on_market, MIN_SUPPORT_YEARS)
    if support_end >= five_years:
        return problems
    if expected_use_months is None or expected_use_months >= MIN_SUPPORT_YEARS * 12:
        problems.append(
            f"support end {support_end} is less than 5 years after placing on the market "
            f"{placed_on_market} (earliest allowed: {five_years}); CRA Art. 13(8) allows a "
            "shorter period only when the expected use time is shorter: set "
            "expected_use_months and justify each factor"
        )
        return problems
    use_end = add_months(placed_on_market, expected_use_months)
    if support_end < use_end:
        problems.append(
            f"support end {support_end} is before the end of the expected use time "
            f"({expected_use_months} months, until {use_end}); CRA Art. 13(8) requires the "
            "support period to cover the expected use time"
        )
    missing = [k for k in JUSTIFICATION_FACTORS if not justification.get(k, "").strip()]
    if missing:
        problems.append(
            "a support period under 5 years must be justified against every factor of "
            "CRA Art. 13(8); missing: " + ", ".join(missing)
        )
    return problems


def support_status(support_end: dt.date, today: dt.date) -> SupportStatus:
    """Support runs to the end of `support_end`; the last 12 months before it are 'ending soon'."""
    if today > support_end:
        return SupportStatus.ENDED
    if today >= add_months(support_end, -ENDING_SOON_MONTHS):
        return SupportStatus.ENDING_SOON
    return SupportStatus.SUPPORTED


def documentation_retained_until(placed_on_market: dt.date, support_end: dt.date) -> dt.date:
    return max(add_years(placed_on_market, RETENTION_YEARS), support_end)


def security_update_available_until(issued: dt.date, support_end: dt.date) -> dt.date:
    return max(add_years(issued, RETENTION_YEARS), support_end)


def month_year(day: dt.date) -> str:
    """The form Art. 13(19) asks for at least: 'March 2031'."""
    return f"{calendar.month_name[day.month]} {day.year}"
