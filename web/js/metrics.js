/** What each measure and dimension means, from `GET /explore/fields`, and the "?" tip that shows it. */
import { el } from "./dom.js";

let catalogue = { measures: [], dimensions: [] };
let tipCount = 0;

export function setCatalogue(fields) {
  catalogue = fields || { measures: [], dimensions: [] };
}

export const catalogueFields = () => catalogue;

/** The catalogue entry of a measure or dimension (`{name, label, unit?, definition}`), or null. */
export function field(name) {
  return catalogue.measures.find((m) => m.name === name) || catalogue.dimensions.find((d) => d.name === name) || null;
}

export const labelOf = (name) => field(name)?.label || String(name).replace(/^extra:/, "").replaceAll("_", " ");
export const unitOf = (name) => field(name)?.unit || "count";

/** A small "?" button whose tip (on hover and keyboard focus) gives the plain-words definition. */
export function metricHelp(name, definition = field(name)?.definition) {
  if (!definition) return null;
  tipCount += 1;
  const id = `tip-${tipCount}`;
  return el("span", { class: "metric-help" },
    el("button", { type: "button", class: "help-button", "aria-label": `What is ${labelOf(name)}?`,
                   "aria-describedby": id }, "?"),
    el("span", { class: "tip", role: "tooltip", id }, definition));
}
