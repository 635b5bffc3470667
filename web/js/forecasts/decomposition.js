/**
 * Seasonal decomposition: for the weekly or the daily series, three small charts stacked — the trend, the
 * repeating seasonal pattern and what is left over — with the analysis' sentence, and the weekday pattern as bars
 * ("Saturday +44 %").
 */
import { drawChart } from "../charts.js";
import { el } from "../dom.js";
import { day, delta, money, percent } from "../format.js";
import { loadedOrShown, ready, skippedState } from "../states.js";

const FREQS = [
  { key: "week", label: "Weekly", season: "the yearly pattern", unit: "week" },
  { key: "day", label: "Daily", season: "the weekly pattern", unit: "day" },
  { key: "month", label: "Monthly", season: "the yearly pattern", unit: "month" },
];

const PARTS = [
  { key: "trend", title: "Trend", color: "#2f5bd3", type: "line",
    words: "the long-run direction of sales, with the ups and downs smoothed out" },
  { key: "seasonal", title: "Seasonality", color: "#1e7e4a", type: "line",
    words: "the pattern that repeats, above or below the trend" },
  { key: "resid", title: "Residual", color: "#5f6b7a", type: "bar",
    words: "what neither explains: one-off spikes and dips" },
];

function strengthWords(strength) {
  if (strength === null || strength === undefined) return "";
  const level = strength >= 0.64 ? "strong" : strength >= 0.36 ? "moderate" : "weak";
  return `Seasonal strength ${percent(strength, 0)} (${level}): how much of the ups and downs, once the trend is ` +
         "taken out, repeat every season.";
}

function partOption(dates, values, part, showDates) {
  return {
    grid: { left: 8, right: 12, top: 10, bottom: 4, containLabel: true },
    tooltip: { trigger: "axis", valueFormatter: (value) => money(value), confine: true,
               axisPointer: { type: "line" } },
    xAxis: { type: "category", data: dates, boundaryGap: part.type === "bar",
             axisLabel: { show: showDates, formatter: (value) => day(value), hideOverlap: true },
             axisTick: { show: false } },
    yAxis: { type: "value", scale: part.key === "trend", splitNumber: 2,
             axisLabel: { formatter: (value) => money(value, null, { short: true }) } },
    series: [{ name: part.title, type: part.type, data: values, symbol: "none", color: part.color,
               lineStyle: { width: 1.5 }, barCategoryGap: "20%" }],
  };
}

function weekdayOption(pattern) {
  return {
    grid: { left: 8, right: 12, top: 24, bottom: 4, containLabel: true },
    tooltip: { trigger: "axis", valueFormatter: (value) => delta(value), confine: true },
    xAxis: { type: "category", data: pattern.map((p) => p.weekday.slice(0, 3)) },
    yAxis: { type: "value", axisLabel: { formatter: (value) => delta(value) } },
    series: [{ name: "Compared with an average day", type: "bar", barMaxWidth: 40,
               data: pattern.map((p) => ({ value: p.effect, itemStyle: { color: p.effect >= 0 ? "#1e7e4a" : "#c0392b" } })),
               label: { show: true, position: "top", formatter: ({ value }) => delta(value), fontSize: 11,
                        color: "#1d2430" } }],
  };
}

function weekdaySentence(pattern) {
  const sorted = [...pattern].sort((a, b) => b.effect - a.effect);
  const best = sorted[0];
  const worst = sorted.at(-1);
  return `${best.weekday} sells ${percent(Math.abs(best.effect), 0)} ${best.effect >= 0 ? "above" : "below"} an ` +
         `average day, ${worst.weekday} ${percent(Math.abs(worst.effect), 0)} ${worst.effect >= 0 ? "above" : "below"}.`;
}

async function drawFreq(holder, rows, info, freq) {
  const mine = rows.filter((row) => row.freq === freq.key).sort((a, b) => String(a.date).localeCompare(String(b.date)));
  const dates = mine.map((row) => String(row.date).slice(0, 10));
  const charts = PARTS.map((part, index) => {
    const box = el("div", { class: "chart mini", "data-part": part.key });
    return { part, box, figure: el("figure", { class: "decomposition-part" },
      el("figcaption", {}, el("strong", {}, part.title), ` — ${part.words}.`), box), last: index === PARTS.length - 1 };
  });
  const flat = mine.filter((row) => Math.abs(Number(row.resid) || 0) < 1e-6).length;
  const note = mine.length && flat / mine.length > 0.8
    ? ` Almost nothing is left over here: with ${mine.length} ${freq.unit}s of history the repeating pattern also ` +
      "absorbs the one-off ups and downs, so the residual says little until there is more history."
    : "";
  holder.replaceChildren(
    el("p", { class: "forecast-headline", id: "decomposition-summary" }, info.description || ""),
    el("p", { class: "muted" }, strengthWords(info.seasonal_strength)),
    el("div", { class: "decomposition-stack", id: "decomposition-charts" }, charts.map((c) => c.figure)),
    el("p", { class: "chart-caption" }, `Per ${freq.unit}, ${day(dates[0])} to ${day(dates.at(-1))}. Trend + ` +
      `seasonality + residual add up to the actual sales; the seasonality chart shows ${freq.season}.${note}`));
  await Promise.all(charts.map(({ part, box, last }) => drawChart(box,
    partOption(dates, mine.map((row) => row[part.key]), part, last),
    { label: `${part.title} of ${freq.label.toLowerCase()} sales from ${day(dates[0])} to ${day(dates.at(-1))}: ${part.words}.` })));
}

export async function showDecomposition(container, loaded) {
  const result = await loadedOrShown(container, loaded);
  if (!result) return;
  const meta = result.meta || {};
  const rows = result.rows || [];
  const available = FREQS.filter((f) => meta[f.key] && !meta[f.key].skip_reason && rows.some((r) => r.freq === f.key));
  if (!available.length) {
    const reason = FREQS.map((f) => meta[f.key]?.skip_reason).find(Boolean);
    skippedState(container, reason || "There is not enough history yet to separate trend from seasonal patterns.");
    return;
  }
  const holder = el("div", { id: "decomposition-view" });
  const tabs = el("div", { class: "tabs", role: "group", "aria-label": "Decomposition of" });
  const buttons = available.map((freq, index) => {
    const button = el("button", { type: "button", class: "button secondary small", "data-freq": freq.key,
                                  "aria-pressed": String(index === 0) }, `${freq.label} sales`);
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      drawFreq(holder, rows, meta[freq.key], freq);
    });
    return button;
  });
  tabs.append(...buttons);
  const pattern = Array.isArray(meta.weekday_pattern) ? meta.weekday_pattern : [];
  const weekday = pattern.length ? el("div", { class: "weekday-pattern" },
    el("h3", {}, "Sales by day of the week"),
    el("div", { class: "chart small", id: "weekday-chart" }),
    el("p", { class: "chart-caption" }, `${weekdaySentence(pattern)} Each bar is how a weekday's sales compare ` +
      "with an average day, once the trend is taken out.")) : null;
  ready(container, buttons.length > 1 ? tabs : null, holder, weekday);
  await drawFreq(holder, rows, meta[available[0].key], available[0]);
  if (weekday) {
    await drawChart(weekday.querySelector("#weekday-chart"), weekdayOption(pattern),
                    { label: `Sales by weekday compared with an average day: ${pattern.map((p) => `${p.weekday} ${delta(p.effect)}`).join(", ")}.` });
  }
}
