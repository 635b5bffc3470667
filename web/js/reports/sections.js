/** The sections a report can hold (ids and titles as the API names them) and the checkboxes that choose them. */
import { el } from "../dom.js";

export const SECTIONS = [
  ["kpis", "Key figures"], ["trend", "Trend and forecast"], ["anomalies", "Unusual days"],
  ["segments", "Customer segments and RFM"], ["churn", "Customers at risk of leaving"],
  ["products", "Top products and products bought together"], ["recommendations", "Recommendations (sample)"],
  ["leads", "Leads"], ["insights", "Insights"],
];

export const sectionTitle = (id) => SECTIONS.find(([name]) => name === id)?.[1] || id;

/** A checkbox row: `<input>` then its `<label>` (the `.check` rows Explore's measures use). */
export function checkRow(id, name, value, label, checked) {
  return el("div", { class: "check" }, el("input", { type: "checkbox", id, name, value, checked }),
            el("label", { for: id }, label));
}

/** One checkbox per section, ids prefixed with `prefix`; `chosen` (ids) are ticked, every one when null. */
export function sectionChecks(prefix, chosen = null) {
  return SECTIONS.map(([id, title]) => checkRow(`${prefix}-${id}`, "sections", id, title,
                                                chosen === null || chosen.includes(id)));
}

/** The values of the ticked checkboxes called `name` inside `scope`, in the order they are shown. */
export const ticked = (scope, name) =>
  [...scope.querySelectorAll(`input[type="checkbox"][name="${name}"]:checked`)].map((input) => input.value);
