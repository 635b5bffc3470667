/**
 * "Frequently bought together": pick a product and read, best first, what goes into the same basket — the basket
 * rules whose "if" side holds it (or whose "then" side is it), ranked by lift, as sentences.
 */
import { el } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { emptyState, errorState, loadedOrShown, ready, skeleton, skippedState } from "../states.js";
import { money, plural } from "../format.js";
import { combobox, dimensionValues } from "../combobox.js";
import { basketRules, hasAntecedent, show } from "./rules.js";

/** The rules about `name`, strongest link first; a pair seen both ways is told once, from `name`'s side. */
export function rulesFor(rules, name) {
  const about = rules.filter((rule) => hasAntecedent(rule, name) || rule.consequent === name);
  const forward = new Set(about.filter((rule) => rule.antecedent === name).map((rule) => rule.consequent));
  return about
    .filter((rule) => !(rule.consequent === name && forward.has(rule.antecedent)))
    .sort((a, b) => b.lift - a.lift);
}

function sentence(rule) {
  return el("li", {},
    el("span", { class: "together-lead" }, `Bought with ${rule.antecedent}: `),
    el("a", { href: exploreHref({ measures: ["revenue", "units"], filters: { product: [rule.consequent] } }) },
       rule.consequent),
    ` — in ${show.confidence(rule.confidence)} of baskets with ${rule.antecedent}, ` +
    `${show.lift(rule.lift)} more often than chance`);
}

async function showProduct(area, name) {
  skeleton(area, 3);
  const result = await loadedOrShown(area, basketRules());
  if (!result) return;
  const found = rulesFor(result.rows, name);
  const status = document.getElementById("together-status");
  if (status) status.textContent = `${plural(found.length, "rule")} about ${name}.`;
  if (!found.length) {
    emptyState(area, `Nothing is bought with ${name} often enough to count as a habit yet. Try another product.`);
    return;
  }
  ready(area, el("h3", { id: "together-heading" }, `Bought together with ${name}`),
    el("ol", { class: "together-list", "aria-labelledby": "together-heading" }, found.map(sentence)));
}

export async function initTogether({ input, field, area, initial = "" }) {
  skeleton(area, 2);
  try {
    const result = await basketRules();
    if (result.skipped) {
      field.hidden = true;
      skippedState(area, result.skipped);
      return;
    }
  } catch (error) {
    field.hidden = true;
    errorState(area, error);
    return;
  }
  const choose = (name) => {
    const url = new URL(location.href);
    url.searchParams.set("product", name);
    history.replaceState(null, "", url);
    showProduct(area, name);
  };
  const box = combobox(input, {
    find: (text) => dimensionValues("product", text),
    onPick: choose,
    describe: (option) => (option.revenue !== undefined ? money(option.revenue, null, { short: true }) : ""),
  });
  if (initial) {
    box.set(initial);
    showProduct(area, initial);
  } else {
    emptyState(area, "Type a product name above to see what customers put in the same basket.");
  }
}
