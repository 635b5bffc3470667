/**
 * "Leads": who to contact next, one tab per list the analysis made (cross-sell per category, a product launch,
 * scored prospects), each a ranked table with the reason in words, downloadable as CSV. The run's note on the
 * leads step (why a list is missing) shows above the tabs.
 */
import { api } from "../api.js";
import { downloadArtifactCsv, artifact } from "../results.js";
import { saveText, toCsv } from "../download.js";
import { el } from "../dom.js";
import { money, number, percent, plural } from "../format.js";
import { metricHelp } from "../metrics.js";
import { emptyState, errorState, ready, skeleton, skippedState } from "../states.js";
import { busy } from "../ui.js";

const PAGE_SIZE = 25;
const KINDS = { cross_sell: "Cross-sell", launch: "Launch", prospect: "Prospects" };

const SCORE_HELP = {
  cross_sell: "The model's estimate of the chance this customer buys from the category (from customers like them).",
  launch: "How closely this customer's buying resembles the buyers of similar products (100 % = the same).",
  prospect: "The model's estimate of the chance this prospect becomes a customer.",
};

/** The table's columns; those without a value in a list are left out of it. */
const COLUMNS = [
  { name: "rank", label: "#", numeric: true, show: (v) => number(v), class: "rank-col" },
  { name: "customer_id", label: "Customer" },
  { name: "prospect_id", label: "Prospect" },
  { name: "score", label: "Score", numeric: true, show: (v) => percent(v, 0) },
  { name: "reason", label: "Why" },
  { name: "spend_per_month", label: "Spend per month", numeric: true, show: (v) => money(v) },
  { name: "orders_per_month", label: "Orders per month", numeric: true, show: (v) => number(v, 1) },
  { name: "days_since_last_order", label: "Days since last order", numeric: true, show: (v) => number(v) },
  { name: "bought_similar", label: "Similar products bought", numeric: true, show: (v) => number(v) },
];

const present = (value) => value !== null && value !== undefined && value !== "";

function title(list) {
  if (list.kind === "prospect") return KINDS.prospect;
  return `${KINDS[list.kind] ?? list.kind}: ${list.target}`;
}

function describe(list, meta) {
  if (list.kind === "cross_sell") {
    return `Customers who have not bought ${list.target} yet, most likely buyers first.`;
  }
  if (list.kind === "launch") {
    const launch = meta.launch || {};
    const band = launch.price_low && launch.price_high
      ? ` priced ${money(launch.price_low)}–${money(launch.price_high)}` : "";
    return `Who to tell first about a new ${launch.category || ""} product like ${launch.like || "your best seller"}` +
      `: customers most like the buyers of similar products${band}.`;
  }
  return "Prospects who have not bought yet, most likely to convert first.";
}

function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "list";
}

function leadTable(list, rows, columns, onCustomer) {
  const cell = (column, row) => {
    const value = row[column.name];
    if (column.name === "customer_id" && present(value)) {
      const link = el("a", { href: `recommendations.html?customer=${encodeURIComponent(value)}`,
                             title: `What to offer ${value}` }, String(value));
      link.addEventListener("click", (event) => {
        event.preventDefault();
        onCustomer(String(value));
      });
      return el("th", { scope: "row" }, link);
    }
    if (column.name === "prospect_id") return el("th", { scope: "row" }, present(value) ? String(value) : "—");
    return el("td", { class: [column.numeric ? "num" : column.name, column.class].filter(Boolean).join(" ") },
              column.show ? column.show(value) : value ?? "—");
  };
  return el("table", { class: "leads-table", "data-list": `${list.kind}:${list.target}` },
    el("caption", { class: "visually-hidden" }, `${title(list)}: ${plural(rows.length, "lead")}, best first`),
    el("thead", {}, el("tr", {}, columns.map((column) => el("th", {
      scope: "col", class: [column.numeric ? "num" : "", column.class].filter(Boolean).join(" ") || null },
      column.label, column.name === "score" ? metricHelp("score", SCORE_HELP[list.kind]) : null)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((column) => cell(column, row))))));
}

