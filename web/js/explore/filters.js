/**
 * Filters as chips: for category, product, region, channel and segment a box that suggests values as you type
 * (`GET /explore/values`, through the shared combobox) and adds the one picked as a chip; each chip has a
 * remove button. Filters on other fields (a customer from global search, "not" filters from a link) show as
 * removable chips too.
 */
import { combobox, dimensionValues } from "../combobox.js";
import { el } from "../dom.js";
import { money } from "../format.js";
import { labelOf } from "../metrics.js";
import { valueLabel } from "./names.js";

const PICKABLE = ["category", "product", "region", "channel", "segment"];
const SUGGESTIONS = 10;

function chip(text, removeLabel, onRemove) {
  const remove = el("button", { type: "button", class: "chip-remove", "aria-label": removeLabel }, "×");
  remove.addEventListener("click", onRemove);
  return el("li", { class: "chip" }, el("span", {}, text), remove);
}

/** A box suggesting values of `field` (the shared combobox); `pick(value)` adds one. Returns its wrapper. */
function picker(field, chosen, pick) {
  const input = el("input", { id: `filter-${field}`, type: "text",
                              placeholder: `Add a ${labelOf(field).toLowerCase()}…` });
  const wrapper = el("div", { class: "combo" }, input); // the combobox puts its list after the input
  const box = combobox(input, {
    find: async (text) => {
      const taken = new Set(chosen());
      return (await dimensionValues(field, text, SUGGESTIONS)).filter((option) => !taken.has(String(option.value)));
    },
    describe: (option) => (option.revenue === undefined ? "" : money(option.revenue, null, { short: true })),
    onPick: (value) => {
      box.set("");
      pick(String(value));
    },
  });
  return wrapper;
}

/** Build the filter pickers in `root`; `onChange(filters, excluded)` gets the next filters. */
export function initFilters(root, fields, onChange) {
  const fieldNames = fields.dimensions.map((d) => d.name);
  const pickable = PICKABLE.filter((name) => fieldNames.includes(name));
  let current = { filters: {}, excluded: {} };

  const set = (group, field, values) => {
    const next = { filters: { ...current.filters }, excluded: { ...current.excluded } };
    if (values.length) next[group][field] = values;
    else delete next[group][field];
    onChange(next.filters, next.excluded);
  };
  const chipsOf = (field) => {
    const kept = (current.filters[field] || []).map((value) => chip(valueLabel(value, field),
      `Remove ${value} from the ${labelOf(field).toLowerCase()} filter`,
      () => set("filters", field, current.filters[field].filter((item) => item !== value))));
    const dropped = (current.excluded[field] || []).map((value) => chip(`not ${valueLabel(value, field)}`,
      `Stop leaving out ${value}`,
      () => set("excluded", field, current.excluded[field].filter((item) => item !== value))));
    return [...kept, ...dropped];
  };

  const groups = new Map();
  for (const field of pickable) {
    const chips = el("ul", { class: "chips", "aria-label": `Chosen ${labelOf(field).toLowerCase()} values` });
    const box = picker(field, () => current.filters[field] || [],
      (value) => set("filters", field, [...(current.filters[field] || []), value]));
    groups.set(field, chips);
    root.append(el("div", { class: "field filter" },
      el("label", { for: `filter-${field}` }, labelOf(field)), chips, box));
  }
  const others = el("ul", { class: "chips", "aria-label": "Other filters" });
  const othersBox = el("div", { class: "field filter", hidden: true }, el("p", { class: "filter-title" }, "Also"),
    others);
  root.append(othersBox);

  return {
    show(state) {
      current = { filters: state.filters || {}, excluded: state.excluded || {} };
      for (const [field, chips] of groups) {
        chips.replaceChildren(...chipsOf(field));
        chips.hidden = !chips.children.length;
      }
      const rest = [...new Set([...Object.keys(current.filters), ...Object.keys(current.excluded)])]
        .filter((field) => !groups.has(field));
      others.replaceChildren(...rest.flatMap((field) => chipsOf(field).map((item) => {
        item.firstChild.textContent = `${labelOf(field)}: ${item.firstChild.textContent}`;
        return item;
      })));
      othersBox.hidden = !rest.length;
    },
  };
}
