"""What one company's data offers Explore: its dates, currencies, and the fields its sales actually have."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from chalicelib import errors
from chalicelib.query.explore_model import (
    DIMENSIONS,
    EXTRA,
    MEASURES,
    TIME_DIMENSIONS,
    Dimension,
    ExploreQuery,
    Filters,
)

_CUSTOMER_MEASURES = {"customers", "revenue_per_customer", "new_customers", "repeat_rate"}


@dataclass(frozen=True)
class Profile:
    first_day: date | None
    last_day: date | None
    lines: int
    batches: int
    currencies: tuple[str, ...]
    known_values: dict[str, int] = field(default_factory=dict)  # field → distinct known values
    customers: int = 0
    traffic_days: int = 0
    segments: int = 0
    rfm_groups: int = 0
    extras: tuple[str, ...] = ()  # the company's own columns

    @property
    def extra_dimensions(self) -> list[str]:
        return [EXTRA + name for name in self.extras]

    @property
    def currency(self) -> str | None:
        """The sales' one currency; None when none is recorded or several are mixed."""
        return self.currencies[0] if len(self.currencies) == 1 else None

    def dimensions(self) -> list[str]:
        if not self.lines:
            return []
        have = {**self.known_values, "customer": self.customers, "segment": self.segments,
                "rfm_group": self.rfm_groups}
        return [*TIME_DIMENSIONS, *(name for name in DIMENSIONS if name not in TIME_DIMENSIONS and have.get(name)),
                *self.extra_dimensions]

    def measures(self) -> list[str]:
        if not self.lines:
            return []
        lacking = (set() if self.customers else _CUSTOMER_MEASURES) | (set() if self.traffic_days else {"conversion"})
        return [name for name in MEASURES if name not in lacking]

    def fields(self) -> dict[str, Any]:
        """``GET /explore/fields``: what can be asked, each with its plain-words definition."""
        return {"measures": [{"name": m.name, "label": m.label, "unit": m.unit, "definition": m.definition}
                             for m in (MEASURES[name] for name in self.measures())],
                "dimensions": [{"name": d.name, "label": d.label, "definition": d.definition, "time": d.time}
                               for d in (dimension(name) for name in self.dimensions())],
                "date_range": self.date_range(), "currency": self.currency, "currencies": list(self.currencies),
                "lines": self.lines, "batches": self.batches}

    def date_range(self) -> dict[str, str | None]:
        return {"start": self.first_day.isoformat() if self.first_day else None,
                "end": self.last_day.isoformat() if self.last_day else None}

    def check(self, question: Filters) -> None:
        """Refuse names this company's data lacks, listing the ones it has (400 with details)."""
        dimensions, measures = self.dimensions(), self.measures()
        problems: list[dict[str, Any]] = []

        def expect(value: str, where: str, valid: list[str]) -> None:
            if value not in valid:
                problems.append({"field": where, "problem": f"'{value}' is not available for your data",
                                 "valid": valid})

        for i, condition in enumerate(question.filters):
            expect(condition.field, f"filters.{i}.field", dimensions)
        if isinstance(question, ExploreQuery):
            for i, name in enumerate(question.measures):
                expect(name, f"measures.{i}", measures)
            for i, name in enumerate(question.dimensions):
                expect(name, f"dimensions.{i}", dimensions)
            for i, having in enumerate(question.having):
                expect(having.measure, f"having.{i}.measure", measures)
            for i, sort in enumerate(question.sort):
                expect(sort.field, f"sort.{i}.field", [*question.dimensions, *question.measures])
            if "conversion" in question.measures and not problems:
                self._check_conversion(question, problems)
        if problems:
            names = ", ".join(p["field"] for p in problems)
            raise errors.ValidationFailed(f"Some names are not available for your company's data ({names}); "
                                          "details list the valid ones. GET /explore/fields shows them all.",
                                          problems)

    @staticmethod
    def _check_conversion(question: ExploreQuery, problems: list[dict[str, Any]]) -> None:
        """Visits are counted per day for the whole company, so conversion splits by time only."""
        fields = set(question.dimensions) | {c.field for c in question.filters}
        if fields - set(TIME_DIMENSIONS):
            problems.append({"field": "measures", "problem": "conversion can be split and filtered by time only, "
                             "because visits are recorded per day, not per product, region or channel",
                             "valid": list(TIME_DIMENSIONS)})


def dimension(name: str) -> Dimension:
    """A catalogue dimension, or one of the company's own columns (``extra:<name>``)."""
    if name.startswith(EXTRA):
        column = name.removeprefix(EXTRA)
        return Dimension(name, column, f"Your own column '{column}', as you uploaded it.")
    return DIMENSIONS[name]


def from_frames(profile: pd.DataFrame, facts: pd.DataFrame, currencies: pd.DataFrame, batches: int,
                extras: list[str] = ()) -> Profile:
    """A :class:`Profile` from the answers of the profile, company-facts and currency queries."""
    row = profile.iloc[0]
    extra = facts.iloc[0]

    def day(value: Any) -> date | None:
        return None if pd.isna(value) else pd.Timestamp(value).date()

    def count(value: Any) -> int:
        return 0 if pd.isna(value) else int(value)

    return Profile(first_day=day(row["first_day"]), last_day=day(row["last_day"]), lines=count(row["lines"]),
                   batches=batches, currencies=tuple(str(c) for c in currencies["currency"]),
                   known_values={name: count(row[name]) for name in ("category", "product", "region", "channel")},
                   customers=count(extra["customers"]), traffic_days=count(extra["traffic_days"]),
                   segments=count(extra["segments"]), rfm_groups=count(extra["rfm_groups"]), extras=tuple(extras))
