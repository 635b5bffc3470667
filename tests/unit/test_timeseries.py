"""Resampling and STL decomposition, including the seasonal period check and short-series reasons."""
from __future__ import annotations

import numpy as np
import pandas as pd

from chalicelib.analytics.timeseries import (
    as_daily,
    decompose,
    describe,
    infer_freq,
    resample,
    season_lengths,
    seasonal_cycles,
    seasonal_period,
)


def _weekly_daily(days: int = 120, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    pattern = np.array([0.9, 0.9, 1.0, 1.0, 1.2, 1.5, 0.5])
    values = (1000 + 3 * t) * pattern[t % 7] + rng.normal(0, 20, days)
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=days, freq="D"))  # starts on a Monday


def test_missing_days_are_zero_and_dates_normalised():
    stamps = pd.to_datetime(["2024-01-01 10:00", "2024-01-01 12:00", "2024-01-04 00:00"])
    series = pd.Series([5.0, 7.0, 1.0], index=stamps)
    daily = as_daily(series)
    assert daily.tolist() == [12.0, 0.0, 0.0, 1.0]
    frame = pd.DataFrame({"date": ["2024-01-01", "2024-01-02"], "revenue": [1, 2]})
    assert as_daily(frame).tolist() == [1.0, 2.0]


def test_resample_weeks_start_monday_and_drop_partial_edges():
    daily = pd.Series(1.0, index=pd.date_range("2024-01-03", "2024-02-10", freq="D"))  # Wed .. Sat
    weekly = resample(daily, "W")
    assert weekly.index[0] == pd.Timestamp("2024-01-08") and (weekly.index.day_of_week == 0).all()
    assert (weekly == 7).all() and len(weekly) == 4
    monthly = resample(pd.Series(1.0, index=pd.date_range("2024-01-01", "2024-03-15")), "M")
    assert monthly.index.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert monthly.tolist() == [31.0, 29.0]
    assert len(resample(daily, "W", drop_partial=False)) == 6


def test_weekly_season_found_and_decomposed():
    series = _weekly_daily()
    result = decompose(series)
    assert result.periods == (7,) and result.skip_reason is None
    frame = result.frame
    assert list(frame.columns) == ["date", "observed", "trend", "seasonal", "resid"]
    assert np.allclose(frame["trend"] + frame["seasonal"] + frame["resid"], frame["observed"])
    saturday = frame.loc[frame["date"].dt.day_of_week == 5, "seasonal"].mean()
    sunday = frame.loc[frame["date"].dt.day_of_week == 6, "seasonal"].mean()
    assert saturday > 200 > -200 > sunday
    assert result.seasonal_strength > 0.8
    assert "weekly pattern" in describe(result)


def test_too_short_for_a_season_says_why():
    result = decompose(_weekly_daily(days=10))
    assert result.periods == ()
    assert "14 days" in result.skip_reason and "two full cycles" in result.skip_reason
    assert (result.frame["seasonal"] == 0).all() and result.frame["trend"].notna().all()


def test_tiny_series_never_crash():
    for days in (0, 1, 3):
        series = pd.Series(np.ones(days), index=pd.date_range("2024-01-01", periods=days))
        result = decompose(series, freq="D")
        assert result.skip_reason and len(result.frame) == days
        assert describe(result)


def test_noise_has_no_season_and_yearly_needs_two_years():
    rng = np.random.default_rng(3)
    noise = pd.Series(rng.normal(100, 5, 60), index=pd.date_range("2024-01-01", periods=60))
    period, reason = seasonal_period(noise, "D")
    assert period is None and "No clear weekly pattern" in reason
    weeks = pd.Series(100 + 20 * np.sin(np.arange(80) * 2 * np.pi / 52),
                      index=pd.date_range("2024-01-01", periods=80, freq="W-MON"))
    assert decompose(weeks).periods == ()
    two_years = pd.Series(100 + 20 * np.sin(np.arange(110) * 2 * np.pi / 52) + rng.normal(0, 2, 110),
                          index=pd.date_range("2024-01-01", periods=110, freq="W-MON"))
    assert decompose(two_years).periods == (52,)
    months = pd.Series(100 + 20 * np.cos(np.arange(36) * 2 * np.pi / 12),
                       index=pd.date_range("2022-01-01", periods=36, freq="MS"))
    assert decompose(months).periods == (12,)


def test_quarters_and_years_drop_partial_edges_and_are_inferred():
    daily = pd.Series(1.0, index=pd.date_range("2023-02-15", "2025-03-10", freq="D"))
    quarters = resample(daily, "Q")
    assert quarters.index[0] == pd.Timestamp("2023-04-01") and quarters.index[-1] == pd.Timestamp("2024-10-01")
    assert quarters.iloc[:2].tolist() == [91.0, 92.0]
    years = resample(daily, "Y")
    assert years.index.tolist() == [pd.Timestamp("2024-01-01")] and years.tolist() == [366.0]
    for freq, code in (("D", "D"), ("W-SUN", "W"), ("ME", "M"), ("MS", "M"), ("QE-DEC", "Q"), ("QS", "Q"),
                       ("YS", "Y"), ("YE", "Y")):
        assert infer_freq(pd.Series(1.0, index=pd.date_range("2020-01-01", periods=10, freq=freq))) == code
    assert seasonal_period(years, "Y")[0] is None


def test_season_lengths_follow_the_frequency_and_the_history():
    assert season_lengths("D", 400) == (7,) and season_lengths("D", 800) == (7, 365)
    assert season_lengths("W", 103) == () and season_lengths("W", 104) == (52,)
    assert season_lengths("M", 30) == (12,) and season_lengths("Q", 8) == (4,) and season_lengths("Y", 50) == ()


def test_seasonal_cycles_need_strength_not_just_length():
    rng = np.random.default_rng(8)
    t = np.arange(156)
    wave = 1000 + 4 * t + 250 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 40, 156)
    assert seasonal_cycles(wave, (52,)) == (52,)  # the autocorrelation test at lag 52 misses this one
    assert seasonal_cycles(rng.normal(1000, 40, 156), (52,)) == ()
    assert seasonal_cycles(wave[:90], (52,)) == ()  # under two cycles
    assert seasonal_cycles(np.full(60, 3.0), (12,)) == ()
    days = np.arange(3 * 365)
    both = (1000 * np.array([0.9, 0.9, 1.0, 1.0, 1.2, 1.5, 0.5])[days % 7] * (1 + 0.3 * np.sin(2 * np.pi * days / 365))
            + rng.normal(0, 30, len(days)))
    assert seasonal_cycles(both, (7, 365)) == (7, 365)  # the yearly wave is tested with the weekly one taken out
