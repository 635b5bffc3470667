"""Report size and speed (issue 11): a 1M-row company's report renders in ≤ 10 s and its PDF is ≤ 2 MB.

Per size, generated retail sales (bench/analysis.py's ``load_lake``) go into one committed lake batch in moto's
server, get their Explore rollup (what ingestion writes after a commit), and the whole analysis runs
(bench/analysis.py's ``run_saleslens``: jobs.runner, artifacts sealed, the run published as the tenant's latest).
Then each repeat is a fresh child process, i.e. a fresh worker container, that builds reports the way the worker
does (``jobs.handler.build_report_jobs().build``), every section, the default period (last 30 days):

  cold    the first report in the process: empty Explore answer cache, first chart and first PDF
  warm    a second report right after (every Explore question answered from the cache)
  render  ``chalicelib.reports.render.render`` alone on the content model, split into HTML (with the charts),
          layout and PDF writing

The report record is created as ``Reporting.request`` creates it, but without its Explore check (the API does
that in another process; here it would warm the cache) and without the SQS message. The baseline is the
"100k-row company" measured in the same run; no timed assertions.
  python bench/reports.py                              # 100k and 1M rows, 3 repeats
  python bench/reports.py --rows 100000 --repeat 1     # a quick check
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# analysis.measure runs that script's own children: "load" (load_lake) and "saleslens" (run_saleslens)
from bench.analysis import StepMemory  # noqa: E402
from bench.analysis import measure as measure_analysis  # noqa: E402

BASELINE_ROWS = 100_000
TARGET_SECONDS, TARGET_PDF_MB = 10.0, 2.0
CHILD_TIMEOUT = 1800


class Stopwatch:
    """Seconds spent in one method of a wrapped object; every other attribute passes through."""

    def __init__(self, inner: Any, method: str) -> None:
        self._inner, self._method, self.seconds, self.calls = inner, method, 0.0, 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name != self._method:
            return found

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return found(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        return timed

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # for the render function itself
        return self.__getattr__(self._method)(*args, **kwargs)


class _Callable:
    def __init__(self, function: Any) -> None:
        self.render = function


# -- the children -----------------------------------------------------------------------------------------------
def setup_rollup(tenant_id: str) -> dict:
    """The batch's ``sales_daily`` rollup, which ingestion writes after every commit (``load_lake`` does not)."""
    from chalicelib import services
    from chalicelib.auth.permissions import TenantContext

    started = time.perf_counter()
    services.explore().rollups.sync(TenantContext(tenant_id, "bench", "analyst"))
    return {"seconds": time.perf_counter() - started}


def build_one(jobs: Any, tenant_id: str) -> dict:
    """One report with every section and the default period, built as the worker's ``build_report`` does."""
    from chalicelib import services
    from chalicelib.reports import store
    from chalicelib.reports.requests import ReportRequest

    explore, artifacts, files = (Stopwatch(jobs.explore, "explore"), Stopwatch(jobs.artifacts, "read"),
                                 Stopwatch(jobs.files, "put"))
    render = Stopwatch(_Callable(jobs.render or _render_function()), "render")
    jobs.explore, jobs.artifacts, jobs.files, jobs.render = explore, artifacts, files, render
    cache = services.explore().cache
    hits, misses = cache.hits, cache.misses
    report = store.Report(store.new_report_id(), store.QUEUED, "Sales report",
                          ReportRequest().model_dump(mode="json", exclude_none=True), created_by="bench")
    jobs.reports.create(tenant_id, report)
    started = time.perf_counter()
    done = jobs.build(tenant_id, report.report_id)
    seconds = time.perf_counter() - started
    jobs.explore, jobs.artifacts, jobs.files, jobs.render = explore._inner, artifacts._inner, files._inner, None
    built = jobs.reports.get(tenant_id, report.report_id)
    if not done or built.status != store.READY:
        raise RuntimeError(f"report {built.status}: {built.error}")
    split = {"questions": explore.seconds, "artifacts": artifacts.seconds, "render": render.seconds,
             "storing": files.seconds}
    return {"seconds": seconds, "record_seconds": built.seconds, "html_bytes": built.html_bytes,
            "pdf_bytes": built.pdf_bytes, "pages": built.pages, "questions": explore.calls,
            "cache_hits": cache.hits - hits, "cache_misses": cache.misses - misses,
            "split": {**split, "other": seconds - sum(split.values())}, "report_id": report.report_id}


