"""Ingestion speed and memory: SalesLens' pipeline against the naive baseline, on the same CSV files.

  (a) SalesLens: read (streaming) → map → validate and clean → fingerprint → write zstd Parquet parts
      to S3 (moto's server, SSE-KMS) → commit the manifest — what the ingest worker does after it has
      downloaded the raw file.
  (b) baseline: ``pandas.read_csv`` + ``DataFrame.to_parquet`` — no validation, no cleaning, no S3.
  (c) floor: DuckDB's parallel CSV reader straight into zstd Parquet (``COPY ... TO``) — no validation either:
      about as fast as a compiled engine converts the file on this machine, for reading the ratio (a).

Each run is a fresh child process so peak RSS is its own. Usage:
  python bench/ingest.py                       # 1M and 10M rows
  python bench/ingest.py --rows 1000000 --repeat 3
Prints one line per run and a summary with medians and the ratio SalesLens / baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA_DIR = Path(os.environ.get("SL_BENCH_DIR", Path(tempfile.gettempdir()) / "saleslens-bench"))


def sample_csv(rows: int) -> Path:
    """A retail CSV of about ``rows`` order lines (generated once, then reused)."""
    from chalicelib.samples import retail, write_csv

    path = DATA_DIR / f"retail-{rows}.csv"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        write_csv(partial, retail(seed=11, customers=max(500, rows // 200), products=200, target_rows=rows))
        partial.rename(path)
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_baseline(path: Path) -> dict:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(path)
    with tempfile.TemporaryDirectory() as out:
        frame.to_parquet(Path(out) / "all.parquet")
    return {"rows": len(frame), "seconds": time.perf_counter() - started}


def run_floor(path: Path) -> dict:
    import duckdb

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        rows = duckdb.connect().execute(f"COPY (SELECT * FROM read_csv(?)) TO '{Path(out) / 'all.parquet'}' "
                                        "(FORMAT parquet, COMPRESSION zstd)", [str(path)]).fetchone()[0]
    return {"rows": rows, "seconds": time.perf_counter() - started}


def run_saleslens(path: Path) -> dict:
    from chalicelib import services
    from chalicelib.auth.permissions import TenantContext
    from chalicelib.ingest.mapping import propose_mapping
    from chalicelib.ingest.readers import open_table

    service = services.ingestion()
    ctx = TenantContext(uuid.uuid4().hex, "bench", "analyst", "bench")
    started = time.perf_counter()
    with open(path, "rb") as file:
        stream = open_table(file, path.name)
        mapping = propose_mapping(stream.columns, stream.sample(1000))
        result = service._load(ctx, "transactions", stream, mapping, "upload", "bench")  # noqa: SLF001
    summary = result["summary"]
    return {"rows": summary["rows_read"], "accepted": summary["rows_accepted"],
            "seconds": time.perf_counter() - started}


def child(kind: str, path: str) -> None:
    result = {"saleslens": run_saleslens, "baseline": run_baseline, "floor": run_floor}[kind](Path(path))
    print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))


def start_moto() -> tuple[subprocess.Popen, dict[str, str]]:
    """moto's server in its own process, so its stored objects do not count in our RSS."""
    from infra.local.provision import provision
    from infra.local.stack import wait_for_port

    port = 5600 + os.getpid() % 300
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, 30, process)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    env = provision(endpoint, "us-east-1")
    return process, {**os.environ, **env, "POWERTOOLS_LOG_LEVEL": "WARNING"}


def measure(kind: str, path: Path, env: dict[str, str]) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], env=env, check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and pipeline (medians reported)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    moto, env = start_moto()
    try:
        print(f"{'rows':>11} {'pipeline':<10} {'run':>3} {'seconds':>8} {'rows/s':>11} {'peak RSS MB':>11}")
        summary = []
        for rows in args.rows:
            path = sample_csv(rows)
            medians = {}
            for kind in ("baseline", "floor", "saleslens"):
                runs = []
                for run in range(args.repeat if rows <= 2_000_000 else 1):
                    result = measure(kind, path, env)
                    runs.append(result)
                    print(f"{result['rows']:>11,} {kind:<10} {run + 1:>3} {result['seconds']:>8.2f} "
                          f"{result['rows'] / result['seconds']:>11,.0f} {result['peak_rss_mb']:>11,.0f}", flush=True)
                medians[kind] = {"rows_per_s": statistics.median(r["rows"] / r["seconds"] for r in runs),
                                 "rss": statistics.median(r["peak_rss_mb"] for r in runs)}
            ratio = medians["saleslens"]["rows_per_s"] / medians["baseline"]["rows_per_s"]
            summary.append(f"{rows:>11,} rows: SalesLens {medians['saleslens']['rows_per_s']:,.0f} rows/s, "
                           f"{medians['saleslens']['rss']:,.0f} MB peak; baseline "
                           f"{medians['baseline']['rows_per_s']:,.0f} rows/s, {medians['baseline']['rss']:,.0f} MB "
                           f"peak; speed ratio {ratio:.2f}x (floor: DuckDB copy without validation "
                           f"{medians['floor']['rows_per_s']:,.0f} rows/s, "
                           f"{medians['floor']['rows_per_s'] / medians['baseline']['rows_per_s']:.2f}x)")
        print("\nmedians:\n" + "\n".join(summary))
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
