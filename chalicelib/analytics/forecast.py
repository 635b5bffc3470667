"""Sales forecasts with honest ranges: standard models compete on the series' own recent past, and the one that
would have forecast it best (rolling-origin backtest, lowest MASE) makes the forecast.

Candidates: seasonal naive (the yardstick), ETS (damped additive trend), ARIMA with a small order search, Theta,
and an ensemble (mean of the best three). A seasonal pattern found by :mod:`timeseries` (52 weeks, 12 months,
7 days) enters ETS and Theta as Fourier terms removed before fitting and added back after, and ARIMA as Fourier
regressors: unlike seasonal ETS or seasonal ARIMA this works in backtests that have less than two full years.

Input: a series indexed by date; daily input is summed to ``freq`` (weeks by default). Output frames:
forecast (date, forecast, lower_80, upper_80, lower_95, upper_95; never negative) and comparison (model, mae,
rmse, mape, smape, mase, chosen).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.deterministic import DeterministicProcess, Fourier
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from threadpoolctl import threadpool_limits

from chalicelib.analytics.timeseries import FREQ_NAMES, FREQS, infer_freq, resample, seasonal_period

DEFAULT_HORIZON = {"D": 28, "W": 12, "M": 3}
MIN_POINTS = 8
MIN_TRAIN = 6
ARIMA_ORDERS = ((0, 1, 1), (1, 1, 1), (1, 0, 0))
LEVELS = (80, 95)
FORECAST_COLUMNS = ["date", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
COMPARISON_COLUMNS = ["model", "mae", "rmse", "mape", "smape", "mase", "chosen"]
LABELS = {"seasonal_naive": "Seasonal naive (same period last cycle)", "ets": "Exponential smoothing (ETS)",
          "arima": "ARIMA", "theta": "Theta", "ensemble": "Ensemble (average of the best models)"}


@dataclass(frozen=True)
class ForecastResult:
    """A forecast, how the candidate models did in the backtest, and a plain sentence on accuracy."""

    forecast: pd.DataFrame
    model: str
    comparison: pd.DataFrame
    accuracy: str
    freq: str
    horizon: int
    period: int | None
    skip_reason: str | None = None


@dataclass(frozen=True)
class _Season:
    """Seasonality as Fourier terms; ``period`` None means there is none to model."""

    period: int | None
    order: int = 0

    def terms(self, n: int, h: int) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        if not self.period:
            return None
        process = DeterministicProcess(pd.RangeIndex(n), constant=False,
                                       additional_terms=[Fourier(period=self.period, order=self.order)])
        return process.in_sample(), process.out_of_sample(h)


# ------------------------------------------------------------------------------------------- the models ----
# Each takes the history y (a float Series on a RangeIndex), the horizon, the season and the ARIMA order, and
# returns the mean forecast and a {level: (lower, upper)} dict of intervals.

def _seasonal_naive(y: pd.Series, h: int, season: _Season, _order) -> tuple[np.ndarray, dict]:
    m = season.period if season.period and len(y) > season.period else 1
    values = y.to_numpy()
    mean = np.array([values[len(values) - m + (i % m)] for i in range(h)])
    errors = values[m:] - values[:-m]
    sd = np.std(errors, ddof=1) if errors.size > 1 else np.abs(values).mean() * 0.1
    cycles = np.arange(h) // m + 1  # each full cycle ahead adds one more step of uncertainty
    return mean, {level: (mean - norm.ppf(0.5 + level / 200) * sd * np.sqrt(cycles),
                          mean + norm.ppf(0.5 + level / 200) * sd * np.sqrt(cycles)) for level in LEVELS}


def _deseasonalised(y: pd.Series, h: int, season: _Season) -> tuple[pd.Series, np.ndarray]:
    """y with its Fourier seasonal pattern removed, and that pattern for the next h steps."""
    terms = season.terms(len(y), h)
    if terms is None:
        return y, np.zeros(h)
    past, future = terms
    design = np.column_stack([np.ones(len(y)), np.arange(len(y)), past.to_numpy()])
    beta = np.linalg.lstsq(design, y.to_numpy(), rcond=None)[0][2:]
    return y - past.to_numpy() @ beta, future.to_numpy() @ beta


def _ets(y: pd.Series, h: int, season: _Season, _order) -> tuple[np.ndarray, dict]:
    adjusted, future_season = _deseasonalised(y, h, season)
    damped = len(y) >= 10  # a damped trend needs a few more points to estimate
    fit = ETSModel(adjusted, error="add", trend="add" if damped else None, damped_trend=damped).fit(disp=False)
    intervals, mean = {}, None
    for level in LEVELS:
        frame = fit.get_prediction(start=len(y), end=len(y) + h - 1).summary_frame(alpha=1 - level / 100)
        mean = frame["mean"].to_numpy() + future_season
        intervals[level] = (frame["pi_lower"].to_numpy() + future_season, frame["pi_upper"].to_numpy() + future_season)
    return mean, intervals


def _theta(y: pd.Series, h: int, season: _Season, _order) -> tuple[np.ndarray, dict]:
    adjusted, future_season = _deseasonalised(y, h, season)
    fit = ThetaModel(adjusted, period=1, deseasonalize=False).fit()
    mean = fit.forecast(h).to_numpy() + future_season
    intervals = {}
    for level in LEVELS:
        bounds = fit.prediction_intervals(h, alpha=1 - level / 100)
        intervals[level] = (bounds["lower"].to_numpy() + future_season, bounds["upper"].to_numpy() + future_season)
    return mean, intervals


def _arima_fit(y: pd.Series, h: int, season: _Season, order: tuple[int, int, int]):
    terms = season.terms(len(y), h)
    past, future = terms if terms is not None else (None, None)
    trend = "t" if order[1] else "ct"  # with differencing, 't' is the drift
    return ARIMA(y, exog=past, order=order, trend=trend).fit(), future


def _arima(y: pd.Series, h: int, season: _Season, order: tuple[int, int, int]) -> tuple[np.ndarray, dict]:
    fit, future = _arima_fit(y, h, season, order)
    prediction = fit.get_forecast(h, exog=future)
    intervals = {level: tuple(prediction.conf_int(alpha=1 - level / 100).to_numpy().T) for level in LEVELS}
    return prediction.predicted_mean.to_numpy(), intervals


MODELS: dict[str, Callable] = {"seasonal_naive": _seasonal_naive, "ets": _ets, "arima": _arima, "theta": _theta}


def _choose_order(y: pd.Series, season: _Season) -> tuple[int, int, int]:
    """The ARIMA order with the lowest AIC among a few that suit sales series; fast by design."""
    scores = {}
    for order in ARIMA_ORDERS:
        try:
            scores[order] = _arima_fit(y, 1, season, order)[0].aic
        except (ValueError, np.linalg.LinAlgError):
            continue
    return min(scores, key=scores.get) if scores else ARIMA_ORDERS[0]


# ----------------------------------------------------------------------------------------- the backtest ----
def _metrics(actual: np.ndarray, predicted: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    error = actual - predicted
    nonzero = actual != 0
    denominator = np.abs(actual) + np.abs(predicted)
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error ** 2))),
        "mape": float(np.mean(np.abs(error[nonzero] / actual[nonzero]))) if nonzero.any() else np.nan,
        "smape": float(np.mean(np.where(denominator > 0, 2 * np.abs(error) / np.where(denominator > 0, denominator,
                                                                                        1), 0))),
        "mase": float(np.mean(np.abs(error) / scale)) if np.all(scale > 0) else np.nan,
    }


def _backtest(y: pd.Series, h: int, origins: int, season: _Season, order, names) -> dict[str, dict]:
    """Forecast the last ``origins`` windows of ``h`` points from the data before each; pooled errors per model."""
    m = season.period if season.period else 1
    results: dict[str, dict] = {name: {"actual": [], "predicted": [], "scale": []} for name in names}
    for k in range(origins, 0, -1):
        cut = len(y) - h * k
        train, test = y.iloc[:cut].reset_index(drop=True), y.iloc[cut:cut + h].to_numpy()
        lag = m if cut > m else 1
        scale = np.mean(np.abs(np.diff(train.to_numpy(), n=1) if lag == 1 else train.to_numpy()[lag:] -
                               train.to_numpy()[:-lag]))
        for name in names:
            if results[name] is None:
                continue
            try:
                predicted = MODELS[name](train, h, season, order)[0]
            except Exception:  # noqa: BLE001 - a model that cannot fit this window drops out, the others go on
                results[name] = None
                continue
            results[name]["actual"].append(test)
            results[name]["predicted"].append(np.clip(predicted, 0, None))
            results[name]["scale"].append(np.full(h, scale))
    return {name: {key: np.concatenate(value) for key, value in r.items()} for name, r in results.items() if r}


# ------------------------------------------------------------------------------------------- the service ----
def forecast(series: pd.Series, freq: str = "W", horizon: int | None = None, origins: int = 3,
             models: tuple[str, ...] = tuple(MODELS)) -> ForecastResult:
    """Forecast ``series`` (daily values are summed to ``freq``: "D", "W" or "M") ``horizon`` steps ahead."""
    if freq not in FREQS:
        raise ValueError(f"Unknown frequency {freq!r}: use 'D' (day), 'W' (week) or 'M' (month).")
    unit = FREQ_NAMES[freq]
    h = horizon or DEFAULT_HORIZON[freq]
    if len(series) and infer_freq(series) == "D" and freq != "D":
        series = resample(series, freq)
    elif freq == "D":
        series = resample(series, "D")
    y = series.astype(float).reset_index(drop=True)
    if len(y) < MIN_POINTS:
        reason = (f"Only {len(y)} complete {unit}(s) of sales: a forecast needs at least {MIN_POINTS}. "
                  f"It will appear once there is more history.")
        return ForecastResult(pd.DataFrame(columns=FORECAST_COLUMNS), "", pd.DataFrame(columns=COMPARISON_COLUMNS),
                              reason, freq, h, None, reason)
    period, _ = seasonal_period(series, freq)
    season = _Season(period, min(period // 2, 3 if period <= 12 else 4, max(1, len(y) // 8)) if period else 0)
    test_h = min(h, max(1, (len(y) - MIN_TRAIN) // origins))
    runs = min(origins, (len(y) - MIN_TRAIN) // test_h)
    # one BLAS thread: the matrices are tiny, and on a busy 2-core worker threads made fits six times slower
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")  # convergence chatter from statsmodels; bad fits lose the backtest anyway
        order = _choose_order(y, season) if "arima" in models else None
        scored = _backtest(y, test_h, runs, season, order, models)
        comparison = _comparison(scored)
        chosen = comparison["model"].iloc[0] if len(comparison) else "seasonal_naive"
        members = [m for m in comparison["model"] if m not in ("seasonal_naive", "ensemble")][:3]
        mean, intervals = _final(y, h, season, order, chosen, members, scored)
    comparison["chosen"] = comparison["model"] == chosen
    dates = pd.date_range(series.index[-1], periods=h + 1, freq=FREQS[freq])[1:]
    frame = pd.DataFrame({"date": dates, "forecast": mean})
    for level in LEVELS:
        frame[f"lower_{level}"], frame[f"upper_{level}"] = intervals[level]
    numbers = FORECAST_COLUMNS[1:]
    frame[numbers] = frame[numbers].clip(lower=0)  # sales are never negative, whatever a model extrapolates
    accuracy = _accuracy(scored.get(chosen), chosen, unit, runs, test_h)
    return ForecastResult(frame[FORECAST_COLUMNS], chosen, comparison[COMPARISON_COLUMNS], accuracy, freq, h, period)


def _comparison(scored: dict[str, dict]) -> pd.DataFrame:
    """One row per model with its backtest errors, best (lowest MASE) first; includes the ensemble."""
    rows = {name: _metrics(r["actual"], r["predicted"], r["scale"]) for name, r in scored.items()}
    ranked = sorted((n for n in rows if n != "seasonal_naive"),
                    key=lambda n: rows[n]["mase"] if np.isfinite(rows[n]["mase"]) else np.inf)
    members = ranked[:3]
    if len(members) >= 2:
        first = scored[members[0]]
        predicted = np.mean([scored[n]["predicted"] for n in members], axis=0)
        scored["ensemble"] = {"actual": first["actual"], "predicted": predicted, "scale": first["scale"],
                              "members": members}
        rows["ensemble"] = _metrics(first["actual"], predicted, first["scale"])
    table = pd.DataFrame([{"model": name, **values} for name, values in rows.items()], columns=COMPARISON_COLUMNS)
    return table.sort_values(["mase", "mae"], na_position="last", ignore_index=True)


def _final(y, h, season, order, chosen, members, scored) -> tuple[np.ndarray, dict]:
    """Fit the chosen model on all the history; the ensemble's ranges come from its backtest errors."""
    if chosen != "ensemble":
        return MODELS[chosen](y, h, season, order)
    mean = np.mean([MODELS[name](y, h, season, order)[0] for name in scored["ensemble"]["members"]], axis=0)
    errors = scored["ensemble"]["actual"] - scored["ensemble"]["predicted"]
    intervals = {level: (mean + np.quantile(errors, 0.5 - level / 200), mean + np.quantile(errors, 0.5 + level / 200))
                 for level in LEVELS}
    return mean, intervals


