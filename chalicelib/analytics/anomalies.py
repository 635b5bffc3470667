"""Unusual days (or weeks) in sales, and which categories, products or regions made them unusual.

:func:`detect` takes a series such as ``daily.sql``'s revenue; it removes trend and seasonality with robust STL
and flags residuals far from the rest by a median/MAD z-score, which one-off spikes cannot inflate the way they
inflate a standard deviation. Revenue is modelled on a log scale so that "40 % above normal" means the same in
a quiet January as in a busy June.

:func:`explain` takes ``daily_by_dimension.sql`` (columns date, dimension, value, revenue; a missing row is 0).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

from chalicelib.analytics.timeseries import FREQ_NAMES, as_daily, decompose, infer_freq
from chalicelib.money import money

SEVERITY = ((9.0, "high"), (6.0, "medium"))  # |z| at or above these; "low" from the threshold up
# 4.5 rather than the textbook 3.5: daily sales are lumpy (a few expensive items swing a day), and at 3.5 a small
# shop would get ten alerts a year about ordinary days; at 4.5 it gets about one.
THRESHOLD = 4.5
ANOMALY_COLUMNS = ["date", "actual", "expected", "difference", "difference_pct", "z_score", "direction",
                   "severity", "description"]


def detect(series: pd.Series, threshold: float = THRESHOLD, freq: str | None = None, log_scale: bool = True,
           min_points: int = 14, currency: str | None = None) -> pd.DataFrame:
    """Anomalies in ``series`` (indexed by date; daily input gets missing days filled with 0).

    Returns one row per anomaly with ANOMALY_COLUMNS: expected is trend + seasonal pattern, direction is
    "up" or "down", severity "low", "medium" or "high" from the robust z-score. Empty when the series is too
    short (``min_points``) or too regular to judge.
    """
    freq = freq or infer_freq(series)
    if freq == "D":
        series = as_daily(series)
    series = series.astype(float)
    if len(series) < min_points:
        return pd.DataFrame(columns=ANOMALY_COLUMNS)
    use_log = log_scale and bool((series >= 0).all())
    parts = decompose(np.log1p(series) if use_log else series, freq=freq, smooth=True).frame.set_index("date")
    resid = parts["resid"]
    scale = median_abs_deviation(resid, scale="normal", nan_policy="omit")
    if not np.isfinite(scale) or scale <= 1e-9:
        return pd.DataFrame(columns=ANOMALY_COLUMNS)
    z = (resid - resid.median()) / scale
    fitted = parts["trend"] + parts["seasonal"]
    expected = np.expm1(fitted).clip(lower=0) if use_log else fitted
    flagged = z.abs() >= threshold
    out = pd.DataFrame({"date": series.index[flagged], "actual": series[flagged].to_numpy(),
                        "expected": expected[flagged].to_numpy(), "z_score": z[flagged].to_numpy()})
    out["difference"] = out["actual"] - out["expected"]
    out["difference_pct"] = out["difference"] / out["expected"].where(out["expected"] > 0)
    out["direction"] = np.where(out["difference"] >= 0, "up", "down")
    out["severity"] = [next((name for limit, name in SEVERITY if abs(v) >= limit), "low") for v in out["z_score"]]
    unit = FREQ_NAMES[freq]
    out["description"] = [_sentence(row, unit, currency) for row in out.itertuples()]
    return out[ANOMALY_COLUMNS].reset_index(drop=True)


def _sentence(row, unit: str, currency: str | None) -> str:
    when = f"{unit} of {row.date:%d %b %Y}" if unit != "day" else f"{row.date:%a %d %b %Y}"
    pct = f" ({row.difference_pct:+.0%})" if np.isfinite(row.difference_pct) else ""
    word = "above" if row.direction == "up" else "below"
    return (f"Sales on the {when} were {money(row.actual, currency)}, {money(abs(row.difference), currency)} {word} "
            f"the expected {money(row.expected, currency)}{pct}; {row.severity} severity.")


def explain(anomaly_dates, breakdown: pd.DataFrame, top: int = 3, baseline_weeks: int = 4,
            currency: str | None = None) -> pd.DataFrame:
    """For each date, the dimension values whose revenue moved most, in the direction of the total's move.

    A value's expected revenue is its median on the same weekday over the ``baseline_weeks`` weeks before and
    after (weekday-matched so a Saturday is compared with Saturdays). Returns columns date, dimension, value,
    actual, expected, change, share_of_change (its part of the whole dimension's change), rank, description.
    """
    columns = ["date", "dimension", "value", "actual", "expected", "change", "share_of_change", "rank",
               "description"]
    if breakdown.empty:
        return pd.DataFrame(columns=columns)
    frame = breakdown.assign(date=pd.to_datetime(breakdown["date"]).dt.normalize())
    rows = []
    for dimension, part in frame.groupby("dimension", sort=True):
        wide = part.pivot_table(index="date", columns="value", values="revenue", aggfunc="sum", fill_value=0.0)
        wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max(), freq="D"), fill_value=0.0)
        for when in pd.to_datetime(pd.Index(list(anomaly_dates))).normalize():
            if when not in wide.index:
                continue
            offsets = [when + pd.Timedelta(weeks=k) for k in range(-baseline_weeks, baseline_weeks + 1) if k]
            base = wide.reindex([d for d in offsets if d in wide.index])
            if base.empty:
                continue
            actual, expected = wide.loc[when], base.median()
            change = actual - expected
            total = change.sum()
            aligned = change if total >= 0 else -change
            for rank, value in enumerate(aligned.sort_values(ascending=False).index[:top], start=1):
                if aligned[value] <= 0:
                    break
                share = change[value] / total if total else np.nan
                rows.append({"date": when, "dimension": dimension, "value": value, "actual": actual[value],
                             "expected": expected[value], "change": change[value], "share_of_change": share,
                             "rank": rank})
    out = pd.DataFrame(rows, columns=columns[:-1])
    out["description"] = [
        f"{r.dimension.capitalize()} {r.value}: {money(r.actual, currency)} against a usual "
        f"{money(r.expected, currency)} ({'+' if r.change >= 0 else ''}{money(r.change, currency)}"
        + (f", {r.share_of_change:.0%} of the change)" if np.isfinite(r.share_of_change) else ")")
        for r in out.itertuples()]
    return out.sort_values(["date", "dimension", "rank"], ignore_index=True)
