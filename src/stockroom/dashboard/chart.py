"""The product page's stock chart as SVG geometry: pure arithmetic, no I/O, no templates.

The x axis is the sequence of movements (each one an equal step), not the clock: a ledger's
movements come in bursts (a delivery, a day of sales), and a time axis would stack a burst
into one vertical line. The dates of the first and last movement label the axis instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 36
# Above this many movements the dots would merge into a smear; the line alone says it.
MAX_DOTS = 120


@dataclass(frozen=True)
class Step:
    """One movement as the chart sees it: when, by how much, and the total after it."""

    at: datetime
    type: str
    quantity: int
    on_hand: int


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    caption: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    line: str  # SVG path data of the step line
    area: str  # the same line closed along the bottom, for the light fill
    dots: list[Dot]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    points: int  # how many movements are drawn
    last: int  # the total after the newest movement drawn


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def signed(quantity: int) -> str:
    return f"+{quantity:,}" if quantity > 0 else f"−{abs(quantity):,}"


def _nice_step(span: float, ticks: int = 4) -> int:
    """The smallest 1, 2 or 5 × 10^k that covers `span` in at most `ticks` intervals."""
    raw = max(span / ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def step_chart(
    baseline: int, steps: Sequence[Step], *, width: int = WIDTH, height: int = HEIGHT
) -> Chart | None:
    """The step line of the total on hand: `baseline` before the first step, then each step.

    None when there is nothing to draw (no movements).
    """
    if not steps:
        return None
    values = [baseline, *(s.on_hand for s in steps)]
    step = _nice_step(max(values) - min(0, *values))
    low = math.floor(min(0, *values) / step) * step
    high = max(math.ceil(max(values) / step) * step, low + step)
    left, right = float(LEFT), float(width - RIGHT)
    top, bottom = float(TOP), float(height - BOTTOM)

    def y(value: int) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    # Slot 0 is the baseline, slots 1..n the movements; the last value runs on to the edge.
    slot = (right - left) / (len(steps) + 1)
    xs = [left + i * slot for i in range(len(steps) + 1)]
    line = f"M{_fmt(xs[0])},{_fmt(y(baseline))}"
    for x, s in zip(xs[1:], steps, strict=True):
        line += f"H{_fmt(x)}V{_fmt(y(s.on_hand))}"
    line += f"H{_fmt(right)}"
    area = f"{line}V{_fmt(y(low))}H{_fmt(xs[0])}Z"

    shown = steps if len(steps) <= MAX_DOTS else steps[-1:]
    offset = len(steps) - len(shown) + 1
    dots = [
        Dot(
            xs[offset + i],
            y(s.on_hand),
            f"{when(s.at)} · {s.type.replace('_', ' ')} {signed(s.quantity)} → {s.on_hand:,}",
        )
        for i, s in enumerate(shown)
    ]
    y_ticks = [Tick(y(v), f"{v:,}") for v in range(low, high + 1, step)]
    x_ticks = [Tick(xs[1], steps[0].at.strftime("%Y-%m-%d"))]
    if len(steps) > 1 and steps[-1].at.date() != steps[0].at.date():
        x_ticks.append(Tick(xs[-1], steps[-1].at.strftime("%Y-%m-%d")))
    return Chart(
        width=width,
        height=height,
        line=line,
        area=area,
        dots=dots,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        points=len(steps),
        last=steps[-1].on_hand,
    )
