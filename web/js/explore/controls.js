/**
 * The question's controls: measures (at least one), what to break the sales down by (and optionally a second
 * split), dates (a preset or a from/to range inside the data's dates) and what to compare with. Built once;
 * `show(state, meta)` puts a state into them, and every change hands the next state to `onChange`.
 */
import { el } from "../dom.js";
import { day } from "../format.js";
import { labelOf, metricHelp } from "../metrics.js";
import { COMPARES, PRESETS, TIME, isTime } from "./names.js";

const CUSTOM = "custom";
const DATE_PAUSE_MS = 600;

function option(value, label) {
  return el("option", { value }, label);
}

function measuresBox(fields, change) {
  const boxes = fields.measures.map((measure) => {
    const box = el("input", { type: "checkbox", id: `measure-${measure.name}`, name: "measures", value: measure.name });
    box.addEventListener("change", () => change(measure.name, box.checked));
    return el("div", { class: "check" }, box,
      el("label", { for: box.id }, measure.label), metricHelp(measure.name));
  });
  return el("fieldset", { class: "measures" }, el("legend", {}, "Measures"), boxes);
}

function dimensionSelects(fields) {
  const time = TIME.slice().reverse().filter((name) => fields.dimensions.some((d) => d.name === name));
  const other = fields.dimensions.filter((d) => !isTime(d.name));
  const first = el("select", { id: "dimension", name: "dimensions" },
    el("optgroup", { label: "Time" }, time.map((name) => option(name, labelOf(name)))),
    el("optgroup", { label: "Products, places and customers" }, other.map((d) => option(d.name, d.label))));
  const second = el("select", { id: "split", name: "split" },
    option("", "Nothing more"), other.map((d) => option(d.name, d.label)));
  return { first, second };
}

/** Build the controls in `root`; returns `{show(state, meta)}`. */
export function initControls(root, fields, onChange) {
  let current = null;
  const emit = (partial) => onChange({ ...current, ...partial });

  const measures = measuresBox(fields, (name, checked) => {
    const list = checked ? [...current.measures, name] : current.measures.filter((item) => item !== name);
    if (list.length) emit({ measures: list });
  });

  const { first, second } = dimensionSelects(fields);
  first.addEventListener("change", () => {
    const split = current.dimensions[1];
    const view = !isTime(first.value) && isTime(current.dimensions[0]) && current.view !== "table" ? "bar"
      : current.view;
    emit({ dimensions: [first.value, ...(split && split !== first.value ? [split] : [])], view, rows: false });
  });
  second.addEventListener("change", () => {
    emit({ dimensions: [current.dimensions[0], ...(second.value ? [second.value] : [])], rows: false });
  });

  const range = el("select", { id: "range", name: "range" },
    PRESETS.map(([value, label]) => option(value, label)), option(CUSTOM, "Dates I choose"));
  const bounds = { min: fields.date_range?.start || null, max: fields.date_range?.end || null };
  const from = el("input", { type: "date", id: "date-from", name: "from", ...bounds });
  const to = el("input", { type: "date", id: "date-to", name: "to", ...bounds });
  range.addEventListener("change", () => {
    if (range.value === CUSTOM) {
      emit({ range: "", from: from.value || bounds.min || "", to: to.value || bounds.max || "" });
    } else {
      emit({ range: range.value, from: "", to: "" });
    }
  });
  // typing a date fires a change per digit of the year ("0002-03-01"): wait for a pause and a plausible year
  let typing = null;
  const plausible = (input) => !input.value || Number(input.value.slice(0, 4)) >= 1900;
  const dateChanged = () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      if ((!from.value && !to.value) || !plausible(from) || !plausible(to)) return;
      if (from.value === current.from && to.value === current.to) return;
      emit({ range: "", from: from.value, to: to.value });
    }, DATE_PAUSE_MS);
  };
  from.addEventListener("change", dateChanged);
  to.addEventListener("change", dateChanged);

  const compare = el("select", { id: "compare", name: "compare" }, option("", "Nothing"),
    COMPARES.slice(0, 3).map(([value, label]) => option(value, label)),
    el("optgroup", { label: "Last year, lined up on an event" },
      COMPARES.slice(3).map(([value, label]) => option(value, label))));
  compare.addEventListener("change", () => emit({ compare: compare.value }));

  const anchor = el("p", { class: "hint", id: "range-hint" });
  root.append(
    measures,
    el("div", { class: "field" }, el("label", { for: "dimension" }, "Break down by"), first),
    el("div", { class: "field" }, el("label", { for: "split" }, "Then by"), second),
    el("fieldset", { class: "dates" }, el("legend", {}, "Dates"),
      el("div", { class: "field" }, el("label", { for: "range" }, "Period"), range),
      el("div", { class: "date-pair" },
        el("div", { class: "field" }, el("label", { for: "date-from" }, "From"), from),
        el("div", { class: "field" }, el("label", { for: "date-to" }, "To"), to)),
      anchor),
    el("div", { class: "field" }, el("label", { for: "compare" }, "Compare with"), compare),
  );
  if (bounds.max) anchor.textContent = `Periods count back from your latest sale, ${day(bounds.max)}.`;
  range.setAttribute("aria-describedby", anchor.id);

  return {
    show(state, meta = null) {
      current = state;
      for (const box of measures.querySelectorAll("input")) {
        box.checked = state.measures.includes(box.value);
        box.disabled = box.checked && state.measures.length === 1;
        box.title = box.disabled ? "Keep at least one measure" : "";
      }
      first.value = state.dimensions[0] || "";
      second.value = state.dimensions[1] || "";
      for (const item of second.options) item.disabled = item.value !== "" && item.value === first.value;
      range.value = state.from || state.to ? CUSTOM : state.range || CUSTOM;
      const shown = meta?.date_range || {};
      from.value = state.from || (state.to ? "" : shown.start || "");
      to.value = state.to || (state.from ? "" : shown.end || "");
      compare.value = state.compare || "";
    },
  };
}
