/** The company's audit log, newest first, one page of 50 at a time. */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { busy } from "../ui.js";

const PAGE_SIZE = 50;

function eventRow(event) {
  const time = new Date(event.at);
  return el("tr", {},
    el("td", {}, el("time", { datetime: event.at }, Number.isNaN(time.getTime()) ? event.at : time.toLocaleString())),
    el("td", {}, String(event.event).replaceAll("_", " ")),
    el("td", {}, event.actor || "—"),
    el("td", {}, el("span", { class: "badge", "data-outcome": event.outcome }, event.outcome)));
}

export function initAudit() {
  const body = $("#audit tbody");
  const more = $("#audit-more");
  let next = null;

  const load = () => busy(more, $("#audit-area"), async () => {
    const params = new URLSearchParams({ limit: PAGE_SIZE });
    if (next) params.set("next", next);
    const page = await api(`/audit?${params}`);
    if (!next && !page.events.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No events yet.")));
    }
    body.append(...page.events.map(eventRow));
    next = page.next || null;
    more.hidden = !next;
  });

  more.addEventListener("click", load);
  load();
}
