"""The forecast's candidate models: how each sees the series (as it is, seasonally adjusted, on the log scale),
how it is built from statsforecast (STL from statsmodels for MSTL), and one fit per model replayed from every
backtest origin. ``forecast.py`` runs them, ``forecast_backtest.py`` scores and combines them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from chalicelib.analytics.timeseries import stl_fit

LEVELS = (80, 95)
Z = {80: 1.2815516, 95: 1.9599640}
LONG = 200  # points from which a series counts as long for the cost of a model
SANE = 20.0  # a forecast beyond 20x the largest value seen is a numerical blow-up, not a forecast


@dataclass
class Trajectory:
    """One forecast on the original scale: the mean and a standard deviation per step (NaN when unknown)."""

    mean: np.ndarray
    sd: np.ndarray


@dataclass
class Scored:
    """A candidate's backtest forecasts (one path per origin) and its final forecast."""

    backtest: list[Trajectory]
    final: Trajectory
    members: tuple[str, ...] = ()


class Scale:
    """How a model sees the series: as it is, divided by classical seasonal indices, or on the log scale."""

    def __init__(self, kind: str = "raw", y: np.ndarray | None = None, period: int = 1) -> None:
        self.kind, self.period = kind, period
        self.index, self.multiplicative = np.zeros(max(period, 1)), False
        if kind == "classical":
            self.multiplicative, self.index = _classical_indices(y, period)

    def for_history(self, y: np.ndarray) -> Scale:
        """The same scale estimated on a shorter history: a backtest origin must not see seasonal indices
        computed from the very periods it is tested on."""
        return Scale(self.kind, y, self.period) if self.kind == "classical" else self

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
        ratio = bool(y[-period:].min() > 0)
        return ratio, _last_cycle(y, period, ratio)
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


def _last_cycle(y: np.ndarray, period: int, ratio: bool) -> np.ndarray:
    """The last cycle's ratios (or differences) to its own mean, by position in the cycle (t % period): all the
    seasonal pattern a history under two cycles long can give without looking ahead."""
    last = y[-period:]
    pattern = last / last.mean() if ratio else last - last.mean()
    return pattern[np.argsort(np.arange(len(y) - period, len(y)) % period)]


# ---------------------------------------------------------------------------------------- models ----
@cache
def _sf() -> Any:
    """statsforecast.models, imported on first use: 1.2 s a process, never paid by the API's Lambda."""
    import statsforecast.models

    return statsforecast.models


