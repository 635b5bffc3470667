"""Query results turned into Explore answers: JSON rows, comparisons with deltas, and empty results in words."""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

from chalicelib.explore import dates
from chalicelib.explore.dates import Span
from chalicelib.explore.profile import dimension
from chalicelib.query.explore_model import EXTRA, MEASURES, TIME_DIMENSIONS, Condition, ExploreQuery

_PHRASES = {"category": "of {}", "product": "of {}", "region": "in {}", "channel": "through {}",
            "customer": "to customer {}", "segment": "to customers in segment {}", "rfm_group": "to customers in {}",
            "day": "on {}", "week": "in the week of {}", "month": "in the month of {}",
            "quarter": "in the quarter starting {}", "year": "in the year starting {}"}


def tidy(frame: pd.DataFrame, dimensions: list[str]) -> pd.DataFrame:
    """Time buckets as ``YYYY-MM-DD`` text; numbers as floats."""
    frame = frame.copy()
    for name in dimensions:
        if name in TIME_DIMENSIONS:
            frame[name] = pd.to_datetime(frame[name]).dt.strftime("%Y-%m-%d")
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def records(frame: pd.DataFrame, columns: list[str], money: set[str] = frozenset()) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts: NaN and infinities become null, timestamps ISO text, numpy scalars Python;
    the ``money`` columns to cents (sums of floats otherwise show as 4488740.220004)."""
    frame = frame[columns].round({name: 2 for name in money if name in columns})
    return [{name: _json(value) for name, value in zip(columns, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]


def _json(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        number = float(value)
        return round(number, 6) if math.isfinite(number) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    return value


def compared(current: pd.DataFrame, previous: pd.DataFrame, query: ExploreQuery,
             offset: relativedelta | Any) -> pd.DataFrame:
    """``current`` with ``<m>_previous``, ``<m>_change`` and ``<m>_change_pct`` (a fraction) per measure.

    The previous period's time buckets are moved onto the current ones by ``offset``, then rows meet on every
    dimension; a row with no counterpart compares with nothing (null), not with zero.
    """
    keys = list(query.dimensions)
    previous = previous[[*keys, *query.measures]].copy()
    for grain in keys:
        if grain in TIME_DIMENSIONS:
            previous[grain] = dates.move(previous[grain], offset, grain, query.week_start)
    if keys:
        previous = previous.groupby(keys, as_index=False, dropna=False).sum(min_count=1)
        merged = current.merge(previous, on=keys, how="left", suffixes=("", "_previous"))
    else:
        merged = current.assign(**{f"{m}_previous": previous[m].iloc[0] if len(previous) else np.nan
                                   for m in query.measures})
    for name in query.measures:
        now, before = merged[name].astype(float), merged[f"{name}_previous"].astype(float)
        merged[f"{name}_change"] = now - before
        merged[f"{name}_change_pct"] = (now - before) / before.abs().where(before != 0)
    return merged


def money_columns(query: ExploreQuery) -> set[str]:
    """The answer's amounts in the sales' currency (and their previous values and changes)."""
    amounts = [m for m in query.measures if MEASURES[m].unit == "currency"]
    return {*amounts, *(f"{m}_previous" for m in amounts), *(f"{m}_change" for m in amounts)}


def columns(query: ExploreQuery) -> list[dict[str, Any]]:
    """The answer's columns in order, with labels and units for display."""
    out = [{"name": d, "kind": "dimension", "label": dimension(d).label} for d in query.dimensions]
    for name in query.measures:
        measure = MEASURES[name]
        out.append({"name": name, "kind": "measure", "label": measure.label, "unit": measure.unit})
        if query.compare:
            out += [{"name": f"{name}_previous", "kind": "previous", "label": f"{measure.label} before",
                     "unit": measure.unit},
                    {"name": f"{name}_change", "kind": "change", "label": f"{measure.label} change",
                     "unit": measure.unit},
                    {"name": f"{name}_change_pct", "kind": "change_pct", "label": f"{measure.label} change %",
                     "unit": "share"}]
    return out


def nothing_found(conditions: list[Condition], span: Span, having: bool = False) -> str:
    """Why an answer is empty, in words: "No sales of Tents in North between 1 Mar 2025 and 31 Mar 2025."."""
    parts = []
    for condition in conditions:
        listed = _either(condition.values)
        field = condition.field.removeprefix(EXTRA)
        phrase = _PHRASES.get(condition.field, "with " + field + " {}").format(listed)
        parts.append(phrase if condition.op == "in" else f"(excluding {field} {listed})")
    text = " ".join(["No sales", *parts, span.words()]) + "."
    if having:
        text = text[:-1] + " within the measure limits you set."
    return text


def _either(values: list[str]) -> str:
    shown = [str(v) for v in values[:3]]
    more = len(values) - len(shown)
    if more:
        return ", ".join(shown) + f" or {more} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
