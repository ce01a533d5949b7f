"""Charts drawn on the server as SVG: no script, no library, readable on a 390 px phone.

``trend_chart`` lays out a small-multiples line chart: one panel per series, one
under the other, sharing the day axis. Each panel has its own scale (the share of
healthy residents would flatten every other line on a common one), its name
written beside it and its latest value, so the colour is never the only signal.
The geometry is computed here; ``status/dashboard_trend.html`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH = 340  # viewBox units; the SVG is drawn at the width of its box, about 1:1 on a phone
LEFT = 4
RIGHT = 52  # room for the values at the end of the lines
PANEL_HEIGHT = 70
LABEL_HEIGHT = 18  # the series name above its plot
PLOT_HEIGHT = 40
AXIS_HEIGHT = 22


@dataclass(frozen=True)
class Series:
    label: str
    colour: str  # a class name: red, yellow, blue, green
    values: list[int | None]  # one per day; None where nothing was counted


@dataclass(frozen=True)
class Panel:
    """One series: coordinates are SVG numbers, written out here (the template prints them as they are)."""

    label: str
    colour: str
    label_y: str  # baseline of its name
    baseline: str  # y of zero
    peak_y: str  # y of the peak value
    peak: int  # the largest value, the top of the panel's scale
    latest: int | None
    latest_y: str  # y of the latest value's dot ("" without one)
    value_y: str  # baseline of the latest value's text
    lines: list[str]  # SVG polyline points; a day without a count breaks the line
    points: int  # days drawn


@dataclass(frozen=True)
class Tick:
    x: str
    label: str
    anchor: str  # text-anchor: the first label starts at its day, the last ends at it


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: str
    right: str  # x of the last day
    value_x: str  # x of the latest values, right of the lines
    panels: list[Panel]
    ticks: list[Tick]
    axis_y: str  # baseline of the day axis' labels


def _n(value: float) -> str:
    """An SVG coordinate: one decimal at most, no locale."""
    return f"{value:.1f}".removesuffix(".0")


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span)


def trend_chart(days: list[date], series: list[Series], tick_labels: dict[int, str]) -> TrendChart:
    """The layout of ``series`` over ``days``; ``tick_labels`` maps a day's index to the label under it."""
    xs = [_n(_x(index, len(days))) for index in range(len(days))]
    panels = []
    for n, line in enumerate(series):
        top = n * PANEL_HEIGHT
        baseline = top + LABEL_HEIGHT + PLOT_HEIGHT
        known = [value for value in line.values if value is not None]
        peak = max(known, default=0)
        scale = PLOT_HEIGHT / peak if peak else 0

        def y(value: int, baseline: float = baseline, scale: float = scale) -> float:
            return baseline - value * scale

        lines: list[str] = []
        run: list[str] = []
        for x, value in zip(xs, line.values, strict=True):
            if value is None:
                if run:
                    lines.append(" ".join(run))
                run = []
                continue
            run.append(f"{x},{_n(y(value))}")
        if run:
            lines.append(" ".join(run))
        latest = line.values[-1] if line.values else None
        panels.append(
            Panel(
                label=line.label,
                colour=line.colour,
                label_y=_n(top + 13),
                baseline=_n(baseline),
                peak_y=_n(y(peak)),
                peak=peak,
                latest=latest,
                latest_y=_n(y(latest)) if latest is not None else "",
                value_y=_n(y(latest) + 4) if latest is not None else "",
                lines=lines,
                points=len(known),
            )
        )
    axis_y = len(series) * PANEL_HEIGHT
    last = len(days) - 1
    ticks = [
        Tick(xs[index], label, "start" if index == 0 else "end" if index == last else "middle")
        for index, label in sorted(tick_labels.items())
    ]
    return TrendChart(
        width=WIDTH,
        height=axis_y + AXIS_HEIGHT,
        left=_n(LEFT),
        right=xs[-1],
        value_x=_n(_x(last, len(days)) + 6),
        panels=panels,
        ticks=ticks,
        axis_y=_n(axis_y + 15),
    )
