"""Forecast quality: the SalesLens forecaster against statsforecast and statsmodels peers, on the same held-out
series in one run (series and sources: bench/series_sets.py; no network).

  SalesLens      chalicelib.analytics.forecast.forecast(series, freq=..., horizon=h), as jobs/steps/trends.py
                 forecast_step calls it: dated real series at their frequency; planted shops as daily revenue
  SeasonalNaive, AutoETS, AutoTheta, AutoARIMA
                 statsforecast.models on the training values, ``.forecast(y, h, level=[80, 95])`` (fit + predict);
                 season 12 / 4 / 52 for M / Q / W, 1 when the training part has fewer than two seasons
  HoltWinters    statsmodels ExponentialSmoothing, damped additive trend, additive season when there are two
                 seasons; intervals are quantiles of 1000 simulated paths (normal errors)
Every model is fitted on the training part only; peers' forecasts are used as the libraries give them (not clipped
at 0; SalesLens clips its own). Per series: MASE (scale: in-sample seasonal-naive MAE, lag as the season above),
sMAPE, beating seasonal naive (lower MASE), 80/95 % interval coverage of the held-out points, CPU seconds
(process time around fit + predict, measured inside the worker; imports and first calls are paid once per worker
before and reported apart; BLAS/OpenMP held to one thread). A model that fails on a series, or uses more than
``--budget`` CPU seconds on it, is counted and scored with the seasonal naive forecast.
  python bench/forecast_quality.py                          # default sample: 200 + 150 + 42 + 24 series
  python bench/forecast_quality.py --sets weekly --per-set 20 --jobs 2 --json out.json
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread each: CPU is per series
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.series_sets import SETS, Case, load  # noqa: E402

LEVELS = (80, 95)
PEERS = ("SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA", "HoltWinters")
MODELS = ("SalesLens", *PEERS)
SIMULATIONS = 1000
BUDGET_SECONDS = 60.0  # CPU per model and series; seasonal AutoARIMA took 243 s on 312 weeks of US gasoline


class OverBudget(BaseException):
    """A model used more than its CPU budget on one series (scored as a failure). Not an Exception, so that the
    libraries' own ``except Exception`` around single fits cannot swallow it."""


def _over_budget(_signum, _frame) -> None:
    raise OverBudget("over the CPU budget")


# ------------------------------------------------------------------------------------------- the models ----
# Each takes a case and returns {"mean": array, 80: (lower, upper), 95: (lower, upper)}.

def _saleslens(case: Case) -> dict:
    from chalicelib.analytics.forecast import forecast

    result = forecast(case.daily if case.daily is not None else case.train, freq=case.freq, horizon=case.h)
    if result.skip_reason:
        raise RuntimeError(f"skipped: {result.skip_reason}")
    frame = result.forecast
    return {"mean": frame["forecast"].to_numpy(float),
            **{level: (frame[f"lower_{level}"].to_numpy(float), frame[f"upper_{level}"].to_numpy(float))
               for level in LEVELS}}


def _statsforecast(name: str):
    def run(case: Case) -> dict:
        import statsforecast.models

        model = getattr(statsforecast.models, name)(season_length=case.season_length)
        out = model.forecast(y=case.train.to_numpy(float), h=case.h, level=list(LEVELS), fitted=False)
        return {"mean": out["mean"], **{level: (out[f"lo-{level}"], out[f"hi-{level}"]) for level in LEVELS}}
    return run


def _holt_winters(case: Case) -> dict:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    m = case.season_length
    fit = ExponentialSmoothing(case.train.to_numpy(float), trend="add", damped_trend=True,
                               seasonal="add" if m > 1 else None, seasonal_periods=m if m > 1 else None).fit()
    paths = fit.simulate(case.h, repetitions=SIMULATIONS, error="add", anchor="end", random_state=0)
    bounds = {level: tuple(np.quantile(paths, [0.5 - level / 200, 0.5 + level / 200], axis=1)) for level in LEVELS}
    return {"mean": fit.forecast(case.h), **bounds}


RUNNERS = {"SalesLens": _saleslens, **{name: _statsforecast(name) for name in PEERS[:4]},
           "HoltWinters": _holt_winters}


