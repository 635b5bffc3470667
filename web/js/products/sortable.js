/**
 * Sortable table headers for this page's tables: a `<th>` whose button sorts by one column, `aria-sort` on the
 * header so assistive technology hears the order, and the comparison that sorts the rows. (web/js/tables.js, a
 * sortable table renderer for other pages, may later absorb this.)
 */
import { el } from "../dom.js";

const ARIA = { asc: "ascending", desc: "descending" };

/**
 * A column header. `column`: {key, label, numeric, help} (help: a node such as `metricHelp(...)`);
 * `sort`: {key, direction}; `onSort(key)` is called when its button is pressed.
 */
export function sortHeader(column, sort, onSort) {
  const active = sort.key === column.key;
  const button = el("button", { type: "button", class: "sort-button", "data-sort": column.key },
    column.label, el("span", { class: "sort-mark", "aria-hidden": "true" },
                     active ? (sort.direction === "asc" ? "▲" : "▼") : "↕"));
  button.addEventListener("click", () => onSort(column.key));
  return el("th", { scope: "col", class: column.numeric ? "num" : null,
                    "aria-sort": active ? ARIA[sort.direction] : "none" },
    button, column.help || null);
}

/** The next sort after pressing `key`'s header: the same column flips, a new one starts high to low. */
export function nextSort(sort, key) {
  if (sort.key === key) return { key, direction: sort.direction === "desc" ? "asc" : "desc" };
  return { key, direction: "desc" };
}

/** A sorted copy of `rows` (objects); missing values go last whichever the direction. */
export function sortRows(rows, { key, direction }) {
  const sign = direction === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "number" && typeof y === "number") return (x - y) * sign;
    return String(x).localeCompare(String(y)) * sign;
  });
}
