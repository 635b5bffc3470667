"""Latency under concurrent load, on loopback only: the local stack (`python -m infra.local.stack` with the demo
company) answering 20 and 50 clients at once, each client looping over the routes a signed-in portal page calls.

Prints p50/p95 per route and per client count, against the named baseline `/health` (no work, no AWS call) in the
same run: a route whose p95 is far above the baseline's does work per request that should have been kept.
  python bench/load.py                       # 20 and 50 clients, 15 s each
  python bench/load.py --clients 20 --seconds 30
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
DEMO = {"email": "demo@saleslens.example", "password": "Demo-Sales-2026!"}
BASELINE = "/health"
ROUTES = [BASELINE, "/me", "/me/preferences", "/datasets", "/uploads", "/results", "/explore/fields",
          "/explore/values?dimension=product&q=bi"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_stack() -> tuple[subprocess.Popen, str]:
    """The whole local stack on free loopback ports; returns the process and the API's address."""
    ports = [str(free_port()) for _ in range(3)]
    process = subprocess.Popen([sys.executable, "-m", "infra.local.stack", "--moto-port", ports[0], "--api-port",
                                ports[1], "--web-port", ports[2]], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("READY"):
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # keep it drained
            return process, dict(part.split("=", 1) for part in line.split() if "=" in part)["api"]
    raise SystemExit("the local stack did not start; run `make run` to see why")


def signed_in(api: str) -> dict[str, str]:
    """The demo owner's header, once the demo company's first analysis has finished (so /results has a run)."""
    token = requests.post(f"{api}/auth/login", json=DEMO, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        runs = requests.get(f"{api}/runs?limit=1", headers=headers, timeout=30).json()["runs"]
        if runs and runs[0]["status"] in ("succeeded", "failed"):
            return headers
        time.sleep(1)
    raise SystemExit("the demo analysis did not finish in 5 minutes")


def hammer(api: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[dict[str, list[float]], int]:
    """`clients` threads, each cycling through ROUTES (from a different start) for `seconds`; latencies in ms by
    route, and how many answers were not 200."""
    latencies: dict[str, list[float]] = defaultdict(list)
    failures = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        session = requests.Session()
        i = offset
        while time.monotonic() < stop:
            route = ROUTES[i % len(ROUTES)]
            started = time.perf_counter()
            status = session.get(f"{api}{route}", headers=headers, timeout=60).status_code
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies[route].append(elapsed)
                failures[0] += status != 200
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures[0]


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1] if len(values) > 1 \
        else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="*", default=[20, 50])
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    process, api = start_stack()
    try:
        headers = signed_in(api)
        hammer(api, headers, 2, 3)  # warm-up: first answers fill the per-version caches
        for clients in args.clients:
            latencies, failures = hammer(api, headers, clients, args.seconds)
            base95 = percentile(latencies[BASELINE], .95)
            total = sum(len(v) for v in latencies.values())
            print(f"\n{clients} clients, {args.seconds:.0f} s: {total:,} requests ({total / args.seconds:,.0f}/s), "
                  f"{failures} not 200")
            print(f"{'route':<40} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p95 / ' + BASELINE:>16}")
            for route in ROUTES:
                values = latencies[route]
                print(f"{route:<40} {len(values):>6} {percentile(values, .5):>8.0f} {percentile(values, .95):>8.0f} "
                      f"{percentile(values, .95) / base95:>15.1f}x")
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
