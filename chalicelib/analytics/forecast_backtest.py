"""Scoring the candidates on their rolling-origin backtest: where the windows fall, the error measures, the
ensemble of the best models, the choice between them, and interval multipliers calibrated on the backtest errors
(split-conformal) with the coverage they achieve on origins they were not calibrated on.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from chalicelib.analytics.forecast_candidates import LEVELS, Scored, Trajectory, Z

MIN_TRAIN = 6
PRIOR_POINTS = 16  # backtest errors weigh against this many "points" of the model's own interval width
# the backtest replays models whose parameters (smoothing weights, initial states: 10 for a quarterly Holt-Winters)
# saw those very windows, so its errors are too kind on short histories: ranges widen by sqrt(n / (n - 10)), 1.15x
# at 40 points (with 8, quarterly 95 % ranges held 89 % of held-out quarters)
PARAMETERS = 10
ENSEMBLE_TIE = 0.1  # the ensemble is chosen unless a single model's backtest MASE is over 10 % lower
# the ensemble averages the models that did best in the backtest: on the bench's 416 held-out series the mean of the
# top three was 0.4-1.2 % better than the median of all models (weekly 0.3 % worse), a larger or smaller top no better
ENSEMBLE_SIZE = 3
YARDSTICKS = ("seasonal_naive", "naive")
COMPARISON_COLUMNS = ["model", "mae", "rmse", "mape", "smape", "mase", "chosen", "coverage_80", "coverage_95"]
SIMPLICITY = {name: rank for rank, name in enumerate(
    ("seasonal_naive", "naive", "croston", "adida", "imapa", "damped", "theta", "holt_winters", "ets", "mstl",
     "mstl_log", "arima", "ensemble"))}


def plan(n: int, h: int, origins: int, m: int) -> tuple[int, list[int]]:
    """Backtest windows of ``step`` points from ``origins`` origins, each with a cycle of history before it
    (asking for two left a series just over two years long one window of one period)."""
    shortest = max(MIN_TRAIN, m + 1 if m > 1 else 0)
    room = n - shortest
    step = max(1, min(h, room - (origins - 1)))
    gap = max(1, min(step, (room - step) // max(origins - 1, 1)))
    starts = [n - step - gap * k for k in range(origins - 1, -1, -1)]
    return step, [s for s in starts if s >= min(shortest, n - step)]


def backtest_errors(y: np.ndarray, paths: list[Trajectory], origins: list[int], step: int) -> np.ndarray:
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


def _width(paths: list[Trajectory], fallback: np.ndarray) -> list[np.ndarray]:
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


def best(y: np.ndarray, scored: dict[str, Scored], members: tuple[str, ...], starts: list[int],
          step: int) -> tuple[str, ...]:
    """The ``ENSEMBLE_SIZE`` members with the lowest backtest error (mean absolute; ties keep the listed order)."""
    error = {name: float(np.mean(np.abs(backtest_errors(y, scored[name].backtest, starts, step)))) for name in members}
    return tuple(sorted(members, key=lambda name: error[name])[:ENSEMBLE_SIZE])


def ensemble(scored: dict[str, Scored], members: tuple[str, ...]) -> Scored:
    """The mean of the members' forecasts (and of their uncertainty, recalibrated later), origin by origin."""
    def combine(paths: list[Trajectory]) -> Trajectory:
        sds = np.array([p.sd for p in paths])
        sd = np.nanmean(sds, axis=0) if np.isfinite(sds).any() else np.full(len(paths[0].mean), np.nan)
        return Trajectory(np.mean([p.mean for p in paths], axis=0), sd)
    backtest = [combine([scored[m].backtest[k] for m in members]) for k in range(len(scored[members[0]].backtest))]
    return Scored(backtest, combine([scored[m].final for m in members]), members)


def comparison(y: np.ndarray, scored: dict[str, Scored], starts: list[int], step: int,
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
        errors = backtest_errors(y, run.backtest, starts, step)
        fallback = np.full(max(step, len(run.final.mean)), np.sqrt(np.mean(errors ** 2)) or 1.0)
        factors[name], coverage[name] = _calibration(errors, _width(run.backtest, fallback), len(y))
        run.final.sd = _width([run.final], fallback)[0]
        rows.append({"model": name, **_metrics(actual, errors.ravel(), scale),
                     **{f"coverage_{level}": coverage[name].get(level, np.nan) for level in LEVELS}})
    rows.sort(key=lambda row: (row["mase"] if np.isfinite(row["mase"]) else np.inf, SIMPLICITY[row["model"]]))
    return pd.DataFrame(rows, columns=[c for c in COMPARISON_COLUMNS if c != "chosen"]), factors, coverage


def choose(table: pd.DataFrame) -> str:
    """Lowest backtest MASE among the models, with the ensemble winning near-ties (three windows are a small
    test, and the mean of the best models is the steadier bet) and the simpler model exact ones (the sort order).
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
