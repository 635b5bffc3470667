"""Forecasts: model choice by backtest, calibrated intervals, every frequency, no negative sales, graceful skips."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from chalicelib.analytics.forecast import COMPARISON_COLUMNS, FORECAST_COLUMNS, LABELS, forecast, monitor


def _seasonal_trend(weeks: int = 156, seed: int = 0, noise: float = 40.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    values = 1000 + 4 * t + 250 * np.sin(2 * np.pi * t / 52) + rng.normal(0, noise, weeks)
    return pd.Series(values, index=pd.date_range("2023-01-02", periods=weeks, freq="W-MON"))


def _monthly(months: int = 72, seed: int = 0) -> pd.Series:
    """A shop's months: trend, a December peak and a summer dip in proportion to the level, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    pattern = np.array([0.8, 0.85, 0.95, 1.0, 1.0, 0.9, 0.85, 0.9, 1.0, 1.05, 1.2, 1.5])
    values = (500 + 5 * t) * pattern[t % 12] * np.exp(rng.normal(0, 0.05, months))
    return pd.Series(values, index=pd.date_range("2019-01-01", periods=months, freq="MS"))


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
    assert {"seasonal_naive", "ets", "theta", "mstl", "mstl_log", "ensemble"} <= set(table.index)
    assert set(table.index) <= set(LABELS)  # the portal shows a label for every model id
    chosen, naive = table.loc[result.model, "mase"], table.loc["seasonal_naive", "mase"]
    print(f"\nchosen {result.model}: MASE {chosen:.2f} vs seasonal naive {naive:.2f}, in {seconds:.2f} s")
    assert chosen < 0.8 * naive
    assert table["chosen"].sum() == 1 and table.loc[result.model, "chosen"]
    assert result.period == 52 and result.periods == (52,)  # three years with a clear yearly wave
    assert "typically within ±" in result.accuracy and "per week" in result.accuracy
    assert table["coverage_80"].between(0, 1).all() and set(result.coverage) == {80, 95}


def test_forecast_shape_and_dates(planted):
    series, result, seconds = planted
    frame = result.forecast
    assert list(frame.columns) == FORECAST_COLUMNS and len(frame) == 12 == result.horizon
    assert frame["date"].iloc[0] == series.index[-1] + pd.Timedelta(weeks=1)
    assert (frame["lower_95"] <= frame["lower_80"]).all() and (frame["lower_80"] <= frame["forecast"]).all()
    assert (frame["forecast"] <= frame["upper_80"]).all() and (frame["upper_80"] <= frame["upper_95"]).all()
    assert seconds < 20  # well under a second on a quiet machine; generous for a busy CI box


def test_a_yearly_season_needs_two_years_and_a_significant_test():
    short = forecast(_seasonal_trend(weeks=90), models=("seasonal_naive", "ets", "theta", "ensemble"))
    assert short.period is None and short.periods == ()  # under two years of weeks
    rng = np.random.default_rng(5)
    noise = pd.Series(1000 + rng.normal(0, 40, 130), index=pd.date_range("2023-01-02", periods=130, freq="W-MON"))
    assert forecast(noise, models=("seasonal_naive", "ets", "ensemble")).period is None  # two years, no wave


@pytest.mark.parametrize("weeks", [105, 110, 125])
def test_a_series_just_over_two_years_is_tested_on_whole_windows(weeks):
    """Just past two years of weeks the yearly cycle is modelled, and the backtest still has three windows of the
    full horizon (it once tested such a series on one week and printed "within ±0%")."""
    result = forecast(_seasonal_trend(weeks=weeks))
    assert result.period == 52
    assert "tested on the last 36 weeks (3 tests)" in result.accuracy
    assert "±0%" not in result.accuracy


def test_the_accuracy_sentence_never_claims_more_than_the_comparison_table_shows():
    """The ensemble may be chosen over a single model up to 10 % better: then the sentence names that model
    instead of calling the ensemble the most accurate (the portal shows the table right beside it)."""
    seen = set()
    for seed in range(4):
        result = forecast(_seasonal_trend(weeks=150, seed=seed, noise=120.0))
        best = result.comparison["model"].iloc[0]
        claims_best = "was the most accurate on your past data" in result.accuracy
        assert claims_best == (best == result.model), result.accuracy
        if not claims_best:
            assert LABELS[best].split(" (")[0] in result.accuracy and "under 10%" in result.accuracy
        seen.add(claims_best)
    assert seen == {True, False}  # both wordings were exercised


