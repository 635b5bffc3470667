"""Forecasts: model choice by backtest, honest intervals, no negative sales, and graceful skips."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from chalicelib.analytics.forecast import COMPARISON_COLUMNS, FORECAST_COLUMNS, forecast, monitor


def _seasonal_trend(weeks: int = 156, seed: int = 0, noise: float = 40.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    values = 1000 + 4 * t + 250 * np.sin(2 * np.pi * t / 52) + rng.normal(0, noise, weeks)
    return pd.Series(values, index=pd.date_range("2023-01-02", periods=weeks, freq="W-MON"))


@pytest.fixture(scope="module")
def planted():
    series = _seasonal_trend()
    started = time.perf_counter()
    result = forecast(series)
    return series, result, time.perf_counter() - started


def test_chosen_model_beats_seasonal_naive(planted):
    _, result, seconds = planted
    table = result.comparison.set_index("model")
    assert list(result.comparison.columns) == COMPARISON_COLUMNS
    assert {"seasonal_naive", "ets", "arima", "theta", "ensemble"} <= set(table.index)
    chosen, naive = table.loc[result.model, "mase"], table.loc["seasonal_naive", "mase"]
    print(f"\nchosen {result.model}: MASE {chosen:.2f} vs seasonal naive {naive:.2f}, in {seconds:.1f} s")
    assert chosen < 0.8 * naive
    assert table["chosen"].sum() == 1 and table.loc[result.model, "chosen"]
    assert result.period == 52
    assert "typically within ±" in result.accuracy and "per week" in result.accuracy


def test_forecast_shape_and_dates(planted):
    series, result, seconds = planted
    frame = result.forecast
    assert list(frame.columns) == FORECAST_COLUMNS and len(frame) == 12 == result.horizon
    assert frame["date"].iloc[0] == series.index[-1] + pd.Timedelta(weeks=1)
    assert (frame["lower_95"] <= frame["lower_80"]).all() and (frame["lower_80"] <= frame["forecast"]).all()
    assert (frame["forecast"] <= frame["upper_80"]).all() and (frame["upper_80"] <= frame["upper_95"]).all()
    assert seconds < 20  # a few seconds on a quiet machine; generous for a busy CI box


def test_intervals_cover_about_the_right_share():
    inside = {80: [], 95: []}
    for seed in range(5):
        series = _seasonal_trend(seed=100 + seed)
        history, future = series.iloc[:-12], series.iloc[-12:].to_numpy()
        frame = forecast(history, models=("seasonal_naive", "ets", "theta")).forecast
        for level in inside:
            inside[level] += list((future >= frame[f"lower_{level}"]) & (future <= frame[f"upper_{level}"]))
    share = {level: float(np.mean(hits)) for level, hits in inside.items()}
    print(f"\ninterval coverage: {share}")
    assert 0.6 <= share[80] <= 0.97 and share[95] >= 0.8


def test_never_negative_for_a_collapsing_series():
    series = pd.Series(np.linspace(500, 20, 40) + np.random.default_rng(1).normal(0, 15, 40),
                       index=pd.date_range("2024-01-01", periods=40, freq="W-MON")).clip(lower=0)
    frame = forecast(series, models=("seasonal_naive", "ets", "arima", "theta")).forecast
    assert (frame[FORECAST_COLUMNS[1:]] >= 0).all().all()


def test_daily_input_becomes_weekly_and_monthly():
    days = pd.date_range("2024-01-01", periods=400, freq="D")
    rng = np.random.default_rng(4)
    daily = pd.Series(100 + 0.1 * np.arange(400) + rng.normal(0, 10, 400), index=days)
    weekly = forecast(daily, models=("seasonal_naive", "ets", "theta"))
    assert weekly.freq == "W" and len(weekly.forecast) == 12
    monthly = forecast(daily, freq="M", models=("seasonal_naive", "ets", "theta"))
    assert len(monthly.forecast) == 3 and monthly.forecast["date"].dt.is_month_start.all()
    assert "per month" in monthly.accuracy


@pytest.mark.parametrize("points,freq", [(0, "W"), (1, "D"), (3, "D"), (3, "W"), (20, "W")])
def test_tiny_series_skip_with_a_reason(points, freq):
    series = pd.Series(np.arange(points, dtype=float) + 1, index=pd.date_range("2024-01-01", periods=points))
    result = forecast(series, freq=freq)
    assert result.skip_reason and "at least" in result.skip_reason
    assert result.forecast.empty and result.comparison.empty


def test_monitor_reports_how_last_forecast_did(planted):
    series, _, _ = planted
    previous = forecast(series.iloc[:-6], models=("seasonal_naive", "ets")).forecast
    report = monitor(previous, series)
    assert report["compared"] == 6 and 0 <= report["within_80"] <= 6
    assert report["mape"] < 0.2 and "6 period(s)" in report["message"]
    assert monitor(previous, series.iloc[:10])["compared"] == 0
