/**
 * "Make a report": the period (one of Explore's presets or two dates), Explore's filter pickers, the sections
 * (all ticked at first) and an optional title; the new report goes on top of "Your reports" and is followed there.
 */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { initFilters } from "../explore/filters.js";
import { PRESETS } from "../explore/names.js";
import { busy } from "../ui.js";
import { added } from "./list.js";
import { sectionChecks, ticked } from "./sections.js";

const CUSTOM = "custom";
const DEFAULT_PRESET = "last_30_days";

function periodControls(fields) {
  const select = $("#period-preset");
  select.replaceChildren(...PRESETS.map(([value, label]) => el("option", { value, selected: value === DEFAULT_PRESET },
                                                                label)),
                         el("option", { value: CUSTOM }, "Choose the dates…"));
  const bounds = { min: fields?.date_range?.start || null, max: fields?.date_range?.end || null };
  for (const input of [$("#period-start"), $("#period-end")]) {
    if (bounds.min) input.min = bounds.min;
    if (bounds.max) input.max = bounds.max;
  }
  const toggle = () => {
    $("#custom-dates").hidden = select.value !== CUSTOM;
  };
  select.addEventListener("change", toggle);
  toggle();
}

function period() {
  const preset = $("#period-preset").value;
  if (preset !== CUSTOM) return { preset };
  const dates = { start: $("#period-start").value, end: $("#period-end").value };
  return Object.fromEntries(Object.entries(dates).filter(([, value]) => value));
}

/** Explore's filter pickers, kept here as `{field: [values]}` (only "keep these" filters: a report has no "not"). */
function filterControls(fields) {
  let chosen = {};
  const pickers = initFilters($("#report-filters"), fields, (filters) => {
    chosen = filters;
    pickers.show({ filters: chosen });
  });
  pickers.show({ filters: chosen });
  return () => Object.entries(chosen).map(([field, values]) => ({ field, op: "in", values }));
}

export function initMake(fields) {
  const form = $("#make-form");
  periodControls(fields);
  $("#make-sections").replaceChildren(...sectionChecks("make-section"));
  const conditions = filterControls(fields || { dimensions: [] });
  const boxes = [...form.querySelectorAll('input[name="sections"]')];
  const allTicked = () => boxes.every((box) => box.checked);
  const labelled = () => {
    $("#sections-all").textContent = allTicked() ? "Clear all" : "Tick all";
  };
  $("#make-sections").addEventListener("change", labelled);
  $("#sections-all").addEventListener("click", () => {
    const on = !allTicked();
    for (const box of boxes) box.checked = on;
    labelled();
  });

  form.noValidate = true;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#make-report"), form, async () => {
      const body = { period: period(), filters: conditions(), sections: ticked(form, "sections"),
                     title: $("#report-title").value.trim() };
      added(await api("/reports", { method: "POST", body }));
      $("#report-title").value = "";
    });
  });
}
