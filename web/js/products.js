/**
 * products.html: the best-selling products and categories of a period with their change on the period before,
 * the share of revenue the top products bring, basket rules, and "frequently bought together" for one product.
 */
import { $, el } from "./dom.js";
import { exploreHref } from "./explore-state.js";
import { query } from "./ui.js";
import { startPage } from "./shell.js";
import { emptyState } from "./states.js";
import { initBasket } from "./products/basket.js";
import { showPareto } from "./products/pareto.js";
import { loadRanking, MEASURES } from "./products/ranking.js";
import { initTogether } from "./products/together.js";

const RANGES = [
  ["last_7_days", "Last 7 days"], ["last_30_days", "Last 30 days"], ["last_90_days", "Last 90 days"],
  ["last_365_days", "Last 12 months"], ["month_to_date", "This month so far"],
  ["quarter_to_date", "This quarter so far"], ["year_to_date", "This year so far"], ["previous_month", "Last month"],
  ["previous_quarter", "Last quarter"], ["previous_year", "Last year"], ["all", "All time"],
];

const parts = (section) => Object.fromEntries([...section.querySelectorAll("[data-part]")]
  .map((node) => [node.dataset.part, node]));

const UPLOAD = { href: "data.html", label: "Upload sales" };
const MISSING = {
  product: "Your sales have no product names or codes, so there is nothing to rank. " +
    "Upload sales with a product column.",
  category: "Your sales have no product categories. Upload sales with a category column to compare them.",
};

function drawRankings(range, data) {
  for (const [id, dimension] of [["#top-products", "product"], ["#top-categories", "category"]]) {
    const section = parts($(id));
    section.explore.href = exploreHref({ measures: MEASURES, dimensions: [dimension], range, compare: "previous_period",
                                         view: "bar" });
    if (data.noSales || !data.dimensions.has(dimension)) {
      section.chart.hidden = true;
      section.explore.hidden = true;
      const text = data.noSales ? "No sales yet: upload your sales to see your best sellers." : MISSING[dimension];
      emptyState(section.table, text, UPLOAD);
      continue;
    }
    loadRanking(dimension, range, section);
  }
}

/** What the company's data holds (`GET /explore/fields`); unknown (null fields) means "try everything". */
function dataShape(fields) {
  if (!fields) return { noSales: false, dimensions: new Set(["product", "category"]) };
  return { noSales: !fields.lines, dimensions: new Set((fields.dimensions || []).map((d) => d.name)) };
}

async function start() {
  const started = await startPage("products");
  if (!started) return;
  $("#products").hidden = false;
  const select = $("#range");
  const wanted = query("range") || started.prefs.default_range || "last_90_days";
  select.replaceChildren(...RANGES.map(([value, label]) => el("option", { value, selected: value === wanted }, label)));
  const data = dataShape(started.fields);
  select.addEventListener("change", () => {
    const url = new URL(location.href);
    url.searchParams.set("range", select.value);
    history.replaceState(null, "", url);
    drawRankings(select.value, data);
  });
  drawRankings(select.value, data);
  if (data.noSales) {
    $("#together-field").hidden = true;
    for (const area of [$("#together-area"), $("#basket-area")]) {
      emptyState(area, "No sales yet: upload sales with order numbers to see what customers buy together.", UPLOAD);
    }
    return;
  }
  showPareto($("#pareto"));
  initTogether({ input: $("#together-product"), field: $("#together-field"), area: $("#together-area"),
                 initial: query("product") });
  initBasket($("#basket-area"), $("#basket-summary"));
}

start();
