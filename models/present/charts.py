"""Bar charts as geometry: where each bar goes, for a face to draw (the web console as SVG).

Only numbers come out (positions and sizes in the chart's own units, with each bar's label and
value), so the drawing needs no script and no inline style, and a screen reader gets the same
figures from the table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its box in chart units, and what it stands for."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class Chart:
    """A whole chart: its size, its bars and the largest value (the scale's top)."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    top: int


def _top(values: list[int]) -> int:
    return max([*values, 1])


def columns(
    items: list[tuple[str, int]], *, width: int = 600, height: int = 160, gap: float = 0.2
) -> Chart:
    """Vertical bars side by side (a time series), as tall as their share of the largest."""
    top = _top([value for _, value in items])
    step = width / max(len(items), 1)
    bars = []
    for n, (label, value) in enumerate(items):
        tall = height * value / top
        bars.append(
            Bar(
                x=round(n * step + step * gap / 2, 2),
                y=round(height - tall, 2),
                width=round(step * (1 - gap), 2),
                height=round(tall, 2),
                label=label,
                value=value,
            )
        )
    return Chart(width, height, tuple(bars), top)


def rows(items: list[tuple[str, int]], *, width: int = 400, row: int = 24) -> Chart:
    """Horizontal bars one under another (categories), as long as their share of the largest."""
    top = _top([value for _, value in items])
    bars = tuple(
        Bar(
            x=0,
            y=n * row + 2,
            width=round(width * value / top, 2),
            height=row - 4,
            label=label,
            value=value,
        )
        for n, (label, value) in enumerate(items)
    )
    return Chart(width, row * len(items), bars, top)