def test_holt_winters_replays_its_fit_on_a_shorter_history():
    """``forward`` reruns the fitted weights and initial states: on the whole history it gives the fit's own
    forecast, and its range widens with the horizon like the state space model's."""
    from chalicelib.analytics.forecast_candidates import HoltWinters

    rng = np.random.default_rng(3)
    t = np.arange(48)
    z = 100 + 2 * t + 10 * np.array([1.0, -0.5, -1.0, 0.5])[t % 4] + rng.normal(0, 3, 48)
    model = HoltWinters(4).fit(z)
    whole = model.predict(6, level=[95])
    assert np.allclose(model.forward(z, 6)["mean"], whole["mean"])
    width = whole["hi-95"] - whole["lo-95"]
    assert np.all(np.diff(width) >= -1e-9) and width[0] > 0
    shorter = model.forward(z[:40], 8)["mean"]
    assert np.abs(shorter - z[40:48]).mean() < 3 * 3  # a sane forecast of the held-back points


def test_intervals_are_calibrated_on_synthetic_series():
    inside = {80: [], 95: []}
    for seed in range(12):
        series = _monthly(seed=200 + seed)
        history, future = series.iloc[:-12], series.iloc[-12:].to_numpy()
        frame = forecast(history, freq="M", horizon=12).forecast
        for level in inside:
            inside[level] += list((future >= frame[f"lower_{level}"]) & (future <= frame[f"upper_{level}"]))
    share = {level: float(np.mean(hits)) for level, hits in inside.items()}
    print(f"\ninterval coverage on held-out months: {share}")
    assert 0.65 <= share[80] <= 0.95 and 0.85 <= share[95] <= 1.0


def test_never_negative_for_a_collapsing_series():
    series = pd.Series(np.linspace(500, 20, 40) + np.random.default_rng(1).normal(0, 15, 40),
                       index=pd.date_range("2024-01-01", periods=40, freq="W-MON")).clip(lower=0)
    result = forecast(series, models=("seasonal_naive", "ets", "arima", "theta", "damped", "ensemble"))
    assert (result.forecast[FORECAST_COLUMNS[1:]] >= 0).all().all()
    assert "arima" in set(result.comparison["model"])  # on request, where its cost is acceptable


def test_daily_input_becomes_weekly_monthly_quarterly_and_yearly():
    days = pd.date_range("2021-01-01", periods=3 * 365, freq="D")
    rng = np.random.default_rng(4)
    daily = pd.Series(100 + 0.1 * np.arange(len(days)) + rng.normal(0, 10, len(days)), index=days)
    models = ("seasonal_naive", "ets", "theta", "ensemble")
    weekly = forecast(daily, models=models)
    assert weekly.freq == "W" and len(weekly.forecast) == 12
    monthly = forecast(daily, freq="M", models=models)
    assert len(monthly.forecast) == 3 and monthly.forecast["date"].dt.is_month_start.all()
    assert "per month" in monthly.accuracy
    quarterly = forecast(daily, freq="Q", models=models)
    assert quarterly.freq == "Q" and len(quarterly.forecast) == 4 and "per quarter" in quarterly.accuracy
    assert quarterly.forecast["date"].iloc[0] == pd.Timestamp("2024-01-01")
    assert (quarterly.forecast["date"].dt.month.isin([1, 4, 7, 10]) & quarterly.forecast["date"].dt.day.eq(1)).all()
    assert forecast(daily, freq="Y").skip_reason  # three complete years are too few to forecast years


def test_quarterly_and_yearly_series_at_their_own_frequency():
    t = np.arange(40)
    quarters = pd.Series((200 + 3 * t) * np.array([0.8, 1.0, 1.1, 1.3])[t % 4],
                         index=pd.date_range("2015-01-01", periods=40, freq="QS"))
    result = forecast(quarters, freq="Q", horizon=8)
    assert result.period == 4 and len(result.forecast) == 8
    assert result.forecast["date"].iloc[0] == pd.Timestamp("2025-01-01")
    tried = set(result.comparison["model"])
    assert "holt_winters" in tried and "ets" not in tried  # quarters: Holt-Winters in ETS's place
    ahead = result.forecast["forecast"].to_numpy()
    expected = (200 + 3 * np.arange(40, 48)) * np.array([0.8, 1.0, 1.1, 1.3])[np.arange(40, 48) % 4]
    assert np.abs(ahead / expected - 1).max() < 0.1  # the multiplicative pattern continues
    years = pd.Series(100 + 5.0 * np.arange(12), index=pd.date_range("2013-01-01", periods=12, freq="YS"))
    yearly = forecast(years, freq="Y")
    assert yearly.period is None and len(yearly.forecast) == 2 and yearly.forecast["forecast"].iloc[0] > 150
    assert forecast(years, freq="W").freq == "Y"  # a coarser series is forecast at its own frequency


def test_intermittent_sales_get_croston_and_friends():
    rng = np.random.default_rng(9)
    units = np.where(rng.random(120) < 0.35, rng.poisson(4, 120), 0).astype(float)
    series = pd.Series(units, index=pd.date_range("2022-01-03", periods=120, freq="W-MON"))
    result = forecast(series)
    assert {"croston", "adida", "imapa"} <= set(result.comparison["model"])
    frame = result.forecast
    assert (frame[FORECAST_COLUMNS[1:]] >= 0).all().all() and 0 < frame["forecast"].mean() < 4


