/** The end of every drill-down: the order lines behind the current filters, newest first, 100 at a time. */
import { api } from "../api.js";
import { el } from "../dom.js";
import { filtersBody } from "../explore-state.js";
import { money, moment, number, plural } from "../format.js";
import { labelOf } from "../metrics.js";
import { emptyState, errorState, ready, skeleton } from "../states.js";
import { busy } from "../ui.js";

const PAGE = 100;
const HEADINGS = {
  order_id: "Order", ts: "Time", customer_id: "Customer", product_id: "Product code", product_name: "Product",
  category: "Category", region: "Region", channel: "Channel", quantity: "Quantity", unit_price: "Unit price",
  amount: "Amount", currency: "Currency", is_return: "Return?",
};
const NUMERIC = new Set(["quantity", "unit_price", "amount"]);

export const rowsBody = (state, extra = {}) => ({ ...filtersBody(state), ...extra });

function columnsOf(answer) {
  const single = (answer.meta?.currencies || []).length <= 1;
  return answer.columns.filter((name) => !(single && name === "currency"));
}

function cell(name, row) {
  const value = row[name];
  const attrs = { "data-column": name };
  if (name === "ts") return el("td", { ...attrs, class: "nowrap" }, moment(value));
  if (name === "amount" || name === "unit_price") {
    return el("td", { ...attrs, class: "num" }, money(value, row.currency ? [row.currency] : null));
  }
  if (name === "quantity") return el("td", { ...attrs, class: "num" }, number(value, Number.isInteger(value) ? 0 : 2));
  if (name === "is_return") {
    return el("td", attrs, value ? el("span", { class: "pill", "data-tone": "down" }, "Return") : "");
  }
  return el("td", attrs, value === null || value === undefined ? "" : String(value));
}

const line = (columns, row) => el("tr", {}, columns.map((name) => cell(name, row)));

/**
 * Show the order lines of `state` in `container`; `onMeta(meta, total)` receives the answer's meta. `current()`
 * says whether the page still shows this state when the answer arrives (the user may have moved on).
 */
export async function renderRows(container, state, onMeta, current = () => true) {
  skeleton(container, 6);
  let answer;
  try {
    answer = await api("/explore/rows", { method: "POST", body: rowsBody(state, { limit: PAGE }) });
  } catch (error) {
    if (current()) errorState(container, error);
    return;
  }
  if (!current()) return;
  onMeta(answer.meta, answer.total_rows);
  if (!answer.rows.length) {
    emptyState(container,
      answer.message || "No order lines match these filters. Remove a filter or choose more dates.");
    return;
  }
  const columns = columnsOf(answer);
  const body = el("tbody", {}, answer.rows.map((row) => line(columns, row)));
  const summary = el("p", { class: "hint", id: "rows-summary", tabindex: "-1", role: "status" });
  const more = el("button", { type: "button", class: "button secondary", id: "rows-more" }, "Load more");
  const area = el("div", { class: "rows-more" }, el("div", { class: "form-error", role: "alert", hidden: true }),
    summary, more);
  let shown = answer.rows.length;
  const update = () => {
    summary.textContent = `Showing ${number(shown)} of ${plural(answer.total_rows, "order line")}, newest first.`;
    more.hidden = shown >= answer.total_rows;
  };
  more.addEventListener("click", () => busy(more, area, async () => {
    const page = await api("/explore/rows", { method: "POST", body: rowsBody(state, { limit: PAGE, offset: shown }) });
    body.append(...page.rows.map((row) => line(columns, row)));
    shown += page.rows.length;
    if (!page.rows.length) shown = answer.total_rows;
    update();
    if (more.hidden) summary.focus();
  }));
  update();
  const table = el("table", { class: "rows-table" },
    el("caption", { class: "visually-hidden" }, "Order lines, newest first"),
    el("thead", {}, el("tr", {}, columns.map((name) =>
      el("th", { scope: "col", class: NUMERIC.has(name) ? "num" : null }, HEADINGS[name] || labelOf(name))))),
    body);
  const wrap = el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Order lines" }, table);
  ready(container, wrap, area);
}
