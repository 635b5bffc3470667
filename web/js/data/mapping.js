/**
 * "Check the columns": one row per SalesLens column with a select of the file's headers,
 * preselected from the API's proposal, and a preview of the file's first rows.
 */
import { api, clearErrors } from "../api.js";
import { $, el } from "../dom.js";
import { onSubmit } from "../ui.js";
import { number } from "./format.js";

const NOT_IN_FILE = "";

function sureness(score) {
  if (score >= 0.85) return ["high", "sure match"];
  if (score >= 0.6) return ["medium", "likely match"];
  return ["low", "a guess — check it"];
}

function requirementNote(name, required) {
  const group = required.find((columns) => columns.includes(name));
  if (!group) return null;
  const others = group.filter((other) => other !== name);
  return el("span", { class: "required-tag" }, others.length ? `required, or ${others.join(" or ")}` : "required");
}

function columnRow(column, upload, dataset, disabled) {
  const chosen = upload.proposal?.columns?.[column.name] ?? NOT_IN_FILE;
  const id = `map-${column.name}`;
  const select = el("select", { id, name: column.name, "aria-describedby": `${id}-about`, disabled },
    el("option", { value: NOT_IN_FILE, selected: chosen === NOT_IN_FILE }, "— not in my file —"),
    upload.headers.map((header) => el("option", { value: header, selected: header === chosen }, header)));
  const score = upload.proposal?.confidence?.[column.name];
  const sure = el("span", { class: "confidence-slot" });
  const showSureness = () => {
    const [level, text] = select.value === chosen && chosen && score !== undefined
      ? sureness(Number(score)) : [select.value ? "yours" : "none", select.value ? "your choice" : ""];
    sure.replaceChildren(text ? el("span", { class: "confidence", "data-level": level,
      title: score !== undefined && select.value === chosen ? `${number(Number(score) * 100)} % sure` : null }, text) : "");
  };
  select.addEventListener("change", showSureness);
  showSureness();
  return el("tr", { "data-column": column.name },
    el("th", { scope: "row" },
      el("label", { for: id, class: "column-name" }, column.name), " ",
      requirementNote(column.name, dataset.required),
      el("span", { class: "column-about", id: `${id}-about` }, column.description)),
    el("td", { class: "choice-cell" }, select, sure));
}

function previewTable(upload) {
  const table = $("#preview");
  table.tHead.replaceChildren(el("tr", {}, upload.headers.map((header) =>
    el("th", { scope: "col", "data-header": header }, el("span", {}, header), el("span", { class: "maps-to" })))));
  table.tBodies[0].replaceChildren(...(upload.preview || []).map((row) => el("tr", {},
    upload.headers.map((header) => {
      const value = row[header];
      const text = value === null || value === undefined ? "" : String(value);
      return el("td", { title: text.length > 24 ? text : null }, text);
    }))));
}

/** Mark required columns that nothing is mapped to, name each header's target in the preview, list extras. */
function reflectChoices(form, upload, dataset) {
  const choices = Object.fromEntries([...form.querySelectorAll("select")].map((select) => [select.name, select.value]));
  const mapped = new Set(Object.keys(choices).filter((name) => choices[name]));
  for (const row of form.querySelectorAll("#mapping tbody tr")) {
    const group = dataset.required.find((columns) => columns.includes(row.dataset.column));
    row.classList.toggle("is-missing", Boolean(group) && !group.some((name) => mapped.has(name)));
  }
  const targets = {};
  for (const [name, header] of Object.entries(choices)) if (header) (targets[header] ??= []).push(name);
  for (const cell of form.querySelectorAll("#preview thead th")) {
    const names = targets[cell.dataset.header] || [];
    cell.querySelector(".maps-to").textContent = names.length ? `→ ${names.join(", ")}` : "kept as extra";
    cell.classList.toggle("is-extra", !names.length);
  }
  const extras = upload.headers.filter((header) => !targets[header]);
  $("#mapping-extras").textContent = extras.length
    ? `Kept as extra columns: ${extras.join(", ")}.` : "Every column of your file is matched.";
}

/** Wire the form once; returns `show(upload, dataset)` to fill it for an upload. */
export function initMapping({ canConfirm, onConfirmed }) {
  const form = $("#mapping-form");
  let current = null;
  form.addEventListener("change", () => current && reflectChoices(form, ...current));

  onSubmit(form, async (values) => {
    const [upload] = current;
    const columns = Object.fromEntries(Object.entries(values).filter(([, header]) => header));
    const updated = await api(`/uploads/${encodeURIComponent(upload.upload_id)}/mapping`, {
      method: "POST", body: { columns },
    });
    onConfirmed(updated ?? { ...upload, status: "queued" });
  });

  return function show(upload, dataset) {
    const fresh = current?.[0].upload_id !== upload.upload_id;
    current = [upload, dataset];
    $("#mapping-saved").hidden = !upload.proposal?.saved;
    if (fresh) {
      $("#mapping tbody").replaceChildren(...dataset.columns.map((column) =>
        columnRow(column, upload, dataset, !canConfirm)));
      previewTable(upload);
      clearErrors(form);
    }
    reflectChoices(form, upload, dataset);
  };
}
