"""Steps over the daily series: KPIs, trend charts, seasonality, forecast and its monitoring, anomalies."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chalicelib.analytics import anomalies, forecast, insights, kpis
from chalicelib.analytics.timeseries import FREQ_NAMES, as_daily, decompose, resample
from jobs.steps.base import Output, Skip, notes

METRICS = ("revenue", "orders", "units")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def daily_frame(state: Any) -> pd.DataFrame:
    """``daily.sql`` with dates as timestamps, plus visits when traffic is linked (days without sales as 0)."""
    daily = state.frame("daily").assign(date=lambda f: pd.to_datetime(f["date"]).dt.normalize())
    traffic = state.frame("traffic_daily")
    if traffic is not None and not traffic.empty:
        visits = traffic.assign(date=pd.to_datetime(traffic["date"]).dt.normalize()).groupby("date")["visits"].sum()
        daily = daily.merge(visits.reset_index(), on="date", how="outer").fillna(0).sort_values("date")
    return daily.reset_index(drop=True)


def revenue_series(state: Any) -> pd.Series:
    """Daily purchase revenue, one entry per calendar day from the first sale to the last."""
    daily = daily_frame(state)
    return as_daily(daily.set_index("date")["revenue"].rename("revenue"))


# ------------------------------------------------------------------------------------------------- KPIs ----
def _window_customers(state: Any) -> pd.DataFrame | None:
    rows = {}
    for window in kpis.WINDOWS:
        frame = state.frame(f"customers_{window}")
        if frame is not None and not frame.empty:
            rows[window] = frame.iloc[0][["customers", "new_customers", "repeat_customers"]].astype(float)
    return pd.DataFrame(rows).T if "current" in rows else None


def kpis_step(state: Any) -> Output:
    """Headline numbers against the previous period and last year, and which categories and regions moved."""
    daily = daily_frame(state)
    report = kpis.compute(daily, period_days=state.config.period_days, products=state.frame("products_current"),
                          window_customers=_window_customers(state), currency=state.facts.currency)
    drivers = insights.change_drivers(state.frame("daily_by_dimension"), report.windows["current"],
                                      report.windows["previous"])
    meta = {"summary": report.summary, "period_days": state.config.period_days,
            "windows": {name: [start, stop] for name, (start, stop) in report.windows.items()},
            "pareto_share": report.pareto_share, "top_products": report.top_products, "drivers": drivers,
            "series": report.series, "currency": state.facts.currency}
    return Output({"kpis": (report.kpis, meta)})


# ----------------------------------------------------------------------------------------------- trends ----
def _periods(days: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """Each day's period label: the day, its week's Monday or its month's 1st (as :func:`resample` labels)."""
    if freq == "D":
        return days
    return days.to_period("W-SUN" if freq == "W" else "M").start_time


def _complete(total: pd.Series) -> dict[str, pd.DatetimeIndex]:
    """The complete days, weeks and months of the total series: partial edges are left out of every series."""
    return {freq: resample(total, freq).index for freq in ("D", "W", "M")}


def _long(wide: pd.DataFrame, complete: dict[str, pd.DatetimeIndex], dimension: str) -> list[pd.DataFrame]:
    """Daily rows (date, value, metrics...) on a full grid → one frame per frequency, summed per period."""
    parts = []
    for freq, kept in complete.items():
        grouped = wide.assign(date=_periods(pd.DatetimeIndex(wide["date"]), freq)).groupby(
            ["value", "date"], as_index=False, observed=True).sum(numeric_only=True)
        grouped = grouped[grouped["date"].isin(kept)]
        parts.append(grouped.assign(freq=FREQ_NAMES[freq], dimension=dimension))
    return parts


def timeseries_step(state: Any) -> Output:
    """Revenue, orders and units by day, week and month: the total and the top categories, products, regions."""
    daily = daily_frame(state)
    days = pd.date_range(daily["date"].min(), daily["date"].max(), freq="D")
    total = daily.set_index("date").reindex(days, fill_value=0).rename_axis("date").reset_index()
    complete = _complete(total.set_index("date")["revenue"])
    columns = [c for c in (*METRICS, "visits") if c in total]  # daily buyers do not add up to weeks
    parts = _long(total[["date", *columns]].assign(value="All"), complete, "total")
    breakdown = state.frame("daily_by_dimension")
    config = state.config
    for dimension, top in (("category", config.top_categories), ("product", config.top_products),
                           ("region", config.top_regions)):
        part = breakdown[breakdown["dimension"] == dimension]
        if part.empty:
            continue
        best = part.groupby("value")["revenue"].sum().nlargest(top).index
        part = part[part["value"].isin(best)].assign(date=lambda f: pd.to_datetime(f["date"]).dt.normalize())
        grid = pd.MultiIndex.from_product([best, days], names=["value", "date"])
        full = part.groupby(["value", "date"])[list(METRICS)].sum().reindex(grid, fill_value=0).reset_index()
        parts += _long(full, complete, dimension)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[["freq", "dimension", "value", "date", *[c for c in frame.columns if c in columns]]]
    meta = {"metrics": columns, "dimensions": sorted(frame["dimension"].unique().tolist()),
            "note": "Incomplete first and last weeks and months are left out so they do not look like slumps."}
    return Output({"timeseries": (frame.reset_index(drop=True), meta)})


