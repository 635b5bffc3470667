/**
 * RFM groups: a treemap of the named groups sized by customers (count and spend on each tile), and a table with
 * each group's averages and meaning. Every group links to Explore filtered on it.
 */
import { drawChart } from "../charts.js";
import { el } from "../dom.js";
import { metricHelp } from "../metrics.js";
import { exploreHref } from "../explore-state.js";
import { money, number, percent, plural } from "../format.js";
import { ready } from "../states.js";
import { dataTable } from "../tables.js";
import { figure, settleArtifact } from "./common.js";

// darker shades so white tile labels stay readable; greens are good groups, reds need action, greys are gone
const TONES = {
  Champions: "#1e6b42", Loyal: "#2a7d50", "Potential loyalist": "#2f5bd3", New: "#3b5ba9", Promising: "#4a5fa0",
  "Need attention": "#8a5a00", "Can't lose": "#b03a2e", "At risk": "#a8431f", "About to sleep": "#7a5c2e",
  Hibernating: "#5f6b7a", Lost: "#4a5360",
};

export const groupHref = (name) => exploreHref({ dimensions: ["month"], range: "last_365_days",
                                                  filters: { rfm_group: [name] } });

function treemapOption(profile) {
  return {
    tooltip: {
      formatter: ({ data }) => data ? [data.name, `${plural(data.value, "customer")} (${percent(data.share, 0)})`,
        `Spent ${money(data.total_spend)} in all`].map((t) => String(t).replace(/[&<>"']/g, "")).join("<br>") : "",
    },
    series: [{
      type: "treemap", roam: false, nodeClick: false, breadcrumb: { show: false }, width: "100%", height: "100%",
      top: 0, left: 0, right: 0, bottom: 0, squareRatio: 1,
      itemStyle: { borderColor: "#fff", borderWidth: 2, gapWidth: 2 },
      label: { show: true, position: "insideTopLeft", padding: [6, 8], color: "#fff", fontSize: 12, lineHeight: 17,
               overflow: "truncate",
               formatter: ({ data }) => `{b|${data.name}}\n${plural(data.value, "customer")}\n${money(data.total_spend, null, { short: true })}`,
               rich: { b: { fontWeight: "bold", fontSize: 13, lineHeight: 19, color: "#fff" } } },
      data: profile.map((group, index) => ({
        name: group.segment, value: group.customers, share: group.share, total_spend: group.total_spend,
        itemStyle: { color: TONES[group.segment] || ["#2f5bd3", "#1e7e4a", "#8e44ad", "#5f6b7a"][index % 4] },
      })),
    }],
  };
}

const AVERAGES = [
  { key: "customers", label: "Customers", num: true, format: (v) => number(v), help: "Customers in the group." },
  { key: "share", label: "Share", num: true, format: (v) => percent(v, 0), help: "The group's share of all customers." },
  { key: "avg_spend", label: "Avg spend", num: true, format: (v) => money(v),
    help: "What a customer in the group spent in all, on average." },
  { key: "avg_orders", label: "Avg orders", num: true, format: (v) => number(v, 1),
    help: "How many orders a customer in the group placed, on average." },
  { key: "avg_recency_days", label: "Last order", num: true, format: (v) => `${number(v, 0)} days ago`,
    help: "Days since a customer in the group last bought, on average." },
  { key: "total_spend", label: "Total spend", num: true, format: (v) => money(v),
    help: "Everything the group's customers spent together." },
];

export async function showRfm(container, loaded, options) {
  const result = await settleArtifact(container, loaded, options);
  if (!result) return null;
  const profile = (result.meta?.profile || []).filter((group) => group.customers > 0);
  const total = profile.reduce((sum, group) => sum + Number(group.customers || 0), 0);
  const spend = profile.reduce((sum, group) => sum + Number(group.total_spend || 0), 0);
  const best = [...profile].sort((a, b) => b.total_spend - a.total_spend)[0];
  const chart = el("div", { class: "chart tall", id: "rfm-treemap" });
  const summary = best
    ? `${plural(total, "customer")} in ${plural(profile.length, "group")}. ${best.segment} (${plural(best.customers, "customer")}, ` +
      `${percent(best.customers / total, 0)} of customers) bring ${percent(best.total_spend / spend, 0)} of all spend.`
    : `${plural(total, "customer")}.`;
  const table = dataTable([
    { key: "segment", label: "Group", rowHeader: true,
      format: (value) => el("a", { href: groupHref(value) }, value) },
    ...AVERAGES,
    { key: "description", label: "What it means", className: "cell-wide", sortable: false },
  ], profile, { caption: "RFM groups", sort: { key: "total_spend", direction: "desc" }, id: "rfm-table" });
  ready(container,
    el("dl", { class: "figures" },
      figure("Customers", number(total), metricHelp("customers"), { id: "rfm-total", "data-total": String(total) }),
      figure("Groups", number(profile.length)),
      figure("Spend, all customers", money(spend))),
    el("p", { class: "section-lead" }, summary),
    chart,
    el("p", { class: "chart-caption" }, "Each tile is a group; its size is how many customers are in it. " +
       "Tiles show the group's customers and what they spent in all. Click a tile, or a group's name in the table " +
       "below, to see the group's sales in Explore."),
    el("h3", {}, "The groups in numbers"),
    table);
  await drawChart(chart, treemapOption(profile), {
    label: `Customers by RFM group: ${profile.map((g) => `${g.segment} ${number(g.customers)}`).join(", ")}.`,
    onClick: (params) => params.data?.name && location.assign(groupHref(params.data.name)),
  });
  return { total };
}