def render_alone(jobs: Any, tenant_id: str, report_id: str) -> dict:
    """The built report's content model again (answers from the cache), then ``render`` alone and in its parts."""
    from datetime import UTC, datetime

    from chalicelib.auth.permissions import TenantContext
    from chalicelib.reports import charts, content, render
    from jobs.reports import request_from

    ctx = TenantContext(tenant_id, "system", "analyst", "report")
    found, skipped, _ = jobs._artifacts(ctx)  # noqa: SLF001
    model = content.build(request_from(jobs.reports.get(tenant_id, report_id).request),
                          content.Inputs(tenant_id, lambda q: jobs.explore.explore(ctx, q), found, skipped,
                                         datetime.now(UTC)))
    started = time.perf_counter()
    rendered = render.render(model)
    seconds = time.perf_counter() - started
    chart = Stopwatch(charts, "chart_svg")
    render.chart_svg = chart  # render's ``_chart`` looks the module global up at call time
    try:
        clock = time.perf_counter()
        html = render.render_html(model)
        html_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        document = render._document(html)  # noqa: SLF001
        layout_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        document.write_pdf()
        pdf_seconds = time.perf_counter() - clock
    finally:
        render.chart_svg = chart._inner.chart_svg
    return {"seconds": seconds, "html_bytes": len(rendered.html.encode()), "pdf_bytes": len(rendered.pdf),
            "pages": rendered.pages, "charts": chart.calls, "period": model["period"]["label"],
            "table_rows": sum(len(t["rows"]) for s in model["sections"] for t in s["tables"]),
            "skipped": [s["id"] for s in model["sections"] if s["skipped"]],
            "split": {"charts": chart.seconds, "html": html_seconds - chart.seconds, "layout": layout_seconds,
                      "pdf": pdf_seconds}}


def run_reports(tenant_id: str) -> dict:
    started = time.perf_counter()
    import jobs.reports  # noqa: F401  (what the worker image imports before its first message)
    from chalicelib.reports import render  # noqa: F401  (jinja2, weasyprint, matplotlib)
    from jobs.handler import build_report_jobs

    jobs = build_report_jobs()
    imports = time.perf_counter() - started
    memory = StepMemory()
    memory.step = "cold"
    cold = build_one(jobs, tenant_id)
    memory.step = "warm"
    warm = build_one(jobs, tenant_id)
    memory.step = "render"
    alone = render_alone(jobs, tenant_id, warm["report_id"])
    peaks = memory.stop()
    return {"imports": imports, "cold": cold, "warm": warm, "render": alone, "peak_rss_by_step_mb": peaks}


def child(kind: str, tenant_id: str) -> None:
    result = setup_rollup(tenant_id) if kind == "rollup" else run_reports(tenant_id)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, tenant_id: str, env: dict[str, str]) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, "--child", kind, tenant_id], env=env, check=True,
                              capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.CalledProcessError as failed:
        raise SystemExit(f"{kind} child failed:\n{failed.stdout[-3000:]}\n{failed.stderr[-3000:]}") from None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _render_function() -> Any:
    from chalicelib.reports.render import render

    return render


# -- the parent ---------------------------------------------------------------------------------------------------
def prepare(rows: int, env: dict[str, str]) -> tuple[str, int]:
    """A tenant with ``rows`` sales, their rollup, and a published analysis run."""
    tenant_id = uuid.uuid4().hex
    clock = time.perf_counter()
    loaded = measure_analysis("load", tenant_id, rows, env)
    rollup = measure("rollup", tenant_id, env)
    analysis = measure_analysis("saleslens", tenant_id, rows, env)
    if "failed" in analysis:
        raise SystemExit("analysis failed:\n" + analysis["failed"])
    failed = [s["name"] for s in analysis["steps"] if s["status"] not in ("done", "skipped")]
    print(f"  setup: {loaded['rows']:,} rows loaded, rollup {rollup['seconds']:.1f} s, analysis "
          f"{analysis['seconds']:.1f} s{'' if not failed else ' (steps not succeeded: ' + ', '.join(failed) + ')'}"
          f"; {time.perf_counter() - clock:.0f} s in all", flush=True)
    return tenant_id, loaded["rows"]


def medians(runs: list[dict]) -> dict[str, Any]:
    def median(path: str) -> float:
        values = []
        for run in runs:
            value: Any = run
            for part in path.split("."):
                value = value[part]
            values.append(value)
        return statistics.median(values)

    keys = {"cold": "cold.seconds", "warm": "warm.seconds", "render": "render.seconds", "imports": "imports",
            "html_kb": "warm.html_bytes", "pdf_kb": "warm.pdf_bytes", "pages": "warm.pages", "rss": "peak_rss_mb"}
    found = {name: median(path) for name, path in keys.items()}
    found["html_kb"] /= 1024
    found["pdf_kb"] /= 1024
    for phase in ("cold", "warm", "render"):
        found[f"{phase}_split"] = {part: median(f"{phase}.split.{part}") for part in runs[0][phase]["split"]}
    found["questions"] = runs[0]["cold"]["questions"]
    found["cold_cache"] = (runs[0]["cold"]["cache_hits"], runs[0]["cold"]["cache_misses"])
    found["warm_cache"] = (runs[0]["warm"]["cache_hits"], runs[0]["warm"]["cache_misses"])
    found.update({name: runs[0]["render"][name] for name in ("charts", "period", "table_rows", "skipped")})
    found["rss_steps"] = {step: statistics.median(r["peak_rss_by_step_mb"].get(step, 0.0) for r in runs)
                          for step in ("cold", "warm", "render")}
    return found


