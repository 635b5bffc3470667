"""Selection and combination rules for the forecaster, scored offline on the bench's held-out series: every
candidate model (the shipped ones and the optional AutoARIMA, damped trend, naive, ETS and Holt-Winters) is fitted
once per series through the forecaster's own code, its backtest errors and final forecast are kept, and each rule
(best single model by backtest, mean or median of all or of the top k, with a tie margin for the combination) is
scored on the test parts. The baseline is the rule SalesLens ships (mean of the top three, 10 % tie, the
frequency's default models), in the same run; with ``--peers`` (a bench/forecast_quality.py --json file of the
same sample) the ratio to the best single peer of each set is printed too.

This is the study behind the issue-14 note: which rule to ship, and whether any rule over these candidates
reaches 0.95x the best peer.
  python bench/forecast_rules.py --sets monthly quarterly --peers fq.json
"""
from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import sys
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.forecast_quality import PEERS, _scale  # noqa: E402
from bench.series_sets import SETS, Case, load  # noqa: E402

SHIPPED = ("shipped", "mean", 3, 0.1)
RULES = [SHIPPED, *[(pool, how, k, tie) for pool in ("shipped", "all")
                    for how, k in (("best", None), ("median", None), ("mean", None), ("mean", 2), ("mean", 3),
                                   ("median", 3), ("mean", 4))
                    for tie in ((0.0,) if how == "best" else (0.0, 0.1, 0.2))
                    if (pool, how, k, tie) != SHIPPED]]


def candidates_of(case: Case, origins: int = 3) -> dict:
    """Each candidate's backtest mean absolute error and its clipped final forecast, for one case."""
    from chalicelib.analytics import forecast as fc
    from chalicelib.analytics.forecast_backtest import YARDSTICKS, backtest_errors

    warnings.simplefilter("ignore")
    series, freq = fc._prepare(case.daily if case.daily is not None else case.train, case.freq)
    y = series.to_numpy(dtype=float)
    shipped = fc.FREQ_MODELS.get(freq, fc.MODELS)
    everything = tuple(dict.fromkeys(shipped + fc.OPTIONAL + ("ets",)))
    _, starts, step, scored = fc._candidates(y, freq, case.h, origins, everything)
    models = {name: {"errors": backtest_errors(y, run.backtest, starts, step),
                     "mean": np.clip(run.final.mean[:case.h], 0, None), "shipped": name in shipped}
              for name, run in scored.items() if name not in YARDSTICKS and name != "ensemble"}
    naive = np.clip(scored["seasonal_naive"].final.mean[:case.h], 0, None)
    return {"key": case.key, "set": case.set_name, "test": case.test, "scale": _scale(case), "models": models,
            "naive": naive}


def apply(rule: tuple, record: dict) -> np.ndarray:
    """The forecast ``rule`` makes from one case's candidates (seasonal naive when none fitted): the combination
    of the top k unless the best single model's backtest error is over ``tie`` lower, as forecast_backtest.choose
    does (a combination's backtest errors are its members' errors combined the same way)."""
    pool, how, k, tie = rule
    models = {n: m for n, m in record["models"].items() if pool == "all" or m["shipped"]}
    if not models:
        return record["naive"]
    error = {n: float(np.mean(np.abs(m["errors"]))) for n, m in models.items()}
    ranked = sorted(models, key=error.get)
    best = models[ranked[0]]["mean"]
    if how == "best" or len(ranked) < 2:
        return best
    combine = functools.partial(np.median if how == "median" else np.mean, axis=0)
    top = ranked[:k or len(ranked)]
    combined_error = float(np.mean(np.abs(combine(np.array([models[n]["errors"] for n in top])))))
    if combined_error <= error[ranked[0]] * (1 + tie):
        return combine(np.array([models[n]["mean"] for n in top]))
    return best


def score(rule: tuple, records: list[dict]) -> tuple[float, float]:
    """Mean MASE over the records and the share beating seasonal naive."""
    mase, beats = [], []
    for record in records:
        error = np.mean(np.abs(record["test"] - apply(rule, record))) / record["scale"]
        naive = np.mean(np.abs(record["test"] - record["naive"])) / record["scale"]
        mase.append(error)
        beats.append(error < naive)
    return float(np.mean(mase)), float(np.mean(beats))


def best_peer(path: Path | None, set_name: str, keys: set[str]) -> tuple[str, float] | None:
    if path is None:
        return None
    series = [r for r in json.loads(path.read_text())["series"] if r["set"] == set_name and r["key"] in keys]
    if len(series) != len(keys):
        return None
    means = {p: np.mean([r["models"][p].get("mase", r["models"]["SeasonalNaive"]["mase"]) for r in series])
             for p in PEERS[1:]}
    name = min(means, key=means.get)
    return name, float(means[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", choices=SETS, default=["monthly", "quarterly", "weekly", "planted"])
    parser.add_argument("--per-set", type=int, help="series per set (default: the quality bench's sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--origins", type=int, default=3, help="backtest origins per series (the job uses 3)")
    parser.add_argument("--peers", type=Path, help="a bench/forecast_quality.py --json file of the same sample")
    args = parser.parse_args()
    cases = [case for set_name in args.sets for case in load(set_name, args.per_set, args.seed)]
    print(f"{len(cases)} series; every candidate fitted once per series (AutoARIMA included: slow on monthly)",
          flush=True)
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        records = pool.map(functools.partial(candidates_of, origins=args.origins),
                           sorted(cases, key=lambda c: -len(c.train)), chunksize=2)
    for set_name in args.sets:
        chosen = [r for r in records if r["set"] == set_name]
        baseline = score(SHIPPED, chosen)[0]
        peer = best_peer(args.peers, set_name, {r["key"] for r in chosen})
        print(f"\n== {set_name}: {len(chosen)} series; baseline = the shipped rule, MASE {baseline:.3f}"
              + (f"; best peer {peer[0]} {peer[1]:.3f}" if peer else ""))
        print(f"{'pool':<9}{'rule':<10}{'top':>5}{'tie':>6}{'MASE':>8}{'vs shipped':>12}{'vs peer':>9}"
              f"{'beats snaive':>14}")
        rows = sorted(((score(rule, chosen), rule) for rule in RULES), key=lambda row: row[0][0])
        for (mase, beats), (pool_name, how, k, tie) in rows:
            versus = f"{mase / peer[1]:.3f}x" if peer else "-"
            print(f"{pool_name:<9}{how:<10}{k or 'all':>5}{tie:>6.0%}{mase:>8.3f}{mase / baseline:>11.3f}x"
                  f"{versus:>9}{beats:>14.0%}")


if __name__ == "__main__":
    main()
