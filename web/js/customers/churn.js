/**
 * Churn risk: the headline in words (how many customers who still buy are at high risk, the yearly sales at
 * stake), the customers ranked by their chance of leaving (those still buying first) with the reasons, a risk
 * filter, "show more" paging and a CSV download; then the models the analysis compared and what each score means.
 */
import { el } from "../dom.js";
import { metricHelp } from "../metrics.js";
import { downloadArtifactCsv } from "../results.js";
import { exploreHref } from "../explore-state.js";
import { money, number, percent, plural } from "../format.js";
import { ready } from "../states.js";
import { dataTable, modelTable } from "../tables.js";
import { onClick } from "../ui.js";
import { daysAgo, figure, settleArtifact } from "./common.js";

const PAGE = 20;
const LEVELS = ["high", "medium", "low"];
const LEVEL_WORDS = { high: "High", medium: "Medium", low: "Low" };

const CHURN_METRICS = [
  { key: "accuracy", label: "Accuracy", format: (v) => percent(v, 0),
    definition: "Share of customers the model got right, leaving or staying, on a past period it had not seen." },
  { key: "precision", label: "Precision", format: (v) => percent(v, 0),
    definition: "Of the customers it said would leave, the share who really left." },
  { key: "recall", label: "Recall", format: (v) => percent(v, 0),
    definition: "Of the customers who really left, the share it warned about in time." },
  { key: "roc_auc", label: "ROC AUC", format: (v) => number(v, 2),
    definition: "How well it ranks leavers above stayers: 1 = perfect, 0.5 = no better than a coin toss." },
];

/** Customers who still buy first, then the highest chance of leaving. */
export const byRisk = (a, b) => Number(Boolean(b.active)) - Number(Boolean(a.active)) ||
  Number(b.churn_probability) - Number(a.churn_probability);

function headline(meta) {
  const at = Number(meta.high_risk_active || 0);
  const window = meta.window_days || 90;
  const first = at
    ? `${plural(at, "customer")} who still ${at === 1 ? "buys" : "buy"} ${at === 1 ? "is" : "are"} at high risk of ` +
      `leaving; they are expected to take about ${money(meta.revenue_at_risk)} a year in sales with them.`
    : "No customer who still buys is at high risk of leaving.";
  const counts = meta.risk_counts || {};
  const second = `“Leaving” means no order in the next ${number(window)} days. Of ${plural(meta.customers, "customer")}, ` +
    `${number(counts.high || 0)} are at high, ${number(counts.medium || 0)} at medium and ${number(counts.low || 0)} at ` +
    `low risk; ${number(meta.active_customers)} bought in the last ${number(window * 2)} days.`;
  const model = meta.best_model
    ? `${meta.best_model} made these predictions: it tells leavers from stayers with an ROC AUC of ` +
      `${number(meta.roc_auc, 2)} (1 = perfect, 0.5 = a coin toss).`
    : "";
  return { first, second, model };
}

const COLUMNS = [
  { key: "customer_id", label: "Customer", rowHeader: true,
    format: (value) => el("a", { href: exploreHref({ dimensions: ["month"], range: "all",
                                                     filters: { customer: [value] } }) }, value) },
  { key: "risk", label: "Risk", help: "High: more than 60% likely to leave; medium: 30–60%; low: under 30%.",
    format: (value) => el("span", { class: "pill", "data-tone": value }, LEVEL_WORDS[value] || value) },
  { key: "churn_probability", label: "Chance of leaving", num: true, format: (value) => percent(value, 0),
    help: "How likely the customer is to place no order in the coming period, according to the model." },
  { key: "annual_value", label: "Yearly value", num: true, format: (value) => money(value),
    help: "What the customer spends in a year, going by their spending so far." },
  { key: "expected_loss", label: "Expected loss", num: true, format: (value) => money(value),
    help: "Chance of leaving × yearly value: the sales you can expect to lose with this customer." },
  { key: "recency_days", label: "Last order", num: true, className: "cell-nowrap",
    format: (value, row) => [daysAgo(value), row.active ? "" : el("span", { class: "lapsed" }, "lapsed")] },
  { key: "drivers", label: "Why", className: "cell-drivers",
    format: (_, row) => {
      const reasons = [row.driver_1, row.driver_2, row.driver_3].filter(Boolean);
      return reasons.length ? el("ul", { class: "drivers" }, reasons.map((reason) => el("li", {}, reason))) : "—";
    } },
];

