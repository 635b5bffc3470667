/** overview.html: the landing page — key figures for a period, the revenue trend with its forecast, insights. */
import { api, showError } from "./api.js";
import { $ } from "./dom.js";
import { dateRange } from "./format.js";
import { startPage } from "./shell.js";
import { emptyState } from "./states.js";
import { chooseCards, loadCards } from "./overview/cards.js";
import { loadInsights } from "./overview/insights.js";
import { currentRange, initRangePicker } from "./overview/range.js";
import { loadTrend } from "./overview/trend.js";

/** A company without sales sees one friendly pointer to the Data page instead of empty sections. */
function showNoData(canUpload) {
  const box = $("#no-data");
  box.hidden = false;
  emptyState(box, "Upload sales to see your dashboard: your key figures, the revenue trend and its forecast, and what " +
                  "stands out appear here once your first file is in.",
             { href: "data.html", label: canUpload ? "Upload sales" : "See your data" });
  box.querySelector("a")?.classList.replace("secondary", "primary");
}

async function start() {
  const started = await startPage("overview");
  if (!started) return;
  const { me, prefs, can } = started;
  let fields = started.fields;
  if (!fields) {
    try {
      fields = await api("/explore/fields");
    } catch (error) {
      showError($("#page"), error);
      return;
    }
  }
  if (!fields.measures?.length) {
    showNoData(can("data:upload"));
    return;
  }
  if (me.tenant?.name) $("#overview-lead").textContent = `How ${me.tenant.name} is doing, at a glance.`;
  $("#overview").hidden = false;
  $("#overview-toolbar").hidden = false;

  const cards = chooseCards(prefs, fields);
  const showCards = async (range) => {
    $("#range-dates").textContent = "";
    const period = await loadCards($("#cards"), cards, range);
    if (period) $("#range-dates").textContent = dateRange(period.start, period.end);
  };
  const range = currentRange(prefs.default_range);
  initRangePicker($("#range"), range, showCards);
  await Promise.all([
    showCards(range),
    loadTrend($("#trend-area"), $("#anomalies-area"), fields),
    loadInsights($("#insights-area")),
  ]);
  if (location.hash === "#trend") $("#trend").focus();
}

start();
