"""Explore speed: a fixed mix of dashboard questions asked of SalesLens and written by hand as DuckDB SQL.

Generated retail sales (20,000 customers, 400 products, two years) are loaded per size through the real ingestion
(CSV → ``IngestionService._load``: validate, clean, zstd Parquet to moto's S3, commit, then the ``sales_daily``
rollup) for a company signed up through the API. Then, each in its own child process (peak RSS is its own):

  (a) SalesLens: 200 seeded questions, five kinds, asked of ``Explore`` in-process (the API Lambda's work minus
      HTTP). cold: a new container (fresh engine, part cache and answer cache), and the first question after a
      new commit in a warm one; warm: the mix twice, second pass reported, with the answer cache (hits), without
      it (every answer computed; only the per-version profile and autocomplete lists kept, as designed) and with
      no cache at all; a few questions through the Chalice test client with a real Cognito token.
  (b) raw: the same questions written by hand as DuckDB SQL over local copies of the same Parquet parts.

  python bench/explore.py                       # 1M and 10M rows
  python bench/explore.py --rows 100000         # a quick check
Prints a Markdown table per size (for the README), where the time goes per kind, and a one-line summary.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA_DIR = Path(os.environ.get("SL_BENCH_DIR", Path(tempfile.gettempdir()) / "saleslens-bench"))

KINDS = ("kpi", "weekly_by_region", "top_products_compare", "drill_rows", "autocomplete")
AGGREGATES = KINDS[:3]
SAMPLE = {"seed": 11, "customers": 20_000, "products": 400, "start": "2024-01-01", "days": 730}
PASSWORD = "Bench-Explore-2026!"
COLD_RUNS, NO_CACHE_RUNS, HTTP_RUNS, COMMIT_ROUNDS = 3, 8, 5, 2  # per kind
CHILD_TIMEOUT = 1800
OTHER = "(everything else)"


# -- the data and the questions ------------------------------------------------------------------
def sample_csv(rows: int) -> Path:
    """About ``rows`` order lines as CSV (generated once, then reused)."""
    from chalicelib.samples import retail, write_csv

    path = DATA_DIR / f"explore-{rows}.csv"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        write_csv(path.with_suffix(".partial"), retail(target_rows=rows, **SAMPLE))
        path.with_suffix(".partial").rename(path)
    return path


def question_mix(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` dashboard questions, the kinds in equal shares and shuffled, values taken from the sample's world."""
    from chalicelib.samples.generator import CATEGORIES, CHANNELS, REGIONS, world

    w = world(SAMPLE["seed"], SAMPLE["customers"], SAMPLE["products"], SAMPLE["start"], SAMPLE["days"])
    names, customers = sorted(set(w.product_names.tolist())), w.customer_ids.tolist()
    weeks = [(date(2024, 1, 1) + timedelta(weeks=i)).isoformat() for i in range(104)]  # Mondays
    rng = random.Random(seed)
    kinds = [KINDS[i % len(KINDS)] for i in range(count)]
    rng.shuffle(kinds)

    def term(text: str) -> str:
        size = rng.randint(1, 4)
        start = 0 if rng.random() < 0.5 else rng.randrange(max(1, len(text) - size + 1))
        found = text[start:start + size]
        found = found if found.strip() == found else text[:size]
        return found.lower() if rng.random() < 0.5 else found

    mix = []
    for kind in kinds:
        if kind == "kpi":
            field = rng.choice(("region", "category"))
            body = {"measures": ["revenue", "orders", "customers", "aov"],
                    "filters": [{"field": field, "values": [rng.choice(REGIONS if field == "region" else CATEGORIES)]}],
                    "date": {"preset": rng.choice(("last_30_days", "last_90_days"))}}
        elif kind == "weekly_by_region":
            filters = rng.choice(([], [{"field": "category", "values": rng.sample(CATEGORIES, rng.randint(1, 2))}],
                                  [{"field": "channel", "values": [rng.choice(CHANNELS)]}]))
            body = {"measures": ["revenue"], "dimensions": ["week", "region"], "date": {"preset": "last_365_days"},
                    "filters": filters}
        elif kind == "top_products_compare":
            preset = rng.choice(("last_30_days", "last_90_days", "last_365_days", "previous_month", "previous_quarter"))
            body = {"measures": ["revenue"], "dimensions": ["product"], "limit": 20, "other": True,
                    "compare": {"mode": "previous_period"}, "date": {"preset": preset},
                    "filters": [{"field": "category", "values": [rng.choice(CATEGORIES)]}] if rng.random() < 0.8
                    else []}
        elif kind == "drill_rows":
            body = {"filters": [{"field": "category", "values": [rng.choice(CATEGORIES)]},
                                {"field": "week", "values": [rng.choice(weeks)]}], "limit": 100}
        else:
            dimension = rng.choice(("product", "customer"))
            mix.append({"kind": kind, "dimension": dimension,
                        "q": term(rng.choice(names if dimension == "product" else customers))})
            continue
        mix.append({"kind": kind, "body": body})
    return mix


