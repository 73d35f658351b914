"""Positions for the support timeline drawn on the product page (pure arithmetic, no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fleetcare.portfolio.schemas import ProductDetail


@dataclass
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
    retention_to: float = 0.0
    today_x: float | None = None
    years: list[Mark] = field(default_factory=list)


def support_timeline(product: ProductDetail, today: dt.date) -> Timeline:
    start = product.placed_on_market
    end = product.documentation_retained_until
    for release in product.releases:
        start = min(start, release.release_date)
    span = max((end - start).days, 1)

    def x(day: dt.date) -> float:
        return round(100.0 * (day - start).days / span, 2)

    line = Timeline(start=start, end=end)
    line.support_from = x(product.placed_on_market)
    line.support_to = x(product.support_end)
    line.retention_to = 100.0
    line.marks.append(
        Mark("placed on market", product.placed_on_market, x(product.placed_on_market), "market")
    )
    if product.end_of_sale:
        line.marks.append(Mark("end of sale", product.end_of_sale, x(product.end_of_sale), "sale"))
    line.marks.append(Mark("support end", product.support_end, x(product.support_end), "eol"))
    line.marks.append(Mark("documentation kept until", end, 100.0, "retention"))
    if start <= today <= end:
        line.today_x = x(today)
    for release in product.releases:
        line.releases.append(
            Mark(release.version, release.release_date, x(release.release_date), release.kind.value)
        )
    for year in range(start.year + 1, end.year + 1):
        line.years.append(Mark(str(year), dt.date(year, 1, 1), x(dt.date(year, 1, 1)), "year"))
    return line