# ------------------------------------------------------------------------------------------- per series ----
def _scale(case: Case) -> float:
    y, lag = case.train.to_numpy(float), case.season_length
    return float(np.mean(np.abs(y[lag:] - y[:-lag]))) if len(y) > lag else float("nan")


def _score(case: Case, out: dict, scale: float) -> dict:
    actual, predicted = case.test, np.asarray(out["mean"], dtype=float)
    if predicted.shape != actual.shape or not np.all(np.isfinite(predicted)):
        raise ValueError(f"forecast of shape {predicted.shape} (wanted {actual.shape}) or not finite")
    error = np.abs(actual - predicted)
    denominator = np.abs(actual) + np.abs(predicted)
    scores = {"mase": float(error.mean() / scale) if scale > 0 else float("nan"),
              "smape": float(np.mean(np.where(denominator > 0, 200 * error / np.where(denominator > 0,
                                                                                     denominator, 1), 0)))}
    for level in LEVELS:
        lower, upper = (np.asarray(b, dtype=float) for b in out[level])
        finite = np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))  # no interval: no coverage figure
        scores[f"cov{level}"] = float(np.mean((actual >= lower) & (actual <= upper))) if finite else float("nan")
    return scores


_WARMUP: dict | None = None


def _warm_up() -> dict:
    """Imports and a first call of every model on a small series, so per-series CPU is the steady state."""
    from bench.series_sets import seasonal_trend

    costs = {}
    for label, module in (("import statsforecast.models", "statsforecast.models"),
                          ("import statsmodels holtwinters", "statsmodels.tsa.holtwinters"),
                          ("import chalicelib forecast", "chalicelib.analytics.forecast")):
        started = time.process_time()
        __import__(module)
        costs[label] = time.process_time() - started
    weekly = seasonal_trend(weeks=120)
    case = Case("warm-up", "planted", "warm-up", "warm-up", "W", weekly.iloc[:-12], weekly.iloc[-12:].to_numpy())
    for name, run in RUNNERS.items():
        started = time.process_time()
        try:
            run(case)
        except Exception:  # noqa: BLE001 - a model that cannot even warm up fails again on the real series
            pass
        costs[f"first call {name}"] = time.process_time() - started
    return costs


def run_case(case: Case, budget: float = BUDGET_SECONDS) -> dict:
    """Every model on one case, each stopped after ``budget`` CPU seconds (SIGPROF: the model's Python code
    raises at its next bytecode); the first case of each worker process also reports its warm-up costs."""
    global _WARMUP
    warnings.simplefilter("ignore")  # convergence chatter; bad fits show in the scores
    signal.signal(signal.SIGPROF, _over_budget)
    record: dict = {"key": case.key, "set": case.set_name, "source": case.source, "n": len(case.train),
                    "h": case.h, "m": case.season_length, "models": {}}
    if _WARMUP is None:
        _WARMUP = _warm_up()
        record["warmup"] = _WARMUP
    scale = _scale(case)
    warnings.simplefilter("ignore")  # again: importing statsmodels sets ConvergenceWarning to "always"
    for name, run in RUNNERS.items():
        started = time.process_time()
        try:
            signal.setitimer(signal.ITIMER_PROF, budget, 1.0)  # and again each second, should one be swallowed
            out = run(case)
            signal.setitimer(signal.ITIMER_PROF, 0)
            scores = _score(case, out, scale)
        except (Exception, OverBudget) as failed:  # noqa: BLE001 - one model failing must not stop the others
            signal.setitimer(signal.ITIMER_PROF, 0)
            scores = {"error": f"{type(failed).__name__}: {str(failed).splitlines()[0][:160] if str(failed) else ''}"}
        record["models"][name] = {**scores, "cpu": time.process_time() - started}
    return record


