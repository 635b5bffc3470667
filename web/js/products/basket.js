/**
 * "Basket rules": which products end up in the same basket, as a table sortable by baskets, support, confidence
 * and lift, filtered by a product name and a minimum lift, 25 rules a page.
 */
import { el } from "../dom.js";
import { number, plural } from "../format.js";
import { metricHelp } from "../metrics.js";
import { emptyState, loadedOrShown, ready, skeleton } from "../states.js";
import { basketRules, DEFINITIONS, LABELS, show } from "./rules.js";
import { nextSort, sortHeader, sortRows } from "../tables.js";

const PAGE_SIZE = 25;
const NUMBERS = ["lift", "confidence", "support", "baskets"];

function matches(rule, text, minLift) {
  if (minLift !== null && !(Number(rule.lift) >= minLift)) return false;
  if (!text) return true;
  const needle = text.toLocaleLowerCase();
  return String(rule.antecedent).toLocaleLowerCase().includes(needle) ||
    String(rule.consequent).toLocaleLowerCase().includes(needle);
}

function controls(state, redraw) {
  const text = el("input", { id: "rule-filter", type: "search", placeholder: "e.g. Tent", autocomplete: "off",
                             value: state.text });
  const lift = el("input", { id: "rule-min-lift", type: "number", min: "0", step: "0.5", inputmode: "decimal",
                             placeholder: "any", value: state.minLift ?? "" });
  text.addEventListener("input", () => {
    state.text = text.value.trim();
    state.page = 0;
    redraw();
  });
  lift.addEventListener("input", () => {
    const value = lift.value === "" ? null : Number(lift.value);
    state.minLift = Number.isFinite(value) ? value : null;
    state.page = 0;
    redraw();
  });
  return el("div", { class: "toolbar rule-filters" },
    el("div", { class: "field grow" }, el("label", { for: "rule-filter" }, "Product in the rule"), text),
    el("div", { class: "field" }, el("label", { for: "rule-min-lift" }, "Minimum lift"), lift));
}

function ruleTable(rows, state, onSort) {
  const head = el("tr", {},
    el("th", { scope: "col" }, "Customers who buy… → also buy"),
    NUMBERS.map((key) => sortHeader({ key, label: LABELS[key], num: true,
                                      help: metricHelp(key, DEFINITIONS[key]) }, state.sort, onSort)));
  const body = rows.map((rule) => el("tr", {},
    el("td", { class: "rule" }, el("span", { class: "if" }, rule.antecedent), " ",
       el("span", { class: "then" }, el("span", { "aria-hidden": "true" }, "→ "),
          el("span", { class: "visually-hidden" }, "also buy "), rule.consequent)),
    NUMBERS.map((key) => el("td", { class: "num", "data-key": key, "data-value": rule[key] }, show[key](rule[key])))));
  return el("table", { id: "rules-table" },
    el("caption", { class: "visually-hidden" }, "Basket rules; the column buttons sort the table"),
    el("thead", {}, head), el("tbody", {}, body));
}

export async function initBasket(container, summary) {
  skeleton(container, 6);
  const result = await loadedOrShown(container, basketRules());
  if (!result) return;
  const meta = result.meta || {};
  summary.textContent = `${plural(result.rows.length, "rule")} found in ${plural(meta.baskets ?? 0, "basket")}` +
    (meta.min_count ? `; each combination was bought together at least ${number(meta.min_count)} times.` : ".");
  if (!result.rows.length) {
    emptyState(container, "No products are bought together often enough to make a rule yet. More orders will help.",
               { href: "data.html", label: "Upload more sales" });
    return;
  }
  const state = { text: "", minLift: null, sort: { key: "lift", direction: "desc" }, page: 0 };
  const status = el("p", { class: "muted rule-status", role: "status" });
  const wrap = el("div", { class: "table-wrap" });
  const pager = el("div", { class: "pager" });
  const redraw = () => {
    const shown = sortRows(result.rows.filter((rule) => matches(rule, state.text, state.minLift)), state.sort);
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const first = state.page * PAGE_SIZE;
    const slice = shown.slice(first, first + PAGE_SIZE);
    status.textContent = shown.length
      ? `Rules ${number(first + 1)}–${number(first + slice.length)} of ${number(shown.length)}` +
        (shown.length < result.rows.length ? ` (filtered from ${number(result.rows.length)})` : "")
      : "";
    if (!shown.length) {
      wrap.replaceChildren(el("div", { class: "empty-state" },
        el("p", {}, "No rule matches these filters. Clear the product name or lower the minimum lift.")));
    } else {
      wrap.replaceChildren(ruleTable(slice, state, (key) => {
        state.sort = nextSort(state.sort, key);
        redraw();
        wrap.querySelector(`[data-sort="${key}"]`)?.focus();
      }));
    }
    pager.replaceChildren(...(pages > 1 ? [
      pageButton("Previous", state.page === 0, () => turn(-1)),
      el("span", { class: "muted" }, `Page ${number(state.page + 1)} of ${number(pages)}`),
      pageButton("Next", state.page >= pages - 1, () => turn(1)),
    ] : []));
  };
  const turn = (step) => {
    state.page += step;
    redraw();
    const buttons = [...pager.querySelectorAll("button")];
    (buttons.find((button) => button.textContent === (step > 0 ? "Next" : "Previous") && !button.disabled) ||
      buttons.find((button) => !button.disabled))?.focus();
  };
  ready(container, controls(state, redraw), status, wrap, pager);
  redraw();
}

function pageButton(label, disabled, action) {
  const button = el("button", { type: "button", class: "button secondary small", disabled,
                                "aria-label": `${label} page of rules` }, label);
  button.addEventListener("click", action);
  return button;
}
