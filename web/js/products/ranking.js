/**
 * "Top products" and "Categories": the best sellers of the chosen dates (`POST /explore`, top 20 and everything
 * else), compared with the period before — a horizontal bar chart of revenue and a table with the changes.
 * Every name links to Explore filtered on it.
 */
import { api } from "../api.js";
import { drawChart } from "../charts.js";
import { el } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { dateRange, delta, measureValue, money, percent, plural } from "../format.js";
import { labelOf, metricHelp, unitOf } from "../metrics.js";
import { emptyState, errorState, ready, skeleton } from "../states.js";

export const MEASURES = ["revenue", "units", "orders", "return_rate"];
export const TOP = 20;
export const OTHER = "(everything else)";
const LOWER_IS_BETTER = new Set(["return_rate", "returns"]);

const KINDS = {
  product: { noun: "product", many: "products", next: { dimensions: ["week"] } },
  category: { noun: "category", many: "categories", next: { dimensions: ["product"], view: "bar" } },
};

/** The `POST /explore` body of one ranking (the browser test sends the same). */
export function rankingBody(dimension, range) {
  return {
    measures: MEASURES, dimensions: [dimension], date: { preset: range }, compare: { mode: "previous_period" },
    sort: [{ field: "revenue", direction: "desc" }], limit: TOP, other: true,
  };
}

function explore(dimension, value, range) {
  return exploreHref({ measures: ["revenue", "units", "orders"], range, filters: { [dimension]: [value] },
                       ...KINDS[dimension].next });
}

function change(measure, value) {
  const text = delta(value);
  const good = LOWER_IS_BETTER.has(measure) ? value < 0 : value > 0;
  const tone = value === null || value === undefined || !Number.isFinite(Number(value)) || value === 0 ? null
    : good ? "up" : "down";
  return el("span", { class: "pill", "data-tone": tone }, text);
}

function table(dimension, rows, range) {
  const head = el("tr", {}, el("th", { scope: "col" }, labelOf(dimension)),
    MEASURES.flatMap((measure) => [
      el("th", { scope: "col", class: "num" }, labelOf(measure), metricHelp(measure)),
      el("th", { scope: "col", class: "num" }, el("span", { class: "visually-hidden" }, `${labelOf(measure)} `),
         "vs before"),
    ]));
  const body = rows.map((row) => {
    const name = row[dimension];
    const other = name === OTHER;
    return el("tr", { class: other ? "is-other" : null },
      el("th", { scope: "row" }, other ? `Everything else` : el("a", { href: explore(dimension, name, range) }, name)),
      MEASURES.flatMap((measure) => [
        el("td", { class: "num", "data-measure": measure, "data-value": row[measure] ?? "" },
           measureValue(unitOf(measure), row[measure])),
        el("td", { class: "num" }, change(measure, row[`${measure}_change_pct`])),
      ]));
  });
  return el("div", { class: "table-wrap" },
    el("table", { class: "ranking-table", "data-dimension": dimension },
      el("caption", { class: "visually-hidden" },
         `${labelOf(dimension)} by revenue, with the change on the period before`),
      el("thead", {}, head), el("tbody", {}, body)));
}

function chartOption(named) {
  return {
    grid: { left: 8, right: 64, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: "item", valueFormatter: (value) => money(value) },
    xAxis: { type: "value", splitNumber: 3,
             axisLabel: { hideOverlap: true, formatter: (value) => money(value, null, { short: true }) } },
    yAxis: { type: "category", inverse: true, data: named.map((row) => row.name),
             axisLabel: { width: 130, overflow: "truncate" } },
    series: [{ type: "bar", name: "Revenue", data: named.map((row) => row.revenue), barMaxWidth: 18,
               label: { show: true, position: "right",
                        formatter: ({ value }) => money(value, null, { short: true }) } }],
  };
}

/** Draw the ranking of `dimension` for `range` into `parts` ({chart, caption, table, status}). */
export async function loadRanking(dimension, range, parts) {
  const kind = KINDS[dimension];
  const ticket = (parts.ticket = (parts.ticket || 0) + 1);
  skeleton(parts.table, 6);
  parts.caption.textContent = "";
  let answer;
  try {
    answer = await api("/explore", { method: "POST", body: rankingBody(dimension, range) });
  } catch (error) {
    if (ticket !== parts.ticket) return null;
    parts.chart.hidden = true;
    if (error.code === "no_sales") emptyState(parts.table, error.message, { href: "data.html", label: "Upload sales" });
    else errorState(parts.table, error);
    return null;
  }
  if (ticket !== parts.ticket) return null; // the dates changed while this answer was on its way
  const rows = answer.rows || [];
  const named = rows.filter((row) => row[dimension] !== OTHER)
    .map((row) => ({ name: row[dimension], revenue: row.revenue }));
  const meta = answer.meta || {};
  const when = dateRange(meta.date_range?.start, meta.date_range?.end);
  parts.period.textContent = when;
  if (!named.length) {
    parts.chart.hidden = true;
    emptyState(parts.table, answer.message || `No sales between ${when}. Pick a longer period above.`);
    return answer;
  }
  parts.chart.hidden = false;
  const other = rows.find((row) => row[dimension] === OTHER);
  const total = rows.reduce((sum, row) => sum + (Number(row.revenue) || 0), 0);
  const lead = named[0];
  const share = total > 0 ? lead.revenue / total : null;
  const before = meta.compare?.start ? ` Changes compare with ${dateRange(meta.compare.start, meta.compare.end)}.` : "";
  parts.caption.textContent = `${lead.name} sold the most, ${money(lead.revenue)}` +
    (share !== null ? ` (${percent(share, 0)} of all revenue)` : "") + "." +
    (other ? ` All other ${kind.many} together: ${money(other.revenue)}.` : "") +
    before;
  ready(parts.table, table(dimension, rows, range));
  await drawChart(parts.chart, chartOption(named), {
    label: `Bar chart: revenue of the top ${plural(named.length, kind.noun, kind.many)}, ${named.slice(0, 3)
      .map((row) => `${row.name} ${money(row.revenue)}`).join(", ")}${named.length > 3 ? " and more" : ""}.`,
    onClick: (params) => {
      if (params.name) location.assign(explore(dimension, params.name, range));
    },
  });
  return answer;
}
