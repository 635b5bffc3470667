"""The dashboard's headline numbers, each compared with the previous period and the same period last year.

Pure: frames in, frames out. Inputs (all from ``chalicelib/query/aggregates``):

* ``daily`` (``daily.sql``): one row per day with sales - date, revenue, orders, units, customers,
  new_customers, returning_customers; optional returns (returned amount, positive) and visits (traffic, for
  the conversion rate). Missing days count as days without sales.
* ``products`` (optional, ``product_revenue.sql``): product_id, revenue (+ product_name, category, units...),
  for the top-products table and the Pareto share.
* ``window_customers`` (optional, ``period_customers.sql`` run once per window from :func:`windows`): rows
  indexed by window name ("current", "previous", "last_year") with customers, new_customers,
  repeat_customers. Distinct customers over a period cannot be added up from daily rows (one customer buys on
  several days), so without it "customers" is the sum of daily buyers and is labelled so.

A period is the last ``period_days`` days up to ``end`` (default: the last day with data), or a calendar month
("2025-06"). The previous period is the same length just before it; last year is the same dates a year earlier.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from chalicelib.money import money

WINDOWS = ("current", "previous", "last_year")
KPI_COLUMNS = ["kpi", "label", "value", "previous", "change_vs_previous", "last_year", "change_vs_last_year",
               "unit", "note"]


@dataclass(frozen=True)
class KpiReport:
    """``kpis``: one row per KPI (KPI_COLUMNS; changes are fractions, NaN when there is nothing to compare).
    ``series``: the current window day by day (date + one column per KPI), for sparklines.
    ``windows``: name -> (first day, day after the last). ``pareto_share``: share of revenue from the top 20 %
    of products. ``summary``: one sentence for the top of the dashboard."""

    kpis: pd.DataFrame
    series: pd.DataFrame
    windows: dict[str, tuple[pd.Timestamp, pd.Timestamp]]
    pareto_share: float | None
    top_products: pd.DataFrame | None
    summary: str


def windows(end, period_days: int = 30, month: str | None = None) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The current, previous and last-year windows as (first day, day after the last day)."""
    if month is not None:
        start = pd.Period(month, freq="M").start_time.normalize()
        stop = start + pd.offsets.MonthBegin(1)
        previous = (start - pd.offsets.MonthBegin(1), start)
    else:
        if period_days < 1:
            raise ValueError("period_days must be at least 1")
        stop = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
        start = stop - pd.Timedelta(days=period_days)
        previous = (start - pd.Timedelta(days=period_days), start)
    year = pd.DateOffset(years=1)
    return {"current": (start, stop), "previous": previous, "last_year": (start - year, stop - year)}


def _totals(daily: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp], first_day: pd.Timestamp,
            customers: pd.Series | None) -> dict[str, float] | None:
    """Sums and ratios over one window; None when the data does not reach back that far."""
    start, stop = window
    if start < first_day:
        return None
    rows = daily[(daily["date"] >= start) & (daily["date"] < stop)]
    total = {column: float(rows[column].sum()) for column in daily.columns if column != "date"}
    if customers is not None:
        total.update(customers=float(customers["customers"]), new_customers=float(customers["new_customers"]),
                     returning_customers=float(customers["customers"] - customers["new_customers"]),
                     repeat_rate=_ratio(customers["repeat_customers"], customers["customers"]))
    else:
        total["repeat_rate"] = _ratio(total["returning_customers"], total["customers"])
    total["aov"] = _ratio(total["revenue"], total["orders"])
    total["revenue_per_customer"] = _ratio(total["revenue"], total["customers"])
    total["units_per_order"] = _ratio(total["units"], total["orders"])
    if "visits" in total:
        total["conversion_rate"] = _ratio(total["orders"], total["visits"])
    if "returns" in total:
        total["return_rate"] = _ratio(total["returns"], total["revenue"])
    return total


def _ratio(top: float, bottom: float) -> float:
    return float(top) / float(bottom) if bottom else np.nan


def _change(now: float, before: float | None) -> float:
    if before is None or not np.isfinite(before) or before == 0 or not np.isfinite(now):
        return np.nan
    return (now - before) / abs(before)


