"""Trends and seasonality: resample daily sales to days, weeks or months and split them into trend, seasonal
pattern and what is left (STL), with the seasonal period found in the data rather than assumed.

Input is a daily series (``pd.Series`` indexed by date) such as ``daily.sql``'s ``revenue``; days missing from
it had no sales and count as 0. Weeks start on Monday and are labelled by that Monday; months by their 1st.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal
from statsmodels.nonparametric.smoothers_lowess import lowess
from statsmodels.tsa.seasonal import STL
from statsmodels.tsa.stattools import acf

FREQS = {"D": "D", "W": "W-MON", "M": "MS"}
FREQ_NAMES = {"D": "day", "W": "week", "M": "month"}
# the seasonal cycle to look for at each frequency: a week of days, a year of weeks or months
CANDIDATE_PERIODS = {"D": (7, "weekly"), "W": (52, "yearly"), "M": (12, "yearly")}
MIN_POINTS = 4  # fewer than this and not even a trend line means anything


@dataclass(frozen=True)
class Decomposition:
    """The result of :func:`decompose`.

    ``frame`` has columns date, observed, trend, seasonal, resid (seasonal is 0 when there is no seasonal model;
    trend and resid are NaN when the series is too short for any model). ``periods`` lists the seasonal periods
    used, ``skip_reason`` says in plain words why there is no seasonal model (or no model at all).
    """

    frame: pd.DataFrame
    freq: str
    periods: tuple[int, ...]
    seasonal_strength: float | None
    skip_reason: str | None


def as_daily(values: pd.Series | pd.DataFrame, column: str = "revenue") -> pd.Series:
    """A float series with one entry per calendar day, 0 where a day is missing (no sales that day)."""
    if isinstance(values, pd.DataFrame):
        values = values.set_index("date")[column]
    series = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(values.index)))
    series = series.groupby(series.index.normalize()).sum().sort_index()
    if series.empty:
        return series.rename(values.name)
    full = pd.date_range(series.index[0], series.index[-1], freq="D")
    return series.reindex(full, fill_value=0.0).rename(values.name)


def resample(daily: pd.Series, freq: str = "W", drop_partial: bool = True) -> pd.Series:
    """Sum a daily series into days, weeks (Monday start) or months.

    Incomplete first and last weeks or months are dropped by default: a half-finished month would look like
    a slump to a chart reader and to a forecaster.
    """
    if freq not in FREQS:
        raise ValueError(f"Unknown frequency {freq!r}: use 'D' (day), 'W' (week) or 'M' (month).")
    daily = as_daily(daily)
    if freq == "D" or daily.empty:
        return daily
    out = daily.resample(FREQS[freq], label="left", closed="left").sum()
    if drop_partial:
        days = daily.resample(FREQS[freq], label="left", closed="left").size()
        expected = 7 if freq == "W" else pd.Series(out.index.days_in_month, index=out.index)
        out = out[days >= expected]
    return out


def infer_freq(series: pd.Series) -> str:
    """'D', 'W' or 'M' from the typical spacing of the index."""
    if len(series) < 2:
        return "D"
    step = pd.Series(series.index).diff().median().days
    return "D" if step < 4 else "W" if step < 20 else "M"


def seasonal_period(series: pd.Series, freq: str) -> tuple[int | None, str]:
    """The seasonal period to model, or None with the reason in plain words.

    The candidate (7 days, 52 weeks, 12 months) needs two full cycles, and must show in the data: the
    autocorrelation of the detrended series at that lag must be clearly positive, or the periodogram's
    strongest peak must sit at that cycle.
    """
    period, name = CANDIDATE_PERIODS[freq]
    unit = FREQ_NAMES[freq]
    n = len(series)
    if n < 2 * period:
        return None, (f"Only {n} {unit}s of data: a {name} pattern needs at least {2 * period} {unit}s "
                      f"(two full cycles), so no seasonal pattern was modelled.")
    detrended = signal.detrend(series.to_numpy(dtype=float))
    if np.allclose(detrended, 0):
        return None, f"The series is a straight line, with no {name} pattern."
    correlation = acf(detrended, nlags=period, fft=True)[period]
    freqs, power = signal.periodogram(detrended, detrend=False)
    peak_period = 1 / freqs[np.argmax(power[1:]) + 1]
    confirmed = correlation > 1.96 / np.sqrt(n) or abs(peak_period - period) <= 0.1 * period
    if not confirmed:
        return None, f"No clear {name} pattern in the data (autocorrelation at {period} {unit}s is {correlation:.2f})."
    return period, ""


def decompose(series: pd.Series, freq: str | None = None, robust: bool = True,
              smooth: bool = False) -> Decomposition:
    """Split a series (already at ``freq``; inferred when None) into trend, seasonal pattern and residual.

    ``robust`` STL keeps one-off spikes out of the trend and seasonal parts, so they stay in the residual
    where anomaly detection looks for them. ``smooth`` uses a steadier seasonal pattern (over 3 cycles' worth
    of windows) and a trend over 5 cycles instead of STL's defaults, which otherwise bend towards noisy days.
    """
    series = series.astype(float)
    freq = freq or infer_freq(series)
    frame = pd.DataFrame({"date": series.index, "observed": series.to_numpy()})
    n = len(series)
    if n < MIN_POINTS:
        frame[["trend", "seasonal", "resid"]] = np.nan
        reason = f"Only {n} {FREQ_NAMES[freq]}(s) of data: at least {MIN_POINTS} are needed to show a trend."
        return Decomposition(frame, freq, (), None, reason)
    period, reason = seasonal_period(series, freq)
    if period is None:
        trend = lowess(series.to_numpy(), np.arange(n), frac=min(1.0, max(0.3, 7 / n)), return_sorted=False)
        frame["trend"], frame["seasonal"] = trend, 0.0
        frame["resid"] = frame["observed"] - trend
        return Decomposition(frame, freq, (), None, reason)
    windows = {"seasonal": _odd(3 * period), "trend": _odd(5 * period)} if smooth else {}
    fit = STL(series.to_numpy(), period=period, robust=robust, **windows).fit()
    frame["trend"], frame["seasonal"], frame["resid"] = fit.trend, fit.seasonal, fit.resid
    # strength of seasonality (Wang, Smith & Hyndman): 1 - Var(resid) / Var(seasonal + resid)
    strength = max(0.0, 1 - np.var(fit.resid) / max(np.var(fit.seasonal + fit.resid), 1e-12))
    return Decomposition(frame, freq, (period,), float(strength), None)


def _odd(n: int) -> int:
    return max(7, n + 1 - n % 2)


def describe(decomposition: Decomposition) -> str:
    """One plain sentence about trend and seasonality, for the trends page."""
    frame = decomposition.frame
    if frame["trend"].isna().all():
        return decomposition.skip_reason or "Not enough data."
    unit = FREQ_NAMES[decomposition.freq]
    first, last = frame["trend"].iloc[0], frame["trend"].iloc[-1]
    change = (last - first) / abs(first) if first else np.nan
    trend = ("roughly flat" if not np.isfinite(change) or abs(change) < 0.05
             else f"{'up' if change > 0 else 'down'} {abs(change):.0%} over {len(frame)} {unit}s")
    if not decomposition.periods:
        return f"The underlying trend is {trend}. {decomposition.skip_reason}"
    strength = decomposition.seasonal_strength or 0.0
    level = "strong" if strength > 0.6 else "moderate" if strength > 0.3 else "weak"
    return (f"The underlying trend is {trend}, with a {level} {CANDIDATE_PERIODS[decomposition.freq][1]} "
            f"pattern (every {decomposition.periods[0]} {unit}s).")
