"""The weekly digest's chart: promises kept on time, and time to first acknowledgement, per
week. A pure function of the weekly series; PNG bytes out, drawn with matplotlib (Agg)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol

from bot import messages

# 1,000 × 600 pixels: wide enough for 12 labelled weeks, small enough for Slack's preview.
WIDTH_INCHES, HEIGHT_INCHES, DPI = 10.0, 6.0, 100
KEPT_COLOUR = "#2b7a78"
ACK_COLOUR = "#c2571a"
EMPTY_COLOUR = "#d9d9d9"


class WeekPoint(Protocol):
    """What the chart reads of one week of ``report.weekly_series``."""

    @property
    def week_start(self) -> date: ...

    @property
    def kept_on_time_pct(self) -> float | None: ...

    @property
    def ack_median(self) -> timedelta | None: ...

    @property
    def promises(self) -> int: ...


def weekly_chart(weeks: Sequence[WeekPoint]) -> bytes:
    """A PNG of two panels over the weeks given (oldest first): the share of promises kept on
    time (bars, with how many promises ended), and the median time to first acknowledgement
    in minutes (a line; weeks with none are gaps)."""
    # Imported here: matplotlib takes about half a second to import, which the bot's start
    # (and every process that never draws a chart) should not pay.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    kept_axes, ack_axes = figure.subplots(2, 1, sharex=True)
    positions = list(range(len(weeks)))
    labels = [messages.chart_week_label(w.week_start) for w in weeks]

    kept = [w.kept_on_time_pct for w in weeks]
    bars = kept_axes.bar(
        positions,
        [k if k is not None else 0.0 for k in kept],
        color=[KEPT_COLOUR if k is not None else EMPTY_COLOUR for k in kept],
        width=0.7,
    )
    for bar, week in zip(bars, weeks, strict=True):
        kept_axes.annotate(
            messages.chart_kept_label(week.kept_on_time_pct, week.promises),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    kept_axes.set_ylim(0, 115)
    kept_axes.set_yticks([0, 25, 50, 75, 100])
    kept_axes.set_ylabel(messages.chart_kept_axis())
    kept_axes.set_title(messages.chart_kept_title(), loc="left", fontsize=11)

    minutes = [
        w.ack_median.total_seconds() / 60 if w.ack_median is not None else None for w in weeks
    ]
    ack_axes.plot(
        positions,
        [m if m is not None else float("nan") for m in minutes],
        color=ACK_COLOUR,
        marker="o",
        linewidth=2,
    )
    ack_axes.set_ylim(bottom=0, top=max([m for m in minutes if m is not None] or [1.0]) * 1.2)
    ack_axes.set_ylabel(messages.chart_ack_axis())
    ack_axes.set_title(messages.chart_ack_title(), loc="left", fontsize=11)
    ack_axes.set_xticks(positions, labels, fontsize=8)

    for axes in (kept_axes, ack_axes):
        axes.grid(axis="y", color="#eeeeee")
        axes.set_axisbelow(True)
        axes.spines[["top", "right"]].set_visible(False)

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
