"""Sales forecasts with calibrated ranges: statistical models compete on the series' own recent past, and the
one that would have forecast it best (rolling-origin backtest, lowest MASE) makes the forecast; the median of
the three best models in that backtest is a candidate too, and the usual winner (it is preferred unless a single
model is 10 % better).

Candidates (statsforecast's compiled models on numpy arrays; STL stays on statsmodels): seasonal naive (the
yardstick, never chosen over a fitted model), ETS, Theta, MSTL (STL seasonal parts plus a damped trend) on the
sales and on their log, Croston / ADIDA / IMAPA when over 30 % of periods have no sales, and the
"ensemble" (mean of the top three); a damped trend, naive and AutoARIMA on request (AutoARIMA costs 9x ETS: over the CPU budget of the
whole forecast, 2x one ETS fit). A seasonal cycle (a week of days and a year of days, 52 weeks, 12 months,
4 quarters) is modelled only when the data pass a seasonal strength test for it (timeseries.seasonal_cycles).
Each model is fitted once on the whole history and replayed from each backtest origin with ``forward`` (same
parameters, states updated on the shorter history): fitting on the history minus the backtest windows instead
made monthly forecasts about 20 % worse on held-out M3 and retail series. The 80 % and 95 % ranges are the
chosen model's own uncertainty scaled by how its backtest errors compared with it (split-conformal, pulled
towards the model's own width when the backtest is short); ``coverage`` reports how often such ranges held
when calibrated on the other origins.

Input: a series indexed by date; daily input is summed to ``freq``. Output frames: forecast (date, forecast,
lower_80, upper_80, lower_95, upper_95; never negative) and comparison (model, mae, rmse, mape, smape, mase,
chosen, coverage_80, coverage_95).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from chalicelib.analytics import timeseries as ts
from chalicelib.analytics.timeseries import CANDIDATE_PERIODS, FREQ_NAMES, FREQS, check_freq, infer_freq, resample

DEFAULT_HORIZON = {"D": 28, "W": 12, "M": 3, "Q": 4, "Y": 2}
MIN_POINTS = 8
MIN_TRAIN = 6
LEVELS = (80, 95)
Z = {80: 1.2815516, 95: 1.9599640}
INTERMITTENT = 0.3  # share of zero periods from which demand counts as intermittent (Croston's territory)
PRIOR_POINTS = 16  # backtest errors weigh against this many "points" of the model's own interval width
# the backtest replays models whose ~8 parameters (smoothing weights, initial states) saw those very windows, so
# its errors are too kind on short histories: ranges widen by sqrt(n / (n - 8)), 1.12x at 40 points
PARAMETERS = 8
SANE = 20.0  # a forecast beyond 20x the largest value seen is a numerical blow-up, not a forecast
ENSEMBLE_TIE = 0.1  # the ensemble is chosen unless a single model's backtest MASE is over 10 % lower
# the ensemble averages the models that did best in the backtest: on the bench's 416 held-out series the mean of the
# top three was 0.4-1.2 % better than the median of all models (weekly 0.3 % worse), a larger or smaller top no better
ENSEMBLE_SIZE = 3
YARDSTICKS = ("seasonal_naive", "naive")
FORECAST_COLUMNS = ["date", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
COMPARISON_COLUMNS = ["model", "mae", "rmse", "mape", "smape", "mase", "chosen", "coverage_80", "coverage_95"]
LABELS = {"seasonal_naive": "Seasonal naive (same period last cycle)", "naive": "Naive (last value)",
          "ets": "Exponential smoothing (ETS)", "theta": "Theta", "arima": "ARIMA",
          "damped": "Damped trend on seasonally adjusted sales",
          "mstl": "MSTL (seasonal patterns plus a damped trend)",
          "mstl_log": "MSTL on the log scale (patterns in proportion to the level)",
          "croston": "Croston (intermittent sales)", "adida": "ADIDA (intermittent sales)",
          "imapa": "IMAPA (intermittent sales)", "ensemble": "Ensemble (mean of the three best models)"}
MODELS = ("seasonal_naive", "ets", "theta", "mstl", "mstl_log", "croston", "adida", "imapa", "ensemble")
# by request only: in the ensemble the damped trend made quarterly forecasts worse, naive is seasonal naive's
# twin, and AutoARIMA costs about 9x ETS, beyond the budget of 2x one ETS fit for the whole forecast
OPTIONAL = ("damped", "naive", "arima")
SIMPLICITY = {name: rank for rank, name in enumerate(
    ("seasonal_naive", "naive", "croston", "adida", "imapa", "damped", "theta", "ets", "mstl", "mstl_log",
     "arima", "ensemble"))}


@dataclass(frozen=True)
class ForecastResult:
    """A forecast, how the candidate models did in the backtest, and a plain sentence on accuracy.

    ``coverage`` is the share of backtest points inside the chosen model's 80 % and 95 % ranges (calibrated on
    the other backtest origins); ``periods`` lists the seasonal cycles modelled (``period`` is the main one).
    """

    forecast: pd.DataFrame
    model: str
    comparison: pd.DataFrame
    accuracy: str
    freq: str
    horizon: int
    period: int | None
    skip_reason: str | None = None
    periods: tuple[int, ...] = ()
    coverage: dict[int, float] = field(default_factory=dict)


@dataclass
class _Path:
    """One forecast on the original scale: the mean and a standard deviation per step (NaN when unknown)."""

    mean: np.ndarray
    sd: np.ndarray


@dataclass
class _Scored:
    """A candidate's backtest forecasts (one path per origin) and its final forecast."""

    backtest: list[_Path]
    final: _Path
    members: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------- scales ----
