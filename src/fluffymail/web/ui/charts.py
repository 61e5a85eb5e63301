"""Inline SVG charts computed on the server: geometry only, the template draws it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

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
        bars.append(
            Bar(
                x=round(x + slot * 0.12, 2),
                y=round(baseline - height, 2),
                width=round(slot * 0.76, 2),
                height=round(height, 2),
                count=count,
                label=f"{minute:%H:%M} UTC: {count} completed",
            )
        )
        if i % 15 == 0 or i == len(tp.counts) - 1:
            last = i == len(tp.counts) - 1
            x_ticks.append(
                Tick(
                    x=round(x + (slot if last else slot / 2), 2),
                    y=HEIGHT - 6,
                    label=f"{minute:%H:%M}",
                )
            )
    y_ticks = [
        Tick(x=LEFT - 6, y=round(baseline - plot_h * v / top, 2), label=f"{v:,g}")
        for v in (0, top / 2, top)
    ]
    summary = (
        f"Jobs completed per minute over the last hour: {tp.total:,} in total, "
        f"peak {tp.peak:,} per minute."
    )
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        baseline=baseline,
        left=LEFT,
        right=WIDTH - RIGHT,
        summary=summary,
    )


# -- contact page: monthly messages sparkline -----------------------------------------------------

SPARK_W, SPARK_H, SPARK_MONTHS = 280, 56, 24


class MonthLike(Protocol):
    month: str
    sent: int
    received: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkBar:
    x: float
    width: float
    sent_y: float
    sent_h: float
    received_y: float
    received_h: float
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Sparkline:
    width: int
    height: int
    bars: list[SparkBar]
    first_label: str
    last_label: str
    summary: str


def _month_range(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from `first` to `last`, at most the last SPARK_MONTHS of them."""
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months[-SPARK_MONTHS:]


def sparkline(monthly: Sequence[MonthLike]) -> Sparkline | None:
    """Messages per month as stacked bars (received below, sent above); None with no months."""
    counts = {m.month: (m.sent, m.received) for m in monthly if len(m.month) == 7}
    if not counts:
        return None
    months = _month_range(min(counts), max(counts))
    peak = max(sum(counts.get(m, (0, 0))) for m in months) or 1
    slot = SPARK_W / len(months)
    bars = []
    for i, month in enumerate(months):
        sent, received = counts.get(month, (0, 0))
        received_h, sent_h = (SPARK_H - 2) * received / peak, (SPARK_H - 2) * sent / peak
        bars.append(
            SparkBar(
                x=round(i * slot + slot * 0.1, 2),
                width=round(slot * 0.8, 2),
                received_y=round(SPARK_H - received_h, 2),
                received_h=round(received_h, 2),
                sent_y=round(SPARK_H - received_h - sent_h, 2),
                sent_h=round(sent_h, 2),
                label=f"{month}: {sent} sent, {received} received",
            )
        )
    total = sum(sum(counts.get(m, (0, 0))) for m in months)
    summary = (
        f"Messages per month from {months[0]} to {months[-1]}: {total:,} in total, "
        f"busiest month {peak:,}."
    )
    return Sparkline(
        width=SPARK_W,
        height=SPARK_H,
        bars=bars,
        first_label=months[0],
        last_label=months[-1],
        summary=summary,
    )