function riskList(rows, meta) {
  const sorted = [...rows].sort(byRisk);
  const counts = Object.fromEntries(LEVELS.map((level) => [level, sorted.filter((row) => row.risk === level).length]));
  const select = el("select", { id: "risk-filter", name: "risk" },
    el("option", { value: "" }, `All levels (${number(sorted.length)})`),
    LEVELS.map((level) => el("option", { value: level }, `${LEVEL_WORDS[level]} risk (${number(counts[level])})`)));
  const status = el("p", { class: "muted list-status", id: "churn-status", role: "status" });
  const holder = el("div", { id: "churn-list" });
  const more = el("button", { type: "button", class: "button secondary small", id: "churn-more" }, "Show more");
  let shown = PAGE;
  const draw = () => {
    const level = select.value;
    const kept = level ? sorted.filter((row) => row.risk === level) : sorted;
    const visible = kept.slice(0, shown);
    holder.replaceChildren(kept.length
      ? dataTable(COLUMNS, visible, { caption: "Customers by chance of leaving", id: "churn-table",
                                      rowClass: (row) => (row.active ? null : "is-lapsed") })
      : el("div", { class: "empty-state" }, el("p", {}, `No customer is at ${LEVEL_WORDS[level].toLowerCase()} risk.`)));
    status.textContent = kept.length
      ? `Showing ${number(visible.length)} of ${plural(kept.length, "customer")}` +
        `${level ? ` at ${LEVEL_WORDS[level].toLowerCase()} risk` : ""}; customers who still buy come first.`
      : "";
    more.hidden = visible.length >= kept.length;
    more.textContent = `Show ${number(Math.min(PAGE, kept.length - visible.length))} more`;
  };
  select.addEventListener("change", () => {
    shown = PAGE;
    draw();
  });
  more.addEventListener("click", () => {
    shown += PAGE;
    draw();
  });
  draw();
  return el("div", { class: "churn-list" },
    el("div", { class: "toolbar" },
      el("div", { class: "field" }, el("label", { for: "risk-filter" }, "Risk level"), select)),
    status, holder, more,
    el("p", { class: "chart-caption" }, `“Lapsed” customers have not bought for over ${number((meta.window_days || 90) * 2)} ` +
       "days: they are listed after everyone who still buys, as they have most likely gone already."));
}

function modelsBlock(comparison) {
  const rows = (comparison?.rows || []).filter((row) => row.task === "churn")
    .sort((a, b) => Number(b.chosen) - Number(a.chosen) || (b.roc_auc ?? 0) - (a.roc_auc ?? 0));
  if (!rows.length) return null;
  return el("div", { class: "churn-models", id: "churn-models" },
    el("h3", {}, "Models compared"),
    el("p", { class: "muted" }, "Each model learned from an earlier period and was tested on a later one it had not " +
       "seen; the one that ranked leavers best was chosen."),
    modelTable(rows, CHURN_METRICS, { caption: "Churn models compared" }),
    el("dl", { class: "metric-notes" }, CHURN_METRICS.map((metric) =>
      el("div", {}, el("dt", {}, metric.label), el("dd", {}, metric.definition)))));
}

export async function showChurn(container, loaded, comparisonLoaded, options) {
  const result = await settleArtifact(container, loaded, options);
  if (!result) return;
  const meta = result.meta || {};
  const words = headline(meta);
  const comparison = await comparisonLoaded.catch(() => null);
  ready(container,
    el("p", { class: "section-lead strong", id: "churn-headline" }, words.first),
    el("dl", { class: "figures" },
      figure("High risk, still buying", number(meta.high_risk_active || 0), metricHelp("High risk, still buying",
        `Customers who bought in the last ${number((meta.window_days || 90) * 2)} days and are more than 60% likely ` +
        `to place no order in the next ${number(meta.window_days || 90)} days.`)),
      figure("Yearly sales at risk", money(meta.revenue_at_risk), metricHelp("Yearly sales at risk",
        "For those customers, what each spends in a year times their chance of leaving, added up.")),
      figure("Customers scored", number(meta.customers ?? result.total), null, { id: "churn-customers",
                                                                             "data-total": String(meta.customers ?? result.total) })),
    el("p", {}, words.second),
    words.model ? el("p", { class: "muted" }, words.model) : null,
    riskList(result.rows, meta),
    modelsBlock(comparison?.skipped ? null : comparison));
  const button = document.getElementById("churn-csv");
  if (button) {
    button.hidden = false;
    onClick(button, container, () => downloadArtifactCsv("churn"));
  }
}