COLUMNS = (("build cold s", "cold", "{:.2f}"), ("build warm s", "warm", "{:.2f}"), ("render s", "render", "{:.2f}"),
           ("HTML KB", "html_kb", "{:,.0f}"), ("PDF KB", "pdf_kb", "{:,.0f}"), ("pages", "pages", "{:.0f}"),
           ("peak RSS MB", "rss", "{:,.0f}"))


def table(results: dict[int, dict[str, Any]], baseline: int | None) -> str:
    head = f"{'rows':>11} " + " ".join(f"{title:>12}" for title, _, _ in COLUMNS)
    lines = [head]
    for rows, m in results.items():
        lines.append(f"{rows:>11,} " + " ".join(f"{form.format(m[key]):>12}" for _, key, form in COLUMNS))
    if baseline is not None and len(results) > 1:
        lines.append(f"ratio to the {baseline // 1000}k-row company:")
        for rows, m in results.items():
            if rows != baseline:
                lines.append(f"{rows:>11,} " + " ".join(
                    f"{m[key] / results[baseline][key]:>11.2f}x" for _, key, _ in COLUMNS))
    return "\n".join(lines)


def where_time_goes(rows: int, m: dict[str, Any]) -> str:
    def parts(split: dict[str, float]) -> str:
        return ", ".join(f"{name} {seconds:.2f}" for name, seconds in split.items())

    rss = ", ".join(f"{step} {mb:,.0f}" for step, mb in m["rss_steps"].items())
    return (f"{rows:>11,} rows: cold [{parts(m['cold_split'])}] s; warm [{parts(m['warm_split'])}] s; "
            f"render alone [{parts(m['render_split'])}] s\n"
            f"{'':>11}       {m['questions']} Explore questions (answer-cache lookups hit/missed: cold "
            f"{m['cold_cache'][0]}/{m['cold_cache'][1]}, warm {m['warm_cache'][0]}/{m['warm_cache'][1]}); "
            f"period {m['period']}; "
            f"{m['charts']} charts, {m['table_rows']} table rows, sections skipped: "
            f"{', '.join(m['skipped']) or 'none'}\n{'':>11}       imports "
            f"before the first report {m['imports']:.1f} s (not in cold); peak RSS MB by step: {rss}")


def verdict(results: dict[int, dict[str, Any]]) -> str:
    rows = 1_000_000 if 1_000_000 in results else max(results)
    m = results[rows]
    seconds_ok, pdf_ok = m["cold"] <= TARGET_SECONDS, m["pdf_kb"] / 1024 <= TARGET_PDF_MB
    return (f"verdict ({rows:,} rows): report built in {m['cold']:.1f} s cold / {m['warm']:.1f} s warm "
            f"(target ≤ {TARGET_SECONDS:.0f} s: {'met' if seconds_ok else 'MISSED'}), PDF "
            f"{m['pdf_kb'] / 1024:.2f} MB (target ≤ {TARGET_PDF_MB:.0f} MB: {'met' if pdf_ok else 'MISSED'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="*", default=[BASELINE_ROWS, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="fresh worker processes per size (medians reported)")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "TENANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from bench.ingest import start_moto

    moto, env = start_moto()
    env = {**env, "PYTHONPATH": str(ROOT)}
    results: dict[int, dict[str, Any]] = {}
    try:
        for rows in args.rows:
            print(f"\n== {rows:,} rows ==", flush=True)
            tenant_id, _ = prepare(rows, env)
            runs = []
            for repeat in range(args.repeat):
                run = measure("reports", tenant_id, env)
                runs.append(run)
                print(f"  run {repeat + 1}: cold {run['cold']['seconds']:.2f} s (record {run['cold']['record_seconds']}"
                      f" s), warm {run['warm']['seconds']:.2f} s, render {run['render']['seconds']:.2f} s, PDF "
                      f"{run['warm']['pdf_bytes'] / 1024:,.0f} KB, {run['warm']['pages']} pages, "
                      f"{run['peak_rss_mb']:,.0f} MB", flush=True)
            results[rows] = medians(runs)
        baseline = BASELINE_ROWS if BASELINE_ROWS in results else None
        print(f"\nmedians of {args.repeat} worker process(es) per size"
              f"{'' if baseline else ' (no 100k-row baseline in --rows: no ratios)'}:")
        print(table(results, baseline))
        print("\nwhere the time goes (medians, seconds):")
        print("\n".join(where_time_goes(rows, m) for rows, m in results.items()))
        print("\n" + verdict(results))
    finally:
        moto.terminate()


if __name__ == "__main__":
    main()
