/**
 * The KPI cards: which ones (the user's saved order, pinned first, hidden and unavailable ones left out), their
 * numbers for the period from three `POST /explore` questions (against the period before, against last year,
 * and by day or week for the sparklines), drawn as a grid of cards.
 */
import { api } from "../api.js";
import { clearChart } from "../charts.js";
import { el } from "../dom.js";
import { emptyState, errorState, ready, skeleton } from "../states.js";
import { kpiCard } from "./card.js";
import { previousWords, sparkGrain } from "./range.js";
import { drawSparkline, fullBuckets } from "./sparkline.js";

export const DEFAULT_CARDS = ["revenue", "orders", "aov", "customers", "repeat_rate", "conversion"];

/** `[{measure, pinned}]` in the order to show: the saved order with pinned cards first. */
export function chooseCards(prefs, fields) {
  const available = new Set((fields?.measures || []).map((measure) => measure.name));
  const saved = Array.isArray(prefs?.overview_cards) && prefs.overview_cards.length
    ? prefs.overview_cards : DEFAULT_CARDS.map((card) => ({ card }));
  const seen = new Set();
  const shown = saved.filter((item) => {
    const keep = item && !item.hidden && available.has(item.card) && !seen.has(item.card);
    if (keep) seen.add(item.card);
    return keep;
  }).map((item) => ({ measure: item.card, pinned: Boolean(item.pinned) }));
  return [...shown.filter((card) => card.pinned), ...shown.filter((card) => !card.pinned)];
}

const explore = (body) => api("/explore", { method: "POST", body });

let latest = 0;

/**
 * Load and draw `cards` for `range` in `container`. Resolves to the dates the numbers cover
 * (`{start, end}` from the answer's meta), or null when they could not be loaded.
 */
export async function loadCards(container, cards, range) {
  const asked = ++latest;
  for (const old of container.querySelectorAll(".sparkline")) clearChart(old);
  if (!cards.length) {
    emptyState(container, "Every card is hidden, so there are no key figures to show.",
               { href: "settings.html#cards", label: "Choose your cards" });
    return null;
  }
  skeleton(container, 4);
  const measures = cards.map((card) => card.measure);
  const grain = sparkGrain(range);
  const base = { measures, date: { preset: range } };
  let answers;
  try {
    answers = await Promise.all([
      explore({ ...base, compare: { mode: "previous_period" } }),
      explore({ ...base, compare: { mode: "previous_year" } }),
      explore({ ...base, dimensions: [grain], limit: 5000 }),
    ]);
  } catch (error) {
    if (asked === latest) errorState(container, error);
    return null;
  }
  if (asked !== latest) return null; // the user picked another period meanwhile
  const [previous, lastYear, series] = answers;
  const period = previous.meta?.date_range || null;
  if (!previous.rows.length) {
    emptyState(container, previous.message || "No sales in this period. Pick a longer one.");
    return period;
  }
  const context = {
    range, grain,
    previous: { row: previous.rows[0], meta: previous.meta },
    lastYear: { row: lastYear.rows[0], meta: lastYear.meta },
    previousWords: previousWords(range, previous.meta?.compare),
  };
  const grid = el("div", { class: "kpi-grid" }, cards.map((card) => kpiCard(card, context)));
  ready(container, grid);
  const points = fullBuckets(series.rows, grain, period);
  await Promise.all(cards.map((card) => drawSparkline(
    grid.querySelector(`[data-sparkline="${card.measure}"]`), card.measure, points, grain)));
  return period;
}
