/**
 * The Explore view as a URL, so a view can be bookmarked, shared with a colleague, and linked to from any page
 * (global search, Overview cards, insights). One state object ↔ one query string ↔ one `POST /explore` body.
 *
 *   explore.html?m=revenue,orders&d=category&range=last_90_days&f.region=North&f.region=East&x.channel=phone
 *               &cmp=previous_year&view=bar&rows=1
 *
 * `m` measures, `d` (and `d2`) dimensions, `range` a preset or `from`/`to` dates, `f.<field>` kept values and
 * `x.<field>` dropped values (repeat the parameter for several), `cmp` a comparison (`event:black_friday` for an
 * event), `view` line | bar | area | table, `rows=1` the order lines behind the current filters (drill-down end).
 * The Explore page adds `start` / `drill`: the drill-down trail for its breadcrumbs (web/js/explore/drill.js).
 */

export const VIEWS = ["line", "bar", "area", "table"];

export function defaultState(range = "last_90_days") {
  return { measures: ["revenue"], dimensions: ["week"], range, from: "", to: "", filters: {}, excluded: {},
           compare: "", view: "line", rows: false };
}

export function parseState(search = location.search, fallbackRange = "last_90_days") {
  const params = new URLSearchParams(search);
  const state = defaultState(fallbackRange);
  const list = (value) => String(value || "").split(",").map((item) => item.trim()).filter(Boolean);
  if (params.get("m")) state.measures = list(params.get("m"));
  if (params.has("d")) state.dimensions = [params.get("d"), params.get("d2")].filter(Boolean);
  if (params.get("range")) state.range = params.get("range");
  if (params.get("from") || params.get("to")) {
    state.range = "";
    state.from = params.get("from") || "";
    state.to = params.get("to") || "";
  }
  for (const [key, value] of params) {
    const target = key.startsWith("f.") ? state.filters : key.startsWith("x.") ? state.excluded : null;
    if (!target || !value) continue;
    (target[key.slice(2)] ??= []).push(value);
  }
  state.compare = params.get("cmp") || "";
  state.view = VIEWS.includes(params.get("view")) ? params.get("view") : state.view;
  state.rows = params.get("rows") === "1";
  return state;
}

export function stateQuery(state) {
  const params = new URLSearchParams();
  params.set("m", state.measures.join(","));
  params.set("d", state.dimensions[0] || "");
  if (state.dimensions[1]) params.set("d2", state.dimensions[1]);
  if (state.from || state.to) {
    if (state.from) params.set("from", state.from);
    if (state.to) params.set("to", state.to);
  } else if (state.range) {
    params.set("range", state.range);
  }
  for (const [prefix, group] of [["f", state.filters], ["x", state.excluded]]) {
    for (const [field, values] of Object.entries(group || {})) {
      for (const value of values) params.append(`${prefix}.${field}`, value);
    }
  }
  if (state.compare) params.set("cmp", state.compare);
  if (state.view && state.view !== "line") params.set("view", state.view);
  if (state.rows) params.set("rows", "1");
  return params.toString();
}

/** A link to Explore showing `partial` (merged over the defaults). */
export function exploreHref(partial = {}) {
  return `explore.html?${stateQuery({ ...defaultState(), ...partial })}`;
}

/** The `date` and `filters` part every Explore request shares. */
export function filtersBody(state) {
  const date = state.from || state.to
    ? { ...(state.from ? { start: state.from } : {}), ...(state.to ? { end: state.to } : {}) }
    : state.range ? { preset: state.range } : null;
  const filters = [];
  for (const [op, group] of [["in", state.filters], ["not_in", state.excluded]]) {
    for (const [field, values] of Object.entries(group || {})) {
      if (values.length) filters.push({ field, op, values });
    }
  }
  return { ...(date ? { date } : {}), filters };
}

/** The `POST /explore` body for `state`. */
export function exploreBody(state, extra = {}) {
  const [mode, event] = String(state.compare || "").split(":");
  return {
    ...filtersBody(state),
    measures: state.measures,
    dimensions: state.dimensions,
    ...(mode ? { compare: event ? { mode, event } : { mode } } : {}),
    ...extra,
  };
}