# ---------------------------------------------------------------------------------------------- summary ----
def summarise(records: list[dict]) -> list[dict]:
    """One row per model; a failed series is scored as the seasonal naive forecast and counted."""
    rows = []
    for name in MODELS:
        scores, failures, errors = [], 0, {}
        for record in records:
            result, naive = record["models"][name], record["models"]["SeasonalNaive"]
            if "error" in result:
                failures += 1
                errors[result["error"]] = errors.get(result["error"], 0) + 1
                result = naive if "error" not in naive else {}
            naive_mase = naive.get("mase", np.nan)
            scores.append({**{k: result.get(k, np.nan) for k in ("mase", "smape", "cov80", "cov95")},
                           "beats": result.get("mase", np.nan) < naive_mase if np.isfinite(naive_mase) else np.nan,
                           "cpu": record["models"][name]["cpu"]})
        column = {k: np.array([s[k] for s in scores], dtype=float) for k in scores[0]} if scores else {}
        mase = column["mase"][np.isfinite(column["mase"])] if scores else np.array([])
        rows.append({"model": name, "series": int(mase.size), "mean_mase": _mean(mase),
                     "median_mase": float(np.median(mase)) if mase.size else np.nan,
                     "mean_smape": _mean(column.get("smape")), "share_beats_naive": _mean(column.get("beats")),
                     "coverage_80": _mean(column.get("cov80")), "coverage_95": _mean(column.get("cov95")),
                     "cpu_per_series": _mean(column.get("cpu")), "failures": failures,
                     "unsupported": bool(records) and failures == len(records), "errors": errors})
    return rows


def _mean(values: np.ndarray | None) -> float:
    values = values[np.isfinite(values)] if values is not None else np.array([])
    return float(values.mean()) if values.size else float("nan")


def verdict(rows: list[dict]) -> dict:
    """The issue's targets for SalesLens on one set."""
    by = {row["model"]: row for row in rows}
    ours = by["SalesLens"]
    if ours["unsupported"]:
        return {"supported": False, "error": next(iter(ours["errors"]), "")}
    best = min(PEERS, key=lambda n: by[n]["mean_mase"] if np.isfinite(by[n]["mean_mase"]) else np.inf)
    best_share = max(PEERS[1:], key=lambda n: by[n]["share_beats_naive"])
    cpu_ratio = ours["cpu_per_series"] / by["AutoETS"]["cpu_per_series"]
    coverage_ok = abs(ours["coverage_80"] - 0.80) <= 0.05 and abs(ours["coverage_95"] - 0.95) <= 0.05
    return {"supported": True, "best_peer": best, "mase_ratio": ours["mean_mase"] / by[best]["mean_mase"],
            "mase_ok": ours["mean_mase"] <= 0.95 * by[best]["mean_mase"], "best_share_peer": best_share,
            "share_ok": ours["share_beats_naive"] >= by[best_share]["share_beats_naive"], "cpu_ratio": cpu_ratio,
            "cpu_ok": cpu_ratio <= 2, "coverage_ok": coverage_ok}


def _table(set_name: str, rows: list[dict], v: dict) -> str:
    by = {row["model"]: row for row in rows}
    lines = [f"{'model':<14}{'series':>7}{'mean MASE':>11}{'median':>8}{'sMAPE %':>9}{'beats snaive':>14}"
             f"{'cov 80':>8}{'cov 95':>8}{'CPU s/series':>14}{'failures':>10}"]
    for row in rows:
        if row["unsupported"]:
            lines.append(f"{row['model']:<14}{'unsupported: ' + next(iter(row['errors']), '')[:90]}")
            continue
        lines.append(f"{row['model']:<14}{row['series']:>7}{row['mean_mase']:>11.3f}{row['median_mase']:>8.3f}"
                     f"{row['mean_smape']:>9.2f}{row['share_beats_naive']:>14.0%}{row['coverage_80']:>8.1%}"
                     f"{row['coverage_95']:>8.1%}{row['cpu_per_series']:>14.3f}{row['failures']:>10}")
        for error, count in list(row["errors"].items())[:3]:
            lines.append(f"{'':<16}{count} x {error}")
    ours = by["SalesLens"]
    if not v["supported"]:
        lines.append(f"verdict {set_name}: SalesLens does not support this frequency ({v['error'][:100]})")
        return "\n".join(lines)
    mark = {True: "met", False: "MISSED"}
    best, share = by[v["best_peer"]], by[v["best_share_peer"]]
    lines += [
        f"verdict {set_name}: mean MASE {ours['mean_mase']:.3f} vs best peer {v['best_peer']} {best['mean_mase']:.3f} "
        f"= {v['mase_ratio']:.2f}x (target <= 0.95x): {mark[v['mase_ok']]}",
        f"verdict {set_name}: beats seasonal naive on {ours['share_beats_naive']:.0%} vs best peer "
        f"{v['best_share_peer']} {share['share_beats_naive']:.0%} (target >=): {mark[v['share_ok']]}",
        f"verdict {set_name}: CPU {ours['cpu_per_series']:.3f} s/series vs AutoETS "
        f"{by['AutoETS']['cpu_per_series']:.3f} = {v['cpu_ratio']:.1f}x (target <= 2x): {mark[v['cpu_ok']]}",
        f"verdict {set_name}: coverage 80 % {ours['coverage_80']:.1%}, 95 % {ours['coverage_95']:.1%} "
        f"(target within 5 points): {mark[v['coverage_ok']]}"]
    return "\n".join(lines)