class _Scale:
    """How a model sees the series: as it is, divided by classical seasonal indices, or on the log scale."""

    def __init__(self, kind: str = "raw", y: np.ndarray | None = None, period: int = 1) -> None:
        self.kind, self.period = kind, period
        self.index, self.multiplicative = np.zeros(max(period, 1)), False
        if kind == "classical":
            self.multiplicative, self.index = _classical_indices(y, period)

    def for_history(self, y: np.ndarray) -> _Scale:
        """The same scale estimated on a shorter history: a backtest origin must not see seasonal indices
        computed from the very periods it is tested on."""
        return _Scale(self.kind, y, self.period) if self.kind == "classical" else self

    def to_model(self, y: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            return np.log(y)
        if self.kind == "classical":
            season = self.index[np.arange(len(y)) % self.period]
            return y / season if self.multiplicative else y - season
        return y

    def from_model(self, values: np.ndarray, start: int) -> np.ndarray:
        """Model-scale values for the periods ``start``, ``start + 1``... back on the series' scale."""
        values = np.asarray(values, dtype=float)
        if self.kind == "log":
            return np.exp(np.clip(values, -700, 700))
        if self.kind == "classical":
            season = self.index[np.arange(start, start + len(values)) % self.period]
            return values * season if self.multiplicative else values + season
        return values


def _classical_indices(y: np.ndarray, period: int) -> tuple[bool, np.ndarray]:
    """Seasonal indices by ratio (positive series) or difference to a centred moving average, averaged per
    position in the cycle: the M-competitions' classical decomposition. Under two cycles (an early backtest
    origin) the last cycle's ratios or differences to its own mean stand in."""
    if len(y) < 2 * period + 1:
        last = y[-period:]
        position = np.arange(len(y) - period, len(y)) % period
        order = np.argsort(position)
        if last.min() > 0:
            return True, (last / last.mean())[order]
        return False, (last - last.mean())[order]
    weights = np.r_[0.5, np.ones(period - 1), 0.5] / period if period % 2 == 0 else np.ones(period) / period
    trend = np.convolve(y, weights, mode="valid")
    offset = (len(weights) - 1) // 2
    observed = y[offset:offset + len(trend)]
    position = np.arange(offset, offset + len(trend)) % period
    if y.min() > 0:
        ratio = observed / trend
        index = np.array([ratio[position == j].mean() for j in range(period)])
        index = index / index.mean()
        if np.all(np.isfinite(index)) and index.min() > 0.01:
            return True, index
    index = np.array([(observed - trend)[position == j].mean() for j in range(period)])
    return False, np.nan_to_num(index - index.mean())


# ---------------------------------------------------------------------------------------- models ----
@cache
def _sf() -> Any:
    """statsforecast.models, imported on first use: 1.2 s a process, never paid by the API's Lambda."""
    import statsforecast.models

    return statsforecast.models


@cache
def _blas() -> Any:
    """One BLAS thread for the fits: the matrices are tiny, and on a busy 2-core worker threads cost time."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@dataclass(frozen=True)
class _Spec:
    """A candidate: how to build its statsforecast model, on which scale, and whether it can ``forward``."""

    make: Callable[[], Any]
    scale: _Scale
    forwards: bool = True
    intervals: bool = True


def _specs(y: np.ndarray, periods: tuple[int, ...], intermittent: bool, wanted: tuple[str, ...]) -> dict:
    sf = _sf()
    m = periods[0] if periods else 1
    positive = bool(y.min() > 0)
    damped = lambda: sf.AutoETS(model="AAN", damped=True)  # noqa: E731 - a factory per fit
    adjusted = _Scale("classical", y, m) if periods else _Scale()  # daily: the weekly cycle; MSTL does both
    specs: dict[str, _Spec] = {}
    if intermittent:
        specs["croston"] = _Spec(sf.CrostonOptimized, _Scale(), forwards=False, intervals=False)
        specs["adida"] = _Spec(sf.ADIDA, _Scale(), forwards=False, intervals=False)
        specs["imapa"] = _Spec(sf.IMAPA, _Scale(), forwards=False, intervals=False)
    native = m if m <= 24 else 1  # statsforecast's ETS has no seasons longer than 24: adjust weekly data first
    specs["ets"] = _Spec(lambda: sf.AutoETS(season_length=native), _Scale() if native == m else adjusted)
    specs["theta"] = _Spec(sf.AutoTheta, adjusted)  # on our adjustment: its own seasonality test is the ACF one
    if not intermittent:
        specs["damped"] = _Spec(damped, adjusted)
    if not intermittent and periods:
        specs["mstl"] = _Spec(lambda: _Mstl(periods, damped), _Scale())
        if positive:
            specs["mstl_log"] = _Spec(lambda: _Mstl(periods, damped), _Scale("log"))
    specs["naive"] = _Spec(sf.Naive, _Scale(), forwards=False)
    specs["arima"] = _Spec(lambda: sf.AutoARIMA(season_length=native), _Scale() if native == m else adjusted)
    return {name: spec for name, spec in specs.items() if name in wanted}


class _Mstl:
    """MSTL as statsforecast builds it, without its pandas frames: STL seasonal parts (statsmodels; degree 0,
    windows 11, 15...) taken off in turn, a trend model on the rest, each part's last cycle repeated ahead."""

    def __init__(self, periods: tuple[int, ...], trend: Callable[[], Any]) -> None:
        self.periods, self.make_trend = tuple(sorted(periods)), trend

    def _split(self, z: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """STL needs two cycles: for a cycle the history does not cover twice (a backtest origin early in a
        series barely two years long) the last cycle's differences to its mean repeat instead."""
        from statsmodels.tsa.seasonal import STL

        adjusted, parts = z, []
        for k, period in enumerate(self.periods):  # one pass: statsforecast's second one doubles the daily cost
            if len(adjusted) < 2 * period + 1:
                last = adjusted[-period:] - adjusted[-period:].mean()
                part = last[(np.arange(len(adjusted)) - (len(adjusted) - period)) % period]
            else:
                part = np.asarray(STL(adjusted, period=period, seasonal=7 + 4 * (k + 1),
                                      seasonal_deg=0).fit().seasonal)
            parts.append(part)
            adjusted = adjusted - part
        return adjusted, parts

    def _ahead(self, parts: list[np.ndarray], h: int) -> np.ndarray:
        return sum(part[len(part) - p + np.arange(h) % p] for part, p in zip(parts, self.periods))

    def fit(self, z: np.ndarray) -> _Mstl:
        adjusted, self.parts_ = self._split(z)
        self.trend_ = self.make_trend().fit(adjusted)
        return self

    def predict(self, h: int, level: list[int] | None = None) -> dict:
        ahead = self._ahead(self.parts_, h)
        return {key: value + ahead for key, value in self.trend_.predict(h, level=level).items()}

    def forward(self, z: np.ndarray, h: int, level: list[int] | None = None) -> dict:
        """The fitted trend model on a shorter history, whose seasonal parts are estimated anew: reusing the
        whole history's parts made the backtest look better than the future (80 % ranges held 72 %)."""
        adjusted, parts = self._split(z)
        ahead = self._ahead(parts, h)
        return {key: value + ahead for key, value in self.trend_.forward(adjusted, h, level=level).items()}


def _path(out: dict, scale: _Scale, start: int, level: bool) -> _Path:
    mean = scale.from_model(out["mean"], start)
    if not level:
        return _Path(mean, np.full(len(mean), np.nan))
    lower, upper = scale.from_model(out["lo-95"], start), scale.from_model(out["hi-95"], start)
    return _Path(mean, (upper - lower) / (2 * Z[95]))


def _run(spec: _Spec, y: np.ndarray, origins: list[int], step: int, h: int) -> _Scored:
    """Fit once on the whole history and forecast h ahead with the model's own 95 % range; replay the fitted
    model from each backtest origin (means only: the same parameters give the same error sd)."""
    z = spec.scale.to_model(y)
    level = [95] if spec.intervals else None
    if spec.forwards:
        model = spec.make().fit(z)
        final = _path(model.predict(h, level=level), spec.scale, len(y), spec.intervals)
        replay = lambda history: model.forward(history, step)  # noqa: E731
    else:  # Croston & co. have no forward; their fits cost next to nothing, so each origin refits
        final = _path(spec.make().forecast(z, h, level=level), spec.scale, len(y), spec.intervals)
        replay = lambda history: spec.make().forecast(history, step)  # noqa: E731
    sd = final.sd[:step] if len(final.sd) >= step else np.resize(final.sd, step)
    paths = []
    for origin in origins:
        scale = spec.scale.for_history(y[:origin])
        paths.append(_Path(scale.from_model(replay(scale.to_model(y[:origin]))["mean"], origin), sd))
    return _Scored(paths, final)


def _seasonal_naive(y: np.ndarray, m: int, start: int, h: int) -> _Path:
    """The last cycle repeated; its sd grows with each cycle ahead as a random walk's would."""
    history = y[:start]
    m = m if len(history) > m else 1
    mean = history[len(history) - m + np.arange(h) % m]
    errors = history[m:] - history[:-m]
    sd = np.sqrt(np.mean(errors ** 2)) if errors.size else np.abs(history).mean() * 0.1
    return _Path(mean, sd * np.sqrt(np.arange(h) // m + 1))


# -------------------------------------------------------------------------------------- backtest ----
def _plan(n: int, h: int, origins: int, m: int) -> tuple[int, list[int]]:
    """Backtest windows of ``step`` points from ``origins`` origins, each with a cycle of history before it
    (asking for two left a series just over two years long one window of one period)."""
    shortest = max(MIN_TRAIN, m + 1 if m > 1 else 0)
    room = n - shortest
    step = max(1, min(h, room - (origins - 1)))
    gap = max(1, min(step, (room - step) // max(origins - 1, 1)))
    starts = [n - step - gap * k for k in range(origins - 1, -1, -1)]
    return step, [s for s in starts if s >= min(shortest, n - step)]


def _errors(y: np.ndarray, paths: list[_Path], origins: list[int], step: int) -> np.ndarray:
    return np.array([y[o:o + step] - np.clip(p.mean, 0, None) for p, o in zip(paths, origins)])


def _metrics(actual: np.ndarray, error: np.ndarray, scale: float) -> dict[str, float]:
    predicted = actual - error
    nonzero = actual != 0
    denominator = np.abs(actual) + np.abs(predicted)
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error ** 2))),
        "mape": float(np.mean(np.abs(error[nonzero] / actual[nonzero]))) if nonzero.any() else np.nan,
        "smape": float(np.mean(np.where(denominator > 0, 2 * np.abs(error) / np.where(denominator > 0, denominator,
                                                                                        1), 0))),
        "mase": float(np.mean(np.abs(error)) / scale) if scale > 0 else np.nan,
    }


def _width(paths: list[_Path], fallback: np.ndarray) -> list[np.ndarray]:
    """Each path's sd, or ``fallback`` (the spread of the backtest errors) where a model gave none."""
    return [np.where(np.isfinite(p.sd) & (p.sd > 0), p.sd, fallback[: len(p.sd)]) for p in paths]


def _ratios(errors: np.ndarray, sds: list[np.ndarray]) -> np.ndarray:
    return np.abs(errors) / np.maximum(np.array(sds), 1e-12)


def _quantile(ratios: np.ndarray, level: int) -> float:
    """Split-conformal quantile of |error| / sd, pulled towards the normal one when there are few errors."""
    ratios = np.sort(ratios[np.isfinite(ratios)])
    if not ratios.size:
        return Z[level]
    rank = min(len(ratios), int(np.ceil((len(ratios) + 1) * level / 100)))
    empirical = ratios[rank - 1]
    return float((len(ratios) * empirical + PRIOR_POINTS * Z[level]) / (len(ratios) + PRIOR_POINTS))


def _calibration(errors: np.ndarray, sds: list[np.ndarray], n: int) -> tuple[dict[int, float], dict[int, float]]:
    """The multipliers of sd for each level, and the coverage they achieve on each origin when calibrated on
    the others (leave one origin out: an honest estimate, not a fit)."""
    ratios = _ratios(errors, sds)
    optimism = np.sqrt(n / max(n - PARAMETERS, 1))
    factors = {level: _quantile(ratios.ravel(), level) * optimism for level in LEVELS}
    if len(ratios) < 2:
        return factors, {}
    hits = {level: [] for level in LEVELS}
    for k in range(len(ratios)):
        rest = np.delete(ratios, k, axis=0).ravel()
        for level in LEVELS:
            hits[level] += list(ratios[k] <= _quantile(rest, level) * optimism)
    return factors, {level: float(np.mean(v)) for level, v in hits.items()}


# --------------------------------------------------------------------------------------- service ----
def forecast(series: pd.Series, freq: str = "W", horizon: int | None = None, origins: int = 3,
             models: tuple[str, ...] = MODELS) -> ForecastResult:
    """Forecast ``series`` ``horizon`` periods ahead at ``freq`` ("D", "W", "M", "Q" or "Y").

    Daily values are summed to ``freq``; a series already at a coarser frequency (monthly figures, say) is
    forecast at its own. Never raises on odd values: gaps count as no sales, NaNs are interpolated, and a
    flat series gets a flat forecast with the reason in ``accuracy``.
    """
    check_freq(freq)
    series, freq = _prepare(series, freq)
    unit, h = FREQ_NAMES[freq], max(1, int(horizon or DEFAULT_HORIZON[freq]))
    if len(series) < MIN_POINTS:
        reason = (f"Only {len(series)} complete {unit}(s) of sales: a forecast needs at least {MIN_POINTS}. "
                  f"It will appear once there is more history.")
        return ForecastResult(pd.DataFrame(columns=FORECAST_COLUMNS), "", pd.DataFrame(columns=COMPARISON_COLUMNS),
                              reason, freq, h, None, reason)
    y = series.to_numpy(dtype=float)
    periods, starts, step, scored = _candidates(y, freq, h, origins, tuple(models))
    flat = np.ptp(y) == 0
    cycle = CANDIDATE_PERIODS[freq][0]
    table, factors, coverage = _comparison(y, scored, starts, step, cycle)
    chosen = _choose(table) if not flat else "seasonal_naive"
    frame = _frame(series.index[-1], freq, h, scored[chosen].final, factors[chosen], flat)
    table["chosen"] = table["model"] == chosen
    accuracy = _accuracy(y, scored[chosen], chosen, unit, starts, step, coverage.get(chosen, {}), flat)
    return ForecastResult(frame, chosen, table[COMPARISON_COLUMNS], accuracy, freq, h,
                          periods[0] if periods else None, None, periods, coverage.get(chosen, {}))


def _candidates(y: np.ndarray, freq: str, h: int, origins: int,
                models: tuple[str, ...]) -> tuple[tuple[int, ...], list[int], int, dict[str, _Scored]]:
    """The seasonal cycles found, the backtest origins and window, and every model that fitted sanely."""
    n, cycle = len(y), CANDIDATE_PERIODS[freq][0]
    periods = ts.seasonal_cycles(y, ts.season_lengths(freq, n))
    step, starts = _plan(n, h, max(1, origins), max(periods, default=1))
    scored = {"seasonal_naive": _Scored([_seasonal_naive(y, cycle, o, step) for o in starts],
                                        _seasonal_naive(y, cycle, n, h))}
    if np.ptp(y) == 0:
        return periods, starts, step, scored
    intermittent = bool(np.mean(y == 0) > INTERMITTENT)
    with warnings.catch_warnings(), _blas().limit(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")  # convergence chatter; a bad fit loses the backtest anyway
        for name, spec in _specs(y, periods, intermittent, models).items():
            try:
                run = _run(spec, y, starts, step, h)
            except Exception:  # noqa: BLE001 - a model that cannot fit this series drops out, the rest go on
                continue
            if _sane(run, y):
                scored[name] = run
    members = tuple(name for name in scored if name not in YARDSTICKS)
    if "ensemble" in models and len(members) >= 2:
        scored["ensemble"] = _ensemble(scored, _best(y, scored, members, starts, step))
    return periods, starts, step, scored


def _prepare(series: pd.Series, freq: str) -> tuple[pd.Series, str]:
    """The series at ``freq`` (or at its own, coarser frequency) on a complete calendar, as floats."""
    values = pd.to_numeric(pd.Series(series.to_numpy(), index=pd.to_datetime(series.index)), errors="coerce")
    values = values.replace([np.inf, -np.inf], np.nan)
    values = values[values.index.notna()].sort_index()
    if len(values) < 2 or infer_freq(values) == "D":
        return resample(values.fillna(0.0), freq), freq
    own = infer_freq(values)
    regular = pd.date_range(values.index[0], periods=len(values), freq=FREQS[own])
    if regular.equals(values.index) and values.notna().all():
        return values.astype(float), own
    values = values.groupby(ts.period_starts(values.index, own)).sum(min_count=1)
    full = values.reindex(pd.date_range(values.index[0], values.index[-1], freq=FREQS[own]), fill_value=0.0)
    filled = full.interpolate(limit_direction="both") if full.notna().any() else full.fillna(0.0)
    return filled.astype(float), own


def _sane(run: _Scored, y: np.ndarray) -> bool:
    limit = SANE * max(float(np.abs(y).max()), 1e-9)
    paths = [run.final, *run.backtest]
    return all(np.all(np.isfinite(p.mean)) and float(np.abs(p.mean).max()) <= limit for p in paths)


def _best(y: np.ndarray, scored: dict[str, _Scored], members: tuple[str, ...], starts: list[int],
          step: int) -> tuple[str, ...]:
    """The ``ENSEMBLE_SIZE`` members with the lowest backtest error (mean absolute; ties keep the listed order)."""
    error = {name: float(np.mean(np.abs(_errors(y, scored[name].backtest, starts, step)))) for name in members}
    return tuple(sorted(members, key=lambda name: error[name])[:ENSEMBLE_SIZE])


def _ensemble(scored: dict[str, _Scored], members: tuple[str, ...]) -> _Scored:
    """The mean of the members' forecasts (and of their uncertainty, recalibrated later), origin by origin."""
    def combine(paths: list[_Path]) -> _Path:
        sds = np.array([p.sd for p in paths])
        sd = np.nanmean(sds, axis=0) if np.isfinite(sds).any() else np.full(len(paths[0].mean), np.nan)
        return _Path(np.mean([p.mean for p in paths], axis=0), sd)
    backtest = [combine([scored[m].backtest[k] for m in members]) for k in range(len(scored[members[0]].backtest))]
    return _Scored(backtest, combine([scored[m].final for m in members]), members)


def _comparison(y: np.ndarray, scored: dict[str, _Scored], starts: list[int], step: int,
                cycle: int) -> tuple[pd.DataFrame, dict[str, dict[int, float]], dict[str, dict[int, float]]]:
    """Backtest errors, calibration factors and honest coverage per model, best (lowest MASE) first."""
    history = y[:starts[0]]
    lag = cycle if len(history) > cycle else 1
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag]))) if len(history) > lag else np.nan
    if not scale > 0:  # a flat start: scale by the typical size of the sales instead
        scale = float(np.mean(np.abs(y))) or 1.0
    actual = np.concatenate([y[o:o + step] for o in starts])
    rows, factors, coverage = [], {}, {}
    for name, run in scored.items():
        errors = _errors(y, run.backtest, starts, step)
        fallback = np.full(max(step, len(run.final.mean)), np.sqrt(np.mean(errors ** 2)) or 1.0)
        factors[name], coverage[name] = _calibration(errors, _width(run.backtest, fallback), len(y))
        run.final.sd = _width([run.final], fallback)[0]
        rows.append({"model": name, **_metrics(actual, errors.ravel(), scale),
                     **{f"coverage_{level}": coverage[name].get(level, np.nan) for level in LEVELS}})
    rows.sort(key=lambda row: (row["mase"] if np.isfinite(row["mase"]) else np.inf, SIMPLICITY[row["model"]]))
    return pd.DataFrame(rows, columns=[c for c in COMPARISON_COLUMNS if c != "chosen"]), factors, coverage


