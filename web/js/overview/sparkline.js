/** A card's sparkline: the measure by day or week over the period, a tiny line with no axes. */
import { drawChart } from "../charts.js";
import { dateRange, measureValue } from "../format.js";
import { labelOf, unitOf } from "../metrics.js";
import { addDays } from "./dates.js";

/**
 * The buckets of `rows` (one per day or week) that lie wholly inside the period: a week cut short by the
 * period's first or last day would look like a slump. Partial weeks stay when too few full ones are left.
 */
export function fullBuckets(rows, grain, period) {
  if (grain !== "week" || !period?.start || !period?.end) return rows;
  const full = rows.filter((row) => row.week >= period.start && addDays(row.week, 6) <= period.end);
  return full.length >= 3 ? full : rows;
}

/** Draw `measure` of `rows` (each `{[grain]: day, [measure]: value}`) in `container`. */
export function drawSparkline(container, measure, rows, grain) {
  const values = rows.map((row) => row[measure] ?? null);
  const unit = unitOf(measure);
  const known = values.filter((value) => value !== null);
  const label = known.length
    ? `${labelOf(measure)} by ${grain}, ${dateRange(rows[0][grain], rows.at(-1)[grain])}: from ` +
      `${measureValue(unit, known[0])} to ${measureValue(unit, known.at(-1))}, ` +
      `lowest ${measureValue(unit, Math.min(...known))}, highest ${measureValue(unit, Math.max(...known))}.`
    : `No ${labelOf(measure).toLowerCase()} by ${grain} in this period.`;
  return drawChart(container, {
    animation: false,
    grid: { left: 2, right: 2, top: 4, bottom: 4 },
    xAxis: { type: "category", show: false, boundaryGap: false, data: rows.map((row) => row[grain]) },
    yAxis: { type: "value", show: false, scale: true },
    tooltip: { show: false },
    series: [{
      type: "line", data: values, showSymbol: false, smooth: 0.3, silent: true, connectNulls: true,
      lineStyle: { width: 2 }, areaStyle: { opacity: 0.08 },
    }],
  }, { label });
}
