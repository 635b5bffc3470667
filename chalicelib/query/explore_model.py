"""The Explore question as a validated JSON document, and the catalogue of measures and dimensions it may name.

A caller never sends SQL: it names measures and dimensions from the catalogue below, and values to filter on.
:mod:`chalicelib.query.explore_sql` compiles a checked question to SQL; the service checks the names against
what the company's data actually has (``GET /explore/fields``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    unit: str  # currency, count, share or ratio: how the portal formats it
    definition: str
    additive: bool  # answered from the daily rollup (sums), or needs the order lines (distinct counts)


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    definition: str
    time: bool = False


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("revenue", "Revenue", "currency", "What customers paid for their purchases; returns not deducted.", True),
    Measure("units", "Units sold", "count", "Items bought, returns not deducted.", True),
    Measure("returns", "Returns", "currency", "Value of goods returned, on the day they came back.", True),
    Measure("return_rate", "Return rate", "share", "Returns as a share of revenue.", True),
    Measure("orders", "Orders", "count", "Distinct orders (a customer's day when there are no order numbers).",
            False),
    Measure("customers", "Customers", "count", "Distinct customers who bought.", False),
    Measure("aov", "Average order value", "currency", "Revenue divided by orders.", False),
    Measure("revenue_per_customer", "Revenue per customer", "currency", "Revenue divided by customers.", False),
    Measure("new_customers", "New customers", "count",
            "Customers whose first purchase ever falls here.", False),
    Measure("repeat_rate", "Repeat rate", "share",
            "Share of customers who had already bought on an earlier day.", False),
    Measure("conversion", "Conversion rate", "share", "Orders divided by store or site visits.", False),
)}

DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("day", "Day", "The day of the sale.", time=True),
    Dimension("week", "Week", "The week of the sale, starting on Monday (or Sunday: see week_start).", time=True),
    Dimension("month", "Month", "The calendar month of the sale.", time=True),
    Dimension("quarter", "Quarter", "The calendar quarter of the sale.", time=True),
    Dimension("year", "Year", "The calendar year of the sale.", time=True),
    Dimension("category", "Category", "The product's category."),
    Dimension("product", "Product", "The product's name (or code when it has no name)."),
    Dimension("region", "Region", "Region, country, store or dealer of the sale."),
    Dimension("channel", "Channel", "Where the sale was made: online, store, phone..."),
    Dimension("customer", "Customer", "The customer's id."),
    Dimension("segment", "Customer segment", "The customer's segment from the latest analysis."),
    Dimension("rfm_group", "RFM group", "The customer's recency-frequency-spend group from the latest analysis."),
)}

TIME_DIMENSIONS = tuple(name for name, d in DIMENSIONS.items() if d.time)
EXTRA = "extra:"  # a dimension named after one of the company's own columns: "extra:vin"
PRESETS = ("last_7_days", "last_30_days", "last_90_days", "last_365_days", "month_to_date", "quarter_to_date",
           "year_to_date", "previous_month", "previous_quarter", "previous_year", "all")
EVENTS = ("black_friday", "cyber_monday", "christmas", "easter", "mothers_day", "valentines_day")
COMPARE_MODES = ("previous_period", "previous_year", "same_weekday", "event")
WEEK_STARTS = ("monday", "sunday")
MAX_VALUES = 1000

def _date_text(value: object) -> object:
    """Dates come as ``YYYY-MM-DD`` text; a number is not read as days since 1970."""
    if not isinstance(value, str | date):
        raise ValueError("write dates as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_date_text)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Value = Annotated[str, StringConstraints(max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DateRange(Body):
    """A preset relative to the latest sale, or days from ``start`` to ``end`` (both included)."""

    preset: Literal[PRESETS] | None = None  # type: ignore[valid-type]
    start: IsoDate | None = None
    end: IsoDate | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> DateRange:
        if self.preset and (self.start or self.end):
            raise ValueError("give either a preset or start/end dates, not both")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"the range runs backwards: start {self.start} is after end {self.end}")
        return self


class Condition(Body):
    """Keep (``in``) or drop (``not_in``) the sales whose ``field`` is one of ``values``."""

    field: Name
    op: Literal["in", "not_in"] = "in"
    values: list[Value] = Field(min_length=1, max_length=MAX_VALUES)


class Having(Body):
    """Keep the answer's rows whose ``measure`` lies between ``min`` and ``max`` (both included)."""

    measure: Name
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Having:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        for bound in (self.min, self.max):
            if bound is not None and not math.isfinite(bound):
                raise ValueError("bounds must be finite numbers")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Compare(Body):
    """What each row is compared with: the period before, the same dates a year earlier, a year earlier on the
    same weekday (364 days), or a year earlier aligned on a named ``event`` such as Black Friday."""

    mode: Literal[COMPARE_MODES]  # type: ignore[valid-type]
    event: Literal[EVENTS] | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _event(self) -> Compare:
        if (self.mode == "event") != (self.event is not None):
            raise ValueError("name an event exactly when mode is 'event'")
        return self


class Sort(Body):
    field: Name
    direction: Literal["asc", "desc"] = "desc"


class Filters(Body):
    """What every Explore request narrows by: dates and dimension values."""

    date: DateRange | None = None
    filters: list[Condition] = Field(default_factory=list, max_length=20)
    week_start: Literal[WEEK_STARTS] = Field(  # type: ignore[valid-type]
        default="monday", description="the first day of a `week` bucket; left out: the caller's saved preference "
                                  "(`GET /me/preferences`), Monday when never saved")

    @field_validator("filters")
    @classmethod
    def _distinct_fields(cls, conditions: list[Condition]) -> list[Condition]:
        fields = [(c.field, c.op) for c in conditions]
        if len(set(fields)) != len(fields):
            raise ValueError("each field and op may appear once; put all values in one list")
        return conditions


class ExploreQuery(Filters):
    """``POST /explore``: measures split by up to two dimensions, filtered, sorted, top-N, compared."""

    measures: list[Name] = Field(min_length=1, max_length=11)
    dimensions: list[Name] = Field(default_factory=list, max_length=2)
    having: list[Having] = Field(default_factory=list, max_length=11)
    compare: Compare | None = None
    sort: list[Sort] = Field(default_factory=list, max_length=3)
    limit: int = Field(default=500, ge=1, le=5000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    other: bool = Field(default=False, description="add an 'everything else' row beyond the top `limit` values")

    @model_validator(mode="after")
    def _shape(self) -> ExploreQuery:
        for name, items in (("measures", self.measures), ("dimensions", self.dimensions)):
            if len(set(items)) != len(items):
                raise ValueError(f"{name} are listed twice")
        if self.other and self.offset:
            raise ValueError("'other' gives the top values and everything else in one page; drop offset")
        return self


class RowsQuery(Filters):
    """``POST /explore/rows``: the order lines behind a cell (its filters), newest first, paged or as CSV."""

    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    format: Literal["json", "csv"] = "json"
