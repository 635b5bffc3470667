/** "Delivery log": every report and alert e-mail and webhook SalesLens sent (or failed to), newest first. */
import { api } from "../api.js";
import { $, el } from "../dom.js";
import { moment, number } from "../format.js";
import { emptyState, errorState, ready, skeleton } from "../states.js";
import { dataTable } from "../tables.js";
import { busy } from "../ui.js";

const PAGE_SIZE = 50;
const CHANNELS = { email: "E-mail", webhook: "Webhook" };
const KINDS = { report: "Report", alert: "Alert" };
const STATUS = { sent: { label: "Sent", tone: "success" }, failed: { label: "Failed", tone: "danger" } };

const COLUMNS = [
  { key: "created_at", label: "When", className: "cell-dates", format: (value) => moment(value) },
  { key: "channel", label: "Channel", format: (value) => CHANNELS[value] || value },
  { key: "target", label: "To", className: "cell-wrap" },
  { key: "kind", label: "Kind", format: (value) => KINDS[value] || value },
  { key: "subject", label: "Subject", className: "cell-wrap" },
  { key: "status", label: "Status", format: (value) => {
    const status = STATUS[value] || { label: value, tone: "" };
    return el("span", { class: "badge status-badge", "data-tone": status.tone }, status.label);
  } },
  { key: "attempts", label: "Attempts", num: true, format: (value) => number(value) },
  { key: "error", label: "Error", className: "cell-wrap", format: (value) => value || "—" },
];

let deliveries = [];
let next = null;

async function load(more = false) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (more && next) params.set("next", next);
  const page = await api(`/deliveries?${params}`);
  deliveries = more ? [...deliveries, ...page.deliveries] : page.deliveries;
  next = page.next || null;
  $("#deliveries-more").hidden = !next;
  const area = $("#delivery-list");
  if (!deliveries.length) {
    emptyState(area, "Nothing sent yet. Scheduled reports and alerts appear here once they are e-mailed or posted.");
    return;
  }
  ready(area, dataTable(COLUMNS, deliveries, { caption: "Deliveries, newest first", id: "delivery-table" }));
}

export async function initDeliveries() {
  const more = $("#deliveries-more");
  more.addEventListener("click", () => busy(more, $("#deliveries"), () => load(true)));
  $("#deliveries-reload").addEventListener("click", () => busy($("#deliveries-reload"), $("#deliveries"), () => load()));
  skeleton($("#delivery-list"));
  try {
    await load();
  } catch (error) {
    errorState($("#delivery-list"), error);
  }
}
