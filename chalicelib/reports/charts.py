"""Report charts as inline SVG: matplotlib ``Figure`` without pyplot (no figure registry), text kept as text.

Chart dicts carry raw numbers and untrusted labels (see the report content model). Every text artist is drawn with
``parse_math=False`` so a ``$`` in a product name is never read as mathtext, and matplotlib's SVG writer escapes
``<``, ``&`` and quotes, which is what lets :mod:`chalicelib.reports.render` inline the result.
"""
from __future__ import annotations

import io
import math
import re
import secrets
import threading
import warnings
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Okabe-Ito: distinguishable with the common colour-vision deficiencies and in greyscale print.
BLUE, ORANGE, VERMILLION, GREY = "#0072B2", "#E69F00", "#D55E00", "#555555"
WIDTH_IN = 7.0  # about the A4 text width, so 1 SVG unit prints as 1 pt and font sizes below are what paper shows
MAX_LABEL = 40
MAX_MARK_LABELS = 8  # more labelled dots than this only overlap; the rest stay dots

_RC = {
    "svg.fonttype": "none",  # text stays <text>: small, searchable, selectable
    "svg.hashsalt": None,  # random ids, so two charts inlined in one page never share a clip-path id
    "text.parse_math": False,  # tick labels are made at draw time; this covers them as well
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8.5,
    "axes.labelsize": 8.5,
    "axes.labelcolor": GREY,
    "axes.edgecolor": "#bbbbbb",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": GREY,
    "ytick.color": GREY,
    "legend.fontsize": 8,
    "legend.frameon": False,
}
# DejaVu Sans has no emoji: matplotlib warns while measuring, but the SVG keeps the text and the viewer's fonts draw
# it. Filtered for this module only, once at import (warnings.catch_warnings is not thread-safe).
warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning,
                        module=r"chalicelib\.reports\.charts")
# rc_context swaps the process-wide rcParams: two threads inside it at once could restore each other's settings
# mid-drawing (glyphs as paths, or "$" as mathtext). Charts take tens of milliseconds, so they take turns.
_RC_LOCK = threading.Lock()
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')
_IDS = re.compile(r'(\bid="|url\(#|href="#)([A-Za-z_][\w.-]*)')


def chart_svg(chart: dict[str, Any]) -> str:
    """One chart of the content model (kind "trend" or "bars") as an ``<svg>`` element, without XML prolog."""
    draw = {"trend": _trend, "bars": _bars}.get(chart.get("kind", ""))
    if draw is None:
        raise ValueError(f"unknown chart kind: {chart.get('kind')!r}")
    with _RC_LOCK, matplotlib.rc_context(_RC):
        fig = draw(chart)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _as_inline(buf.getvalue(), str(chart.get("title") or ""))


def compact(value: float) -> str:
    """Tick and bar labels short enough to read at a glance: ``950``, ``12k``, ``1.2M``, ``-3.4B``."""
    if value is None or not math.isfinite(value):
        return ""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit * 0.9995:  # 999,999 reads "1M", not "1000k"
            return _trim(value / limit, size / limit) + suffix
    return _trim(value, size)


