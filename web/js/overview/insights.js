/** The analysis' ranked insights (`GET /results/insights`) as sentences, each with a link to the page that explains it. */
import { el } from "../dom.js";
import { exploreHref } from "../explore-state.js";
import { artifact } from "../results.js";
import { emptyState, loadedOrShown, ready, skeleton } from "../states.js";

const PAGES = {
  explore: { href: "explore.html", label: "Explore the numbers" },
  trend: { href: "overview.html#trend", label: "See it on the trend" },
  forecasts: { href: "forecasts.html", label: "See forecasts" },
  customers: { href: "customers.html", label: "See customers" },
  products: { href: "products.html", label: "See products" },
  recommendations: { href: "recommendations.html", label: "See recommendations and leads" },
};

const BY_ARTIFACT = {
  kpis: "explore", anomalies: "trend", forecast: "forecasts", decomposition: "forecasts",
  forecast_accuracy: "forecasts", model_comparison: "forecasts", rfm: "customers", segments: "customers",
  churn: "customers", basket_rules: "products", recommendations: "recommendations", leads: "recommendations",
};

/** Explore views that show a KPI insight best. */
const EXPLORE_VIEWS = {
  revenue_change: { measures: ["revenue"], dimensions: ["region"], range: "last_30_days", compare: "previous_period",
                    view: "bar" },
  pareto: { measures: ["revenue"], dimensions: ["product"], range: "last_30_days", view: "bar" },
};

/** `{href, label}` of the page that explains an insight, by its artifact (else its kind). */
export function insightLink(row) {
  const page = PAGES[BY_ARTIFACT[row.artifact] || BY_ARTIFACT[row.kind] || "explore"];
  if (page === PAGES.explore && EXPLORE_VIEWS[row.kind]) return { ...page, href: exploreHref(EXPLORE_VIEWS[row.kind]) };
  return page;
}

export async function loadInsights(container) {
  skeleton(container, 5);
  const answer = await loadedOrShown(container, artifact("insights"));
  if (!answer) return;
  const rows = [...answer.rows].sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0)).slice(0, 10);
  if (!rows.length) {
    emptyState(container, "Nothing stands out yet. Insights appear as your sales history grows.",
               { href: "data.html", label: "See your data" });
    return;
  }
  ready(container, el("ol", { class: "insights", id: "insights" }, rows.map((row) => {
    const link = insightLink(row);
    return el("li", { "data-kind": row.kind },
      el("p", {}, row.text),
      el("a", { href: link.href, class: "insight-link" }, link.label));
  })));
}
