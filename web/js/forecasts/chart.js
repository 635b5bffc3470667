/**
 * The forecast chart: actual sales, the forecast as a dashed line with its 80 % and 95 % ranges as shaded bands,
 * and a marker where the actual sales end. Bands are drawn as a transparent lower edge with the band's height
 * stacked on top, so the tooltip reads the real bounds from the rows, not from the chart.
 */
import { day, money, month } from "../format.js";

const ACTUAL = "#2f5bd3";
const FORECAST = "#c25e1d";

const BUCKET_WORDS = { day: "", week: "Week of ", month: "" };

/** Which category labels to show: the first bucket of every quarter (weeks, days) or every third month. */
function labelEvery(dates, bucket, narrow) {
  const step = narrow ? 4 : 3;
  const shown = new Set();
  let previous = "";
  dates.forEach((date, index) => {
    const ym = date.slice(0, 7);
    const m = Number(date.slice(5, 7)) - 1;
    if (ym !== previous && m % step === 0) shown.add(index);
    previous = ym;
  });
  if (bucket === "month" && shown.size < 2) dates.forEach((_, index) => shown.add(index));
  return shown;
}

const escapeText = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The ECharts option for `past` ([{date, value}]) and `future` (forecast rows of one series). */
export function forecastOption(allPast, future, bucket, { narrow = false } = {}) {
  // on a phone, a year of history leaves room to see the forecast
  const past = narrow ? allPast.slice(-({ day: 120, week: 52, month: 24 }[bucket] || 52)) : allPast;
  const futureDates = future.map((row) => String(row.date).slice(0, 10));
  const dates = [...past.map((p) => p.date), ...futureDates];
  const gap = past.map(() => null);
  const lastPast = past.length - 1;
  const actual = [...past.map((p) => p.value), ...future.map(() => null)];
  // the dashed line starts on the last actual point so the two lines join
  const forecast = [...gap.slice(1), past.length ? past[lastPast].value : null, ...future.map((r) => r.forecast)];
  const band = (lower, upper) => ({
    low: [...gap, ...future.map((r) => r[lower])],
    height: [...gap, ...future.map((r) => r[upper] - r[lower])],
  });
  const b95 = band("lower_95", "upper_95");
  const b80 = band("lower_80", "upper_80");
  const shown = labelEvery(dates, bucket, narrow);
  const edge = (stack, data) => ({ type: "line", stack, data, symbol: "none", lineStyle: { opacity: 0 },
                                   silent: true, tooltip: { show: false } });
  const fill = (name, stack, data, opacity) => ({ name, type: "line", stack, data, symbol: "none",
                                                  lineStyle: { opacity: 0 }, areaStyle: { color: FORECAST, opacity },
                                                  itemStyle: { color: FORECAST, opacity: opacity * 2 },
                                                  silent: true });
  const tooltip = (params) => {
    const index = params[0]?.dataIndex;
    if (index === undefined) return "";
    const when = `${BUCKET_WORDS[bucket] ?? ""}${bucket === "month" ? month(dates[index]) : day(dates[index])}`;
    const lines = [`<strong>${escapeText(when)}</strong>`];
    if (index <= lastPast) lines.push(`Actual sales: ${escapeText(money(actual[index]))}`);
    else {
      const row = future[index - past.length];
      lines.push(`Forecast: ${escapeText(money(row.forecast))}`,
                 `8 in 10 chance: ${escapeText(money(row.lower_80))} – ${escapeText(money(row.upper_80))}`,
                 `19 in 20 chance: ${escapeText(money(row.lower_95))} – ${escapeText(money(row.upper_95))}`);
    }
    return lines.join("<br>");
  };
  return {
    grid: { left: 8, right: 16, top: narrow ? 60 : 36, bottom: 8, containLabel: true },
    legend: { top: 0, left: 0, itemGap: narrow ? 8 : 14, textStyle: { fontSize: 12 },
              data: ["Actual sales", "Forecast", "80 % range", "95 % range"] },
    tooltip: { trigger: "axis", formatter: tooltip, confine: true },
    xAxis: { type: "category", data: dates, boundaryGap: false,
             axisLabel: { interval: (index) => shown.has(index), formatter: (value) => month(value), hideOverlap: true },
             axisTick: { interval: (index) => shown.has(index) } },
    yAxis: { type: "value", axisLabel: { formatter: (value) => money(value, null, { short: true }) } },
    series: [
      edge("b95", b95.low), fill("95 % range", "b95", b95.height, 0.14),
      edge("b80", b80.low), fill("80 % range", "b80", b80.height, 0.24),
      { name: "Actual sales", type: "line", data: actual, symbol: "none", color: ACTUAL, lineStyle: { width: 2 },
        markLine: past.length ? {
          symbol: "none", silent: true, lineStyle: { color: "#5f6b7a", type: "dotted" },
          label: { formatter: "Forecast starts", position: "end", color: "#1d2430", fontSize: 11 },
          data: [{ xAxis: lastPast }],
        } : undefined },
      { name: "Forecast", type: "line", data: forecast, symbol: "none", color: FORECAST,
        lineStyle: { width: 2, type: "dashed" } },
    ],
  };
}
