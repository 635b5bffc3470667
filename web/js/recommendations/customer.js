/**
 * "What to offer a customer": pick a customer (autocomplete over `GET /explore/values`) and read the products the
 * recommender suggests for them, best first, each with its reason — and, when the churn step ran, how likely the
 * customer is to stop buying. Every recommendation of the run is fetched once and indexed by customer.
 */
import { el } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { money, number, percent, plural } from "../format.js";
import { metricHelp } from "../metrics.js";
import { artifact } from "../results.js";
import { emptyState, errorState, ready, skeleton, skippedState } from "../states.js";
import { combobox, dimensionValues } from "../combobox.js";

const NO_CUSTOMERS = "Upload sales with customer ids to get recommendations";

function byCustomer(rows) {
  const index = new Map();
  for (const row of rows) {
    const key = String(row.customer_id);
    if (!index.has(key)) index.set(key, []);
    index.get(key).push(row);
  }
  for (const list of index.values()) list.sort((a, b) => a.rank - b.rank);
  return index;
}

function churnLine(row, meta) {
  if (!row) return null;
  const days = meta?.window_days ? ` in the next ${number(meta.window_days)} days` : "";
  const risk = String(row.risk || "").toLowerCase();
  return el("p", { class: "churn-line" },
    el("span", { class: "pill", "data-tone": ["low", "medium", "high"].includes(risk) ? risk : null },
       `${risk ? risk[0].toUpperCase() + risk.slice(1) : "Unknown"} churn risk`),
    metricHelp("churn_risk", "The chance this customer stops buying, from the churn model of the latest analysis."),
    ` ${percent(row.churn_probability, 0)} chance they buy nothing${days}` +
    (row.drivers ? ` — ${row.drivers}.` : "."));
}

function recTable(rows) {
  return el("div", { class: "table-wrap" }, el("table", { id: "recs-table" },
    el("caption", { class: "visually-hidden" }, "Recommended products, best first"),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", class: "num rank-col" }, "#"),
      el("th", { scope: "col" }, "Product and category"),
      el("th", { scope: "col" }, "Why"))),
    el("tbody", {}, rows.map((row) => el("tr", { "data-product": row.product_name },
      el("td", { class: "num rank-col" }, number(row.rank)),
      el("th", { scope: "row" },
         el("a", { href: exploreHref({ measures: ["revenue", "units"], filters: { product: [row.product_name] } }) },
            row.product_name),
         el("span", { class: "category" }, row.category ?? "")),
      el("td", { class: "reason" }, row.reason || "—"))))));
}

/**
 * Set up the picker in `input` and the result `area`; `about` gets the line on the model. Resolves to
 * `{pick(customerId)}` so other sections (the leads) can open a customer here.
 */
export async function initCustomer({ input, field, area, about, download, customers = true, initial = "" }) {
  const none = () => {
    field.hidden = true;
    download.hidden = true;
    return { pick() {} };
  };
  if (!customers) {
    emptyState(area, `${NO_CUSTOMERS}.`, { href: "data.html", label: "Upload sales" });
    return none();
  }
  skeleton(area, 4);
  let recs;
  let churn;
  try {
    [recs, churn] = await Promise.all([
      artifact("recommendations", { all: true }),
      artifact("churn", { all: true }).catch(() => null),
    ]);
  } catch (error) {
    errorState(area, error);
    return none();
  }
  if (recs.skipped) {
    skippedState(area, recs.skipped, /customer id/i.test(recs.skipped) ? NO_CUSTOMERS : undefined);
    return none();
  }
  if (!recs.rows.length) {
    emptyState(area, `${NO_CUSTOMERS}.`, { href: "data.html", label: "Upload sales" });
    return none();
  }
  const index = byCustomer(recs.rows);
  const risks = new Map((churn && !churn.skipped ? churn.rows : []).map((row) => [String(row.customer_id), row]));
  const most = Math.max(...[...index.values()].map((list) => list.length));
  about.textContent = `Suggested by ${recs.meta?.model || "the recommender"}: up to ${plural(most, "product")} ` +
    `each customer has not bought yet, for ${plural(recs.meta?.customers ?? index.size, "customer")}.`;

  const show = (id) => {
    const url = new URL(location.href);
    url.searchParams.set("customer", id);
    history.replaceState(null, "", url);
    const rows = index.get(id) || [];
    const status = document.getElementById("recs-status");
    if (status) status.textContent = `${plural(rows.length, "recommendation")} for ${id}.`;
    const heading = el("h3", { id: "recs-heading", tabindex: "-1" }, `What to offer ${id}`);
    const explore = el("a", { class: "button secondary small",
                              href: exploreHref({ dimensions: ["month"], view: "bar", filters: { customer: [id] } }) },
                       `See ${id}'s purchases in Explore`);
    if (!rows.length) {
      ready(area, heading, churnLine(risks.get(id), churn?.meta),
        el("div", { class: "empty-state" }, el("p", {},
          `No recommendations for ${id} in the latest analysis: they may have bought too little, or already own ` +
          "what the model would suggest.")), explore);
      return heading;
    }
    const spend = risks.get(id)?.annual_value;
    ready(area, heading, churnLine(risks.get(id), churn?.meta),
      spend ? el("p", { class: "muted" }, `Worth about ${money(spend)} a year to you.`) : null,
      recTable(rows), explore);
    return heading;
  };
  const box = combobox(input, {
    find: (text) => dimensionValues("customer", text),
    onPick: show,
    describe: (option) => (option.revenue !== undefined ? `${money(option.revenue, null, { short: true })} spent` : ""),
  });
  if (initial) {
    box.set(initial);
    show(initial);
  } else {
    emptyState(area, "Pick a customer above to see what to offer them next.");
  }
  return {
    pick(id) {
      box.set(id);
      show(id).focus();
    },
  };
}
