"""Geometry of the history chart; the template draws it as SVG with presentation attributes only
(the Content-Security-Policy forbids inline styles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 420, 240  # small enough that the labels stay legible on a phone
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 24, 36
INSET = 30  # keeps the first and last period labels inside the picture
Y_MIN, Y_MAX = 0, 100
BANDS = (90, 80, 60)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    period: str
    total: Decimal
    grade: str
    show_period: bool = True  # with many periods only every other one is labelled, so labels never overlap


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    points: list[Point]
    gridlines: list[tuple[int, float]]  # (value, y)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _y(value: Decimal | float) -> float:
    span = HEIGHT - TOP - BOTTOM
    return TOP + span * (1 - (float(value) - Y_MIN) / (Y_MAX - Y_MIN))


def history_chart(history: Sequence[tuple[str, Decimal, str]]) -> Chart:
    """Place (period, total, grade) points left to right, oldest first, on a 0–100 scale."""
    inner = WIDTH - LEFT - RIGHT - 2 * INSET
    count = len(history)
    points = []
    for index, (period, total, grade) in enumerate(history):
        x = LEFT + INSET + (inner / 2 if count == 1 else inner * index / (count - 1))
        show = count <= 6 or (count - 1 - index) % 2 == 0
        points.append(Point(round(x, 1), round(_y(total), 1), period, total, grade, show))
    # The grade bands, labelled; 100 is the top edge of the frame.
    gridlines = [(value, round(_y(value), 1)) for value in (0, *sorted(BANDS))]
    return Chart(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, points, gridlines)
