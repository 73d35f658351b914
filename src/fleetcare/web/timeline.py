"""Positions for the support timeline drawn on the product page (pure arithmetic, no I/O).

The timeline runs from the earliest of placing on the market and the first release to the end
of documentation retention. Every position is a percentage of the width, so the page can draw
it as an SVG that scales with the window and needs no inline styles (the pages' Content
Security Policy forbids them).

    line = support_timeline(service.product_detail(product), service.today())
    line.support_to      # 62.5: the support period ends 62.5 % along
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from fleetcare.portfolio.rules import add_months, month_year
from fleetcare.portfolio.schemas import ProductDetail

#: At most this many year labels, so that they stay readable on a long timeline.
MAX_YEAR_LABELS = 12


@dataclass(frozen=True)
class Mark:
    label: str
    day: dt.date
    x: float  # percent of the width
    kind: str  # css class


@dataclass
class Timeline:
    start: dt.date
    end: dt.date
    marks: list[Mark] = field(default_factory=list)
    releases: list[Mark] = field(default_factory=list)
    support_from: float = 0.0
    support_to: float = 0.0
    retention_to: float = 100.0
    today_x: float | None = None
    sale_x: float | None = None
    years: list[Mark] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One sentence for screen readers: what the picture shows."""
        parts = [f"{m.label} {month_year(m.day)}" for m in self.marks]
        releases = len(self.releases)
        parts.append(f"{releases} release{'s' if releases != 1 else ''}")
        return "Support timeline: " + ", ".join(parts) + "."


def support_timeline(product: ProductDetail, today: dt.date) -> Timeline:
    start = product.placed_on_market
    end = product.documentation_retained_until
    for release in product.releases:
        start = min(start, release.release_date)
    span = max((end - start).days, 1)

    def x(day: dt.date) -> float:
        return round(min(max(100.0 * (day - start).days / span, 0.0), 100.0), 2)

    line = Timeline(start=start, end=end)
    line.support_from = x(product.placed_on_market)
    line.support_to = x(product.support_end)
    line.marks.append(
        Mark("placed on market", product.placed_on_market, x(product.placed_on_market), "market")
    )
    if product.end_of_sale:
        line.sale_x = x(product.end_of_sale)
        line.marks.append(Mark("end of sale", product.end_of_sale, line.sale_x, "sale"))
    line.marks.append(Mark("support end", product.support_end, x(product.support_end), "eol"))
    line.marks.append(Mark("documentation kept until", end, 100.0, "retention"))
    if start <= today <= end:
        line.today_x = x(today)
    for release in product.releases:
        line.releases.append(
            Mark(release.version, release.release_date, x(release.release_date), release.kind.value)
        )
    years = range(start.year + 1, end.year + 1)
    step = max(1, math.ceil(len(years) / MAX_YEAR_LABELS))
    for year in years[::step]:
        line.years.append(Mark(str(year), dt.date(year, 1, 1), x(dt.date(year, 1, 1)), "year"))
    return line


def _whole_months(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from `start` to `end` (end >= start), counted the way the CRA
    rules add months: 31 August plus one month is 30 September."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


def _years_and_months(months: int) -> str:
    years, months = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if months:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    return " ".join(parts)


def support_left(today: dt.date, support_end: dt.date) -> str:
    """How long support still runs, or since when it has ended, in words for the product page."""
    if today <= support_end:
        months = _whole_months(today, support_end)
        return f"{_years_and_months(months)} left" if months else "less than a month left"
    months = _whole_months(support_end, today)
    return f"ended {_years_and_months(months)} ago" if months else "ended less than a month ago"
