"""Date ranges for Explore: presets resolved against the latest sale, and the range a comparison reads.

Presets are anchored on the day of the company's latest sale, not on today: a shop that uploads last
month's export still sees "last 30 days" as the last 30 days of its data. Ranges include both ends.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from dateutil.easter import easter
from dateutil.relativedelta import SU, TH, relativedelta

from chalicelib.query.explore_model import Compare, DateRange


@dataclass(frozen=True)
class Span:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shifted(self, offset: relativedelta | timedelta) -> Span:
        return Span(self.start - offset, self.end - offset)

    def words(self) -> str:
        if self.start == self.end:
            return f"on {self.start:%-d %b %Y}"
        return f"between {self.start:%-d %b %Y} and {self.end:%-d %b %Y}"


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def resolve(requested: DateRange | None, first: date, last: date) -> Span:
    """The days a question covers; ``first``/``last`` are the company's first and latest sale days."""
    if requested is None or requested.preset in (None, "all") and not (requested.start or requested.end):
        return Span(first, last)
    if requested.preset is None:
        return Span(requested.start or first, requested.end or last)
    preset = requested.preset
    if preset.startswith("last_"):
        return Span(last - timedelta(days=int(preset.split("_")[1]) - 1), last)
    if preset == "month_to_date":
        return Span(last.replace(day=1), last)
    if preset == "quarter_to_date":
        return Span(_quarter_start(last), last)
    if preset == "year_to_date":
        return Span(date(last.year, 1, 1), last)
    if preset == "previous_month":
        end = last.replace(day=1) - timedelta(days=1)
        return Span(end.replace(day=1), end)
    if preset == "previous_quarter":
        end = _quarter_start(last) - timedelta(days=1)
        return Span(_quarter_start(end), end)
    if preset == "previous_year":
        return Span(date(last.year - 1, 1, 1), date(last.year - 1, 12, 31))
    raise ValueError(f"unknown preset {preset!r}")


def _whole_months(span: Span) -> int:
    """How many calendar months ``span`` covers exactly, or 0 when it does not start and end on month edges."""
    if span.start.day != 1 or (span.end + timedelta(days=1)).day != 1:
        return 0
    return (span.end.year - span.start.year) * 12 + span.end.month - span.start.month + 1


def event_day(event: str, year: int) -> date:
    """The day of a named retail event in ``year`` (US conventions for the movable ones)."""
    if event == "black_friday":  # the day after Thanksgiving, the fourth Thursday of November
        return date(year, 11, 1) + relativedelta(weekday=TH(4)) + timedelta(days=1)
    if event == "cyber_monday":
        return event_day("black_friday", year) + timedelta(days=3)
    if event == "christmas":
        return date(year, 12, 25)
    if event == "easter":
        return easter(year)
    if event == "mothers_day":
        return date(year, 5, 1) + relativedelta(weekday=SU(2))
    if event == "valentines_day":
        return date(year, 2, 14)
    raise ValueError(f"unknown event {event!r}")


def comparison(span: Span, compare: Compare) -> tuple[Span, relativedelta | timedelta]:
    """The range ``span`` is compared with, and the offset that maps a date of it onto ``span``'s dates.

    ``same_weekday`` shifts by 52 weeks, so Mondays meet Mondays; ``event`` shifts so that last year's event
    day meets this year's (Black Friday 2025 is 28 Nov, in 2024 it was 29 Nov; Easter moves by weeks), which a
    fixed 364- or 365-day shift gets wrong.
    """
    if compare.mode == "previous_period":
        months = _whole_months(span)
        offset: relativedelta | timedelta = relativedelta(months=months) if months else timedelta(days=span.days)
    elif compare.mode == "previous_year":
        offset = relativedelta(years=1)
    elif compare.mode == "same_weekday":
        offset = timedelta(weeks=52)
    else:
        middle = span.start + (span.end - span.start) / 2
        year = min((middle.year - 1, middle.year, middle.year + 1),
                   key=lambda y: abs((event_day(compare.event, y) - middle).days))
        offset = event_day(compare.event, year) - event_day(compare.event, year - 1)
    if isinstance(offset, relativedelta):  # month arithmetic: whole months map to whole months (Feb → Jan 1-31)
        return Span(span.start - offset, span.end + timedelta(days=1) - offset - timedelta(days=1)), offset
    return span.shifted(offset), offset


def move(buckets: pd.Series, offset: relativedelta | timedelta, grain: str, week_start: str = "monday") -> pd.Series:
    """Compared-period bucket starts moved onto the current period's buckets of ``grain``."""
    moved = pd.to_datetime(buckets) + pd.DateOffset(**_offset_args(offset))
    return truncate(moved, grain, week_start)


def truncate(days: pd.Series, grain: str, week_start: str = "monday") -> pd.Series:
    """The first day of each date's ``grain`` bucket, as ``YYYY-MM-DD`` text (weeks start on ``week_start``)."""
    days = pd.to_datetime(days)
    if grain == "week":
        days_into_week = (days.dt.day_of_week + (1 if week_start == "sunday" else 0)) % 7
        days = days - pd.to_timedelta(days_into_week, unit="D")
    elif grain != "day":
        days = days.dt.to_period({"month": "M", "quarter": "Q", "year": "Y"}[grain]).dt.start_time
    return days.dt.strftime("%Y-%m-%d")


def _offset_args(offset: relativedelta | timedelta) -> dict[str, int]:
    if isinstance(offset, timedelta):
        return {"days": offset.days}
    return {"years": offset.years, "months": offset.months, "days": offset.days}


