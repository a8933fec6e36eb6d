"""Geometry of the rates' trend chart (three lines, 0–100 %, one point per month). The template
`grids/_rates_chart.html` draws it as SVG with presentation attributes only (the CSP forbids inline
styles), in the style of evaluations/chart.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deliberation.grids.rates import Rates

WIDTH, HEIGHT = 420, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 16, 36
INSET = 16
SERIES = (("response", "#1565c0"), ("resolution", "#2e7d32"), ("satisfaction", "#ef6c00"))


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    percent: float


@dataclass(frozen=True)
class Line:
    name: str  # response / resolution / satisfaction
    colour: str
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Label:
    x: float
    month: str


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: list[Line]
    labels: list[Label]
    gridlines: list[tuple[int, float]]


def _y(percent: float) -> float:
    return round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - percent / 100), 1)


def trend_chart(trend: Sequence[tuple[str, Rates]]) -> TrendChart:
    """Months left to right, oldest first; a month with nothing to count leaves a gap in that line."""
    inner = WIDTH - LEFT - RIGHT - 2 * INSET
    count = len(trend)
    xs = [round(LEFT + INSET + (inner / 2 if count == 1 else inner * i / (count - 1)), 1) for i in range(count)]
    lines = []
    for name, colour in SERIES:
        points = []
        for x, (_month, rates) in zip(xs, trend, strict=True):
            rate = getattr(rates, name)
            if rate is not None:
                percent = float(rate * 100)
                points.append(Point(x, _y(percent), round(percent, 1)))
        lines.append(Line(name, colour, points))
    step = 1 if count <= 6 else (2 if count <= 12 else 4)
    labels = [Label(x, month[2:]) for index, (x, (month, _r)) in enumerate(zip(xs, trend, strict=True))
              if (count - 1 - index) % step == 0]
    gridlines = [(value, _y(value)) for value in (0, 50, 100)]
    return TrendChart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, lines, labels, gridlines)