def test_daily_data_with_two_seasons_gets_mstl():
    days = pd.date_range("2022-01-03", periods=3 * 365, freq="D")
    t = np.arange(len(days))
    rng = np.random.default_rng(2)
    weekday = np.array([0.9, 0.9, 1.0, 1.0, 1.2, 1.5, 0.5])[days.day_of_week]
    values = (1000 + 0.3 * t) * weekday * (1 + 0.3 * np.sin(2 * np.pi * t / 365.25)) + rng.normal(0, 30, len(t))
    result = forecast(pd.Series(values, index=days), freq="D", horizon=28)
    assert result.periods == (7, 365) and result.period == 7
    table = result.comparison.set_index("model")
    assert "mstl" in table.index and table.loc[result.model, "mase"] < 0.8 * table.loc["seasonal_naive", "mase"]
    assert len(result.forecast) == 28 and result.forecast["date"].iloc[0] == days[-1] + pd.Timedelta(days=1)


@pytest.mark.parametrize("case", ["constant", "zeros", "gaps_and_nans", "eight_points", "huge"])
def test_odd_input_never_raises_or_goes_negative(case):
    index = pd.date_range("2022-01-03", periods=60, freq="W-MON")
    rng = np.random.default_rng(3)
    values = {"constant": np.full(60, 250.0), "zeros": np.zeros(60),
              "gaps_and_nans": 100 + rng.normal(0, 10, 60), "eight_points": 100 + rng.normal(0, 10, 60),
              "huge": 1e13 * (1 + 0.1 * np.sin(np.arange(60))) + rng.normal(0, 1e11, 60)}[case]
    series = pd.Series(values, index=index)
    if case == "gaps_and_nans":
        series.iloc[[5, 6, 30]] = np.nan
        series = series.drop(series.index[[10, 11, 40]])  # weeks without a row: no sales those weeks
    if case == "eight_points":
        series = series.iloc[:8]
    result = forecast(series)
    frame = result.forecast
    assert result.skip_reason is None and len(frame) == 12
    assert np.isfinite(frame[FORECAST_COLUMNS[1:]].to_numpy()).all() and (frame[FORECAST_COLUMNS[1:]] >= 0).all().all()
    if case in ("constant", "zeros"):
        assert (frame["forecast"] == values[0]).all() and "the same every week" in result.accuracy
    if case == "huge":
        assert 5e12 < frame["forecast"].mean() < 2e13


@pytest.mark.parametrize("points,freq", [(0, "W"), (1, "D"), (3, "D"), (3, "W"), (20, "W")])
def test_tiny_series_skip_with_a_reason(points, freq):
    series = pd.Series(np.arange(points, dtype=float) + 1, index=pd.date_range("2024-01-01", periods=points))
    result = forecast(series, freq=freq)
    assert result.skip_reason and "at least" in result.skip_reason
    assert result.forecast.empty and result.comparison.empty


def test_unknown_frequency_names_the_known_ones():
    with pytest.raises(ValueError, match="'Q' \\(quarter\\)"):
        forecast(_seasonal_trend(), freq="H")


def test_cpu_against_one_autoets_fit():
    """The whole forecast against statsforecast's AutoETS alone on the same monthly series (the issue's budget is
    2x; bench/forecast_quality.py measures it on real series). Printed, not asserted: CI machines are noisy."""
    from statsforecast.models import AutoETS

    cases = [_monthly(months=120, seed=seed).iloc[:-18] for seed in range(6)]
    forecast(cases[0], freq="M", horizon=18)  # first calls pay imports
    AutoETS(season_length=12).forecast(cases[0].to_numpy(), 18, level=[80, 95])
    started = time.process_time()
    for series in cases:
        forecast(series, freq="M", horizon=18)
    ours = time.process_time() - started
    started = time.process_time()
    for series in cases:
        AutoETS(season_length=12).forecast(series.to_numpy(), 18, level=[80, 95])
    ets = time.process_time() - started
    print(f"\nCPU per series: forecast() {ours / len(cases):.3f} s, AutoETS {ets / len(cases):.3f} s, "
          f"ratio {ours / max(ets, 1e-9):.2f} (budget 2)")


def test_monitor_reports_how_last_forecast_did(planted):
    series, _, _ = planted
    previous = forecast(series.iloc[:-6], models=("seasonal_naive", "ets", "ensemble")).forecast
    report = monitor(previous, series)
    assert report["compared"] == 6 and 0 <= report["within_80"] <= 6
    assert report["coverage_80"] == report["within_80"] / 6 and report["coverage_95"] == report["within_95"] / 6
    assert report["mape"] < 0.2 and "6 period(s)" in report["message"]
    assert monitor(previous, series.iloc[:10])["compared"] == 0
