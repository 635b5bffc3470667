/** The basket rules artifact and how its figures read in words: shared by the rules table and "bought together". */
import { artifact } from "../results.js";
import { number, percent } from "../format.js";

export const DEFINITIONS = {
  baskets: "How many baskets (orders) held all of these products.",
  support: "Share of all baskets that held all of these products.",
  confidence: "Share of the baskets with the first product(s) that also held the second.",
  lift: "How many times more often they are bought together than chance would give (1× = no link).",
};

export const LABELS = { baskets: "Baskets", support: "Support", confidence: "Confidence", lift: "Lift" };

export const show = {
  baskets: (value) => number(value),
  support: (value) => percent(value, 2),
  confidence: (value) => percent(value, 0),
  lift: (value) => `${number(value, 1)}×`,
};

let loaded = null;

/** The latest run's basket rules (`{rows, meta}` or `{skipped}`), fetched once for the page. */
export function basketRules() {
  loaded ??= artifact("basket_rules", { all: true });
  return loaded;
}

/** Whether `name` is one of the rule's products on the "if" side (names can contain " and " themselves). */
export function hasAntecedent(rule, name) {
  const text = String(rule.antecedent || "");
  return text === name || text.startsWith(`${name} and `) || text.endsWith(` and ${name}`);
}