# ------------------------------------------------------------------------------------------ seasonality ----
def _weekday_pattern(decomposition) -> list[dict[str, Any]]:
    """Each weekday's usual effect as a share of an average day, from the weekly seasonal component."""
    frame = decomposition.frame
    level = float(frame["trend"].mean())
    if not decomposition.periods or not np.isfinite(level) or level <= 0:
        return []
    effect = frame.groupby(pd.to_datetime(frame["date"]).dt.day_of_week)["seasonal"].mean() / level
    return [{"weekday": WEEKDAYS[int(day)], "effect": round(float(value), 4)} for day, value in effect.items()]


def _describe(decomposition) -> dict[str, Any]:
    from chalicelib.analytics.timeseries import describe

    return {"periods": list(decomposition.periods), "seasonal_strength": decomposition.seasonal_strength,
            "skip_reason": decomposition.skip_reason, "description": describe(decomposition)}


def decomposition_step(state: Any) -> Output:
    """Trend and seasonal pattern of daily revenue (weekly cycle) and weekly revenue (yearly cycle)."""
    series = revenue_series(state)
    by_day = decompose(series, "D", smooth=True)
    parts, meta = [by_day.frame.assign(freq="day")], {"day": _describe(by_day)}
    meta["weekday_pattern"] = _weekday_pattern(by_day)
    weekly = resample(series, "W")
    yearly_note = None
    if len(weekly):
        by_week = decompose(weekly, "W")
        parts.append(by_week.frame.assign(freq="week"))
        meta["week"] = _describe(by_week)
        yearly_note = by_week.skip_reason
    frame = pd.concat(parts, ignore_index=True)[["freq", "date", "observed", "trend", "seasonal", "resid"]]
    return Output({"decomposition": (frame, meta)}, note=notes(by_day.skip_reason, yearly_note))


# --------------------------------------------------------------------------------------------- forecast ----
def forecast_series(state: Any) -> list[tuple[str, str, pd.Series]]:
    """Daily revenue to forecast: the total, then the top ``forecast_top`` categories and regions (a dimension
    with a single value would only repeat the total, so it is left out)."""
    total = revenue_series(state)
    series = [("total", "All", total)]
    breakdown = state.frame("daily_by_dimension")
    if not state.config.forecast_top or breakdown is None or breakdown.empty:
        return series
    for dimension in ("category", "region"):
        part = breakdown[(breakdown["dimension"] == dimension) & (breakdown["value"] != "(unknown)")]
        revenue = part.groupby("value")["revenue"].sum()
        if len(revenue) < 2:
            continue
        dates = pd.to_datetime(part["date"]).dt.normalize()
        for value in revenue.nlargest(state.config.forecast_top).index:
            rows = part["value"] == value
            daily = part.loc[rows, "revenue"].groupby(dates[rows]).sum().reindex(total.index, fill_value=0.0)
            series.append((dimension, str(value), daily.rename("revenue")))
    return series


def _forecast_summary(result: forecast.ForecastResult, series: pd.Series) -> dict[str, Any]:
    """The figures a reader needs beside the chart: the model, its accuracy and the change it foresees."""
    recent = resample(series, result.freq).tail(result.horizon)
    total, before = float(result.forecast["forecast"].sum()), float(recent.sum())
    return {"model": result.model, "model_label": forecast.LABELS.get(result.model, result.model),
            "accuracy": result.accuracy, "freq": result.freq, "unit": FREQ_NAMES[result.freq],
            "horizon": result.horizon, "seasonal_period": result.period, "seasonal_periods": list(result.periods),
            "coverage_80": result.coverage.get(80), "coverage_95": result.coverage.get(95),
            "forecast_total": total, "recent_total": before,
            "change_vs_recent": total / before - 1 if before > 0 and len(recent) == result.horizon else None}


