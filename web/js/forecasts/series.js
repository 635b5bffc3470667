/**
 * The forecast section: a picker of the series the analysis forecast (the total, then top categories and
 * regions), and for the chosen one the chart, the headline in words, the chosen model with its backtest
 * accuracy, and the candidate models it was compared with.
 */
import { drawSized } from "../chart-sizes.js";
import { clearChart } from "../charts.js";
import { $, el } from "../dom.js";
import { day, money, number, percent, plural } from "../format.js";
import { errorState, ready, skeleton } from "../states.js";
import { modelTable } from "../tables.js";
import { forecastOption } from "./chart.js";
import { bucketOf, history as loadHistory } from "./history.js";

const keyOf = (series) => `${series.dimension}:${series.value}`;
const GROUPS = [["total", ""], ["category", "Categories"], ["region", "Regions"]];

export function seriesName(series) {
  if (series.dimension === "total") return "All sales";
  return series.value;
}

function subject(series) {
  if (series.dimension === "total") return "Sales";
  if (series.dimension === "region") return `Sales in ${series.value}`;
  return `Sales of ${series.value}`;
}

/** "Sales are forecast to rise 8% over the next 12 weeks (€816,520 vs €757,255 in the last 12)." */
export function headline(series) {
  const span = plural(series.horizon, series.unit || "period");
  const totals = `${money(series.forecast_total)} vs ${money(series.recent_total)} in the last ${number(series.horizon)}`;
  const change = Number(series.change_vs_recent);
  if (series.change_vs_recent === null || series.change_vs_recent === undefined || !Number.isFinite(change)) {
    return `${subject(series)} are forecast at ${money(series.forecast_total)} over the next ${span}.`;
  }
  const size = percent(Math.abs(change), 0);
  const move = Math.abs(change) < 0.005 ? "stay about the same" : change > 0 ? `rise ${size}` : `fall ${size}`;
  return `${subject(series)} are forecast to ${move} over the next ${span} (${totals}).`;
}

const MODEL_METRICS = [
  { key: "mase", label: "MASE", format: (v) => number(v, 2),
    definition: "Error compared with simply repeating last season's sales: below 1 = better than repeating last " +
                "season; lower is better." },
  { key: "mape", label: "Typical error (MAPE)", format: (v) => percent(v, 1),
    definition: "How far off the model was on average, as a share of the actual sales, when tested on past weeks " +
                "it had not seen." },
];

function picker(list, current, onPick) {
  const buttons = [];
  const groups = GROUPS.map(([dimension, title]) => {
    const members = list.filter((s) => s.dimension === dimension);
    if (!members.length) return null;
    return el("div", { class: "series-group" },
      title ? el("span", { class: "series-group-title", "aria-hidden": "true" }, title) : null,
      members.map((series) => {
        const button = el("button", { type: "button", class: "button secondary small", "data-series": keyOf(series),
                                      "aria-pressed": String(keyOf(series) === current),
                                      "aria-label": series.dimension === "total" ? "All sales"
                                        : `${series.value} (${series.dimension})` }, seriesName(series));
        button.addEventListener("click", () => onPick(series));
        buttons.push(button);
        return button;
      }));
  }).filter(Boolean);
  return { node: el("div", { class: "series-picker", role: "group", "aria-label": "Forecast for" },
                    el("span", { class: "series-label" }, "Forecast for"), groups),
           select: (key) => buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.series === key))) };
}

function captionFor(series, past, future) {
  const last = past.at(-1);
  const bucket = series.unit || "period";
  const start = future.length ? day(String(future[0].date).slice(0, 10)) : "";
  return `${subject(series)} per ${bucket}: actual sales (solid line)${last ? ` up to the ${bucket} of ${day(last.date)}` : ""}, ` +
         `then the forecast from ${start} (dashed). The darker band is where sales should land 8 times in 10, ` +
         "the lighter band 19 times in 20; the bands widen the further ahead the forecast looks.";
}

function chartSummary(series, past, future) {
  const first = future[0];
  const last = future.at(-1);
  return `${headline(series)} The forecast runs from ${money(first?.forecast)} in the ${series.unit || "period"} of ` +
         `${day(String(first?.date).slice(0, 10))} to ${money(last?.forecast)} in the ${series.unit || "period"} of ` +
         `${day(String(last?.date).slice(0, 10))}, after ${plural(past.length, series.unit || "period")} of actual sales.`;
}

