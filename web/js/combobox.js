/**
 * An accessible autocomplete (ARIA 1.2 combobox): type part of a name, pick from the list with the mouse or the
 * arrow keys and Enter; Escape closes. Options come from `find(text)` — usually `GET /explore/values`.
 * Used by the global search in the top bar and the Products, Recommendations and Explore pages.
 */
import { api } from "./api.js";
import { el } from "./dom.js";

const DEBOUNCE_MS = 200;
let comboboxes = 0;

/** Options `{value, hint}` for `dimension` matching `text`, best sellers first (`GET /explore/values`). */
export async function dimensionValues(dimension, text, limit = 10) {
  const answer = await api(`/explore/values?${new URLSearchParams({ dimension, q: text, limit: String(limit) })}`);
  return (answer.values || []).map((item) => (typeof item === "object" ? item : { value: item }));
}

/**
 * Turn `input` (inside a `.combo` wrapper) into a combobox. `find(text)` resolves to `[{value, hint}]`;
 * `onPick(value, option)` runs when an option is chosen. `describe(option)` gives the hint text shown beside it.
 * Returns `{set(value)}` to fill the box from code.
 */
export function combobox(input, { find, onPick, describe = (option) => option.hint ?? "" }) {
  comboboxes += 1;
  const prefix = `${input.id || "combo"}-${comboboxes}`;
  const list = el("ul", { id: `${prefix}-options`, class: "search-results combo-options", role: "listbox",
                          "aria-label": "Suggestions", hidden: true });
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  input.autocomplete = "off";

  let options = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    active = index;
    for (const [i, node] of [...list.children].entries()) node.setAttribute("aria-selected", String(i === index));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", `${prefix}-option-${index}`);
      const node = list.children[index];
      if (node && node.offsetTop < list.scrollTop) list.scrollTop = node.offsetTop;
      else if (node && node.offsetTop + node.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = node.offsetTop + node.offsetHeight - list.clientHeight;
      }
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const pick = (option) => {
    input.value = option.value;
    close();
    onPick(option.value, option);
  };
  const render = (text) => {
    list.replaceChildren(...(options.length ? options.map((option, i) => {
      const hint = describe(option);
      const node = el("li", { id: `${prefix}-option-${i}`, role: "option", "aria-selected": "false" },
        String(option.value), hint ? el("span", { class: "combo-hint" }, ` ${hint}`) : null);
      node.addEventListener("mousedown", (event) => {
        event.preventDefault();
        pick(option);
      });
      return node;
    }) : [el("li", { class: "muted", role: "option", "aria-disabled": "true", "aria-selected": "false" },
             text ? `Nothing matches “${text}”.` : "Nothing to choose from yet.")]));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
  };
  const search = () => {
    clearTimeout(timer);
    const text = input.value.trim();
    timer = setTimeout(async () => {
      const ticket = ++asked;
      let found = [];
      try {
        found = await find(text);
      } catch {
        found = [];
      }
      if (ticket !== asked || document.activeElement !== input) return; // a later keystroke asked again
      options = found;
      render(text);
    }, DEBOUNCE_MS);
  };

  input.addEventListener("input", search);
  input.addEventListener("focus", () => {
    if (!input.value.trim()) search();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (!list.hidden) event.preventDefault();
      close();
      return;
    }
    if (event.key === "ArrowDown" && list.hidden) {
      event.preventDefault();
      search();
      return;
    }
    if (list.hidden || !options.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + options.length) % options.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const exact = options.find((option) => String(option.value).toLowerCase() === input.value.trim().toLowerCase());
      pick(active >= 0 ? options[active] : exact || options[0]);
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return {
    set(value) {
      input.value = value;
      close();
    },
  };
}
