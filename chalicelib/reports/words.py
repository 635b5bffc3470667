"""How reports word numbers, days and spans ("+17%", "15 Apr 2025 to 14 May 2025"), in one place."""
from __future__ import annotations

import math
from datetime import date
from typing import Any


def delta(change: Any, words: str) -> str:
    if not number(change):
        return "no comparison" if words else "—"
    shown = "0%" if abs(change) < 0.005 else f"{change:+.0%}"  # never "-0%"
    return f"{shown} {words}".strip()


def direction(change: Any) -> str:
    if not number(change) or abs(change) < 0.005:
        return "flat"
    return "up" if change > 0 else "down"


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def day(text: str) -> str:
    return f"{date.fromisoformat(text[:10]):%-d %b %Y}"


def span(start: date, end: date) -> str:
    return f"{start:%-d %b %Y}" if start == end else f"{start:%-d %b %Y} to {end:%-d %b %Y}"


def span_words(start: date, end: date) -> str:
    return f"on {start:%-d %b %Y}" if start == end else f"from {start:%-d %b %Y} to {end:%-d %b %Y}"


def iso_span(start: str, end: str) -> str:
    return span(date.fromisoformat(start[:10]), date.fromisoformat(end[:10]))
