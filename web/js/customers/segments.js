/**
 * K-Means segments: one card per segment (name, what sets it apart, size, averages, favourite category, a link to
 * Explore filtered on it) and a chart comparing the segments' average spend and orders.
 */
import { drawSized } from "../chart-sizes.js";
import { el } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { money, number, percent, plural } from "../format.js";
import { ready } from "../states.js";
import { figure, settleArtifact } from "./common.js";

export const segmentHref = (name) => exploreHref({ dimensions: ["month"], range: "last_365_days",
                                                    filters: { segment: [name] } });

function card(segment) {
  return el("article", { class: "segment-card", "data-segment": segment.segment },
    el("h3", {}, segment.segment),
    el("p", { class: "segment-size" }, `${plural(segment.customers, "customer")} · ${percent(segment.share, 0)}`),
    el("p", { class: "muted segment-about" }, segment.description || ""),
    el("dl", { class: "segment-facts" },
      figure("Avg spend", money(segment.avg_spend)),
      figure("Avg orders", number(segment.avg_orders, 1)),
      figure("Last order", `${number(segment.avg_recency_days, 0)} days ago`),
      figure("Buys most", segment.top_category || "—")),
    el("a", { href: segmentHref(segment.segment), class: "segment-link" },
      "See their sales in Explore", el("span", { class: "visually-hidden" }, `: ${segment.segment}`)));
}

/** "Frequent small buyers" → "Frequent\nsmall\nbuyers": names stacked word by word under narrow bars. */
const wrap = (name) => String(name).split(/\s+/).reduce((lines, word) => {
  const last = lines.at(-1);
  if (last && last.length + word.length < 9) lines[lines.length - 1] = `${last} ${word}`;
  else lines.push(word);
  return lines;
}, []).join("\n");

function option(profile, narrow) {
  const names = profile.map((s) => s.segment);
  return {
    grid: { left: 8, right: 8, top: narrow ? 56 : 36, bottom: 8, containLabel: true },
    legend: { top: 0, left: 0, orient: narrow ? "vertical" : "horizontal", itemGap: 6 },
    tooltip: { trigger: "axis", confine: true,
               formatter: (params) => [String(params[0]?.name ?? "").replace(/[&<>"']/g, ""),
                 ...params.map((p) => `${p.seriesName}: ${p.seriesIndex === 0 ? money(p.value) : number(p.value, 1)}`)]
                 .join("<br>") },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, fontSize: 11, lineHeight: 13,
                                                         formatter: (name) => (narrow ? wrap(name) : name) } },
    yAxis: [
      { type: "value", axisLabel: { formatter: (v) => money(v, null, { short: true }) } },
      { type: "value", splitLine: { show: false }, axisLabel: { formatter: (v) => number(v) } },
    ],
    series: [
      { name: "Average spend per customer", type: "bar", data: profile.map((s) => s.avg_spend), barMaxWidth: 36 },
      { name: "Average orders per customer", type: "bar", yAxisIndex: 1, data: profile.map((s) => s.avg_orders),
        barMaxWidth: 36 },
    ],
  };
}

export async function showSegments(container, loaded, options) {
  const result = await settleArtifact(container, loaded, options);
  if (!result) return;
  const profile = [...(result.meta?.profile || [])].sort((a, b) => b.avg_spend - a.avg_spend);
  if (!profile.length) return;
  const chart = el("div", { class: "chart", id: "segments-chart" });
  const top = profile[0];
  const bottom = profile.at(-1);
  const sentence = `${plural(profile.length, "segment")}. ${top.segment} spend the most (${money(top.avg_spend)} per ` +
    `customer on average); ${bottom.segment} the least (${money(bottom.avg_spend)}).`;
  ready(container,
    el("p", { class: "section-lead" }, sentence),
    el("div", { class: "segment-grid", id: "segment-cards" }, profile.map(card)),
    el("h3", {}, "Segments side by side"),
    chart,
    el("p", { class: "chart-caption" }, "Blue bars: what a customer in the segment spent on average (left scale). " +
       "Orange bars: how many orders they placed on average (right scale)."));
  await drawSized(chart, (narrow) => option(profile, narrow), {
    label: `Average spend and orders per customer by segment: ${profile.map((s) =>
      `${s.segment} ${money(s.avg_spend)} and ${number(s.avg_orders, 1)} orders`).join("; ")}.`,
  });
}
