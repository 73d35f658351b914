"""Server-rendered SVG charts for the update pages, as plain data the templates draw.

No scripts and no style attributes (the dashboard's CSP forbids both): bars are `<rect>`
elements with sizes computed here, coloured by CSS classes.
"""

from __future__ import annotations

from dataclasses import dataclass

BAR_WIDTH = 600
BAR_HEIGHT = 22
LABEL_WIDTH = 140


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int
    share: float


def horizontal_bars(rows: list[tuple[str, int]], *, limit: int = 12) -> tuple[list[Bar], int]:
    """Bars for (label, count) rows, widest = BAR_WIDTH; returns the bars and the chart height.
    Rows past `limit` are summed into 'other'."""
    if len(rows) > limit:
        rows = [*rows[: limit - 1], ("other", sum(v for _, v in rows[limit - 1 :]))]
    total = sum(v for _, v in rows) or 1
    top = max((v for _, v in rows), default=0) or 1
    bars = [
        Bar(
            label=label,
            value=value,
            y=index * (BAR_HEIGHT + 6),
            width=max(1, round(BAR_WIDTH * value / top)) if value else 0,
            share=value / total,
        )
        for index, (label, value) in enumerate(rows)
    ]
    return bars, max(1, len(bars)) * (BAR_HEIGHT + 6)


@dataclass(frozen=True)
class Segment:
    status: str
    x: int
    width: int
    count: int


def progress_segments(counts: dict[str, int], width: int = BAR_WIDTH) -> list[Segment]:
    """A stacked bar of a wave: success, failure, in progress, pending, cancelled."""
    order = ["success", "failure", "installing", "downloading", "pending", "cancelled"]
    total = sum(counts.values())
    segments: list[Segment] = []
    x = 0
    for status in order:
        count = counts.get(status, 0)
        if not count or not total:
            continue
        part = round(width * count / total)
        segments.append(Segment(status, x, part, count))
        x += part
    return segments
