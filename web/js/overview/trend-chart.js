/**
 * The revenue trend's chart: weekly history continued by the forecast, its 80 % and 95 % ranges as shaded bands,
 * a line where history ends, and unusual days as diamonds on the week they fell in.
 */
import { PALETTE } from "../charts.js";
import { day, money, month } from "../format.js";
import { anomalySentence } from "./anomalies.js";
import { fromTime, isoDay, mondayOf, toTime } from "./dates.js";

const ACTUAL = "Actual revenue";
const FORECAST = "Forecast";
const WIDE = "95% range";
const NARROW = "80% range";
const UNUSUAL = "Unusual day";
const shade = (alpha) => `rgba(224, 123, 57, ${alpha})`;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A band as two stacked series: an invisible lower edge and the width above it, shaded. */
function band(name, stack, points, lower, upper, opacity) {
  const line = { opacity: 0 };
  return [
    { name, type: "line", stack, stackStrategy: "all", silent: true, symbol: "none", lineStyle: line, color: shade(opacity),
      data: points.map((p) => [p.time, p[lower]]) },
    { name, type: "line", stack, stackStrategy: "all", silent: true, symbol: "none", lineStyle: line,
      color: shade(opacity), areaStyle: { color: shade(opacity) },
      data: points.map((p) => [p.time, p[upper] - p[lower]]) },
  ];
}

function tooltip(byTime, unitWord) {
  return (params) => {
    const time = (Array.isArray(params) ? params[0] : params)?.axisValue ?? params?.value?.[0];
    const point = byTime.get(Number(time));
    if (!point) return "";
    const lines = [`<strong>${escape(`${unitWord[0].toUpperCase()}${unitWord.slice(1)} of ${day(point.day)}`)}</strong>`];
    if (point.actual !== undefined) lines.push(`${ACTUAL}: ${escape(money(point.actual))}`);
    if (point.forecast !== undefined) {
      lines.push(`${FORECAST}: ${escape(money(point.forecast))}`);
      lines.push(`${NARROW}: ${escape(`${money(point.lower_80)} – ${money(point.upper_80)}`)}`);
      lines.push(`${WIDE}: ${escape(`${money(point.lower_95)} – ${money(point.upper_95)}`)}`);
    }
    for (const row of point.anomalies || []) lines.push(`<span style="color:#c0392b">◆</span> ${escape(anomalySentence(row))}`);
    return lines.join("<br>");
  };
}

/**
 * The ECharts option. `history` is `[{day, value}]`, `forecast` the forecast rows of the total series,
 * `anomalies` the anomaly rows; `unit` the period of one point ("week").
 */
export function trendOption({ history, forecast, anomalies, unit = "week" }) {
  const byTime = new Map();
  const at = (dayText) => {
    const time = toTime(dayText);
    if (!byTime.has(time)) byTime.set(time, { time, day: dayText });
    return byTime.get(time);
  };
  for (const row of history) at(row.day).actual = row.value;
  const last = history.at(-1);
  const future = forecast.map((row) => Object.assign(at(isoDay(row.date)), {
    forecast: row.forecast, lower_80: row.lower_80, upper_80: row.upper_80,
    lower_95: row.lower_95, upper_95: row.upper_95,
  }));
  // the bands and the forecast line start at the last actual week, so they continue the history
  const joint = last && future.length
    ? [{ time: toTime(last.day), forecast: last.value, lower_80: last.value, upper_80: last.value,
         lower_95: last.value, upper_95: last.value }, ...future]
    : future;
  const marked = [];
  for (const row of anomalies) {
    const bucket = byTime.get(toTime(unit === "week" ? mondayOf(isoDay(row.date)) : isoDay(row.date)));
    if (!bucket || bucket.actual === undefined) continue;
    (bucket.anomalies ??= []).push(row);
    if (bucket.anomalies.length === 1) marked.push(bucket);
  }
  const legend = [ACTUAL, ...(future.length ? [FORECAST, { name: NARROW, icon: "rect", itemStyle: { color: shade(0.45) } },
                                                    { name: WIDE, icon: "rect", itemStyle: { color: shade(0.22) } }] : []),
                  ...(marked.length ? [{ name: UNUSUAL, icon: "diamond" }] : [])];
  return {
    grid: { left: 8, right: 16, top: 48, bottom: 8, containLabel: true },
    legend: { top: 0, left: 0, data: legend, itemGap: 14, textStyle: { color: "#1d2430" } },
    tooltip: { trigger: "axis", axisPointer: { type: "line" }, formatter: tooltip(byTime, unit),
               confine: true, extraCssText: "max-width: 22rem; white-space: normal;" },
    xAxis: { type: "time", axisLabel: { formatter: (value) => month(fromTime(value)), hideOverlap: true, color: "#5f6b7a" },
             splitLine: { show: false } },
    yAxis: { type: "value", axisLabel: { formatter: (value) => money(value, null, { short: true }), color: "#5f6b7a" },
             splitLine: { lineStyle: { color: "#eef0f3" } } },
    series: [
      ...(future.length ? [...band(WIDE, "wide", joint, "lower_95", "upper_95", 0.18),
                           ...band(NARROW, "narrow", joint, "lower_80", "upper_80", 0.3)] : []),
      { name: ACTUAL, type: "line", showSymbol: false, color: PALETTE[0], lineStyle: { width: 2 },
        data: history.map((row) => [toTime(row.day), row.value]),
        markLine: last && future.length ? {
          symbol: "none", silent: true, lineStyle: { type: "dashed", color: "#5f6b7a" },
          label: { formatter: "Forecast →", position: "insideEndTop", color: "#5f6b7a" },
          data: [{ xAxis: toTime(last.day) }],
        } : undefined },
      ...(future.length ? [{ name: FORECAST, type: "line", showSymbol: false, color: PALETTE[1],
                              lineStyle: { width: 2, type: "dashed" },
                              data: joint.map((p) => [p.time, p.forecast]) }] : []),
      ...(marked.length ? [{ name: UNUSUAL, type: "scatter", symbol: "diamond", symbolSize: 13, color: "#c0392b",
                              z: 5, data: marked.map((p) => ({ value: [p.time, p.actual], day: p.anomalies[0].date })) }] : []),
    ],
  };
}
