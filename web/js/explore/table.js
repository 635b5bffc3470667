/**
 * The answer as a table, always under the chart: one row per value (the keyboard and screen-reader way to drill
 * down: each value is a link), each measure formatted, and with a comparison the earlier value and the change.
 */
import { el } from "../dom.js";
import { ready } from "../states.js";
import { delta, measureValue, number } from "../format.js";
import { labelOf, metricHelp, unitOf } from "../metrics.js";
import { OTHER, compareShort, isTime, isWhole, valueLabel } from "./names.js";

/** The columns shown, in order: [{name, label, kind, unit?, measure?}] (the absolute change is left out). */
export function shownColumns(answer, state) {
  return answer.columns.filter((column) => column.kind !== "change").map((column) => {
    if (column.kind === "dimension") return { name: column.name, kind: "dimension", label: labelOf(column.name) };
    const measure = column.kind === "measure" ? column.name : column.name.replace(/_(previous|change_pct)$/, "");
    const label = column.kind === "measure" ? labelOf(measure)
      : column.kind === "previous" ? `${labelOf(measure)}, ${compareShort(state.compare)}`
        : `${labelOf(measure)} change`;
    return { name: column.name, kind: column.kind, label, measure,
             unit: column.kind === "change_pct" ? "share" : column.unit || unitOf(measure) };
  });
}

/** Rows in reading order: time first when the first split is time ("everything else" inside its period). */
export function orderedRows(answer, state) {
  const first = state.dimensions[0];
  if (!isTime(first) || !state.dimensions[1]) return answer.rows;
  return [...answer.rows].sort((a, b) => String(a[first]).localeCompare(String(b[first])));
}

function header(column) {
  if (column.kind !== "measure") return el("th", { scope: "col", class: column.kind === "dimension" ? null : "num" },
    column.label);
  return el("th", { scope: "col", class: "num" },
    el("span", { class: "nowrap" }, column.label, metricHelp(column.measure)));
}

function cell(column, row, index, link, range) {
  const value = row[column.name];
  if (column.kind === "dimension") {
    const text = valueLabel(value, column.name);
    const partial = isWhole(value, column.name, range) ? null : el("span", { class: "muted partial" }, " (partial)");
    const target = index === 0 && value !== OTHER ? link(value) : null;
    const content = target ? el("a", { href: target.href, class: "drill-link" }, text) : text;
    if (target) {
      content.addEventListener("click", (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        target.go();
      });
    }
    const attrs = { class: value === OTHER ? "other" : null, "data-value": value ?? "" };
    return index === 0 ? el("th", { scope: "row", ...attrs }, content, partial) : el("td", attrs, content, partial);
  }
  if (column.kind === "change_pct") {
    const tone = value === null || value === undefined || value === 0 ? null : value > 0 ? "up" : "down";
    return el("td", { class: "num", "data-value": value ?? "" },
      tone ? el("span", { class: "pill", "data-tone": tone }, delta(value)) : delta(value));
  }
  return el("td", { class: "num", "data-value": value ?? "" }, measureValue(column.unit, value));
}

/**
 * Draw the table of `answer` in `container`. `link(value)` returns `{href, go}` for a value that opens a view
 * below (or null).
 */
export function renderTable(container, answer, state, title, link) {
  const columns = shownColumns(answer, state);
  const rows = orderedRows(answer, state);
  const table = el("table", { class: "answer-table" },
    el("caption", { class: "visually-hidden" }, title),
    el("thead", {}, el("tr", {}, columns.map(header))),
    el("tbody", {}, rows.map((row) => el("tr", {},
      columns.map((column) => cell(column, row, columns.indexOf(column), link, answer.meta?.date_range))))));
  const more = answer.total_rows > answer.rows.length
    ? el("p", { class: "hint" }, `The table shows the first ${number(answer.rows.length)} of ` +
         `${number(answer.total_rows)} rows; choose fewer dates or a coarser period to see them all.`)
    : null;
  const wrap = el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Table: ${title}` },
    table);
  ready(container, wrap, ...(more ? [more] : []));
}

/** The table as CSV: the same rows and columns, numbers unformatted so a spreadsheet can add them up. */
export function tableCsvColumns(answer, state) {
  return shownColumns(answer, state).map(({ name, label, kind }) => ({ name, label: kind === "change_pct"
    ? `${label} (fraction)` : label }));
}