def shorten(text: Any, limit: int = MAX_LABEL) -> str:
    """One line of at most ``limit`` characters, cut with an ellipsis: long product names must not eat the plot."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def _trim(scaled: float, size: float) -> str:
    """About three significant digits, trailing zeros dropped: ``56.7``, ``1.2``, ``950``."""
    if size >= 100 or size == int(size):
        return f"{scaled:.0f}"
    digits = 1 if size >= 10 else 2 if size >= 0.01 else 4
    return f"{scaled:.{digits}f}".rstrip("0").rstrip(".")


def _trend(chart: dict[str, Any]) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, 3.1), layout="constrained")
    ax = fig.add_subplot()
    x = [_day(v) for v in chart.get("x") or []]
    actual = _nums(chart.get("actual") or [])
    if x:
        ax.plot(x, actual, color=BLUE, linewidth=1.6, label="Actual")
    forecast = chart.get("forecast")
    if forecast and forecast.get("x"):
        fx = [_day(v) for v in forecast["x"]]
        for low, high, alpha, name in (("lower_95", "upper_95", 0.16, "95% range"),
                                       ("lower_80", "upper_80", 0.32, "80% range")):
            if forecast.get(low) and forecast.get(high):
                ax.fill_between(fx, _nums(forecast[low]), _nums(forecast[high]), color=ORANGE, alpha=alpha,
                                linewidth=0, label=name)
        ax.plot(fx, _nums(forecast.get("mid") or []), color=ORANGE, linestyle="--", linewidth=1.6, label="Forecast")
        x = x + fx
    _marks(ax, chart.get("marks") or [])
    if not x:
        _empty(ax)
    else:
        _date_axis(ax, min(x), max(x))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        ax.legend(loc="upper left", ncols=5, bbox_to_anchor=(0, 1.0), handlelength=1.8, columnspacing=1.2)
        bottom, top = min(0.0, ax.get_ylim()[0]), ax.get_ylim()[1]
        ax.set_ylim(bottom, top + 0.14 * (top - bottom))  # room for the legend above the lines
    ax.set_ylabel(shorten(chart.get("y_label") or "", 60), parse_math=False)
    _title(fig, chart)
    return fig


def _marks(ax: Axes, marks: Sequence[dict[str, Any]]) -> None:
    points = [(_day(m["x"]), _num(m.get("y")), shorten(m.get("label") or "", 28)) for m in marks]
    points = [p for p in points if p[1] is not None]
    if not points:
        return
    ax.scatter([p[0] for p in points], [p[1] for p in points], s=22, color=VERMILLION, zorder=3,
               edgecolors="white", linewidths=0.6)
    for i, (when, y, label) in enumerate(points[:MAX_MARK_LABELS]):
        if label:
            ax.annotate(label, (when, y), xytext=(4, 6 if i % 2 == 0 else -11), textcoords="offset points",
                        fontsize=7, color=VERMILLION, parse_math=False, annotation_clip=True,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def _bars(chart: dict[str, Any]) -> Figure:
    pairs = sorted(((shorten(label), _num(value) or 0.0) for label, value in
                    zip(chart.get("labels") or [], chart.get("values") or [])), key=lambda p: p[1], reverse=True)
    fig = Figure(figsize=(WIDTH_IN, 0.9 + 0.26 * max(len(pairs), 2)), layout="constrained")
    ax = fig.add_subplot()
    if not pairs:
        _empty(ax)
    else:
        positions = range(len(pairs))
        values = [value for _, value in pairs]
        bars = ax.barh(positions, values, color=BLUE, height=0.66)
        ax.set_yticks(list(positions), [label for label, _ in pairs], parse_math=False)
        ax.invert_yaxis()  # largest on top
        ax.bar_label(bars, labels=[compact(v) for v in values], padding=3, fontsize=7.5, color=GREY,
                     parse_math=False)
        low, high = min(0.0, *values), max(0.0, *values)
        span = (high - low) or 1.0
        ax.set_xlim(low - (0.12 * span if low < 0 else 0), high + 0.12 * span)  # room for the value labels
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis="y", length=0)
    ax.set_xlabel(shorten(chart.get("value_label") or "", 60), parse_math=False)
    _title(fig, chart)
    return fig


def _title(fig: Figure, chart: dict[str, Any]) -> None:
    """At the figure's left edge, where the tables' titles start, not over the axes (which move with the labels)."""
    fig.suptitle(shorten(chart.get("title") or "", 90), x=0.0, ha="left", fontsize=10, fontweight="bold",
                 parse_math=False)


def _date_axis(ax: Axes, first: datetime, last: datetime) -> None:
    """Month ticks ("Mar 2025") when the chart spans months; day ticks ("3 Mar") for a few weeks."""
    months = (last.year - first.year) * 12 + last.month - first.month
    if months >= 3:
        step = next((n for n in (1, 2, 3, 4, 6, 12, 24, 60) if months / n <= 8), 120)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step)) if step < 12
                                   else mdates.YearLocator(base=step // 12))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    else:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, math.ceil((last - first).days / 7))))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _day_label(mdates.num2date(v))))


def _day_label(when: datetime) -> str:
    return f"{when.day} {when:%b}"


def _empty(ax: Axes) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No data to show", ha="center", va="center", color=GREY, transform=ax.transAxes,
            parse_math=False)


def _as_inline(svg: str, title: str) -> str:
    """Drop the XML prolog and fixed size (the viewBox lets CSS scale it); add ``role="img"`` and a ``<title>``."""
    svg = _PROLOG.sub("", svg, count=1)
    scope = f"c{secrets.token_hex(4)}-"  # matplotlib numbers ids per figure: several charts in a page would clash
    svg = _IDS.sub(lambda m: f"{m.group(1)}{scope}{m.group(2)}", svg)
    head, sep, body = svg.partition(">")
    head = _SIZE.sub("", head) + ' role="img" preserveAspectRatio="xMinYMin meet"'
    return f"{head}{sep}\n <title>{escape(title)}</title>{body}"


def _day(value: Any) -> datetime:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=None)  # the x values are calendar days; naive and aware must not meet in min()


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _nums(values: Sequence[Any]) -> list[float]:
    return [math.nan if (n := _num(v)) is None else n for v in values]