def _choose(table: pd.DataFrame) -> str:
    """Lowest backtest MASE among the models, with the ensemble winning near-ties (three windows are a small
    test, and the median of the models is the steadier bet) and the simpler model exact ones (the sort order).
    Seasonal naive and naive are yardsticks: on held-out series, choosing them when they won a short backtest
    did worse than the models they beat, so they forecast only when nothing else could be fitted."""
    models = table[~table["model"].isin(YARDSTICKS)]
    if models.empty:
        return str(table["model"].iloc[0])
    best = models.iloc[0]
    ensemble = models[models["model"] == "ensemble"]
    if len(ensemble) and ensemble["mase"].iloc[0] <= best["mase"] * (1 + ENSEMBLE_TIE):
        return "ensemble"
    return str(best["model"])


def _frame(last: pd.Timestamp, freq: str, h: int, path: _Path, factors: dict[int, float], flat: bool) -> pd.DataFrame:
    columns = {"date": pd.date_range(last, periods=h + 1, freq=FREQS[freq])[1:], "forecast": path.mean}
    for level in LEVELS:
        half = np.zeros(h) if flat else factors.get(level, Z[level]) * path.sd
        columns[f"lower_{level}"], columns[f"upper_{level}"] = path.mean - half, path.mean + half
    for name in FORECAST_COLUMNS[1:]:  # sales are never negative, whatever a model extrapolates
        columns[name] = np.clip(np.nan_to_num(np.asarray(columns[name], dtype=float)), 0, None)
    return pd.DataFrame(columns, columns=FORECAST_COLUMNS)


