/** Unusual days (`GET /results/anomalies`) in words: what happened, against what was expected, and what drove it. */
import { el } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { delta, money, percent, weekday } from "../format.js";
import { labelOf } from "../metrics.js";
import { isoDay } from "./dates.js";

const SHOWN = 8;

/** "Wed 16 Apr 2025". */
export const dayWords = (value) => weekday(isoDay(value));

/** "Bikes made 48% of the gap" — the biggest driver, from the row's top dimension and value. */
export function driverWords(row) {
  if (!row.top_value) return "";
  return `${row.top_value} made ${percent(row.top_share, 0)} of the gap`;
}

/** "Wed 16 Apr 2025: €171 vs €10,196 expected; Bikes made 48% of the gap" (the chart's tooltip). */
export function anomalySentence(row) {
  const driver = driverWords(row);
  return `${dayWords(row.date)}: ${money(row.actual)} vs ${money(row.expected)} expected${driver ? `; ${driver}` : ""}`;
}

/** The other dimensions' main drivers that day ("Channel online, Region North"), from meta.explanations. */
function otherDrivers(row, explanations) {
  const day = isoDay(row.date);
  return explanations
    .filter((item) => isoDay(item.date) === day && item.rank === 1 && item.dimension !== row.top_dimension)
    .map((item) => `${labelOf(item.dimension).toLowerCase()} ${item.value} (${percent(item.share_of_change, 0)})`);
}

/** Explore on that day, split by category: where a user sees what sold (or did not). */
export const anomalyHref = (row) => exploreHref({
  measures: ["revenue"], dimensions: ["category"], range: "", from: isoDay(row.date), to: isoDay(row.date),
  view: "bar",
});

function item(row, explanations) {
  const others = otherDrivers(row, explanations);
  const severity = String(row.severity || "");
  const driver = row.top_value
    ? ` ${row.top_dimension ? `${labelOf(row.top_dimension)} ` : ""}${row.top_value} made ${percent(row.top_share, 0)} ` +
      "of the gap."
    : "";
  return el("li", { class: "anomaly", "data-date": isoDay(row.date) },
    el("div", { class: "anomaly-head" },
      el("a", { href: anomalyHref(row) }, dayWords(row.date)),
      severity ? el("span", { class: "pill", "data-tone": severity },
                    `${severity[0].toUpperCase()}${severity.slice(1)} severity`) : null),
    el("p", {},
      `Sales were ${money(row.actual)} against ${money(row.expected)} expected (${delta(row.difference_pct)}).`,
      driver, others.length ? ` Also ${others.join(", ")}.` : ""));
}

/** The list of unusual days, newest first, each a link to Explore on that day. */
export function anomalyList(rows, explanations = []) {
  const newest = [...rows].sort((a, b) => String(b.date).localeCompare(String(a.date)));
  const shown = newest.slice(0, SHOWN);
  const parts = [
    el("h3", { id: "anomalies-title" }, "Unusual days"),
    el("ul", { class: "anomaly-list plain-list", "aria-labelledby": "anomalies-title" },
      shown.map((row) => item(row, explanations))),
    newest.length > SHOWN
      ? el("p", { class: "muted" }, `${newest.length - SHOWN} older unusual days are on the `,
           el("a", { href: "forecasts.html" }, "Forecasts page"), ".")
      : null,
  ];
  return parts.filter(Boolean);
}
