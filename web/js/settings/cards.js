/**
 * "Dashboard cards": the Overview's figures in their saved order, each with Show and Pin switches and Move up /
 * Move down buttons (or drag and drop); "Save layout" stores the whole list, "Reset to default" the original one.
 */
import { $, el } from "../dom.js";
import { catalogueFields, field, labelOf, metricHelp } from "../metrics.js";
import { onClick } from "../ui.js";
import { savePrefs, savedPrefs } from "./prefs.js";

/** Cards whose measure the company's catalogue leaves out (no traffic data yet) still need words. */
const KNOWN = {
  conversion: { label: "Conversion rate", definition: "Orders divided by store or site visits.",
                missing: "Appears once you upload store or site visits" },
};

const cardLabel = (name) => (field(name) ? labelOf(name) : KNOWN[name]?.label || labelOf(name));
const cardHelp = (name) => metricHelp(name, field(name)?.definition || KNOWN[name]?.definition);

/** Why the Overview leaves a card out although it is shown here: the company's data cannot answer it yet. */
function missingNote(name) {
  if (field(name) || !catalogueFields().measures?.length) return null;
  return el("span", { class: "card-note" }, KNOWN[name]?.missing || "Appears once your data has it");
}

let cards = [];
let dragging = null;

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function announce(text) {
  $("#cards-status").textContent = text;
}

function changed() {
  $("#cards-saved").hidden = true;
  $("#cards-dirty").hidden = same(cards, savedPrefs().overview_cards);
}

function move(from, to, focus) {
  if (to < 0 || to >= cards.length || to === from) return;
  const [card] = cards.splice(from, 1);
  cards.splice(to, 0, card);
  render();
  const row = $(`#card-list li[data-card="${card.card}"]`);
  const button = $(focus, row);
  (button && !button.disabled ? button : $(".move-up:not(:disabled), .move-down:not(:disabled)", row))?.focus();
  announce(`${cardLabel(card.card)} moved to position ${to + 1} of ${cards.length}.`);
  changed();
}

function toggle(name, label, checked, onChange, disabled = false) {
  const id = `card-${name}`;
  const input = el("input", { type: "checkbox", id, checked, disabled });
  input.addEventListener("change", () => onChange(input.checked));
  return el("label", { class: "toggle", for: id }, input, ` ${label}`);
}

function row(card, index) {
  const label = cardLabel(card.card);
  const show = toggle(`show-${card.card}`, "Show", !card.hidden, (on) => {
    card.hidden = !on;
    if (card.hidden) card.pinned = false;
    render();
    $(`#card-show-${card.card}`).focus();
    changed();
  });
  show.append(el("span", { class: "visually-hidden" }, ` ${label} on the Overview`));
  const pin = toggle(`pin-${card.card}`, "Pin", card.pinned, (on) => {
    card.pinned = on;
    render();
    $(`#card-pin-${card.card}`).focus();
    changed();
  }, card.hidden);
  pin.append(el("span", { class: "visually-hidden" }, ` ${label} to the top`));

  const up = el("button", { type: "button", class: "button secondary small move-up", "aria-label": `Move ${label} up`,
                            title: "Move up", disabled: index === 0 }, "↑");
  const down = el("button", { type: "button", class: "button secondary small move-down",
                              "aria-label": `Move ${label} down`, title: "Move down",
                              disabled: index === cards.length - 1 }, "↓");
  up.addEventListener("click", () => move(index, index - 1, ".move-up"));
  down.addEventListener("click", () => move(index, index + 1, ".move-down"));

  const item = el("li", { class: "card-row", "data-card": card.card, "data-hidden": String(card.hidden),
                          "data-pinned": String(card.pinned), draggable: "true" },
    el("span", { class: "card-grip", "aria-hidden": "true", title: "Drag to move" }, "⠿"),
    el("span", { class: "card-pos", "aria-hidden": "true" }, String(index + 1)),
    el("span", { class: "card-name" }, el("span", { class: "card-label" }, label), cardHelp(card.card),
       card.pinned ? el("span", { class: "pill", "data-tone": "pinned" }, "Pinned") : null,
       card.hidden ? el("span", { class: "pill" }, "Hidden") : null, missingNote(card.card)),
    el("span", { class: "card-controls" }, show, pin, el("span", { class: "card-move" }, up, down)));
  dragAndDrop(item, index);
  return item;
}

function dragAndDrop(item, index) {
  item.addEventListener("dragstart", (event) => {
    dragging = index;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.card);
    item.classList.add("is-dragging");
  });
  item.addEventListener("dragend", () => {
    dragging = null;
    for (const node of document.querySelectorAll(".card-row.is-drop-target, .card-row.is-dragging")) {
      node.classList.remove("is-drop-target", "is-dragging");
    }
  });
  item.addEventListener("dragover", (event) => {
    if (dragging === null) return;
    event.preventDefault();
    item.classList.add("is-drop-target");
  });
  item.addEventListener("dragleave", () => item.classList.remove("is-drop-target"));
  item.addEventListener("drop", (event) => {
    event.preventDefault();
    if (dragging !== null) move(dragging, index, ".move-up");
  });
}

function render() {
  $("#card-list").replaceChildren(...cards.map(row));
}

function load(prefs) {
  cards = structuredClone(prefs.overview_cards || []);
  render();
  changed();
}

export function initCards() {
  load(savedPrefs());
  const area = $("#cards-area");
  onClick($("#save-cards"), area, async () => {
    load(await savePrefs({ overview_cards: cards }));
    $("#cards-saved").textContent = "Layout saved";
    $("#cards-saved").hidden = false;
  });
  // The server fills in every card it is not sent, in its default order, shown and unpinned.
  onClick($("#reset-cards"), area, async () => {
    load(await savePrefs({ overview_cards: [] }));
    $("#cards-saved").textContent = "Back to the default layout";
    $("#cards-saved").hidden = false;
  });
}
