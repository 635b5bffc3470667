/** One KPI card: the measure's name and definition, its value (a link into Explore), two comparisons, a sparkline. */
import { dateRange, delta, measureValue } from "../format.js";
import { el } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { labelOf, metricHelp, unitOf } from "../metrics.js";

/** Measures where going down is the good news. */
const LOWER_IS_BETTER = new Set(["return_rate", "returns"]);

function pinIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M10.5 1.5l4 4-2 1-2.5 2.5.5 3-1 1-3-3-3.5 3.5h-1v-1L6 9 3 6l1-1 3 .5L9.5 3z");
  svg.append(path);
  return svg;
}

/** `{text, tone, better}` of one comparison: the change in words, coloured by whether it is good news. */
export function comparison(measure, row, words) {
  const value = row?.[measure];
  const before = row?.[`${measure}_previous`];
  const change = row?.[`${measure}_change_pct`];
  if (before === null || before === undefined) return { text: `${words}: no sales then`, tone: null };
  if (change === null || change === undefined) {
    if (!Number(value)) return { text: `no change ${words}`, tone: null };
    return { text: `new ${words}`, ...toneOf(measure, 1) };
  }
  return { text: `${delta(change)} ${words}`, ...toneOf(measure, Number(change)) };
}

function toneOf(measure, change) {
  if (!change) return { tone: null };
  const good = (change > 0) !== LOWER_IS_BETTER.has(measure);
  return { tone: good ? "up" : "down", better: good, arrow: change > 0 ? "▲" : "▼" };
}

function pill(measure, row, words, mode, compared) {
  const { text, tone, better, arrow } = comparison(measure, row, words);
  const before = row?.[`${measure}_previous`];
  const title = compared?.start
    ? `Compared with ${dateRange(compared.start, compared.end)}` +
      (before === null || before === undefined ? "" : `: ${measureValue(unitOf(measure), before)}`)
    : null;
  return el("span", { class: "pill kpi-delta", "data-tone": tone, "data-compare": mode, title,
                      "data-change-pct": row?.[`${measure}_change_pct`] ?? "" },
    arrow ? el("span", { class: "kpi-arrow", "aria-hidden": "true" }, arrow) : null,
    text,
    better === undefined ? null : el("span", { class: "visually-hidden" }, better ? " (better)" : " (worse)"));
}

/**
 * The card of `measure` for `range`. `previous` and `lastYear` are the rows of the two compared Explore answers
 * and `meta` theirs (for the compared dates); `grain` is the sparkline's (and the Explore link's) time split.
 */
export function kpiCard({ measure, pinned }, { range, grain, previous, lastYear, previousWords }) {
  const unit = unitOf(measure);
  const value = previous.row?.[measure] ?? null;
  const titleId = `kpi-${measure}`;
  const href = exploreHref({ measures: [measure], dimensions: [grain], range, compare: "previous_period" });
  return el("article", { class: "kpi-card", "data-measure": measure, "data-value": value ?? "",
                         "data-pinned": pinned ? "true" : null, "aria-labelledby": titleId },
    el("div", { class: "kpi-head" },
      el("h3", { id: titleId }, labelOf(measure)),
      metricHelp(measure),
      pinned ? el("span", { class: "kpi-pin" }, pinIcon(), "Pinned") : null),
    el("a", { class: "kpi-value", href },
      measureValue(unit, value),
      el("span", { class: "visually-hidden" }, ` ${labelOf(measure).toLowerCase()} — open in Explore`)),
    el("div", { class: "kpi-deltas" },
      pill(measure, previous.row, previousWords, "previous_period", previous.meta?.compare),
      pill(measure, lastYear.row, "vs last year", "previous_year", lastYear.meta?.compare)),
    el("div", { class: "sparkline", "data-sparkline": measure }));
}