def _accuracy(result: dict | None, chosen: str, unit: str, runs: int, test_h: int) -> str:
    if not result:
        return "Not enough history to test the forecast against the past yet."
    actual, predicted = result["actual"], result["predicted"]
    nonzero = actual != 0
    typical = float(np.median(np.abs(actual[nonzero] - predicted[nonzero]) / np.abs(actual[nonzero])))
    return (f"{LABELS[chosen]} was the most accurate on your past data: typically within ±{typical:.0%} per {unit} "
            f"when tested on the last {runs * test_h} {unit}s ({runs} tests).")


def monitor(previous_forecast: pd.DataFrame, actuals: pd.Series) -> dict:
    """How the last run's forecast did on the periods that have happened since (actuals at the forecast's freq)."""
    actual = pd.Series(actuals.to_numpy(dtype=float), index=pd.to_datetime(actuals.index))
    frame = previous_forecast.assign(date=pd.to_datetime(previous_forecast["date"]))
    frame = frame.join(actual.rename("actual"), on="date").dropna(subset=["actual"])
    if frame.empty:
        return {"compared": 0, "message": "None of the forecast periods has happened yet."}
    error = frame["actual"] - frame["forecast"]
    nonzero = frame["actual"] != 0
    within = {level: int(((frame["actual"] >= frame[f"lower_{level}"]) & (frame["actual"] <= frame[f"upper_{level}"]))
                         .sum()) for level in LEVELS if f"lower_{level}" in frame}
    mape = float((error[nonzero].abs() / frame.loc[nonzero, "actual"]).mean()) if nonzero.any() else float("nan")
    bias = float(error.sum() / frame["actual"].sum()) if frame["actual"].sum() else float("nan")
    n = len(frame)
    direction = "above" if bias > 0 else "below"
    message = (f"The last forecast was off by {mape:.0%} on average over the {n} period(s) that have happened; "
               f"actual sales came in {abs(bias):.0%} {direction} it overall.")
    if 80 in within:
        message += f" {within[80]} of {n} fell within the 80 % range."
    return {"compared": n, "mae": float(error.abs().mean()), "mape": mape, "bias": bias,
            "within_80": within.get(80), "within_95": within.get(95), "message": message,
            "table": frame[["date", "forecast", "actual"]].reset_index(drop=True)}