def forecast_step(state: Any) -> Output:
    """Revenue forecasts for the total and the top categories and regions, each from the model that did best
    in its own backtest; the comparisons go to model_comparison. ``meta`` describes the total (as before) and
    lists every series under ``series``."""
    config = state.config
    frames, comparisons, summaries, skipped = [], [], [], []
    for dimension, value, series in forecast_series(state):
        result = forecast.forecast(series, freq=config.forecast_freq, horizon=config.forecast_horizon)
        if result.skip_reason:
            if dimension == "total":
                raise Skip(result.skip_reason)
            skipped.append(f"{value}: {result.skip_reason}")
            continue
        summary = _forecast_summary(result, series)
        summaries.append({"dimension": dimension, "value": value, **summary})
        frames.append(result.forecast.assign(dimension=dimension, value=value, freq=summary["unit"],
                                             model=result.model))
        comparisons.append(result.comparison.assign(task="forecast", series=f"{dimension}: {value}",
                                                    label=result.comparison["model"].map(forecast.LABELS)))
    meta = {**{k: v for k, v in summaries[0].items() if k not in ("dimension", "value")}, "series": summaries}
    frame = pd.concat(frames, ignore_index=True)
    first = ["dimension", "value", "date"]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    forecast_for = ", ".join("the total" if s["dimension"] == "total" else s["value"] for s in summaries)
    return Output({"forecast": (frame, meta), "model_comparison": (pd.concat(comparisons, ignore_index=True), {})},
                  note=notes(f"Forecasts for {forecast_for}.", *skipped))


def forecast_accuracy_step(state: Any) -> Output:
    """How the previous published run's forecast compares with what has happened since, including the share of
    actuals inside its 80 % and 95 % ranges (``coverage_80``, ``coverage_95`` in the meta)."""
    previous = state.previous("forecast")
    if previous is None:
        raise Skip("No earlier analysis with a forecast to check yet: forecast accuracy shows from the next run on.")
    frame, meta, run_id = previous
    if "dimension" in frame:  # the accuracy reported is the total's
        frame = frame[frame["dimension"] == "total"]
    if frame.empty:
        raise Skip("The previous analysis made no forecast, so there is nothing to check.")
    freq = meta.get("freq") or state.config.forecast_freq
    actuals = resample(revenue_series(state), freq)
    result = forecast.monitor(frame, actuals)
    if not result["compared"]:
        raise Skip(f"{result['message']} Forecast accuracy shows once a forecast {FREQ_NAMES[freq]} is complete.")
    table = result.pop("table")
    table = table.assign(error=table["actual"] - table["forecast"],
                         error_pct=(table["actual"] - table["forecast"]) / table["actual"].where(table["actual"] != 0))
    return Output({"forecast_accuracy": (table, {**result, "previous_run_id": run_id, "freq": freq})})


# -------------------------------------------------------------------------------------------- anomalies ----
def anomalies_step(state: Any) -> Output:
    """Unusual days in revenue, each with the categories, products, regions and channels that made it unusual."""
    series = revenue_series(state)
    found = anomalies.detect(series, currency=state.facts.currency)
    if found.empty:
        return Output({"anomalies": (found.assign(explanation="", top_dimension="", top_value="", top_share=np.nan),
                                     {"explanations": [], "last_day": series.index.max()})},
                      note=f"No unusual days in {len(series):,} days of sales.")
    breakdown = state.frame("daily_by_dimension")
    explained = anomalies.explain(found["date"], breakdown, currency=state.facts.currency)
    leaders = explained[explained["rank"] == 1].assign(date=lambda f: pd.to_datetime(f["date"]))
    # the headline driver: the most concentrated category, product or region (channels are too few to tell much)
    telling = leaders[leaders["dimension"] != "channel"].sort_values("share_of_change", ascending=False)
    top = telling.drop_duplicates("date").set_index("date")
    text = leaders.groupby("date")["description"].agg("; ".join)
    when = pd.to_datetime(found["date"])
    found = found.assign(explanation=when.map(text).fillna("").to_numpy(),
                         top_dimension=when.map(top["dimension"]).fillna("").to_numpy(),
                         top_value=when.map(top["value"]).fillna("").astype(str).to_numpy(),
                         top_share=when.map(top["share_of_change"]).astype(float).to_numpy())
    return Output({"anomalies": (found, {"explanations": explained, "days_checked": len(series),
                                           "last_day": series.index.max()})})