def close(a: Any, b: Any) -> bool:
    """Same answer, allowing for summation order (rollup sums of sums) in the floats."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=0.01)
    return a == b


# -- the hand-written baseline -------------------------------------------------------------------
def _span(body: dict[str, Any], first: date, last: date) -> tuple[Any, Any]:
    """Date arithmetic only (presets, previous period) shared with the product; the SQL below is by hand."""
    from chalicelib.explore import dates
    from chalicelib.query.explore_model import Compare, DateRange

    span = dates.resolve(DateRange(**body["date"]), first, last)
    return span, (dates.comparison(span, Compare(**body["compare"]))[0] if body.get("compare") else None)


def raw_answer(con: Any, item: dict[str, Any], first: date, last: date) -> list[Any]:
    """One question as a person would write it in DuckDB SQL; returns the figures checked against SalesLens."""
    kind, body = item["kind"], item.get("body", {})
    where, params = [], []
    for condition in body.get("filters", []):
        if condition["field"] == "week":
            where.append("ts >= ?::DATE AND ts < ?::DATE + 7")
            params += [condition["values"][0]] * 2
        else:
            where.append(f"{condition['field']} IN ({', '.join('?' * len(condition['values']))})")
            params += condition["values"]
    if kind == "drill_rows":
        sql = ("SELECT order_id, ts, customer_id, product_id, product_name, category, region, channel, quantity, "
               "unit_price, amount, currency, is_return, count(*) OVER () AS total FROM t WHERE "
               + " AND ".join(where) + " ORDER BY ts DESC, order_id, product_name LIMIT 100")
        rows = con.execute(sql, params).fetchall()
        return [rows[0][-1] if rows else 0, rows[0][0] if rows else None]
    if kind == "autocomplete":
        column = "product_name" if item["dimension"] == "product" else "customer_id"
        needle = item["q"].strip().lower()
        rows = con.execute(f"SELECT {column} AS value, sum(CASE WHEN is_return THEN 0 ELSE amount END) AS revenue "
                           f"FROM t WHERE strpos(lower({column}), ?) > 0 GROUP BY 1 ORDER BY "
                           "NOT starts_with(lower(value), ?), revenue DESC, value LIMIT 20", [needle] * 2).fetchall()
        return [row[0] for row in rows]
    span, before = _span(body, first, last)
    filters = "".join(f" AND {w}" for w in where)
    between = "NOT is_return AND ts >= ? AND ts < ?::DATE + 1" + filters
    if kind == "kpi":
        revenue, orders, customers, _ = con.execute(
            "SELECT sum(amount), count(DISTINCT order_id), count(DISTINCT customer_id), "
            f"sum(amount) / count(DISTINCT order_id) FROM t WHERE {between}", [span.start, span.end, *params]
        ).fetchone()
        return [revenue or 0.0, orders, customers]
    if kind == "weekly_by_region":
        rows = con.execute(f"SELECT date_trunc('week', ts)::DATE AS week, region, sum(amount) AS revenue FROM t "
                           f"WHERE {between} GROUP BY 1, 2 ORDER BY 1, 3 DESC", [span.start, span.end, *params]
                           ).fetchall()
        return [sum(r[2] for r in rows), sum(1 for r in rows if r[2] > 0)]
    rows = con.execute(
        f"WITH now AS (SELECT product_name AS product, sum(amount) AS revenue FROM t WHERE {between} GROUP BY 1), "
        "top AS (SELECT * FROM now ORDER BY revenue DESC, product LIMIT 20), "
        f"before AS (SELECT product_name AS product, sum(amount) AS revenue FROM t WHERE {between} GROUP BY 1) "
        "SELECT top.product, top.revenue, before.revenue FROM top LEFT JOIN before USING (product) "
        "UNION ALL SELECT '(everything else)', (SELECT sum(revenue) FROM now WHERE product NOT IN "
        "(SELECT product FROM top)), (SELECT sum(revenue) FROM before WHERE product NOT IN (SELECT product FROM top))",
        [span.start, span.end, *params, before.start, before.end, *params]).fetchall()
    top = sorted((r for r in rows if r[0] != OTHER), key=lambda r: (-r[1], r[0]))
    return [[r[0] for r in top], sum(r[1] or 0 for r in rows), sum(r[2] or 0 for r in rows)]


def run_raw(spec: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    from chalicelib import aws
    from chalicelib.auth.permissions import TenantContext
    from chalicelib.config import get_settings
    from chalicelib.lake.batches import committed_files

    s3, bucket = aws.client("s3"), get_settings().data_bucket
    keys = committed_files(s3, bucket, TenantContext(spec["tenant_id"], "bench", "analyst"), "transactions")
    with tempfile.TemporaryDirectory(prefix="explore-raw-") as directory:
        started = time.perf_counter()
        paths = [str(Path(directory) / f"part-{i}.parquet") for i in range(len(keys))]
        for key, path in zip(keys, paths, strict=True):
            s3.download_file(bucket, key, path)
        download = time.perf_counter() - started
        con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB"})  # the engine's settings
        con.execute("CREATE VIEW t AS SELECT * FROM read_parquet([" + ", ".join(f"'{p}'" for p in paths) + "])")
        first, last = con.execute("SELECT min(ts)::DATE, max(ts)::DATE FROM t").fetchone()
        passes = []
        for _ in range(2):
            times, checks = [], []
            for item in spec["mix"]:
                clock = time.perf_counter()
                checks.append(raw_answer(con, item, first, last))
                times.append(time.perf_counter() - clock)
            passes.append((times, checks))
        size = sum(os.path.getsize(path) for path in paths)
    return {"seconds": passes[1][0], "checks": passes[1][1], "download_seconds": download, "parts": len(keys),
            "mb": size / 2**20, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# -- SalesLens --------------------------------------------------------------------------------------
class Probe:
    """Where one question's time goes: the lake-state listing, the engine's S3 work (manifests, a HEAD per part,
    downloads), DuckDB (connect, settings, views, execute, fetch), the rest of the engine (sqlglot scoping and
    printing, Parquet schemas for the views), compiling the question (sqlglot), and the rest (pydantic, pandas)."""

    def __init__(self) -> None:
        import duckdb

        from chalicelib.query import duckdb_engine, explore_sql

        self.now: Counter[str] = Counter()
        self._clients: set[int] = set()
        for name in ("compile_explore", "compile_rows", "compile_values", "compile_profile"):
            setattr(explore_sql, name, self._timed("compile", getattr(explore_sql, name)))
        probe = self

        class Connection:
            def __init__(self, connection: Any) -> None:
                self.connection = connection

            def __enter__(self) -> Connection:
                return self

            def __exit__(self, *exc: Any) -> None:
                self.connection.close()

            def execute(self, *args: Any) -> Connection:
                probe._timed("duckdb", self.connection.execute)(*args)
                return self

            def df(self) -> Any:
                return probe._timed("duckdb", self.connection.df)()

            def register(self, *args: Any) -> Any:
                return self.connection.register(*args)

        class DuckDB:
            def connect(self, *args: Any, **kwargs: Any) -> Connection:
                return Connection(probe._timed("duckdb", duckdb.connect)(*args, **kwargs))

        duckdb_engine.duckdb = DuckDB()

    def _timed(self, name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            clock = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.now[name] += time.perf_counter() - clock
        return timed

    def _count(self, client: Any) -> None:
        if id(client) not in self._clients:
            self._clients.add(id(client))
            client.meta.events.register("before-call.s3", lambda **_: self.now.update(s3_calls=1))

    def instrument(self, service: Any) -> Any:
        engine = service.engine
        if not getattr(engine, "probed", False):
            engine._source = self._timed("engine_s3", engine._source)  # noqa: SLF001
            engine.query = self._timed("engine", engine.query)
            engine.probed = True
            self._count(engine._client())  # noqa: SLF001
        service.rollups.state = self._timed("state", service.rollups.state)
        self._count(service.rollups.s3)
        return service

    def split(self, seconds: float) -> dict[str, float]:
        now = self.now
        return {"total": seconds, "state": now["state"], "engine_s3": now["engine_s3"], "duckdb": now["duckdb"],
                "engine_other": now["engine"] - now["engine_s3"] - now["duckdb"], "compile": now["compile"],
                "python": seconds - now["engine"] - now["state"] - now["compile"], "s3_calls": now["s3_calls"]}


def ask(service: Any, ctx: Any, item: dict[str, Any]) -> Any:
    from chalicelib.query.explore_model import ExploreQuery, RowsQuery

    if item["kind"] == "autocomplete":
        return service.values(ctx, item["dimension"], item["q"], 20)
    if item["kind"] == "drill_rows":
        return service.rows(ctx, RowsQuery.model_validate(item["body"]))
    return service.explore(ctx, ExploreQuery.model_validate(item["body"]))


def check(kind: str, answer: dict[str, Any]) -> list[Any]:
    """The figures of an answer that the hand-written SQL must reproduce."""
    rows = answer.get("rows") or []
    if kind == "kpi":
        return [rows[0]["revenue"] or 0.0, rows[0]["orders"], rows[0]["customers"]] if rows else [0.0, 0, 0]
    if kind == "weekly_by_region":
        return [sum(r["revenue"] or 0 for r in rows), sum(1 for r in rows if (r["revenue"] or 0) > 0)]
    if kind == "top_products_compare":
        return [[r["product"] for r in rows if r["product"] != OTHER], sum(r["revenue"] or 0 for r in rows),
                sum(r["revenue_previous"] or 0 for r in rows)]
    if kind == "drill_rows":
        return [answer["total_rows"], rows[0]["order_id"] if rows else None]
    return [v["value"] for v in answer["values"]]


def as_strings(frame: Any) -> Any:
    """Rows as a webhook sends them: text, is_return left for ingestion to derive."""
    out = frame.drop(columns=["is_return"]).astype(object)
    out["ts"] = frame["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out.astype(str)


def http_call(http: Any, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    response = http.request(method, path, headers=headers, body=json.dumps(body).encode() if body is not None else b"")
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:300]!r}")
    return json.loads(response.body) if response.body else None


def run_measure(spec: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from app import app
    from chalicelib import aws, services
    from chalicelib.auth.permissions import TenantContext
    from chalicelib.config import get_settings
    from chalicelib.explore.cache import AnswerCache
    from chalicelib.explore.rollups import Rollups
    from chalicelib.explore.service import Explore
    from chalicelib.query.engine import engine_for
    from chalicelib.samples import retail
    from infra.local.gateway import test_client

    settings, mix, probe = get_settings(), spec["mix"], Probe()
    ctx = TenantContext(spec["tenant_id"], "bench", "analyst")
    out: dict[str, Any] = {name: {k: [] for k in KINDS} for name in ("cold", "cold_commit", "cached", "uncached",
                                                                      "no_cache", "http", "http_inprocess")}
    out["breakdown"], out["checks"], out["commit_split"] = {k: [] for k in KINDS}, [], []

    def build(engine: Any = None, cache: AnswerCache | None = None) -> Explore:
        engine = engine or engine_for(settings)
        return probe.instrument(Explore(engine, Rollups(aws.client("s3"), settings.data_bucket, settings.kms_key_id,
                                                        engine), cache, settings.explore_max_scan_lines))

    def timed(service: Explore, item: dict[str, Any]) -> tuple[float, Any]:
        probe.now.clear()
        clock = time.perf_counter()
        answer = ask(service, ctx, item)
        return time.perf_counter() - clock, answer

    for kind in KINDS:  # a new container: nothing cached, parts fetched from S3
        for item in [q for q in mix if q["kind"] == kind][:COLD_RUNS]:
            seconds, _ = timed(build(), item)
            out["cold"][kind].append(seconds)
            gc.collect()  # the fresh engine's part cache directory goes with it
    warm = build(cache=AnswerCache())
    for run in range(2):
        for item in mix:
            seconds, _ = timed(warm, item)
            if run:
                out["cached"][item["kind"]].append(seconds)
    state = warm.rollups.state(ctx)
    version = [AnswerCache.key(ctx.tenant_id, state.key, kind, question) for kind, question in
               (("profile", None), ("values", ["product", "rollup"]), ("values", ["customer", "rollup"]))]

    class VersionCache(AnswerCache):
        """Keeps what is built once per data version (profile, autocomplete lists), never an answer."""

        def put(self, key: str, value: Any) -> None:
            if key in version:
                super().put(key, value)

    uncached = build(warm.engine, VersionCache())
    for run in range(2):
        for item in mix:
            seconds, answer = timed(uncached, item)
            if run:
                out["uncached"][item["kind"]].append(seconds)
                out["checks"].append(check(item["kind"], answer))
                out["breakdown"][item["kind"]].append(probe.split(seconds))
    out["version_cache"] = [uncached.cache.hits, uncached.cache.misses]
    bare = build(warm.engine, AnswerCache(max_entries=0))
    for kind in KINDS:
        for item in [q for q in mix if q["kind"] == kind][:NO_CACHE_RUNS]:
            out["no_cache"][kind].append(timed(bare, item)[0])

    with test_client(app) as client:  # the route: authorizer (JWT), parsing, JSON; answers computed
        token = http_call(client.http, "POST", "/auth/login", {"email": spec["email"], "password": PASSWORD}
                          )["access_token"]
        http_call(client.http, "GET", "/me", token=token)  # JWKS fetched once per container
        routed = services.explore()
        routed.engine, routed.rollups, routed.cache = warm.engine, uncached.rollups, VersionCache()
        for kind in KINDS:
            for item in [q for q in mix if q["kind"] == kind][:HTTP_RUNS]:
                out["http_inprocess"][kind].append(timed(uncached, item)[0])
                clock = time.perf_counter()
                if kind == "autocomplete":
                    http_call(client.http, "GET", f"/explore/values?dimension={item['dimension']}&q="
                                                  f"{quote(item['q'])}&limit=20", token=token)
                else:
                    http_call(client.http, "POST", "/explore/rows" if kind == "drill_rows" else "/explore",
                              item["body"], token=token)
                out["http"][kind].append(time.perf_counter() - clock)

    ingestion, start = services.ingestion(), pd.Timestamp(SAMPLE["start"]) + pd.Timedelta(days=SAMPLE["days"] - 200)
    for run in range(COMMIT_ROUNDS):  # a warm container, then a new batch commits: the first question after it
        for i, kind in enumerate(KINDS):
            extra = pd.concat(retail(seed=1000 + run * 10 + i, customers=200, products=SAMPLE["products"],
                                     start=start.date().isoformat(), days=200, target_rows=300))
            ingestion.ingest_records(ctx, as_strings(extra), source="upload")
            item = next(q for q in mix if q["kind"] == kind)
            seconds = timed(warm, item)[0]
            out["cold_commit"][kind].append(seconds)
            out["commit_split"].append(probe.split(seconds))
    out["batches"] = len(warm.rollups.state(ctx).transactions)
    out["parts"] = len(warm.engine.cache._entries)  # noqa: SLF001
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Sign a company up through the API, then load the CSV into its lake the way the ingest worker does."""
    from app import app
    from chalicelib import services
    from chalicelib.auth.permissions import TenantContext
    from chalicelib.ingest.mapping import propose_mapping
    from chalicelib.ingest.readers import open_table
    from infra.local.gateway import test_client

    with test_client(app) as client:
        account = {"email": spec["email"], "password": PASSWORD}
        http_call(client.http, "POST", "/auth/signup", {**account, "name": "Bench Owner", "company": "Bench Bikes"})
        http_call(client.http, "POST", "/auth/confirm", {"email": spec["email"], "code": "123456"})
        token = http_call(client.http, "POST", "/auth/login", account)["access_token"]
        tenant_id = http_call(client.http, "GET", "/me", token=token)["tenant"]["tenant_id"]
    ctx, service, rollup = TenantContext(tenant_id, "bench", "analyst", "bench"), services.ingestion(), {}
    build = service._rollup  # noqa: SLF001

    def timed_rollup(*args: Any) -> None:
        clock = time.perf_counter()
        build(*args)
        rollup["seconds"] = time.perf_counter() - clock

    service._rollup = timed_rollup  # noqa: SLF001
    started = time.perf_counter()
    with open(spec["csv"], "rb") as file:
        stream = open_table(file, Path(spec["csv"]).name)
        result = service._load(ctx, "transactions", stream, propose_mapping(stream.columns, stream.sample(1000)),  # noqa: SLF001
                               "upload", "bench")
    seconds = time.perf_counter() - started
    explore = services.explore()
    state = explore.rollups.state(ctx)
    rollup_rows = int(explore.engine.query(ctx, "SELECT count(*) AS n FROM sales_daily")["n"].iloc[0])
    return {"tenant_id": tenant_id, "rows": result["summary"]["rows_accepted"], "seconds": seconds,
            "rollup_seconds": rollup.get("seconds", float("nan")), "rollup_rows": rollup_rows,
            "rollup_complete": state.rollup_complete, "batches": len(state.transactions),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# -- the parent: children, figures, tables ---------------------------------------------------------
def cpu_seconds(moto_pid: int) -> float:
    """CPU the machine spent outside this benchmark so far: every core's busy time minus ours, our children's and
    moto's. The figures are only worth much when this stays near zero while a child measures."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        user, nice, system, _, _, irq, softirq = (int(v) for v in stat.readline().split()[1:8])
    with open(f"/proc/{moto_pid}/stat") as stat:
        moto = sum(int(v) for v in stat.read().rsplit(")", 1)[1].split()[11:13])
    ours = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))
    return (user + nice + system + irq + softirq - moto) / ticks - ours


def measure(kind: str, spec_path: Path, env: dict[str, str], moto_pid: int) -> dict[str, Any]:
    clock, other = time.perf_counter(), cpu_seconds(moto_pid)
    try:
        done = subprocess.run([sys.executable, __file__, "--child", kind, str(spec_path)], env=env, check=True,
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.CalledProcessError as failed:
        raise SystemExit(f"{kind} child failed:\n{failed.stderr[-4000:]}") from None
    seconds, other = time.perf_counter() - clock, cpu_seconds(moto_pid) - other
    print(f"  {kind}: {seconds:,.0f} s; other processes on the machine meanwhile: {other:,.1f} CPU s "
          f"({other / seconds:.0%} of one core)", flush=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) in milliseconds; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(values: list[float], *qs: float) -> str:
    return " / ".join(f"{pct(values, q):,.0f}" if pct(values, q) >= 10 else f"{pct(values, q):.1f}" for q in qs)


def targets(kind: str, rows: int, ours: list[float], raw: list[float]) -> list[str]:
    """PASS/MISS for this kind's targets (warm, answer cache off)."""
    limit = (150 if rows <= 2_000_000 else 600) if kind in AGGREGATES else {"autocomplete": 50, "drill_rows": 300}[kind]
    p95 = pct(ours, 0.95)
    ratio = max(pct(ours, 0.5) / pct(raw, 0.5), p95 / pct(raw, 0.95))
    return [f"p95 ≤ {limit} ms {'PASS' if p95 <= limit else 'MISS'}",
            f"≤ 1.5× raw {'PASS' if ratio <= 1.5 else 'MISS'}"]


def report(rows: int, load: dict[str, Any], ours: dict[str, Any], raw: dict[str, Any],
           mix: list[dict[str, Any]]) -> str:
    print(f"\n== {load['rows']:,} rows ({rows:,} asked) ==")
    print(f"load through ingestion: {load['seconds']:.1f} s, {load['rows'] / load['seconds']:,.0f} rows/s (rollup "
          f"{load['rollup_seconds']:.1f} s, {load['rollup_rows']:,} rollup rows, complete: {load['rollup_complete']}); "
          f"peak RSS: SalesLens {ours['peak_rss_mb']:,.0f} MB, raw {raw['peak_rss_mb']:,.0f} MB, "
          f"loader {load['peak_rss_mb']:,.0f} MB; raw parts downloaded in {raw['download_seconds']:.1f} s "
          f"({raw['parts']} parts, {raw['mb']:,.0f} MB)")
    raw_by = {k: [s for s, q in zip(raw["seconds"], mix, strict=True) if q["kind"] == k] for k in KINDS}
    wrong = {k: 0 for k in KINDS}
    for item, a, b in zip(mix, ours["checks"], raw["checks"], strict=True):
        if not close(a, b):
            wrong[item["kind"]] += 1
            if sum(wrong.values()) == 1:
                print(f"first disagreement ({item['kind']}): SalesLens {str(a)[:200]} vs raw {str(b)[:200]}")
    print(f"answers that differ from the hand-written SQL: {sum(wrong.values())} of {len(mix)}; per-version cache "
          f"(profile, autocomplete lists) without answers: {ours['version_cache'][0]} hits, "
          f"{ours['version_cache'][1]} misses")
    print("\n| kind | cold, new container p50 / p95 / max | cold, after a commit p50 / p95 / max "
          "| warm, answer cache p50 / p95 / max "
          "| **warm, no answer cache p50 / p95 / max** | no cache at all p50 / p95 | raw DuckDB p50 / p95 "
          "| SalesLens / raw p50, p95 | targets |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    missed = []
    for kind in KINDS:
        u, r = ours["uncached"][kind], raw_by[kind]
        verdicts = targets(kind, rows, u, r)
        missed += [f"{kind} {v.removesuffix(' MISS')}" for v in verdicts if v.endswith("MISS")]
        print(f"| {kind} | {ms(ours['cold'][kind], .5, .95, 1)} | {ms(ours['cold_commit'][kind], .5, .95, 1)} "
              f"| {ms(ours['cached'][kind], .5, .95, 1)} | **{ms(u, .5, .95, 1)}** "
              f"| {ms(ours['no_cache'][kind], .5, .95)} "
              f"| {ms(r, .5, .95)} | {pct(u, .5) / pct(r, .5):.2f}×, {pct(u, .95) / pct(r, .95):.2f}× "
              f"| {'; '.join(verdicts)} |")
    print(f"\nms; {len(mix)} questions, {len(mix) // len(KINDS)} per kind; warm figures are the second pass; "
          f"'no answer cache' keeps only the per-version profile and autocomplete lists; cold: {COLD_RUNS} per kind, "
          f"part cache cold; after a commit: {COMMIT_ROUNDS} per kind, part cache warm except the new batch; "
          f"no cache at all: "
          f"{NO_CACHE_RUNS} per kind; drill_rows (order lines) are never cached.")
    print("\nwhere the time goes (warm, no answer cache; mean ms per question; HTTP: the same questions through the "
          "Chalice test client, p50, beside in-process):")
    columns = ("total", "state", "engine_s3", "duckdb", "engine_other", "compile", "python")
    print(f"{'kind':<22}" + "".join(f"{c:>13}" for c in (*columns, "S3 calls", "HTTP", "in-process")))
    for kind, parts in [*ours["breakdown"].items(), ("after a commit", ours["commit_split"])]:
        mean = {key: statistics.fmean(p[key] for p in parts) for key in parts[0]}
        http = [f"{pct(ours[name][kind], .5):>13.1f}" if kind in ours[name] else f"{'-':>13}"
                for name in ("http", "http_inprocess")]
        print(f"{kind:<22}" + "".join(f"{1000 * mean[c]:>13.1f}" for c in columns) + f"{mean['s3_calls']:>13.1f}"
              + "".join(http))
    print(f"(after a commit: all kinds, {ours['batches']} committed batches by then)")
    faster = [k for k in KINDS if pct(ours["uncached"][k], .5) < pct(raw_by[k], .5)]
    return (f"{load['rows']:,} rows: loaded at {load['rows'] / load['seconds']:,.0f} rows/s; warm uncached p95 "
            + ", ".join(f"{k} {pct(ours['uncached'][k], .95):,.0f} ms" for k in KINDS)
            + f"; faster than raw DuckDB: {', '.join(faster) or 'none'}; missed: {', '.join(missed) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=200, help="questions in the mix (equal shares per kind)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(Path(args.child[1]).read_text())
        print(json.dumps({"load": run_load, "measure": run_measure, "raw": run_raw}[args.child[0]](spec)))
        return
    from bench.ingest import start_moto

    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    changed = subprocess.run([*git, "status", "--porcelain", "--", "app.py", "chalicelib"], capture_output=True,
                             text=True).stdout.splitlines()
    print(f"code: {head or 'unknown'}" + (f" with {len(changed)} changed files in chalicelib" if changed else ""))
    moto, env = start_moto()
    env = {**env, "PYTHONPATH": str(ROOT), "SL_LOG_LEVEL": "WARNING"}
    mix, summary = question_mix(args.queries), []
    try:
        with tempfile.TemporaryDirectory(prefix="explore-bench-") as directory:
            for rows in args.rows:
                spec_path = Path(directory) / f"spec-{rows}.json"
                spec = {"csv": str(sample_csv(rows)), "email": f"bench-{uuid.uuid4().hex[:8]}@saleslens.example",
                        "mix": mix}
                spec_path.write_text(json.dumps(spec))
                load = measure("load", spec_path, env, moto.pid)
                if not load["rollup_complete"]:
                    raise SystemExit(f"the rollup is not complete after loading {rows:,} rows")
                spec_path.write_text(json.dumps({**spec, "tenant_id": load["tenant_id"]}))
                raw = measure("raw", spec_path, env, moto.pid)  # before SalesLens commits its extra batches
                ours = measure("measure", spec_path, env, moto.pid)
                summary.append(report(rows, load, ours, raw, mix))
                print(summary[-1], flush=True)
        print("\nsummary:\n" + "\n".join(summary))
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