/**
 * Fill `#series-picker` and `#forecast-area` from the `forecast` and `model_comparison` artifacts.
 * `initial` is the series key to open ("category:Bikes"); the choice is kept in the page's URL.
 */
export function initSeries(forecast, comparison, initial) {
  const meta = forecast.meta || {};
  const list = meta.series?.length ? meta.series
    : [{ dimension: "total", value: "All", ...meta }];
  const area = $("#forecast-area");
  const parts = {
    headline: el("p", { class: "forecast-headline", id: "forecast-headline", "aria-live": "polite" }),
    box: el("div", { class: "forecast-chart-box" }),
    chart: el("div", { class: "chart tall", id: "forecast-chart" }),
    caption: el("p", { class: "chart-caption", id: "forecast-caption" }),
    model: el("div", { class: "forecast-model", id: "forecast-model" }),
  };
  const modelsArea = el("div", { id: "forecast-models" });
  ready(area, parts.headline, parts.box, parts.caption,
        el("div", { class: "forecast-detail" }, parts.model,
           el("div", {}, el("h3", { id: "models-title" }, "Models tried for this series"), modelsArea)));

  let drawn = 0;
  async function show(series) {
    const key = keyOf(series);
    choose.select(key);
    const url = new URL(location.href);
    if (key === "total:All") url.searchParams.delete("series");
    else url.searchParams.set("series", key);
    history.replaceState?.(null, "", url);
    const ticket = ++drawn;
    parts.headline.textContent = headline(series);
    parts.model.replaceChildren(
      el("h3", {}, "How it was made"),
      el("p", {}, "Chosen model: ", el("strong", {}, series.model_label || series.model || "—"), "."),
      el("p", { class: "forecast-accuracy" }, series.accuracy || "No backtest accuracy was recorded for this series."));
    const candidates = (comparison.rows || []).filter((row) => row.task === "forecast" && row.series ===
      `${series.dimension}: ${series.value}`).sort((a, b) => (a.mase ?? Infinity) - (b.mase ?? Infinity));
    if (candidates.length) {
      modelsArea.replaceChildren(modelTable(candidates, MODEL_METRICS,
        { caption: `Models tried for ${seriesName(series)}` }),
        el("p", { class: "chart-caption" }, `Each model forecast past ${series.unit || "period"}s it had not seen; the ` +
           "one with the smallest error was chosen, or the average of the three best when no single model was over " +
           "10% better. MASE below 1 means better than repeating last season."));
    } else {
      modelsArea.replaceChildren(el("p", { class: "muted" }, comparison.skipped
        ? `The model comparison is not available: ${comparison.skipped}` : "No other models were compared for this series."));
    }
    const future = (forecast.rows || []).filter((row) => row.dimension === series.dimension && row.value === series.value)
      .sort((a, b) => String(a.date).localeCompare(String(b.date)));
    if (!future.length) {
      await clearChart(parts.chart);
      ready(parts.box, el("div", { class: "empty-state" }, el("p", {}, "This series has no forecast rows.")));
      parts.caption.textContent = "";
      return;
    }
    if (parts.chart.parentNode === parts.box) parts.box.setAttribute("aria-busy", "true");
    else skeleton(parts.box, 6);
    const bucket = bucketOf(series);
    let past;
    try {
      past = await loadHistory(series, bucket, String(future[0].date).slice(0, 10));
    } catch (error) {
      if (ticket !== drawn) return;
      await clearChart(parts.chart);
      errorState(parts.box, error);
      parts.caption.textContent = "";
      return;
    }
    if (ticket !== drawn) return;
    if (parts.chart.parentNode !== parts.box) ready(parts.box, parts.chart);
    else parts.box.removeAttribute("aria-busy");
    parts.chart.dataset.series = key;
    await drawSized(parts.chart, (narrow) => forecastOption(past, future, bucket, { narrow }),
                    { label: chartSummary(series, past, future) });
    parts.caption.textContent = captionFor(series, past, future);
  }

  const startKey = list.some((s) => keyOf(s) === initial) ? initial : keyOf(list[0]);
  const choose = picker(list, startKey, show);
  ready($("#series-picker"), choose.node);
  show(list.find((s) => keyOf(s) === startKey));
}
