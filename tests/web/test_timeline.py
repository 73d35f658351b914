"""The support timeline's arithmetic and the words for the time left (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetcare.portfolio.schemas import (
    CraCategory,
    ProductDetail,
    ReleaseKind,
    ReleaseOut,
    ReleaseStatus,
)
from fleetcare.web.timeline import support_left, support_timeline

D = dt.date


def product(
    placed: dt.date = D(2020, 1, 1),
    support_end: dt.date = D(2025, 1, 1),
    retained: dt.date = D(2030, 1, 1),
    end_of_sale: dt.date | None = None,
    releases: tuple[tuple[str, dt.date, str], ...] = (),
) -> ProductDetail:
    return ProductDetail(
        id=1,
        name="Gateway",
        slug="gateway",
        model_id="",
        description="",
        intended_purpose="",
        cra_category=CraCategory.DEFAULT,
        placed_on_market=placed,
        expected_use_months=None,
        support_end=support_end,
        support_end_month_year="",
        end_of_sale=end_of_sale,
        successor=None,
        support_justification={},
        support_status="supported",
        documentation_retained_until=retained,
        latest_release=None,
        release_count=len(releases),
        releases=[
            ReleaseOut(
                id=i,
                product_id=1,
                version=version,
                release_date=day,
                kind=ReleaseKind(kind),
                status=ReleaseStatus.RELEASED,
                notes="",
                available_until=None,
            )
            for i, (version, day, kind) in enumerate(releases)
        ],
    )


def test_support_covers_the_share_of_the_span_up_to_support_end():
    # 2020-01-01 .. 2030-01-01 is 3653 days; support ends 1827 days in.
    line = support_timeline(product(), today=D(2019, 6, 1))
    assert line.start == D(2020, 1, 1)
    assert line.end == D(2030, 1, 1)
    assert line.support_from == 0.0
    assert line.support_to == pytest.approx(50.01, abs=0.01)
    assert line.today_x is None  # before the span: no "today" marker


def test_a_release_before_placing_on_the_market_widens_the_span():
    line = support_timeline(
        product(releases=(("0.9.0", D(2019, 1, 1), "feature"),)), today=D(2022, 1, 1)
    )
    assert line.start == D(2019, 1, 1)
    assert line.releases[0].x == 0.0
    assert line.releases[0].kind == "feature"
    assert line.support_from > 0
    assert 0 < line.today_x < line.support_to


def test_end_of_sale_gets_a_marker_and_a_legend_entry():
    line = support_timeline(product(end_of_sale=D(2022, 1, 1)), today=D(2024, 1, 1))
    assert line.sale_x == pytest.approx(20.01, abs=0.01)
    assert [m.label for m in line.marks] == [
        "placed on market",
        "end of sale",
        "support end",
        "documentation kept until",
    ]
    assert "end of sale January 2022" in line.summary


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2020, 3, 1), D(2030, 3, 1), [str(y) for y in range(2021, 2031)]),
        (D(2000, 1, 1), D(2040, 1, 1), [str(y) for y in range(2001, 2041, 4)]),
    ],
)
def test_year_labels_are_thinned_on_long_timelines(start, end, expected):
    line = support_timeline(product(placed=start, support_end=end, retained=end), today=start)
    assert [y.label for y in line.years] == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 11, 29), "4 years 10 months left"),
        (D(2030, 9, 30), "1 year left"),
        (D(2031, 8, 31), "1 month left"),
        (D(2031, 9, 1), "less than a month left"),
        (D(2031, 9, 15), "less than a month left"),
        (D(2031, 9, 30), "less than a month left"),
        (D(2031, 10, 1), "ended less than a month ago"),
        (D(2032, 12, 29), "ended 1 year 2 months ago"),
        (D(2032, 12, 30), "ended 1 year 3 months ago"),
        (D(2033, 9, 30), "ended 2 years ago"),
    ],
)
def test_time_left_is_said_in_years_and_months(today, expected):
    assert support_left(today, D(2031, 9, 30)) == expected
