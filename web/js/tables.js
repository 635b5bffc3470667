/**
 * Tables every analysis page draws the same way: a real `<table>` (caption, `<th scope>`), numbers right-aligned,
 * a "?" definition tip on any header, optional sorting by clicking a header (with `aria-sort`), inside a
 * `.table-wrap` that scrolls sideways on a phone instead of widening the page. And the model-comparison table
 * (which candidate models the analysis tried, how each scored, which one it chose).
 *
 *   dataTable(columns, rows, {caption, sort: {key, direction}, rowClass, id})
 *   columns: [{key, label, num?, help? (a definition), format?(value, row) → text | Node, sortValue?(row),
 *              rowHeader?, sortable? (default true when the table has `sort`), className?}]
 *
 *   modelTable(rows, metrics, {caption, chosenLabel})
 *   metrics: [{key, label, definition, format(value)}]; rows have `label` (or `model`) and `chosen`.
 */
import { el } from "./dom.js";
import { metricHelp } from "./metrics.js";

const compare = (a, b) => {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
};

function cellContent(column, row) {
  const value = row[column.key];
  return column.format ? column.format(value, row) : value ?? "—";
}

const ARIA_SORT = { asc: "ascending", desc: "descending" };

/**
 * A sortable column header: a button that sorts by `column.key`, and `aria-sort` so assistive technology hears
 * the order. `column`: {key, label, num?, help? (a definition or a node)}; `sort`: {key, direction}.
 */
export function sortHeader(column, sort, onSort) {
  const active = sort.key === column.key;
  const button = el("button", { type: "button", class: "sort-button", "data-sort": column.key }, column.label,
                    el("span", { class: "sort-mark", "aria-hidden": "true" },
                       active ? (sort.direction === "asc" ? " ▲" : " ▼") : ""));
  button.addEventListener("click", () => onSort(column.key));
  return el("th", { scope: "col", "aria-sort": active ? ARIA_SORT[sort.direction] : "none",
                    class: [column.num ? "num" : "", column.className || ""].join(" ").trim() || null },
    button, helpOf(column));
}

const helpOf = (column) => (typeof column.help === "string" ? metricHelp(column.label, column.help) : column.help || null);

/** The sort after pressing `key`'s header: the same column flips; a new one starts high to low for numbers. */
export function nextSort(sort, key, numeric = true) {
  if (sort.key === key) return { key, direction: sort.direction === "desc" ? "asc" : "desc" };
  return { key, direction: numeric ? "desc" : "asc" };
}

/** A sorted copy of `rows` (objects) by `value(row)` (default: the key's field); blanks last either way. */
export function sortRows(rows, { key, direction }, value = (row) => row[key]) {
  const sign = direction === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const missing = (v) => v === null || v === undefined || v === "" || (typeof v === "number" && Number.isNaN(v));
    if (missing(x) || missing(y)) return missing(x) - missing(y);
    return sign * compare(x, y);
  });
}

function headerCell(column, state, onSort) {
  if (state && column.sortable !== false) return sortHeader(column, state, onSort);
  return el("th", { scope: "col", class: [column.num ? "num" : "", column.className || ""].join(" ").trim() || null },
    column.label, helpOf(column));
}

function bodyRows(columns, rows, rowClass) {
  return rows.map((row) => el("tr", { class: rowClass ? rowClass(row) : null },
    columns.map((column) => el(column.rowHeader ? "th" : "td",
      { scope: column.rowHeader ? "row" : null,
        class: [column.num ? "num" : "", column.className || ""].join(" ").trim() || null },
      cellContent(column, row)))));
}

/**
 * A `.table-wrap` holding a table of `rows` (objects) by `columns`. With `sort`, headers are buttons that
 * re-sort the rows in place (the first click on a number column sorts high to low).
 */
export function dataTable(columns, rows, { caption = "", sort = null, rowClass = null, id = null } = {}) {
  const table = el("table", { id });
  let state = sort ? { ...sort } : null;
  const sortedRows = () => {
    if (!state) return rows;
    const column = columns.find((c) => c.key === state.key);
    return sortRows(rows, state, column?.sortValue);
  };
  const draw = () => {
    table.replaceChildren(
      caption ? el("caption", { class: "visually-hidden" }, caption) : "",
      el("thead", {}, el("tr", {}, columns.map((column) => headerCell(column, state, onSort)))),
      el("tbody", {}, bodyRows(columns, sortedRows(), rowClass)));
  };
  function onSort(key) {
    state = nextSort(state, key, Boolean(columns.find((c) => c.key === key)?.num));
    draw();
    table.querySelector(`th[aria-sort="${state.direction === "asc" ? "ascending" : "descending"}"] button`)?.focus();
  }
  draw();
  return el("div", { class: "table-wrap" }, table);
}

/**
 * The candidate models of one analysis (forecast series, churn, …) with their scores; the chosen one is marked
 * with a "Chosen" pill and `data-chosen` on its row. Each metric header carries its plain-words definition.
 */
export function modelTable(rows, metrics, { caption = "Models compared", chosenLabel = "Chosen" } = {}) {
  const columns = [
    { key: "label", label: "Model", rowHeader: true,
      format: (value, row) => [value || row.model, row.chosen ? " " : "",
                               row.chosen ? el("span", { class: "pill", "data-tone": "up" }, chosenLabel) : ""] },
    ...metrics.map((metric) => ({ key: metric.key, label: metric.label, help: metric.definition, num: true,
                                  format: (value) => metric.format(value) })),
  ];
  const wrap = dataTable(columns, rows, { caption, rowClass: (row) => (row.chosen ? "is-chosen" : null) });
  for (const [index, tr] of [...wrap.querySelectorAll("tbody tr")].entries()) {
    tr.dataset.chosen = String(Boolean(rows[index].chosen));
  }
  wrap.classList.add("model-table");
  return wrap;
}
