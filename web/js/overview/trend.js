/**
 * The revenue trend section: about a year of weekly revenue (`POST /explore`), the forecast of the total
 * (`GET /results/forecast`), unusual days (`GET /results/anomalies`), a caption in words and the list of unusual days.
 */
import { api } from "../api.js";
import { drawChart } from "../charts.js";
import { el } from "../dom.js";
import { dateRange, delta, money, plural } from "../format.js";
import { artifact } from "../results.js";
import { emptyState, errorState, ready, skeleton, skippedState } from "../states.js";
import { anomalyHref, anomalyList } from "./anomalies.js";
import { addDays, isoDay, lastSunday, mondayOf } from "./dates.js";
import { trendOption } from "./trend-chart.js";

const SPAN_DAYS = { day: 120, week: 52 * 7, month: 730 };

/** Where the history ends: the day before the forecast starts, else the last full week of sales. */
function historyWindow(future, unit, dataEnd) {
  const end = future.length ? addDays(isoDay(future[0].date), -1) : unit === "week" ? lastSunday(dataEnd) : dataEnd;
  const start = unit === "week" ? mondayOf(addDays(end, -SPAN_DAYS.week + 1)) : addDays(end, -SPAN_DAYS[unit] + 1);
  return { start, end };
}

/** The legend wraps onto more lines in a narrow chart: keep the plot below it. */
function roomForLegend(container, chart) {
  const fit = () => {
    const width = container.clientWidth;
    chart.setOption({ grid: { top: width < 420 ? 92 : width < 640 ? 70 : 48 } });
  };
  fit();
  new ResizeObserver(fit).observe(container);
}

const safely = (promise) => promise.catch((error) => ({ error }));

function caption(forecast, future, marked) {
  const sentences = [];
  const meta = forecast.meta || {};
  if (future.length) {
    const horizon = plural(future.length, meta.unit || "week");
    sentences.push(`Over the next ${horizon} the forecast is ${money(meta.forecast_total)}` +
      (Number.isFinite(meta.change_vs_recent) ? `, ${delta(meta.change_vs_recent)} on the last ${horizon}.` : "."));
    if (meta.accuracy) sentences.push(meta.accuracy);
    sentences.push(`The darker band is where revenue should land 8 ${meta.unit || "week"}s in 10, the lighter one 19 in 20.`);
  }
  if (marked) sentences.push(`Diamonds mark ${plural(marked, "unusual day")}; point at one to see what drove it.`);
  return el("p", { class: "chart-caption", id: "trend-caption" }, sentences.join(" "));
}

function chartLabel(history, future) {
  const first = history[0];
  const last = history.at(-1);
  return `Weekly revenue from ${dateRange(first.day, last.day)}, from ${money(first.value)} to ${money(last.value)}` +
    (future.length ? `, then forecast for ${plural(future.length, "week")} ending ${money(future.at(-1).forecast)}.` : ".");
}

/** Load and draw the trend in `chartArea` and the unusual days in `listArea`; `fields` is `GET /explore/fields`. */
export async function loadTrend(chartArea, listArea, fields) {
  skeleton(chartArea, 8);
  skeleton(listArea, 3);
  const [forecast, anomalies] = await Promise.all([safely(artifact("forecast", { all: true })),
                                                   safely(artifact("anomalies", { all: true }))]);
  const future = (forecast.rows || []).filter((row) => row.dimension === "total")
    .sort((a, b) => String(a.date).localeCompare(String(b.date)));
  const unit = ["day", "week", "month"].includes(forecast.meta?.unit) ? forecast.meta.unit : "week";
  const window = historyWindow(future, unit, fields.date_range?.end);
  let history;
  try {
    // the forecast's weeks start on Monday: so do the history's it continues, whatever the member's weeks
    const answer = await api("/explore", { method: "POST", body: {
      measures: ["revenue"], dimensions: [unit], date: window, limit: 5000, week_start: "monday" } });
    history = answer.rows.map((row) => ({ day: isoDay(row[unit]), value: row.revenue }));
  } catch (error) {
    errorState(chartArea, error);
    listArea.replaceChildren();
    listArea.removeAttribute("aria-busy");
    return;
  }
  if (!history.length) {
    emptyState(chartArea, "No sales in the last year to draw a trend.", { href: "data.html", label: "Upload sales" });
  } else {
    const rows = anomalies.rows || [];
    const option = trendOption({ history, forecast: future, anomalies: rows, unit });
    const marked = option.series.find((series) => series.type === "scatter")?.data.length || 0;
    const chart = el("div", { class: "chart tall", id: "trend-chart" });
    const notes = [];
    if (forecast.skipped) notes.push(el("p", { class: "chart-caption skipped-note" }, `No forecast: ${forecast.skipped}`));
    if (forecast.error) notes.push(el("p", { class: "chart-caption skipped-note" }, `No forecast: ${forecast.error.message}`));
    ready(chartArea, chart, caption(forecast, future, marked), ...notes);
    const instance = await drawChart(chart, option, {
      label: chartLabel(history, future),
      onClick: (params) => {
        if (params.seriesType === "scatter" && params.data?.day) location.assign(anomalyHref({ date: params.data.day }));
      },
    });
    roomForLegend(chart, instance);
  }
  if (anomalies.error) errorState(listArea, anomalies.error);
  else if (anomalies.skipped) skippedState(listArea, anomalies.skipped, "Unusual days were not checked");
  else if (!anomalies.rows.length) {
    ready(listArea, el("p", { class: "muted" },
      `No unusual days: every one of the ${plural(anomalies.meta?.days_checked ?? 0, "day")} checked was within the usual range.`));
  } else ready(listArea, ...anomalyList(anomalies.rows, anomalies.meta?.explanations || []));
}
