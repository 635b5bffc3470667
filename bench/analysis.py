"""Analysis speed and memory: the SalesLens worker against a naive pandas pipeline, on the same data.

  (a) SalesLens: the whole analysis run (jobs.runner) — aggregates as SQL in the local query engine
      (DuckDB over the lake's Parquet in S3), Python on aggregates, KMS-encrypted artifacts.
  (b) naive: read every row into pandas, groupby for the daily series and customer features,
      K-Means on the customers, Surprise SVD on every transaction row as a rating.

Generated retail sales (chalicelib.samples) are written once per size as a committed lake batch in
moto's server. Each pipeline runs in its own child process: seconds and peak RSS are its own.
  python bench/analysis.py                          # 100k, 1M and 10M rows
  python bench/analysis.py --rows 100000 1000000
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAIVE_TIMEOUT_SECONDS = 1200


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class StepMemory:
    """Samples RSS every 20 ms and files each sample under the step running at the time."""

    def __init__(self) -> None:
        self.step, self.peaks = "setup", {}
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peaks[self.step] = max(self.peaks.get(self.step, 0.0), rss_mb())

    def stop(self) -> dict[str, float]:
        self._stop.set()
        return self.peaks


def load_lake(tenant_id: str, rows: int) -> int:
    """Generated sales straight into one committed batch (the ingestion bench measures ingestion)."""
    import pandas as pd

    from chalicelib import aws
    from chalicelib.auth.permissions import TenantContext
    from chalicelib.config import get_settings
    from chalicelib.lake.batches import BatchWriter
    from chalicelib.samples.generator import retail

    settings, ctx, written = get_settings(), TenantContext(tenant_id, "bench", "analyst"), 0
    with BatchWriter(aws.client("s3"), settings.data_bucket, settings.kms_key_id, ctx, "transactions",
                     f"bench{rows}") as writer:
        for chunk in retail(seed=11, customers=max(500, rows // 100), products=200, target_rows=rows):
            frame = chunk.astype({c: str for c in chunk.columns if isinstance(chunk[c].dtype, pd.CategoricalDtype)})
            frame["row_fingerprint"] = pd.util.hash_pandas_object(frame, index=False).astype("int64")
            writer.write(frame.assign(source="upload", batch_id=f"bench{rows}", is_outlier=False))
            written += len(frame)
        writer.commit({"source": "bench"})
    return written


def run_saleslens(tenant_id: str) -> dict:
    from chalicelib.auth.permissions import TenantContext
    from jobs.handler import build_worker

    worker = build_worker()
    memory = StepMemory()
    runs = worker.runs
    original_update = runs.update

    def update(run: object) -> None:  # the runner saves the run after every step: follow it
        memory.step = getattr(run, "step", "") or memory.step
        original_update(run)

    runs.update = update
    run, _ = runs.request(tenant_id, "manual", "benchmark")
    started = time.perf_counter()
    run = runs.start(tenant_id, run.run_id)
    worker.runner.run(TenantContext(tenant_id, "bench", "analyst"), run)
    seconds = time.perf_counter() - started
    peaks = memory.stop()
    steps = [{"name": s["name"], "status": s["status"], "seconds": s["seconds"],
              "peak_rss_mb": peaks.get(s["name"], 0.0)} for s in run.steps]
    return {"seconds": seconds, "steps": steps}


def run_naive(tenant_id: str) -> dict:
    """Everything in pandas on every row, the way a notebook would do it."""
    import io

    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    from surprise import SVD, Dataset, Reader

    from chalicelib import aws
    from chalicelib.auth.permissions import TenantContext
    from chalicelib.config import get_settings
    from chalicelib.lake.batches import committed_files

    settings, s3, ctx = get_settings(), aws.client("s3"), TenantContext(tenant_id, "bench", "analyst")
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = time.perf_counter() - clock
        clock = time.perf_counter()

    frames = [pd.read_parquet(io.BytesIO(s3.get_object(Bucket=settings.data_bucket, Key=key)["Body"].read()))
              for key in committed_files(s3, settings.data_bucket, ctx, "transactions")]
    rows = pd.concat(frames, ignore_index=True)
    lap("read all rows")
    rows.groupby(rows["ts"].dt.floor("D")).agg(revenue=("amount", "sum"), orders=("order_id", "nunique"))
    last = rows["ts"].max()
    features = rows.groupby("customer_id").agg(monetary=("amount", "sum"), frequency=("order_id", "nunique"),
                                               recency=("ts", lambda t: (last - t.max()).days))
    lap("groupby")
    scaled = StandardScaler().fit_transform(np.log1p(features.clip(lower=0)))
    scores = {k: silhouette_score(scaled, KMeans(k, n_init=4, random_state=0).fit_predict(scaled),
                                  sample_size=min(len(scaled), 5000), random_state=0) for k in range(2, 9)}
    KMeans(max(scores, key=scores.get), n_init=4, random_state=0).fit(scaled)
    lap("kmeans")
    ratings = rows[["customer_id", "product_id", "quantity"]].assign(quantity=lambda f: f["quantity"].clip(1, 5))
    SVD(random_state=0).fit(Dataset.load_from_df(ratings, Reader(rating_scale=(1, 5))).build_full_trainset())
    lap("surprise svd")
    return {"seconds": sum(timings.values()), "steps": [{"name": k, "seconds": v} for k, v in timings.items()]}


def child(kind: str, tenant_id: str, rows: str) -> None:
    if kind == "load":
        result = {"rows": load_lake(tenant_id, int(rows))}
    else:
        result = run_saleslens(tenant_id) if kind == "saleslens" else run_naive(tenant_id)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, tenant_id: str, rows: int, env: dict[str, str], timeout: float | None = None) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, "--child", kind, tenant_id, str(rows)], env=env, check=True,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timed_out": True, "seconds": timeout, "steps": [], "peak_rss_mb": float("nan")}
    except subprocess.CalledProcessError as failed:
        return {"failed": failed.stderr[-2000:], "seconds": float("nan"), "steps": [], "peak_rss_mb": float("nan")}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--child", nargs=3, metavar=("KIND", "TENANT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from bench.ingest import start_moto

    moto, env = start_moto()
    env = {**env, "PYTHONPATH": str(ROOT)}
    summary = []
    try:
        for rows in args.rows:
            tenant_id = uuid.uuid4().hex
            loaded = measure("load", tenant_id, rows, env)
            print(f"\n== {loaded['rows']:,} rows ==")
            ours = measure("saleslens", tenant_id, rows, env)
            if "failed" in ours:
                print("SalesLens run failed:\n" + ours["failed"])
                continue
            for step in ours["steps"]:
                print(f"  saleslens {step['name']:<18} {step['status']:<8} {step['seconds']:>7.2f} s "
                      f"{step['peak_rss_mb']:>8,.0f} MB")
            naive = measure("naive", tenant_id, rows, env, timeout=NAIVE_TIMEOUT_SECONDS)
            for step in naive["steps"]:
                print(f"  naive     {step['name']:<18} {'':<8} {step['seconds']:>7.2f} s")
            naive_text = (f"did not finish in {NAIVE_TIMEOUT_SECONDS} s" if naive.get("timed_out") else
                          f"failed: {naive['failed'][-300:]}" if "failed" in naive else
                          f"{naive['seconds']:.1f} s, {naive['peak_rss_mb']:,.0f} MB peak")
            ratio = naive["seconds"] / ours["seconds"] if not naive.get("timed_out") else float("inf")
            summary.append(f"{loaded['rows']:>11,} rows: SalesLens {ours['seconds']:.1f} s, "
                           f"{ours['peak_rss_mb']:,.0f} MB peak; naive {naive_text}; SalesLens is "
                           f"{ratio:.1f}x faster")
            print(summary[-1], flush=True)
        print("\nsummary:\n" + "\n".join(summary))
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