@cache
def blas() -> Any:
    """One BLAS thread for the fits: the matrices are tiny, and on a busy 2-core worker threads cost time."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@dataclass(frozen=True)
class Spec:
    """A candidate: how to build its statsforecast model, on which scale, and whether it can ``forward``."""

    make: Callable[[], Any]
    scale: Scale
    forwards: bool = True
    intervals: bool = True


def candidate_specs(y: np.ndarray, periods: tuple[int, ...], intermittent: bool, wanted: tuple[str, ...]) -> dict:
    sf = _sf()
    m = periods[0] if periods else 1
    positive = bool(y.min() > 0)
    damped = lambda: sf.AutoETS(model="AAN", damped=True)  # noqa: E731 - a factory per fit
    adjusted = Scale("classical", y, m) if periods else Scale()  # daily: the weekly cycle; MSTL does both
    specs: dict[str, Spec] = {}
    if intermittent:
        specs["croston"] = Spec(sf.CrostonOptimized, Scale(), forwards=False, intervals=False)
        specs["adida"] = Spec(sf.ADIDA, Scale(), forwards=False, intervals=False)
        specs["imapa"] = Spec(sf.IMAPA, Scale(), forwards=False, intervals=False)
    native = m if m <= 24 else 1  # statsforecast's ETS has no seasons longer than 24: adjust weekly data first
    specs["ets"] = Spec(lambda: sf.AutoETS(season_length=native), Scale() if native == m else adjusted)
    # on our adjustment (its own seasonality test is the ACF one); AutoTheta's optimised variant costs 0.23 s on
    # three years of days, so long series get the dynamic optimised one alone (0.09 s, M4's favourite)
    theta = sf.AutoTheta if len(y) <= LONG else sf.DynamicOptimizedTheta
    specs["theta"] = Spec(theta, adjusted)
    if not intermittent:
        specs["damped"] = Spec(damped, adjusted)
    if not intermittent and periods:
        specs["mstl"] = Spec(lambda: _Mstl(periods, damped), Scale())
        if positive:
            specs["mstl_log"] = Spec(lambda: _Mstl(periods, damped), Scale("log"))
    if not intermittent and len(y) >= 2 * m + 2:
        specs["holt_winters"] = Spec(lambda: HoltWinters(native), Scale() if native == m else adjusted)
    specs["naive"] = Spec(sf.Naive, Scale(), forwards=False)
    specs["arima"] = Spec(lambda: sf.AutoARIMA(season_length=native), Scale() if native == m else adjusted)
    return {name: spec for name, spec in specs.items() if name in wanted}


class _Mstl:
    """MSTL as statsforecast builds it, without its pandas frames: STL seasonal parts (statsmodels; degree 0,
    windows 11, 15...) taken off in turn, a trend model on the rest, each part's last cycle repeated ahead."""

    def __init__(self, periods: tuple[int, ...], trend: Callable[[], Any]) -> None:
        self.periods, self.make_trend = tuple(sorted(periods)), trend

    def _split(self, z: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """STL needs two cycles: for a cycle the history does not cover twice (a backtest origin early in a
        series barely two years long) the last cycle's differences to its mean repeat instead."""
        adjusted, parts = z, []
        for k, period in enumerate(self.periods):  # one pass: statsforecast's second one doubles the daily cost
            if len(adjusted) < 2 * period + 1:
                part = _last_cycle(adjusted, period, ratio=False)[np.arange(len(adjusted)) % period]
            else:
                part = np.asarray(stl_fit(adjusted, period, seasonal=7 + 4 * (k + 1)).seasonal)
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


class HoltWinters:
    """statsmodels' Holt-Winters (damped additive trend, additive season; least squares), the strongest single
    model on quarterly series in the bench, with the fit/predict/forward of statsforecast's models. Its sd per
    step is that of the equivalent ETS(A,Ad,A) state space model, its variance per degree of freedom as ETS's."""

    def __init__(self, period: int) -> None:
        self.period = period

    def _model(self, z: np.ndarray, **initial: Any) -> Any:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        seasonal = self.period > 1
        return ExponentialSmoothing(z, trend="add", damped_trend=True, seasonal="add" if seasonal else None,
                                    seasonal_periods=self.period if seasonal else None, **initial)

    def fit(self, z: np.ndarray) -> HoltWinters:
        self.fit_ = self._model(z).fit()
        return self

    def predict(self, h: int, level: list[int] | None = None) -> dict:
        mean = np.asarray(self.fit_.forecast(h), dtype=float)
        if not level:
            return {"mean": mean}
        p = self.fit_.params
        alpha, beta, phi = p["smoothing_level"], p["smoothing_level"] * p["smoothing_trend"], p["damping_trend"]
        gamma = p["smoothing_seasonal"] if self.period > 1 else 0.0
        steps = np.arange(1, h)
        damped = np.cumsum(phi ** np.arange(1, h))  # phi + phi^2 + ... + phi^j
        c = alpha + beta * damped + gamma * (steps % max(self.period, 1) == 0)
        seasonal = self.period if self.period > 1 else 0
        parameters = 5 + (seasonal > 0) + seasonal  # 2 weights, damping, level, trend (+ seasonal weight, states)
        sigma = np.sqrt(self.fit_.sse / max(len(self.fit_.fittedvalues) - parameters, 1))  # as ETS: per freedom
        sd = sigma * np.sqrt(1 + np.r_[0.0, np.cumsum(c ** 2)])
        return {"mean": mean, **{f"{side}-{lv}": mean + sign * Z[lv] * sd for lv in level
                                 for side, sign in (("lo", -1), ("hi", 1))}}

    def forward(self, z: np.ndarray, h: int, level: list[int] | None = None) -> dict:
        """The fitted smoothing weights and initial states run over a shorter history (no new fit)."""
        p = self.fit_.params
        initial = {"initialization_method": "known", "initial_level": p["initial_level"],
                   "initial_trend": p["initial_trend"]}
        if self.period > 1:
            initial["initial_seasonal"] = p["initial_seasons"]
        replay = self._model(z, **initial).fit(
            smoothing_level=p["smoothing_level"], smoothing_trend=p["smoothing_trend"],
            smoothing_seasonal=p["smoothing_seasonal"] if self.period > 1 else None,
            damping_trend=p["damping_trend"], optimized=False)
        return {"mean": np.asarray(replay.forecast(h), dtype=float)}


def _path(out: dict, scale: Scale, start: int, level: bool) -> Trajectory:
    mean = scale.from_model(out["mean"], start)
    if not level:
        return Trajectory(mean, np.full(len(mean), np.nan))
    lower, upper = scale.from_model(out["lo-95"], start), scale.from_model(out["hi-95"], start)
    return Trajectory(mean, (upper - lower) / (2 * Z[95]))


def fit_and_replay(spec: Spec, y: np.ndarray, origins: list[int], step: int, h: int) -> Scored:
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
        paths.append(Trajectory(scale.from_model(replay(scale.to_model(y[:origin]))["mean"], origin), sd))
    return Scored(paths, final)


def seasonal_naive(y: np.ndarray, m: int, start: int, h: int) -> Trajectory:
    """The last cycle repeated; its sd grows with each cycle ahead as a random walk's would."""
    history = y[:start]
    m = m if len(history) > m else 1
    mean = history[len(history) - m + np.arange(h) % m]
    errors = history[m:] - history[:-m]
    sd = np.sqrt(np.mean(errors ** 2)) if errors.size else np.abs(history).mean() * 0.1
    return Trajectory(mean, sd * np.sqrt(np.arange(h) // m + 1))


def sane(run: Scored, y: np.ndarray) -> bool:
    limit = SANE * max(float(np.abs(y).max()), 1e-9)
    paths = [run.final, *run.backtest]
    return all(np.all(np.isfinite(p.mean)) and float(np.abs(p.mean).max()) <= limit for p in paths)