def _accuracy(y: np.ndarray, run: _Scored, chosen: str, unit: str, starts: list[int], step: int,
              coverage: dict[int, float], flat: bool) -> str:
    if flat:
        return f"Sales were the same every {unit} so far, so the forecast repeats them; there is nothing to test."
    actual = np.concatenate([y[o:o + step] for o in starts])
    predicted = actual - _errors(y, run.backtest, starts, step).ravel()
    nonzero = actual != 0
    if not nonzero.any():
        return "There were no sales in the periods the forecast was tested on, so its accuracy is unknown."
    typical = float(np.median(np.abs(actual[nonzero] - predicted[nonzero]) / np.abs(actual[nonzero])))
    tested = len({period for start in starts for period in range(start, start + step)})
    text = (f"{LABELS[chosen]} was the most accurate on your past data: typically within ±{typical:.0%} per {unit} "
            f"when tested on the last {_count(tested, unit)} ({_count(len(starts), 'test')}).")
    if 80 in coverage and np.isfinite(coverage[80]):
        text += f" Its 80 % range held {coverage[80]:.0%} of the time in those tests."
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def monitor(previous_forecast: pd.DataFrame, actuals: pd.Series) -> dict:
    """How the last run's forecast did on the periods that have happened since (actuals at the forecast's freq):
    errors, bias, and how many actuals fell inside the 80 % and 95 % ranges (counts and shares)."""
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
            "within_80": within.get(80), "within_95": within.get(95),
            "coverage_80": within[80] / n if 80 in within else None,
            "coverage_95": within[95] / n if 95 in within else None, "message": message,
            "table": frame[["date", "forecast", "actual"]].reset_index(drop=True)}
