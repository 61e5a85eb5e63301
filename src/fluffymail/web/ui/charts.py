"""Inline SVG charts computed on the server: geometry only, the template draws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fluffymail.web.services.jobs import Throughput

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 10, 24


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    baseline: float
    left: float
    right: float
    summary: str


def _nice_max(peak: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above `peak` (at least 4)."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= max(peak, 4):
                return step * scale
        scale *= 10


def throughput_chart(tp: Throughput) -> BarChart:
    """Per-minute completed jobs as bars, with 0/half/max gridlines and a label every 15 minutes."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(tp.peak)
    slot = plot_w / max(len(tp.counts), 1)
    baseline = TOP + plot_h
    bars, x_ticks = [], []
    for i, count in enumerate(tp.counts):
        minute = tp.start + timedelta(minutes=i)
        height = plot_h * count / top
        x = LEFT + i * slot
        bars.append(Bar(x=round(x + slot * 0.12, 2), y=round(baseline - height, 2),
                        width=round(slot * 0.76, 2), height=round(height, 2), count=count,
                        label=f"{minute:%H:%M} UTC: {count} completed"))
        if i % 15 == 0 or i == len(tp.counts) - 1:
            last = i == len(tp.counts) - 1
            x_ticks.append(Tick(x=round(x + (slot if last else slot / 2), 2), y=HEIGHT - 6,
                                label=f"{minute:%H:%M}"))
    y_ticks = [Tick(x=LEFT - 6, y=round(baseline - plot_h * v / top, 2), label=f"{v:,g}")
               for v in (0, top / 2, top)]
    summary = (f"Jobs completed per minute over the last hour: {tp.total:,} in total, "
               f"peak {tp.peak:,} per minute.")
    return BarChart(width=WIDTH, height=HEIGHT, bars=bars, y_ticks=y_ticks, x_ticks=x_ticks,
                    baseline=baseline, left=LEFT, right=WIDTH - RIGHT, summary=summary)