async function stepReason() {
  const latest = await api("/results").catch(() => null);
  return latest?.run?.steps?.find((step) => step.name === "leads")?.reason || "";
}

/** Fill `area` with the tabs and lists; `notice` gets the step's note; `onCustomer(id)` opens a customer. */
export async function initLeads({ area, notice, onCustomer }) {
  skeleton(area, 6);
  let result;
  let reason;
  try {
    [result, reason] = await Promise.all([artifact("leads", { all: true }), stepReason()]);
  } catch (error) {
    errorState(area, error);
    return;
  }
  if (result.skipped) {
    const customers = /customer id/i.test(result.skipped);
    skippedState(area, result.skipped, customers ? "Upload sales with customer ids to get leads" : undefined);
    return;
  }
  if (reason) {
    notice.replaceChildren(el("strong", {}, "About these lists: "), reason);
    notice.hidden = false;
  }
  const meta = result.meta || {};
  const lists = (meta.lists || []).map((list) => ({
    ...list, rows: result.rows.filter((row) => row.kind === list.kind && row.target === list.target)
      .sort((a, b) => a.rank - b.rank),
  })).filter((list) => list.rows.length);
  if (!lists.length) {
    emptyState(area, "No leads in the latest analysis. Upload sales with customer ids, or prospects, to get lists.",
               { href: "data.html", label: "Upload data" });
    return;
  }

  const tabs = lists.map((list, i) => el("button", {
    type: "button", role: "tab", class: "button secondary small", id: `lead-tab-${i}`, "aria-controls": "lead-panel",
    "aria-selected": "false", tabindex: "-1", "data-kind": list.kind,
  }, title(list), el("span", { class: "tab-count" }, ` (${number(list.rows.length)})`)));
  const tablist = el("div", { class: "tabs", role: "tablist", "aria-label": "Lead lists" }, tabs);
  const panel = el("div", { id: "lead-panel", role: "tabpanel", tabindex: "0" });
  const error = el("div", { class: "form-error", role: "alert", hidden: true });
  const all = el("button", { type: "button", class: "button secondary small", id: "download-leads" },
                 "Download all leads (CSV)");
  all.addEventListener("click", () => busy(all, area, () => downloadArtifactCsv("leads")));

  const select = (index, focus = false) => {
    for (const [i, tab] of tabs.entries()) {
      tab.setAttribute("aria-selected", String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
    }
    if (focus) tabs[index].focus();
    const list = lists[index];
    const columns = COLUMNS.filter((column) => list.rows.some((row) => present(row[column.name])));
    const save = el("button", { type: "button", class: "button secondary small", id: "download-list" },
                    "Download this list (CSV)");
    save.addEventListener("click", () => {
      const header = columns.map((column) => ({ name: column.name,
                                                label: column.label === "#" ? "Rank" : column.label }));
      const csv = toCsv(header, list.rows);
      saveText(`${csv}\r\n`, `leads-${slug(title(list))}.csv`);
    });
    panel.setAttribute("aria-labelledby", tabs[index].id);
    const wrap = el("div", { class: "table-wrap" });
    const more = el("button", { type: "button", class: "button secondary small", id: "more-leads" });
    const moreRow = el("p", { class: "more-row" }, more);
    let shown = 0;
    const grow = () => {
      shown = Math.min(list.rows.length, shown + PAGE_SIZE);
      wrap.replaceChildren(leadTable(list, list.rows.slice(0, shown), columns, onCustomer));
      const left = list.rows.length - shown;
      moreRow.hidden = left <= 0;
      more.textContent = `Show ${number(Math.min(PAGE_SIZE, left))} more (of ${number(left)} left)`;
    };
    more.addEventListener("click", grow);
    grow();
    panel.replaceChildren(
      el("p", { class: "list-about" }, describe(list, meta), " ", el("span", { class: "muted" },
        `${plural(list.rows.length, "lead")}.`)),
      wrap, moreRow, el("div", { class: "actions-row" }, save, all));
  };
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener("click", () => select(i));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      select((moves[event.key] + tabs.length) % tabs.length, true);
    });
  }
  ready(area, error, tablist, panel);
  select(0);
}
