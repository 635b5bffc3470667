/**
 * Drill-down: what clicking a bar, point or table row opens, and the breadcrumb trail back to where it started.
 *
 * The trail lives in the URL next to the state (explore-state.js): `start` is the start view's own query string
 * and each `drill` names one step taken from there (a value such as "Bikes", or "2025-10-01..2025-12-31" for a
 * time bucket). Replaying the steps from the start view gives every crumb's state, so a bookmarked URL shows the
 * same breadcrumbs, and each crumb leads back to exactly the view it names.
 */
import { parseState, stateQuery } from "../explore-state.js";
import { OTHER, TIME, bucketLabel, bucketSpan, bucketStart, isTime, valueLabel } from "./names.js";

/** What each non-time dimension opens into; anything missing here opens the order lines. */
const NEXT = { category: "product", region: "category", channel: "category", segment: "category",
               rfm_group: "category" };
const LINES = new Set(["product", "customer"]);

export const emptyTrail = () => ({ start: "", drill: [] });

export function parseTrail(search = location.search) {
  const params = new URLSearchParams(search);
  const start = params.get("start") || "";
  return start ? { start, drill: params.getAll("drill") } : emptyTrail();
}

/** The page's URL query: the state, then its trail. */
export function pageQuery(state, trail = emptyTrail()) {
  const params = new URLSearchParams(stateQuery(state));
  if (trail.start && trail.drill.length) {
    params.set("start", trail.start);
    for (const step of trail.drill) params.append("drill", step);
  }
  return params.toString();
}

/** Order lines behind `state` (the end of every drill path). */
const toLines = (state, extra = {}) => ({ ...state, ...extra, rows: true });

/** The state one step below `state`, following `step` (a value of its first dimension, or "from..to"). */
export function applyStep(state, step, available = null) {
  const [dimension, ...rest] = state.dimensions;
  const has = (name) => !available || available.includes(name);
  if (isTime(dimension)) {
    const [from, to] = step.split("..");
    const finer = TIME[TIME.indexOf(dimension) + 1];
    const dates = { range: "", from, to: to || from };
    if (!finer) return toLines(state, dates);
    return { ...state, ...dates, dimensions: [finer, ...rest.filter((name) => name !== finer)] };
  }
  const filters = { ...state.filters, [dimension]: [step] };
  const next = NEXT[dimension];
  if (LINES.has(dimension) || !next || !has(next)) return toLines(state, { filters });
  return { ...state, filters, dimensions: [next, ...rest.filter((name) => name !== next)] };
}

/**
 * The step for clicking `value` of the state's first dimension, or null when it leads nowhere (the
 * "everything else" row). A time bucket is cut to the dates the answer covered (`range`, from its meta), so the
 * view below adds up to the bar that was clicked.
 */
export function stepFor(state, value, range = null) {
  if (value === null || value === undefined || value === OTHER) return null;
  const dimension = state.dimensions[0];
  if (!isTime(dimension)) return String(value);
  let [from, to] = bucketSpan(value, dimension);
  if (range?.start && range.start > from) from = range.start;
  if (range?.end && range.end < to) to = range.end;
  return from === to ? from : `${from}..${to}`;
}

/** Whether `next` only changes how the same view is measured or drawn (the trail still applies). */
export function sameView(current, next) {
  const place = (state) => stateQuery({ ...state, measures: [], compare: "", view: "line" });
  return place(current) === place(next);
}

/** `state` after clicking `value`, with its trail; null when the value does not open anything. */
export function drillInto(state, trail, value, range, available) {
  const step = stepFor(state, value, range);
  if (step === null) return null;
  const start = trail.start || stateQuery(state);
  return { state: applyStep(state, step, available), trail: { start, drill: [...trail.drill, step] } };
}

/** How a step reads in a breadcrumb. */
function stepLabel(parent, step) {
  const dimension = parent.dimensions[0];
  return isTime(dimension) ? bucketLabel(bucketStart(step.split("..")[0], dimension), dimension)
    : valueLabel(step, dimension);
}

/**
 * The breadcrumbs of `state`: [{label, state, trail}], the last one being the view shown. Each crumb keeps the
 * current measures, comparison and chart type. Empty when the view was not reached by drilling.
 */
export function crumbs(state, trail, available = null) {
  if (!trail.start || !trail.drill.length) return [];
  const keep = { measures: state.measures, compare: state.compare, view: state.view };
  let place = { ...parseState(`?${trail.start}`), ...keep, rows: false };
  const list = [{ label: "All sales", state: place, trail: emptyTrail() }];
  trail.drill.forEach((step, index) => {
    const next = { ...applyStep(place, step, available), ...keep };
    const stepTrail = { start: trail.start, drill: trail.drill.slice(0, index + 1) };
    const label = stepLabel(place, step);
    if (!next.rows) {
      list.push({ label, state: next, trail: stepTrail });
      place = next;
      return;
    }
    // the value itself is a view too: the product (or day) over time, one step before its order lines; steps
    // taken after it (a month of that product) start from there
    const dimension = isTime(place.dimensions[0]) ? place.dimensions[0] : "month";
    const own = { ...next, rows: false, dimensions: [dimension] };
    list.push({ label, state: own, trail: stepTrail });
    if (index === trail.drill.length - 1 && state.rows) {
      list.push({ label: "Order lines", state: next, trail: stepTrail });
    }
    place = own;
  });
  return list;
}
