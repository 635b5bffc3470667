/**
 * "How the previous forecast did": the `forecast_accuracy` artifact (the previous run's total forecast against
 * the sales that have happened since), with that forecast's 80 % range read from the previous run; or, on a first
 * run, the reason the step was skipped.
 */
import { api } from "../api.js";
import { drawChart } from "../charts.js";
import { el } from "../dom.js";
import { day, delta, money, percent, plural } from "../format.js";
import { loadedOrShown, ready, skippedState } from "../states.js";
import { dataTable } from "../tables.js";

const iso = (value) => String(value ?? "").slice(0, 10);

/** The previous run's forecast of the total, by date, for its ranges; null when it cannot be read. */
async function previousRanges(runId) {
  if (!runId) return null;
  try {
    const answer = await api(`/results/forecast?limit=5000&run=${encodeURIComponent(runId)}`);
    const rows = answer.rows.filter((row) => !row.dimension || row.dimension === "total");
    return new Map(rows.map((row) => [iso(row.date), row]));
  } catch {
    return null; // the ranges are a nicety; the comparison itself is in the artifact
  }
}

function option(rows, ranges) {
  const dates = rows.map((row) => iso(row.date));
  const range = (row, key) => ranges?.get(iso(row.date))?.[key] ?? null;
  const low = rows.map((row) => range(row, "lower_80"));
  const height = rows.map((row) => {
    const lower = range(row, "lower_80");
    const upper = range(row, "upper_80");
    return lower === null || upper === null ? null : upper - lower;
  });
  const withRange = low.some((value) => value !== null);
  return {
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    legend: { top: 0, left: 0, data: ["Actual sales", "Forecast", ...(withRange ? ["80 % range"] : [])] },
    tooltip: { trigger: "axis", valueFormatter: (value) => money(value), confine: true },
    xAxis: { type: "category", data: dates, axisLabel: { formatter: (value) => day(value), hideOverlap: true } },
    yAxis: { type: "value", axisLabel: { formatter: (value) => money(value, null, { short: true }) } },
    series: [
      ...(withRange ? [
        { type: "line", stack: "r80", data: low, symbol: "none", lineStyle: { opacity: 0 }, tooltip: { show: false },
          silent: true, z: 1 },
        { name: "80 % range", type: "line", stack: "r80", data: height, symbol: "none", lineStyle: { opacity: 0 },
          areaStyle: { color: "#c25e1d", opacity: 0.2 }, itemStyle: { color: "#c25e1d", opacity: 0.4 },
          tooltip: { show: false }, silent: true, z: 1 },
      ] : []),
      { name: "Actual sales", type: "bar", data: rows.map((row) => row.actual), color: "#2f5bd3", barMaxWidth: 28, z: 2 },
      { name: "Forecast", type: "line", data: rows.map((row) => row.forecast), color: "#c25e1d",
        lineStyle: { type: "dashed", width: 2 }, z: 3 },
    ],
  };
}

export async function showAccuracy(container, loaded) {
  const result = await loadedOrShown(container, loaded, { title: "Nothing to check yet" });
  if (!result) return;
  const meta = result.meta || {};
  const rows = [...(result.rows || [])].sort((a, b) => iso(a.date).localeCompare(iso(b.date)));
  if (!rows.length) {
    skippedState(container, meta.message, "Nothing to check yet");
    return;
  }
  const ranges = await previousRanges(meta.previous_run_id);
  const within = (row) => {
    const previous = ranges?.get(iso(row.date));
    if (!previous) return "—";
    return row.actual >= previous.lower_80 && row.actual <= previous.upper_80 ? "Yes" : "No";
  };
  const chart = el("div", { class: "chart", id: "accuracy-chart" });
  const summary = meta.message ||
    `The last forecast was off by ${percent(meta.mape, 0)} on average over ${plural(rows.length, "period")}.`;
  const figures = el("dl", { class: "figures" },
    el("div", {}, el("dt", {}, "Periods checked"), el("dd", {}, String(meta.compared ?? rows.length))),
    el("div", {}, el("dt", {}, "Typical miss"), el("dd", {}, percent(meta.mape, 0))),
    el("div", {}, el("dt", {}, "Overall"), el("dd", {}, meta.bias === undefined || meta.bias === null ? "—"
      : `${percent(Math.abs(meta.bias), 0)} ${meta.bias > 0 ? "above" : "below"} forecast`)),
    meta.within_80 !== undefined && meta.within_80 !== null
      ? el("div", {}, el("dt", {}, "Inside the 80 % range"), el("dd", {}, `${meta.within_80} of ${meta.compared ?? rows.length}`))
      : null);
  const table = dataTable([
    { key: "date", label: "Period starting", rowHeader: true, format: (value) => day(iso(value)) },
    { key: "forecast", label: "Forecast", num: true, format: (value) => money(value) },
    { key: "actual", label: "Actual", num: true, format: (value) => money(value) },
    { key: "error_pct", label: "Difference", num: true, help: "Actual minus forecast, as a share of the actual sales.",
      format: (value) => delta(value) },
    ...(ranges ? [{ key: "within", label: "In 80 % range", format: (_, row) => within(row) }] : []),
  ], rows, { caption: "Previous forecast against actual sales", id: "accuracy-table" });
  ready(container, el("p", { class: "forecast-headline", id: "accuracy-summary" }, summary), figures, chart,
        el("p", { class: "chart-caption" }, "Bars are what actually sold; the dashed line is what the previous " +
          `analysis forecast${ranges ? ", and the shaded band its 80 % range" : ""}.`), table);
  await drawChart(chart, option(rows, ranges), { label: summary });
}