def _definitions(exact_customers: bool) -> list[tuple[str, str, str, str]]:
    """(kpi, label, unit, note) in display order."""
    buyers = "" if exact_customers else "Sum of each day's buyers: a customer buying on two days counts twice."
    return [
        ("revenue", "Revenue", "currency", "Purchases only; returns are shown separately."),
        ("orders", "Orders", "count", ""),
        ("units", "Units sold", "count", ""),
        ("aov", "Average order value", "currency", "Revenue divided by orders."),
        ("customers", "Unique customers" if exact_customers else "Buying customers (per day, summed)", "count",
         buyers),
        ("revenue_per_customer", "Revenue per customer", "currency", buyers),
        ("repeat_rate", "Repeat-purchase rate", "share",
         "Customers who had bought before or bought twice in the period." if exact_customers
         else "Share of daily buyers who had bought before."),
        ("new_customers", "New customers", "count", "First purchase ever."),
        ("returning_customers", "Returning customers", "count", buyers),
        ("units_per_order", "Units per order", "ratio", ""),
        ("conversion_rate", "Conversion rate", "share", "Orders divided by visits."),
        ("returns", "Returns", "currency", "Value of goods returned in the period."),
        ("return_rate", "Return rate", "share", "Returns as a share of revenue."),
    ]


def compute(daily: pd.DataFrame, period_days: int = 30, month: str | None = None, end=None,
            products: pd.DataFrame | None = None, window_customers: pd.DataFrame | None = None,
            top_n: int = 10, currency: str | None = None) -> KpiReport:
    """The KPI set for the period ending ``end`` (or the calendar ``month``), with changes and sparklines;
    ``currency`` (an ISO code) is how the summary sentence writes revenue."""
    daily = daily.assign(date=pd.to_datetime(daily["date"]).dt.normalize())
    numeric = [c for c in daily.columns if c != "date"]
    daily = daily.groupby("date", as_index=False)[numeric].sum().sort_values("date")
    if daily.empty:
        raise ValueError("There are no sales yet: upload transactions to see your KPIs.")
    spans = windows(end if end is not None else daily["date"].max(), period_days, month)
    first_day = daily["date"].min()
    exact = window_customers is not None
    totals = {name: _totals(daily, span, first_day if name != "current" else span[0],
                            window_customers.loc[name] if exact and name in window_customers.index else None)
              for name, span in spans.items()}
    current = totals["current"]
    rows = []
    for kpi, label, unit, note in _definitions(exact):
        if kpi not in current:
            continue
        previous = totals["previous"].get(kpi) if totals["previous"] else None
        last_year = totals["last_year"].get(kpi) if totals["last_year"] else None
        rows.append({"kpi": kpi, "label": label, "value": current[kpi], "previous": previous,
                     "change_vs_previous": _change(current[kpi], previous), "last_year": last_year,
                     "change_vs_last_year": _change(current[kpi], last_year), "unit": unit, "note": note})
    table = pd.DataFrame(rows, columns=KPI_COLUMNS)
    share, top = _pareto(products, top_n)
    return KpiReport(table, _series(daily, spans["current"]), spans, share, top,
                     _summary(table, spans, month is not None, currency))


def _series(daily: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """Day-by-day values over the current window, days without sales as 0, for sparklines."""
    days = pd.date_range(window[0], window[1] - pd.Timedelta(days=1), freq="D")
    frame = daily.set_index("date").reindex(days, fill_value=0).rename_axis("date").reset_index()
    frame["aov"] = frame["revenue"] / frame["orders"].where(frame["orders"] > 0)
    if "visits" in frame:
        frame["conversion_rate"] = frame["orders"] / frame["visits"].where(frame["visits"] > 0)
    return frame


def pareto_share(products: pd.DataFrame, top_share: float = 0.2) -> float | None:
    """Share of revenue from the best ``top_share`` of products (at least one product)."""
    revenue = products["revenue"].clip(lower=0).sort_values(ascending=False)
    revenue = revenue[revenue > 0]
    if revenue.empty:
        return None
    top = max(1, int(np.ceil(top_share * len(revenue))))
    return float(revenue.iloc[:top].sum() / revenue.sum())


def _pareto(products: pd.DataFrame | None, top_n: int) -> tuple[float | None, pd.DataFrame | None]:
    if products is None or products.empty:
        return None, None
    top = products.sort_values("revenue", ascending=False).head(top_n).reset_index(drop=True)
    top["share_of_revenue"] = top["revenue"] / products["revenue"].clip(lower=0).sum()
    return pareto_share(products), top


def _summary(table: pd.DataFrame, spans: dict, is_month: bool, currency: str | None) -> str:
    revenue = table.set_index("kpi").loc["revenue"]
    start, stop = spans["current"]
    last = stop - pd.Timedelta(days=1)
    period = f"in {start:%B %Y}" if is_month else f"in the {(stop - start).days} days to {last:%d %b %Y}"
    parts = [f"Revenue was {money(revenue['value'], currency)} {period}"]
    for column, against in (("change_vs_previous", "the period before"), ("change_vs_last_year", "a year earlier")):
        change = revenue[column]
        if np.isfinite(change):
            parts.append(f"{'up' if change >= 0 else 'down'} {abs(change):.0%} on {against}")
    return ", ".join(parts) + "."
