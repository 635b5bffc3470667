/**
 * Global search in the top bar: type part of a product, customer, category or region and jump to Explore
 * filtered on it. The shared combobox (arrow keys, Enter, Escape) over `GET /explore/values` for four dimensions.
 */
import { combobox, dimensionValues } from "./combobox.js";
import { exploreHref } from "./explore-state.js";

const KINDS = [
  { dimension: "product", label: "Product", next: { dimensions: ["week"] } },
  { dimension: "category", label: "Category", next: { dimensions: ["product"], view: "bar" } },
  { dimension: "region", label: "Region", next: { dimensions: ["category"], view: "bar" } },
  { dimension: "customer", label: "Customer", next: { dimensions: ["month"], view: "bar" } },
];
const PER_KIND = 4;

/** Where a match leads: Explore with the value as a filter, split by the next level down. */
export function matchHref(kind, value) {
  return exploreHref({ ...kind.next, filters: { [kind.dimension]: [value] } });
}

/** Matches of every kind; a kind the company's data lacks (no customer ids, say) just adds none. */
async function lookup(text) {
  const answers = await Promise.all(KINDS.map((kind) => dimensionValues(kind.dimension, text, PER_KIND)
    .then((values) => values.map((item) => ({ value: item.value, hint: kind.label, kind })))
    .catch(() => [])));
  return answers.flat();
}

export function initSearch(input) {
  if (!input) return;
  combobox(input, { find: lookup, onPick: (value, option) => location.assign(matchHref(option.kind, value)) });
}