def _forecaster_version() -> str:
    paths = sorted((ROOT / "chalicelib" / "analytics").glob("forecast*.py"))
    digest = hashlib.sha1(b"".join(path.read_bytes() for path in paths)).hexdigest()[:10]
    status = subprocess.run(["git", "status", "--porcelain", "--", *map(str, paths)], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    return f"chalicelib/analytics/forecast*.py sha1 {digest} ({'modified' if status else 'as committed'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--per-set", type=int, help="series per set (default: monthly 200, quarterly 150, "
                                                    "weekly all 42, planted 24)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (CPU is measured inside each)")
    parser.add_argument("--seed", type=int, default=0, help="sample and planted-series seed")
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS, help="CPU seconds per model and series")
    parser.add_argument("--json", type=Path, help="write every figure and per-series score here")
    args = parser.parse_args()

    wall, version = time.perf_counter(), _forecaster_version()
    cases = [case for set_name in args.sets for case in load(set_name, args.per_set, args.seed)]
    print(f"{len(cases)} series ({', '.join(f'{s} {sum(c.set_name == s for c in cases)}' for s in args.sets)}), "
          f"{args.jobs} worker(s), {args.budget:.0f} s CPU budget per model and series; forecaster: "
          f"{version}", flush=True)
    ordered = sorted(cases, key=lambda c: -len(c.train) * c.season_length)  # the slowest first: even workers
    records = []
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            for record in pool.imap_unordered(functools.partial(run_case, budget=args.budget), ordered):
                records.append(record)
                _progress(len(records), len(cases), wall)
    else:
        for case in ordered:
            records.append(run_case(case, args.budget))
            _progress(len(records), len(cases), wall)

    if _forecaster_version() != version:
        print(f"WARNING: the forecaster changed during the run: now {_forecaster_version()}")
    report: dict = {"forecaster": version, "args": {k: str(v) for k, v in vars(args).items()},
                    "sets": {}, "warmup": [r["warmup"] for r in records if "warmup" in r], "series": records}
    for set_name in args.sets:
        rows = summarise([r for r in records if r["set"] == set_name])
        v = verdict(rows)
        report["sets"][set_name] = {"table": rows, "verdict": v}
        done = [r for r in records if r["set"] == set_name]
        print(f"\n== {set_name}: {len(done)} series, horizon {sorted({r['h'] for r in done})} ==")
        print(_table(set_name, rows, v))
    warmups = report["warmup"]
    if warmups:
        print("\none-off CPU per worker process, in this order (shared dependencies are paid by the first), not in "
              "the per-series figures (median of "
              f"{len(warmups)}): " + ", ".join(f"{k} {np.median([w[k] for w in warmups]):.2f} s" for k in warmups[0]))
    seconds = time.perf_counter() - wall
    report["wall_seconds"] = seconds
    print(f"\nwall time {seconds:.0f} s for {len(cases)} series")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=_plain))
        print(f"results in {args.json}")


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else str(value)  # numpy scalars


def _progress(done: int, total: int, started: float) -> None:
    if done % 25 == 0 or done == total:
        print(f"  {done}/{total} series, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
