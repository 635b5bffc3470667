/**
 * Cohort retention, computed here (there is no artifact for it): every customer's months with an order, from
 * `POST /explore` by customer × month (paged 5,000 rows at a time), grouped by the month of their first purchase;
 * each cell is the share of that group who ordered again N months later. Drawn as an ECharts heatmap.
 */
import { api } from "../api.js";
import { drawSized } from "../chart-sizes.js";
import { el } from "../dom.js";
import { day, month, number, percent, plural } from "../format.js";
import { emptyState, errorState, ready } from "../states.js";

const PAGE = 5000;
const MAX_PAGES = 40; // 200,000 customer-months; beyond that the chart would be unreadable anyway

/** Every (customer, month) with at least one order. */
async function customerMonths() {
  const rows = [];
  let total = Infinity;
  let dataEnd = null;
  for (let page = 0; rows.length < total && page < MAX_PAGES; page += 1) {
    const answer = await api("/explore", { method: "POST", body: {
      measures: ["orders"], dimensions: ["customer", "month"], date: { preset: "all" },
      sort: [{ field: "customer", direction: "asc" }, { field: "month", direction: "asc" }],
      limit: PAGE, offset: rows.length,
    } });
    rows.push(...answer.rows);
    total = answer.total_rows ?? answer.rows.length;
    dataEnd = answer.meta?.data_range?.end || dataEnd;
    if (!answer.rows.length) break;
  }
  return { rows, dataEnd };
}

/** Whether the sales stop before the end of the month `end` (YYYY-MM-DD) falls in. */
function partMonth(end) {
  if (!end) return false;
  const date = new Date(`${end.slice(0, 10)}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.getUTCDate() !== 1;
}

const monthIndex = (iso) => Number(iso.slice(0, 4)) * 12 + Number(iso.slice(5, 7)) - 1;
const isoOf = (index) => `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}-01`;

/** `{cohorts: [{month, size, retained: [share at +1, +2, …]}], last}` from customer-month rows. */
export function cohortTable(rows) {
  const months = new Map();
  for (const row of rows) {
    if (!row.customer || !row.month || !(Number(row.orders) > 0)) continue;
    const index = monthIndex(String(row.month));
    if (!months.has(row.customer)) months.set(row.customer, new Set());
    months.get(row.customer).add(index);
  }
  if (!months.size) return { cohorts: [], last: null };
  const last = Math.max(...[...months.values()].map((set) => Math.max(...set)));
  const groups = new Map();
  for (const set of months.values()) {
    const first = Math.min(...set);
    if (!groups.has(first)) groups.set(first, []);
    groups.get(first).push(set);
  }
  const cohorts = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([first, members]) => ({
    month: isoOf(first),
    size: members.length,
    retained: Array.from({ length: last - first }, (_, k) =>
      members.filter((set) => set.has(first + k + 1)).length / members.length),
  }));
  return { cohorts, last: isoOf(last) };
}

function option(cohorts, narrow) {
  const span = Math.max(0, ...cohorts.map((c) => c.retained.length));
  const x = Array.from({ length: span }, (_, k) => `+${k + 1}`);
  const y = cohorts.map((c) => `${month(c.month)} (${number(c.size)})`);
  const data = [];
  cohorts.forEach((cohort, row) => cohort.retained.forEach((share, k) => data.push([k, row, Math.round(share * 1000) / 10])));
  return {
    grid: { left: 8, right: 8, top: 8, bottom: 64, containLabel: true },
    tooltip: { confine: true, formatter: ({ value }) => {
      const cohort = cohorts[value[1]];
      return `${month(cohort.month)}: ${plural(cohort.size, "new customer")}<br>` +
             `${percent(value[2] / 100, 0)} bought again ${plural(value[0] + 1, "month")} later`;
    } },
    xAxis: { type: "category", data: x, name: "Months after the first purchase", nameLocation: "middle", nameGap: 24,
             splitArea: { show: true }, axisLabel: { interval: narrow ? 2 : 0, fontSize: 11 } },
    yAxis: { type: "category", data: y, inverse: true, axisLabel: { fontSize: 11 } },
    visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
                 text: ["100 %", "0 %"], inRange: { color: ["#f5f6f8", "#9db3ec", "#2f5bd3", "#1b3a8f"] } },
    series: [{ type: "heatmap", data, label: { show: !narrow && span <= 24, fontSize: 9,
                                              formatter: ({ value }) => number(value[2], 0) },
               emphasis: { itemStyle: { borderColor: "#1d2430", borderWidth: 1 } } }],
  };
}

function caption(cohorts, last, dataEnd) {
  const mature = cohorts.filter((c) => c.retained.length >= 1 && c.size >= 5);
  const avg = mature.length ? mature.reduce((sum, c) => sum + c.retained[0] * c.size, 0) /
    mature.reduce((sum, c) => sum + c.size, 0) : null;
  const first = cohorts[0];
  return `Each row is the customers whose first purchase was in that month (how many in brackets); each cell is ` +
    `the share of them who bought again that many months later — darker is more.` +
    (avg !== null ? ` On average ${percent(avg, 0)} of new customers bought again the month after their first purchase.` : "") +
    ` The first row, ${month(first.month)}, also holds everyone who already bought before your data starts.` +
    (partMonth(dataEnd) ? ` Your sales stop on ${day(dataEnd)}, so ${month(last)} is not complete yet.` : "");
}

/** Load and draw the heatmap in `container`; resolves to the seconds it took (for the page's own timing). */
export async function showCohorts(container) {
  const started = performance.now();
  let rows;
  let dataEnd;
  try {
    ({ rows, dataEnd } = await customerMonths());
  } catch (error) {
    errorState(container, error);
    return null;
  }
  const { cohorts, last } = cohortTable(rows);
  if (cohorts.length < 2) {
    emptyState(container, "Upload sales with customer ids over at least two months to see whether new customers " +
               "come back.", { href: "data.html", label: "Go to your data" });
    return null;
  }
  const chart = el("div", { class: "chart cohort-chart", id: "cohort-chart" });
  chart.style.height = `${Math.max(320, cohorts.length * 22 + 110)}px`;
  const text = caption(cohorts, last, dataEnd);
  ready(container, chart, el("p", { class: "chart-caption", id: "cohort-caption" }, text));
  await drawSized(chart, (narrow) => option(cohorts, narrow),
                  { label: `Customer retention by month of first purchase. ${text}`, breakpoint: 640 });
  const seconds = (performance.now() - started) / 1000;
  chart.dataset.seconds = seconds.toFixed(2);
  return seconds;
}
