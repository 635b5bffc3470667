/**
 * Global search in the top bar: type part of a product, customer, category or region and jump to Explore
 * filtered on it. A combobox (arrow keys, Enter, Escape) over `GET /explore/values` for the four dimensions.
 */
import { api } from "./api.js";
import { el } from "./dom.js";
import { exploreHref } from "./explore-state.js";

const KINDS = [
  { dimension: "product", label: "Product", next: { dimensions: ["week"] } },
  { dimension: "category", label: "Category", next: { dimensions: ["product"], view: "bar" } },
  { dimension: "region", label: "Region", next: { dimensions: ["category"], view: "bar" } },
  { dimension: "customer", label: "Customer", next: { dimensions: ["month"], view: "bar" } },
];
const PER_KIND = 4;
const DEBOUNCE_MS = 200;

/** Where a match leads: Explore with the value as a filter, split by the next level down. */
export function matchHref(kind, value) {
  return exploreHref({ ...kind.next, filters: { [kind.dimension]: [value] } });
}

async function lookup(text) {
  const answers = await Promise.all(KINDS.map((kind) => api(
    `/explore/values?${new URLSearchParams({ dimension: kind.dimension, q: text, limit: String(PER_KIND) })}`,
  ).then((answer) => (answer.values || []).map((item) => ({ kind, value: item.value ?? item })))
    .catch(() => [])));
  return answers.flat();
}

export function initSearch(input, list) {
  if (!input || !list) return;
  let matches = [];
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
    for (const [i, option] of [...list.children].entries()) option.setAttribute("aria-selected", String(i === index));
    if (index >= 0) input.setAttribute("aria-activedescendant", `search-option-${index}`);
  };
  const pick = (match) => {
    if (match) location.assign(matchHref(match.kind, match.value));
  };
  const render = (text) => {
    list.replaceChildren(...(matches.length ? matches.map((match, i) => {
      const option = el("li", { id: `search-option-${i}`, role: "option", "aria-selected": "false" },
                        el("span", { class: "search-kind" }, match.kind.label), " ", String(match.value));
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        pick(match);
      });
      return option;
    }) : [el("li", { class: "muted", role: "option", "aria-disabled": "true" }, `Nothing matches “${text}”.`)]));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(-1);
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) {
      close();
      return;
    }
    timer = setTimeout(async () => {
      const ticket = ++asked;
      const found = await lookup(text);
      if (ticket !== asked) return; // a later keystroke already asked again
      matches = found;
      render(text);
    }, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") return close();
    if (list.hidden || !matches.length) return undefined;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + matches.length) % matches.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      pick(matches[Math.max(active, 0)]);
    }
    return undefined;
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
}
